//! Builds a part's files in memory from rows sorted by (TSID, timestamp).

use super::block_header::BlockHeader;
use super::metadata::PartMetadata;
use super::metaindex_row::MetaindexRow;
use crate::index::Tsid;
use crate::storage::encoding::{BlockEncoder, MAX_ROWS_PER_BLOCK};

/// Block headers per index block: small enough that a lookup decompresses little.
pub const HEADERS_PER_INDEX_BLOCK: usize = 256;

/// zstd level for index and metaindex blocks.
const INDEX_ZSTD_LEVEL: i32 = 3;

/// zstd level for the index of parts whose blocks use level 1 or less (flushes, on the ingest
/// core): level 3's double-fast matcher took 3% of the ingest CPU (perf, 200k series). Merges
/// rewrite these parts' index at [`INDEX_ZSTD_LEVEL`].
const FAST_INDEX_ZSTD_LEVEL: i32 = 1;

/// The encoded contents of a part, ready to be written.
#[derive(Default)]
pub struct PartBuilder {
    /// Reused across blocks: holds the zstd context and scratch buffers.
    encoder: BlockEncoder,
    /// `timestamps.bin`.
    pub timestamps: Vec<u8>,
    /// `values.bin`.
    pub values: Vec<u8>,
    headers: Vec<BlockHeader>,
    zstd_level: i32,
    rows: u64,
}

impl PartBuilder {
    /// An empty builder whose blocks use `zstd_level`.
    pub fn new(zstd_level: i32) -> Self {
        PartBuilder {
            zstd_level,
            ..Default::default()
        }
    }

    /// Adds one series' samples (sorted by time, any length); cut into blocks of at most `MAX_ROWS_PER_BLOCK`.
    pub fn add_series(&mut self, tsid: Tsid, timestamps: &[i64], values: &[f64]) {
        assert_eq!(timestamps.len(), values.len(), "BUG: column lengths differ");
        debug_assert!(
            timestamps.windows(2).all(|w| w[0] <= w[1]),
            "BUG: unsorted timestamps"
        );
        debug_assert!(
            self.headers.last().is_none_or(|h| h.tsid <= tsid),
            "BUG: series out of TSID order"
        );
        for (ts, vs) in timestamps
            .chunks(MAX_ROWS_PER_BLOCK)
            .zip(values.chunks(MAX_ROWS_PER_BLOCK))
        {
            let (Some(&min), Some(&max)) = (ts.first(), ts.last()) else {
                continue;
            };
            let ts_offset = self.timestamps.len();
            let values_offset = self.values.len();
            let encoding = self.encoder.encode(
                ts,
                vs,
                self.zstd_level,
                &mut self.timestamps,
                &mut self.values,
            );
            self.headers.push(BlockHeader {
                tsid,
                min_timestamp_ms: min,
                max_timestamp_ms: max,
                rows: ts.len() as u32,
                timestamps_offset: ts_offset as u64,
                timestamps_size: (self.timestamps.len() - ts_offset) as u32,
                values_offset: values_offset as u64,
                values_size: (self.values.len() - values_offset) as u32,
                encoding,
            });
            self.rows += ts.len() as u64;
        }
    }

    /// The zstd level of this part's index and metaindex blocks.
    fn index_zstd_level(&self) -> i32 {
        if self.zstd_level <= FAST_INDEX_ZSTD_LEVEL {
            FAST_INDEX_ZSTD_LEVEL
        } else {
            INDEX_ZSTD_LEVEL
        }
    }

    /// Whether no sample was added.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The built blocks as (headers, `timestamps.bin`, `values.bin`, metadata), for an in-memory part.
    pub fn into_columns(self) -> (Vec<BlockHeader>, Vec<u8>, Vec<u8>, PartMetadata) {
        let metadata = self.metadata();
        (self.headers, self.timestamps, self.values, metadata)
    }

    fn metadata(&self) -> PartMetadata {
        PartMetadata {
            rows: self.rows,
            blocks: self.headers.len() as u64,
            min_timestamp_ms: self
                .headers
                .iter()
                .map(|h| h.min_timestamp_ms)
                .min()
                .unwrap_or(0),
            max_timestamp_ms: self
                .headers
                .iter()
                .map(|h| h.max_timestamp_ms)
                .max()
                .unwrap_or(0),
            newest_write: 0,
        }
    }

    /// Encodes `index.bin`, `metaindex.bin` and the metadata. Yields to the scheduler between
    /// index blocks when its time slice is up: a part of 200k series has ~800 index blocks, and
    /// compressing them in one go held the core for 15 ms in a flush and 50-70 ms in a merge
    /// (glommio's stall detector), which the ingest requests waiting behind it paid as latency.
    pub async fn finish_index(&self) -> (Vec<u8>, Vec<u8>, PartMetadata) {
        let mut index = Vec::new();
        let mut metaindex_raw = Vec::new();
        let mut raw = Vec::new();
        // One zstd context for every index block: creating one per block cost 2-3% of the CPU
        // under ingest (perf, 200k series: ~800 index blocks per flushed part).
        let mut compressor = zstd::bulk::Compressor::new(self.index_zstd_level()).ok();
        for chunk in self.headers.chunks(HEADERS_PER_INDEX_BLOCK) {
            glommio::yield_if_needed().await;
            raw.clear();
            for header in chunk {
                header.encode(&mut raw);
            }
            let compressed = compressor
                .as_mut()
                .and_then(|c| c.compress(&raw).ok())
                .unwrap_or_else(|| raw.clone());
            let Some(first) = chunk.first() else { continue };
            MetaindexRow {
                first_tsid: first.tsid,
                min_timestamp_ms: chunk.iter().map(|h| h.min_timestamp_ms).min().unwrap_or(0),
                max_timestamp_ms: chunk.iter().map(|h| h.max_timestamp_ms).max().unwrap_or(0),
                headers: chunk.len() as u32,
                index_offset: index.len() as u64,
                index_size: compressed.len() as u32,
            }
            .encode(&mut metaindex_raw);
            index.extend_from_slice(&compressed);
        }
        let metaindex = compressor
            .as_mut()
            .and_then(|c| c.compress(&metaindex_raw).ok())
            .unwrap_or_default();
        let metadata = self.metadata();
        (index, metaindex, metadata)
    }
}
