//! The one error type of block decoding: corrupt or truncated bytes, told
//! apart by what was wrong and where.

use std::fmt;

/// Which part of a block a decoding error was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The fixed-size [`super::BlockEncoding`] description.
    BlockEncoding,
    /// The timestamps column.
    Timestamps,
    /// The values column.
    Values,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::BlockEncoding => "block encoding",
            Section::Timestamps => "timestamps column",
            Section::Values => "values column",
        })
    }
}

/// Why a block's bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes ended before the data they describe.
    Truncated {
        /// Where the bytes ran out.
        section: Section,
    },
    /// Bytes were left over after every row was decoded.
    TrailingBytes {
        /// Where the bytes were left over.
        section: Section,
        /// How many bytes were left over.
        count: usize,
    },
    /// A tag, flag or control byte has a value no encoder writes.
    InvalidTag {
        /// Where the byte was found.
        section: Section,
        /// What the byte was meant to be.
        field: &'static str,
        /// The value found.
        value: i64,
    },
    /// The caller asked for more rows than a block may hold.
    TooManyRows {
        /// Rows asked for.
        rows: usize,
        /// [`super::MAX_ROWS_PER_BLOCK`].
        max: usize,
    },
    /// A special value's position is out of order or past the last row.
    BadPosition {
        /// The position (row index) found.
        position: u64,
        /// Rows in the block.
        rows: usize,
    },
    /// zstd rejected the column, or it decompressed past its size bound.
    Zstd {
        /// The column.
        section: Section,
        /// zstd's name for the error.
        reason: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { section } => write!(f, "{section}: truncated"),
            DecodeError::TrailingBytes { section, count } => {
                write!(f, "{section}: {count} trailing bytes")
            }
            DecodeError::InvalidTag {
                section,
                field,
                value,
            } => write!(f, "{section}: invalid {field} {value}"),
            DecodeError::TooManyRows { rows, max } => {
                write!(f, "block of {rows} rows exceeds the maximum of {max}")
            }
            DecodeError::BadPosition { position, rows } => write!(
                f,
                "values column: special value at position {position} is out of order or past row count {rows}"
            ),
            DecodeError::Zstd { section, reason } => {
                write!(f, "{section}: zstd decompression failed: {reason}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
