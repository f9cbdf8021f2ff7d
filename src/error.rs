//! Errors and validation diagnostics.
//!
//! Loading collects every problem it finds into [`Diagnostics`] instead of
//! stopping at the first, so `edgesplit validate` can list them all. Each
//! [`Problem`] names the file, the field path (`tasks[3].quality.curve[2]`),
//! and says what was found and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Field path inside the file, e.g. `tasks[3].quality.curve[2]`; empty
    /// for problems with the file as a whole.
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.path,
                self.message
            )
        }
    }
}

/// An ordered list of problems, all attributed to files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics {
    /// The problems, in the order they were found.
    pub problems: Vec<Problem>,
}

impl Diagnostics {
    /// Records a problem at `path` of `file`.
    pub fn push(&mut self, file: &Path, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_path_buf(),
            path: path.into(),
            message: message.into(),
        });
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Appends every problem of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.problems.extend(other.problems);
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Errors of the edgesplit library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file is invalid; every problem found is listed.
    #[error("{} problem(s) found:\n{diagnostics}", diagnostics.len())]
    Invalid {
        /// Everything found wrong.
        diagnostics: Diagnostics,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Anything else that makes the request impossible, with the reason.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// A single-problem validation error.
    pub fn invalid(file: &Path, path: impl Into<String>, message: impl Into<String>) -> Self {
        let mut d = Diagnostics::default();
        d.push(file, path, message);
        Error::Invalid { diagnostics: d }
    }

    /// The list of problems, when this is a validation error.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            Error::Invalid { diagnostics } => Some(diagnostics),
            _ => None,
        }
    }
}

/// Result with the library's error.
pub type Result<T> = std::result::Result<T, Error>;
