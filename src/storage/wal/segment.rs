//! Segment files and the in-memory tail of the segment being written.
//!
//! A segment is `wal/<seq:016x>.seg`: records back to back from offset 0, then zero padding up
//! to the next 4096-byte boundary. Segments are written with O_DIRECT in whole aligned blocks,
//! so the last, partly filled block is kept in memory ([`SegmentTail`]) and written again, with
//! more records in it, by the next write. Rewriting it is safe for the records already synced in
//! that block: the new block starts with the same bytes, so whatever mix of old and new sectors a
//! crash leaves, those bytes are intact.

use std::path::{Path, PathBuf};

use super::record;

/// Alignment and granularity of segment writes: O_DIRECT needs the device's logical block
/// (512 B here), 4096 also matches the page size and every common device (notes/GLOMMIO.md gotcha 4).
pub const BLOCK_BYTES: u64 = 4096;

/// File name suffix of segments.
const SEGMENT_SUFFIX: &str = ".seg";

/// The path of segment `seq` in `dir`.
pub fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016x}{SEGMENT_SUFFIX}"))
}

/// The sequence number in a segment file name, `None` for any other name.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let hex = name.strip_suffix(SEGMENT_SUFFIX)?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Rounds `v` down to a block boundary.
pub fn align_down(v: u64) -> u64 {
    v - v % BLOCK_BYTES
}

/// Rounds `v` up to a block boundary.
pub fn align_up(v: u64) -> u64 {
    align_down(v + BLOCK_BYTES - 1)
}

/// The bytes of a segment from the start of its last partly written block to its end.
///
/// Invariants: `block_start` is block-aligned; `bytes` holds the segment's bytes
/// `[block_start, block_start + bytes.len())`; every byte before `block_start` has been written.
#[derive(Debug, Default)]
pub struct SegmentTail {
    block_start: u64,
    bytes: Vec<u8>,
}

impl SegmentTail {
    /// A tail resuming a segment whose records end at `end`; `partial_block` holds the segment's
    /// bytes from `align_down(end)` to `end`.
    pub fn resume(end: u64, partial_block: &[u8]) -> SegmentTail {
        let block_start = align_down(end);
        assert_eq!(
            block_start + partial_block.len() as u64,
            end,
            "partial block must end at the segment end"
        );
        SegmentTail {
            block_start,
            bytes: partial_block.to_vec(),
        }
    }

    /// Offset in the segment just past the last record.
    pub fn end(&self) -> u64 {
        self.block_start + self.bytes.len() as u64
    }

    /// Appends a record; returns its offset in the segment.
    pub fn push_record(&mut self, payload: &[u8]) -> u64 {
        let offset = self.end();
        record::encode(payload, &mut self.bytes);
        offset
    }

    /// Where the next write starts and the bytes it writes (before zero padding to a block).
    pub fn unwritten(&self) -> (u64, &[u8]) {
        (self.block_start, &self.bytes)
    }

    /// Drops the whole blocks that a write up to `written_end` put on disk; the partial last block stays.
    pub fn mark_written(&mut self, written_end: u64) {
        let new_start = align_down(written_end);
        assert!(new_start >= self.block_start, "writes never go backwards");
        let whole = usize::try_from(new_start - self.block_start).unwrap_or(usize::MAX);
        self.bytes.drain(..whole.min(self.bytes.len()));
        self.block_start = new_start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let path = segment_path(Path::new("/w"), 0x1f);
        assert_eq!(path, Path::new("/w/000000000000001f.seg"));
        assert_eq!(parse_segment_name("000000000000001f.seg"), Some(0x1f));
        assert_eq!(parse_segment_name("1f.seg"), None);
        assert_eq!(parse_segment_name("000000000000001f.seg.tmp"), None);
        assert_eq!(parse_segment_name(".dma-probe"), None);
    }

    #[test]
    fn tail_keeps_only_the_partial_block() {
        let mut tail = SegmentTail::default();
        let payload = vec![7u8; 3000];
        assert_eq!(tail.push_record(&payload), 0);
        assert_eq!(tail.push_record(&payload), 3008);
        assert_eq!(tail.end(), 6016);
        tail.mark_written(6016);
        let (start, bytes) = tail.unwritten();
        assert_eq!(start, 4096);
        assert_eq!(bytes.len(), 6016 - 4096);
        // A record appended while a write was in flight stays in the tail.
        tail.push_record(&payload);
        tail.mark_written(6016);
        assert_eq!(tail.unwritten().0, 4096);
        assert_eq!(tail.end(), 9024);
        let resumed = SegmentTail::resume(9024, &vec![1u8; 9024 - 8192]);
        assert_eq!(resumed.unwritten().0, 8192);
        assert_eq!(align_up(1), 4096);
        assert_eq!(align_up(4096), 4096);
    }
}
