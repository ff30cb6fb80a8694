//! Where secrets come from: the process environment and files, behind a trait so tests pass
//! a map instead of mutating the real environment (linkerd's `Strings` idea).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The outside world as config loading sees it.
pub trait Env {
    /// An environment variable, `None` when unset or not valid UTF-8.
    fn var(&self, name: &str) -> Option<String>;
    /// A whole file as UTF-8 (a mounted secret).
    fn read_file(&self, path: &Path) -> io::Result<String>;
}

/// The real process environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    /// Reads the file and drops its trailing newline(s), as secrets written by
    /// `echo`/Kubernetes usually carry one.
    fn read_file(&self, path: &Path) -> io::Result<String> {
        let text = std::fs::read_to_string(path)?;
        Ok(trim_newline(&text).to_owned())
    }
}

/// An in-memory environment for tests and embedding: variables and files from maps.
#[derive(Clone, Default)]
pub struct MapEnv {
    /// Variable name → value.
    pub vars: HashMap<String, String>,
    /// Path → file contents.
    pub files: HashMap<PathBuf, String>,
}

impl MapEnv {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a variable (builder style).
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Adds a file (builder style).
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: &str) -> Self {
        self.files.insert(path.into(), contents.to_owned());
        self
    }
}

/// Shows names and paths only: the values are secrets.
impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut vars: Vec<_> = self.vars.keys().collect();
        vars.sort();
        let mut files: Vec<_> = self.files.keys().collect();
        files.sort();
        f.debug_struct("MapEnv")
            .field("vars", &vars)
            .field("files", &files)
            .finish()
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file in MapEnv"))
    }
}

/// Drops trailing `\n` / `\r\n`; idempotent, so applying it twice is harmless.
pub(crate) fn trim_newline(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}
