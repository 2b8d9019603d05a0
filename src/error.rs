//! Typed errors of the library. The binary turns them into messages and
//! exit code 2; per-line problems are never errors (they are counted and
//! sampled in the report instead).

use std::path::PathBuf;

/// Everything that can stop part of a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An nginx `log_format` string could not be compiled.
    #[error("log format {name:?}: {message}")]
    LogFormat {
        /// The format's name (or `--log-format`).
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// `gatecheck export`: the output folder exists and is not empty.
    #[error("{path}: already exists and is not an empty folder (give --overwrite to replace its date=* partitions, or another --to)")]
    OutputExists {
        /// The output folder.
        path: PathBuf,
    },
    /// `gatecheck export`: a file could not be encoded or written.
    #[error("{path}: {message}")]
    Export {
        /// The file being written.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
