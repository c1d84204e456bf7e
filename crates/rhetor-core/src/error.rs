//! The core's error type.

use std::path::{Path, PathBuf};

/// Result with rhetor's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the core. Messages name the input and, where it helps, the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Input is not UTF-8.
    #[error("{origin}: not valid UTF-8 at byte {byte}")]
    NotUtf8 {
        /// File name or "<stdin>".
        origin: String,
        /// First invalid byte.
        byte: usize,
    },
    /// Input looks binary.
    #[error("{origin}: looks like a binary file (NUL byte at {byte}); rhetor reads UTF-8 text")]
    Binary {
        /// File name or "<stdin>".
        origin: String,
        /// Offset of the first NUL byte.
        byte: usize,
    },
    /// Input has no text.
    #[error("{origin}: empty input, nothing to analyse")]
    Empty {
        /// File name or "<stdin>".
        origin: String,
    },
    /// Input is over the size limit.
    #[error("input is {bytes} bytes, over the limit of {limit} bytes; split it into articles or raise the limit (--max-bytes)")]
    TooLarge {
        /// Input size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A span reaches past the end of its text.
    #[error("span {start}-{end} is outside the text ({len} code points)")]
    OutOfRange {
        /// Span start.
        start: usize,
        /// Span end.
        end: usize,
        /// Text length in code points.
        len: usize,
    },
    /// An unknown technique name.
    #[error("unknown technique {0:?} (`rhetor techniques` lists the 14 names)")]
    UnknownTechnique(String),
    /// A malformed row in a labels file.
    #[error("{path}:{line}: {msg}")]
    Labels {
        /// The labels file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// Anything else about the data, with its origin.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
