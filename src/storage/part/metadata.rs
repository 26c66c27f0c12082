//! `metadata.json`: a part's summary, read before anything else of it.

use serde::{Deserialize, Serialize};

/// Summary of one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMetadata {
    /// Samples in the part.
    pub rows: u64,
    /// Blocks in the part.
    pub blocks: u64,
    /// Smallest timestamp (ms).
    pub min_timestamp_ms: i64,
    /// Largest timestamp (ms).
    pub max_timestamp_ms: i64,
    /// Id of the newest flush whose rows the part holds: parts are read and merged in this
    /// order, so the newer write wins on equal timestamps (0 in parts written before it existed,
    /// and in-memory parts; the part's own id stands in).
    #[serde(default)]
    pub newest_write: u64,
}
