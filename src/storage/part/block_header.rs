//! A block header: where one block of one series sits in `timestamps.bin`/`values.bin`, and what it holds.
//!
//! ```text
//! tsid (24 B) | min_ts i64 | max_ts i64 | rows u32 | ts_offset u64 | ts_size u32
//!             | values_offset u64 | values_size u32 | encoding (BlockEncoding::ENCODED_SIZE = 22 B)
//! ```
//! All integers big-endian.

use crate::index::tsid::{Tsid, TSID_SIZE};
use crate::storage::encoding::{BlockEncoding, MAX_ROWS_PER_BLOCK};

/// Encoded size of a block header.
pub const BLOCK_HEADER_SIZE: usize =
    TSID_SIZE + 8 + 8 + 4 + 8 + 4 + 8 + 4 + BlockEncoding::ENCODED_SIZE;

/// Describes one block: one series, at most `MAX_ROWS_PER_BLOCK` samples sorted by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// The series.
    pub tsid: Tsid,
    /// Smallest timestamp in the block (ms); lets queries skip blocks by time.
    pub min_timestamp_ms: i64,
    /// Largest timestamp in the block (ms).
    pub max_timestamp_ms: i64,
    /// Number of samples.
    pub rows: u32,
    /// Offset of the encoded timestamps in `timestamps.bin`.
    pub timestamps_offset: u64,
    /// Their size in bytes.
    pub timestamps_size: u32,
    /// Offset of the encoded values in `values.bin`.
    pub values_offset: u64,
    /// Their size in bytes.
    pub values_size: u32,
    /// How the columns are encoded.
    pub encoding: BlockEncoding,
}

impl BlockHeader {
    /// Appends the fixed-size encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        debug_assert!(self.rows as usize <= MAX_ROWS_PER_BLOCK);
        self.tsid.encode(out);
        out.extend_from_slice(&self.min_timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.max_timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.rows.to_be_bytes());
        out.extend_from_slice(&self.timestamps_offset.to_be_bytes());
        out.extend_from_slice(&self.timestamps_size.to_be_bytes());
        out.extend_from_slice(&self.values_offset.to_be_bytes());
        out.extend_from_slice(&self.values_size.to_be_bytes());
        self.encoding.encode(out);
    }

    /// Decodes one header and validates it; returns the unread tail.
    pub fn decode(src: &[u8]) -> Result<(Self, &[u8]), String> {
        let (tsid, rest) = Tsid::decode(src).ok_or("truncated block header")?;
        let mut reader = BeReader(rest);
        let min_timestamp_ms = reader.i64()?;
        let max_timestamp_ms = reader.i64()?;
        let rows = reader.u32()?;
        let timestamps_offset = reader.u64()?;
        let timestamps_size = reader.u32()?;
        let values_offset = reader.u64()?;
        let values_size = reader.u32()?;
        let (encoding, rest) = BlockEncoding::decode(reader.0).map_err(|e| e.to_string())?;
        let header = BlockHeader {
            tsid,
            min_timestamp_ms,
            max_timestamp_ms,
            rows,
            timestamps_offset,
            timestamps_size,
            values_offset,
            values_size,
            encoding,
        };
        if header.rows == 0 || header.rows as usize > MAX_ROWS_PER_BLOCK {
            return Err(format!("block header with {} rows", header.rows));
        }
        if header.min_timestamp_ms > header.max_timestamp_ms {
            return Err("block header with min timestamp after max".to_string());
        }
        Ok((header, rest))
    }
}

/// Reads big-endian integers off a byte slice.
pub(crate) struct BeReader<'a>(pub &'a [u8]);

impl BeReader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.0.len() < N {
            return Err("truncated".to_string());
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        head.try_into().map_err(|_| "truncated".to_string())
    }

    /// Reads a u32.
    pub fn u32(&mut self) -> Result<u32, String> {
        self.take::<4>().map(u32::from_be_bytes)
    }

    /// Reads a u64.
    pub fn u64(&mut self) -> Result<u64, String> {
        self.take::<8>().map(u64::from_be_bytes)
    }

    /// Reads an i64.
    pub fn i64(&mut self) -> Result<i64, String> {
        self.take::<8>().map(i64::from_be_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_size_and_round_trip() {
        let header = BlockHeader {
            tsid: Tsid {
                metric_group_id: 1,
                job_id: 2,
                instance_id: 3,
                metric_id: 4,
            },
            min_timestamp_ms: -5,
            max_timestamp_ms: 6,
            rows: 7,
            timestamps_offset: 8,
            timestamps_size: 9,
            values_offset: 10,
            values_size: 11,
            encoding: crate::storage::encoding::encode_block(
                &[1],
                &[1.0],
                1,
                &mut Vec::new(),
                &mut Vec::new(),
            ),
        };
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        assert_eq!(bytes.len(), BLOCK_HEADER_SIZE);
        assert_eq!(BlockHeader::decode(&bytes), Ok((header, &[][..])));
        assert!(BlockHeader::decode(&bytes[..BLOCK_HEADER_SIZE - 1]).is_err());
    }
}
