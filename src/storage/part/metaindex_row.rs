//! A metaindex row: one per index block of `index.bin`, kept in memory and binary-searched.
//!
//! ```text
//! first_tsid (24 B) | min_ts i64 | max_ts i64 | headers u32 | index_offset u64 | index_size u32
//! ```

use super::block_header::BeReader;
use crate::index::tsid::{Tsid, TSID_SIZE};

/// Encoded size of a metaindex row.
pub const METAINDEX_ROW_SIZE: usize = TSID_SIZE + 8 + 8 + 4 + 8 + 4;

/// Points at one zstd-compressed index block of block headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaindexRow {
    /// TSID of the first block header in the index block.
    pub first_tsid: Tsid,
    /// Smallest timestamp of the index block's blocks.
    pub min_timestamp_ms: i64,
    /// Largest timestamp of the index block's blocks.
    pub max_timestamp_ms: i64,
    /// Number of block headers in the index block.
    pub headers: u32,
    /// Offset of the compressed index block in `index.bin`.
    pub index_offset: u64,
    /// Its compressed size.
    pub index_size: u32,
}

impl MetaindexRow {
    /// Appends the fixed-size encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.first_tsid.encode(out);
        out.extend_from_slice(&self.min_timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.max_timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.headers.to_be_bytes());
        out.extend_from_slice(&self.index_offset.to_be_bytes());
        out.extend_from_slice(&self.index_size.to_be_bytes());
    }

    /// Decodes one row; returns the unread tail.
    pub fn decode(src: &[u8]) -> Result<(Self, &[u8]), String> {
        let (first_tsid, rest) = Tsid::decode(src).ok_or("truncated metaindex row")?;
        let mut reader = BeReader(rest);
        let row = MetaindexRow {
            first_tsid,
            min_timestamp_ms: reader.i64()?,
            max_timestamp_ms: reader.i64()?,
            headers: reader.u32()?,
            index_offset: reader.u64()?,
            index_size: reader.u32()?,
        };
        Ok((row, reader.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_size_and_round_trip() {
        let row = MetaindexRow {
            first_tsid: Tsid::default(),
            min_timestamp_ms: 1,
            max_timestamp_ms: 2,
            headers: 3,
            index_offset: 4,
            index_size: 5,
        };
        let mut bytes = Vec::new();
        row.encode(&mut bytes);
        assert_eq!(bytes.len(), METAINDEX_ROW_SIZE);
        assert_eq!(MetaindexRow::decode(&bytes), Ok((row, &[][..])));
    }
}
