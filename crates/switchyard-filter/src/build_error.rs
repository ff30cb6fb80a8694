//! `BuildError`: why a factory could not build its filter, located in the YAML so the registry
//! can report it with a full path and line like every other config error.

use std::fmt;

/// Where in the config a build error points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The filter's settings as a whole (the `filters:` entry).
    Settings,
    /// One field of the filter's settings, as a path relative to them (`budget.ratio`,
    /// `on[2]`).
    Field(String),
    /// A path elsewhere in the config (`auth.keys[1].models[0]`).
    Config(String),
}

/// A filter that could not be built from its settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BuildError {
    /// What it is about.
    pub location: Location,
    /// What is wrong (never a secret value).
    pub message: String,
}

impl BuildError {
    /// A problem with the filter's settings as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            location: Location::Settings,
            message: message.into(),
        }
    }

    /// A problem with one settings field (`field` relative to the filter's settings).
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: Location::Field(field.into()),
            message: message.into(),
        }
    }

    /// A problem at an absolute config path outside the filter's settings.
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: Location::Config(path.into()),
            message: message.into(),
        }
    }
}

impl From<String> for BuildError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for BuildError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Settings => f.write_str("(settings)"),
            Location::Field(p) | Location::Config(p) => f.write_str(p),
        }
    }
}
