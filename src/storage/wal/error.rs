//! The WAL's error type: one hand-written enum, cloneable so a latched failure can be returned again.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::RecordPosition;

/// What is wrong with the bytes at a damaged place in a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Damage {
    /// Fewer bytes than a record header are left and they are not all zero.
    TruncatedHeader,
    /// The header announces more payload bytes than the segment holds.
    TruncatedPayload {
        /// Payload length from the header.
        len: u32,
    },
    /// The payload does not match the stored checksum (or the length was damaged).
    ChecksumMismatch {
        /// Checksum in the header.
        stored: u32,
        /// Checksum of the bytes found.
        computed: u32,
    },
    /// An all-zero header (the end-of-data padding) is followed by non-zero bytes.
    DataAfterPadding,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::TruncatedHeader => write!(f, "truncated record header"),
            Damage::TruncatedPayload { len } => write!(f, "truncated record of {len} bytes"),
            Damage::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            Damage::DataAfterPadding => write!(f, "data after zero padding"),
        }
    }
}

/// Errors of the write-ahead log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The disk is full (ENOSPC, or a short write): answer 503 and retry later. Not latched.
    NoSpace {
        /// The failed step ("write", "fdatasync", "create segment", …).
        step: &'static str,
        /// The file or directory.
        path: PathBuf,
    },
    /// Any other I/O failure. After a failed write or fdatasync the WAL is latched until reopened.
    Io {
        /// The failed step.
        step: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The kind of the underlying `io::Error`.
        kind: io::ErrorKind,
        /// The underlying error's message.
        message: String,
    },
    /// A segment other than the last one is damaged: records after this point would be lost, so
    /// replay refuses to continue.
    Corruption {
        /// Where the damage starts.
        at: RecordPosition,
        /// What was found there.
        damage: Damage,
    },
    /// The segment sequence has a hole: `missing` is absent although a later segment exists.
    MissingSegment {
        /// The absent segment's sequence number.
        missing: u64,
    },
    /// A record larger than a segment can hold.
    RecordTooLarge {
        /// Payload bytes asked for.
        len: usize,
        /// Largest payload a segment holds.
        max: usize,
    },
}

impl Error {
    /// Builds an error from an I/O failure, keeping ENOSPC apart.
    pub fn io(step: &'static str, path: &Path, error: &io::Error) -> Error {
        if is_no_space(error) {
            return Error::NoSpace {
                step,
                path: path.to_path_buf(),
            };
        }
        Error::Io {
            step,
            path: path.to_path_buf(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// Builds an error from a failed fsync: never [`Error::NoSpace`], even for ENOSPC, since what
    /// the device kept of the synced data is unknown and the sync must not be retried on it.
    pub fn sync_failed(step: &'static str, path: &Path, error: &io::Error) -> Error {
        Error::Io {
            step,
            path: path.to_path_buf(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// The closest `io::ErrorKind` (a full disk stays `StorageFull`).
    pub fn kind(&self) -> io::ErrorKind {
        if self.is_no_space() {
            io::ErrorKind::StorageFull
        } else {
            io::ErrorKind::Other
        }
    }

    /// Whether this is a full disk (answer 503, retry later) rather than a broken one.
    pub fn is_no_space(&self) -> bool {
        matches!(self, Error::NoSpace { .. })
    }
}

/// ENOSPC, also after glommio re-wrapped the error (which keeps the kind but not the errno).
fn is_no_space(error: &io::Error) -> bool {
    const ENOSPC: i32 = 28;
    error.kind() == io::ErrorKind::StorageFull || error.raw_os_error() == Some(ENOSPC)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoSpace { step, path } => {
                write!(f, "wal: {step} {}: no space left on device", path.display())
            }
            Error::Io {
                step,
                path,
                message,
                ..
            } => write!(f, "wal: {step} {}: {message}", path.display()),
            Error::Corruption { at, damage } => write!(
                f,
                "wal: segment {:016x} is corrupt at offset {}: {damage}",
                at.segment, at.offset
            ),
            Error::MissingSegment { missing } => {
                write!(f, "wal: segment {missing:016x} is missing")
            }
            Error::RecordTooLarge { len, max } => {
                write!(f, "wal: record of {len} bytes exceeds the limit of {max}")
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_is_told_apart() {
        let path = Path::new("/x");
        let raw = io::Error::from_raw_os_error(28);
        assert!(Error::io("write", path, &raw).is_no_space());
        let rewrapped = io::Error::new(io::ErrorKind::StorageFull, "glommio said so");
        assert!(Error::io("write", path, &rewrapped).is_no_space());
        let eio = io::Error::from_raw_os_error(5);
        let error = Error::io("fdatasync", path, &eio);
        assert!(!error.is_no_space());
        assert!(error.to_string().contains("fdatasync /x"), "{error}");
    }
}
