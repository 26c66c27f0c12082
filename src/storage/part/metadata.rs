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
}
