//! `ConfigError`: every problem found in a config, each located by YAML path and line, so
//! `switchyard check` and a failed reload can show them all at once.

use std::fmt;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// YAML path, e.g. `models[2].provider`; `config` for the document as a whole.
    pub path: String,
    /// 1-based line in the source, when known.
    pub line: Option<usize>,
    /// What is wrong (never a secret value).
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (line {line}): {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem found while loading a config; `Display` prints one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.issues))]
pub struct ConfigError {
    /// In source order (issues without a line last).
    pub issues: Vec<ConfigIssue>,
}

impl ConfigError {
    /// Sorts issues by line so the report reads top to bottom.
    pub(crate) fn new(mut issues: Vec<ConfigIssue>) -> Self {
        issues.sort_by_key(|i| i.line.unwrap_or(usize::MAX));
        Self { issues }
    }
}

fn render(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
