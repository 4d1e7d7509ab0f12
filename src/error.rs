//! One error type for the whole crate.
//!
//! Errors that concern the *evidence* (corrupt structures) are usually not
//! returned at all: readers degrade to partial results and push a warning.
//! `Error` is for what stops an operation outright.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// Reading the evidence failed (I/O error, short read past the end).
    Io { context: String, source: io::Error },
    /// The user asked for something that cannot be done (bad argument,
    /// missing path, wrong partition number).
    Usage(String),
    /// A structure is too damaged to continue with this operation.
    Corrupt(String),
    /// A path or inode that does not exist.
    NotFound(String),
    /// A valid but unsupported layout.
    Unsupported(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    pub fn corrupt(msg: impl Into<String>) -> Self {
        Error::Corrupt(msg.into())
    }
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Corrupt(m) => write!(f, "corrupt structure: {m}"),
            Error::NotFound(m) => write!(f, "not found: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
