//! The one error type of `strata-bench`: what failed, on which file or target.

use std::fmt;
use std::io;

/// Why a `strata-bench` subcommand stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum BenchError {
    /// A flag combination that cannot work.
    InvalidArgs(String),
    /// An I/O step on a file failed.
    Io {
        /// The failed step, e.g. "create workload file".
        op: &'static str,
        /// The file it was about.
        path: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// The run finished but failed its own check (e.g. wrong query answers).
    Failed(String),
    /// A workload file is not in the expected format.
    Format {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl BenchError {
    /// Wraps an I/O error with the step and the file.
    pub fn io(op: &'static str, path: &str, source: io::Error) -> BenchError {
        BenchError::Io {
            op,
            path: path.to_string(),
            source,
        }
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::InvalidArgs(reason) => write!(f, "invalid arguments: {reason}"),
            BenchError::Failed(reason) => f.write_str(reason),
            BenchError::Io { op, path, source } => write!(f, "{op} {path}: {source}"),
            BenchError::Format { path, reason } => {
                write!(f, "{path} is not a valid workload file: {reason}")
            }
        }
    }
}

impl std::error::Error for BenchError {}
