//! A part: an immutable, sorted set of blocks on disk.
//!
//! ```text
//! <part>/metadata.json   rows, blocks, time range
//! <part>/metaindex.bin   zstd(metaindex rows): one per index block
//! <part>/index.bin       zstd blocks of block headers, sorted by (TSID, min timestamp)
//! <part>/timestamps.bin  encoded timestamp columns, one per block
//! <part>/values.bin      encoded value columns, one per block
//! ```
//!
//! Files are read with glommio DMA (O_DIRECT, io_uring); reads are clamped to the
//! file size (notes/GLOMMIO.md gotcha 2) and adjacent blocks are fetched in one read.

pub mod block_header;
pub mod block_stream_reader;
pub mod builder;
pub mod index_block_cache;
pub mod metadata;
pub mod metaindex_row;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use glommio::io::DmaFile;

use self::block_header::BlockHeader;
use self::builder::PartBuilder;
use self::index_block_cache::{IndexBlock, IndexBlockCache};
use self::metadata::PartMetadata;
use self::metaindex_row::MetaindexRow;
use crate::index::Tsid;
use crate::storage::encoding::{BlockDecoder, MAX_ROWS_PER_BLOCK};
use crate::storage::fs;

/// File names inside a part directory.
pub const METADATA_FILE: &str = "metadata.json";
/// Metaindex file name.
pub const METAINDEX_FILE: &str = "metaindex.bin";
/// Index file name.
pub const INDEX_FILE: &str = "index.bin";
/// Timestamps file name.
pub const TIMESTAMPS_FILE: &str = "timestamps.bin";
/// Values file name.
pub const VALUES_FILE: &str = "values.bin";

/// Adjacent blocks closer than this are fetched in one read: a DMA read costs ~95 µs whatever its size up to here.
const COALESCE_GAP_BYTES: u64 = 256 * 1024;
/// Upper bound of one coalesced read.
const MAX_READ_BYTES: u64 = 8 * 1024 * 1024;

/// Source of part uids: the index-block cache's key, unique for the life of the process.
static NEXT_PART_UID: AtomicU64 = AtomicU64::new(1);

/// An opened part: on disk (a committed small or big part) or in memory (rows of the last seconds).
pub struct Part {
    /// Its directory (empty for an in-memory part).
    pub dir: PathBuf,
    /// Its summary.
    pub metadata: PartMetadata,
    /// Unique in the process; keys this part's entries in the index-block cache.
    uid: u64,
    /// One row per index block, sorted by first TSID; always in memory, binary-searched.
    metaindex: Vec<MetaindexRow>,
    columns: Columns,
}

/// Where a part's index blocks and columns live.
#[expect(
    clippy::large_enum_variant,
    reason = "one per part, and a shard holds at most a few hundred parts"
)]
enum Columns {
    /// Files read with DMA; index blocks go through the shard's bounded cache.
    Disk {
        index: DmaFile,
        index_size: u64,
        timestamps: DmaFile,
        timestamps_size: u64,
        values: DmaFile,
        values_size: u64,
    },
    /// An in-memory part: every header and column byte held here.
    Memory {
        headers: IndexBlock,
        timestamps: Vec<u8>,
        values: Vec<u8>,
    },
}

/// Samples read for one wanted series: its position in the wanted list, timestamps, values.
pub type SeriesSamples = (usize, Vec<i64>, Vec<f64>);

impl Part {
    /// Writes a built part into `dir` (which must not exist) durably: files fsynced, then the directory.
    pub async fn write(
        builder: &PartBuilder,
        dir: &Path,
        newest_write: u64,
    ) -> io::Result<PartMetadata> {
        let (index, metaindex, mut metadata) = builder.finish_index().await;
        metadata.newest_write = newest_write;
        fs::create_dir_all(dir).await?;
        fs::write_file(&dir.join(TIMESTAMPS_FILE), &builder.timestamps).await?;
        fs::write_file(&dir.join(VALUES_FILE), &builder.values).await?;
        fs::write_file(&dir.join(INDEX_FILE), &index).await?;
        fs::write_file(&dir.join(METAINDEX_FILE), &metaindex).await?;
        let json = serde_json::to_vec(&metadata).map_err(io::Error::other)?;
        fs::write_file(&dir.join(METADATA_FILE), &json).await?;
        fs::sync_dir(dir).await?;
        Ok(metadata)
    }

    /// An in-memory part holding a built part's blocks (nothing is written).
    pub fn in_memory(builder: PartBuilder) -> Part {
        let (headers, timestamps, values, metadata) = builder.into_columns();
        Part {
            dir: PathBuf::new(),
            metadata,
            uid: NEXT_PART_UID.fetch_add(1, Ordering::Relaxed),
            metaindex: Vec::new(),
            columns: Columns::Memory {
                headers: headers.into(),
                timestamps,
                values,
            },
        }
    }

    /// Whether this part lives in memory only.
    pub fn is_in_memory(&self) -> bool {
        matches!(self.columns, Columns::Memory { .. })
    }

    /// Opens a committed part: reads its metadata and metaindex; block headers are read on demand.
    pub async fn open(dir: &Path) -> io::Result<Part> {
        let corrupt = |what: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("part {} is corrupt: {what}", dir.display()),
            )
        };
        let metadata_bytes = fs::read_small_file(&dir.join(METADATA_FILE))
            .await?
            .ok_or_else(|| corrupt("metadata.json missing".into()))?;
        let metadata: PartMetadata =
            serde_json::from_slice(&metadata_bytes).map_err(|e| corrupt(e.to_string()))?;
        let metaindex_bytes = fs::read_small_file(&dir.join(METAINDEX_FILE))
            .await?
            .ok_or_else(|| corrupt("metaindex.bin missing".into()))?;
        let metaindex_raw = zstd::stream::decode_all(metaindex_bytes.as_slice())
            .map_err(|e| corrupt(e.to_string()))?;
        let mut metaindex = Vec::new();
        let mut rest = metaindex_raw.as_slice();
        while !rest.is_empty() {
            let (row, tail) = MetaindexRow::decode(rest).map_err(corrupt)?;
            metaindex.push(row);
            rest = tail;
        }
        let headers: u64 = metaindex.iter().map(|r| u64::from(r.headers)).sum();
        if headers != metadata.blocks {
            return Err(corrupt(format!(
                "metaindex lists {headers} block headers, metadata says {}",
                metadata.blocks
            )));
        }
        let open = |name: &str| DmaFile::open(dir.join(name));
        let index = open(INDEX_FILE).await.map_err(io::Error::from)?;
        let timestamps = open(TIMESTAMPS_FILE).await.map_err(io::Error::from)?;
        let values = open(VALUES_FILE).await.map_err(io::Error::from)?;
        let index_size = index.file_size().await.map_err(io::Error::from)?;
        let timestamps_size = timestamps.file_size().await.map_err(io::Error::from)?;
        let values_size = values.file_size().await.map_err(io::Error::from)?;
        if metaindex
            .iter()
            .any(|r| r.index_offset + u64::from(r.index_size) > index_size)
        {
            return Err(corrupt("index block beyond end of index.bin".into()));
        }
        Ok(Part {
            dir: dir.to_path_buf(),
            metadata,
            uid: NEXT_PART_UID.fetch_add(1, Ordering::Relaxed),
            metaindex,
            columns: Columns::Disk {
                index,
                index_size,
                timestamps,
                timestamps_size,
                values,
                values_size,
            },
        })
    }

    /// Bytes of the column files (timestamps and values).
    pub fn column_bytes(&self) -> u64 {
        match &self.columns {
            Columns::Disk {
                timestamps_size,
                values_size,
                ..
            } => timestamps_size + values_size,
            Columns::Memory {
                timestamps, values, ..
            } => (timestamps.len() + values.len()) as u64,
        }
    }

    /// Number of index blocks (an in-memory part has one holding every header).
    pub fn index_blocks(&self) -> usize {
        match &self.columns {
            Columns::Disk { .. } => self.metaindex.len(),
            Columns::Memory { headers, .. } => usize::from(!headers.is_empty()),
        }
    }

    /// The headers of index block `number`, through `cache` when given (queries) or read directly
    /// (merges and start-up scans, which read every block once and would only flush the cache).
    pub async fn index_block(
        &self,
        number: usize,
        cache: Option<&IndexBlockCache>,
    ) -> io::Result<IndexBlock> {
        let (index, index_size, timestamps_size, values_size) = match &self.columns {
            Columns::Memory { headers, .. } => return Ok(headers.clone()),
            Columns::Disk {
                index,
                index_size,
                timestamps_size,
                values_size,
                ..
            } => (index, *index_size, *timestamps_size, *values_size),
        };
        let Some(row) = self.metaindex.get(number) else {
            return Err(self.corrupt(&format!("no index block {number}")));
        };
        let cache_key = u32::try_from(number).unwrap_or(u32::MAX);
        if let Some(found) = cache.and_then(|c| c.get(self.uid, cache_key)) {
            return Ok(found);
        }
        let start = row.index_offset;
        let compressed =
            read_clamped(index, index_size, start, start + u64::from(row.index_size)).await?;
        let raw = decompress_index_block(
            &compressed,
            row.headers as usize * block_header::BLOCK_HEADER_SIZE,
        )
        .map_err(|e| self.corrupt(&e.to_string()))?;
        let mut headers = Vec::with_capacity(row.headers as usize);
        let mut rest = raw.as_slice();
        while !rest.is_empty() {
            let (header, tail) = BlockHeader::decode(rest).map_err(|e| self.corrupt(&e))?;
            if header.timestamps_offset + u64::from(header.timestamps_size) > timestamps_size
                || header.values_offset + u64::from(header.values_size) > values_size
            {
                return Err(self.corrupt("block beyond end of file"));
            }
            headers.push(header);
            rest = tail;
        }
        if headers.len() != row.headers as usize {
            return Err(self.corrupt(&format!(
                "index block {number} has {} headers, metaindex says {}",
                headers.len(),
                row.headers
            )));
        }
        let headers: IndexBlock = headers.into();
        if let Some(cache) = cache {
            cache.insert(self.uid, cache_key, headers.clone());
        }
        Ok(headers)
    }

    /// Index blocks that may hold a block of `wanted` (sorted TSIDs) within `[min_ms, max_ms]`.
    fn index_blocks_for(&self, wanted: &[Tsid], min_ms: i64, max_ms: i64) -> Vec<usize> {
        if self.is_in_memory() {
            return (0..self.index_blocks()).collect();
        }
        let mut out: Vec<usize> = Vec::new();
        for tsid in wanted {
            // Blocks whose first TSID is <= tsid; the series may also start at the end of the block before
            // the first one whose first TSID equals it.
            let last = self.metaindex.partition_point(|r| r.first_tsid <= *tsid);
            if last == 0 {
                continue;
            }
            let first = self
                .metaindex
                .partition_point(|r| r.first_tsid < *tsid)
                .saturating_sub(1);
            for number in first.max(out.last().map_or(0, |&n| n + 1))..last {
                let overlaps = self
                    .metaindex
                    .get(number)
                    .is_some_and(|r| r.max_timestamp_ms >= min_ms && r.min_timestamp_ms <= max_ms);
                if overlaps {
                    out.push(number);
                }
            }
        }
        out
    }

    /// Reads the samples of `wanted` (sorted TSIDs) within `[min_ms, max_ms]`; one entry per block read.
    pub async fn read(
        &self,
        wanted: &[Tsid],
        min_ms: i64,
        max_ms: i64,
        cache: &IndexBlockCache,
    ) -> io::Result<Vec<SeriesSamples>> {
        if self.metadata.max_timestamp_ms < min_ms || self.metadata.min_timestamp_ms > max_ms {
            return Ok(Vec::new());
        }
        // Index blocks are visited in order and headers are sorted within them, so `picked` comes
        // out in file order, which the coalescing below relies on.
        let mut picked: Vec<(usize, BlockHeader)> = Vec::new();
        for number in self.index_blocks_for(wanted, min_ms, max_ms) {
            let headers = self.index_block(number, Some(cache)).await?;
            let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
                continue;
            };
            // Only the wanted series within this block's TSID range: linear in wanted overall.
            let low = wanted.partition_point(|t| *t < first.tsid);
            let high = wanted.partition_point(|t| *t <= last.tsid);
            let mut from = 0;
            for (position, tsid) in wanted.iter().enumerate().take(high).skip(low) {
                let rest = headers.get(from..).unwrap_or_default();
                from += rest.partition_point(|h| h.tsid < *tsid);
                for header in headers.get(from..).unwrap_or_default() {
                    if header.tsid != *tsid {
                        break;
                    }
                    from += 1;
                    if header.max_timestamp_ms >= min_ms && header.min_timestamp_ms <= max_ms {
                        picked.push((position, *header));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(picked.len());
        let mut group_start = 0;
        let mut decoder = BlockDecoder::new();
        while group_start < picked.len() {
            let group_end = coalesce_end(&picked, group_start);
            let group = picked.get(group_start..group_end).unwrap_or_default();
            self.read_group(group, min_ms, max_ms, &mut decoder, &mut out)
                .await?;
            group_start = group_end;
        }
        Ok(out)
    }

    async fn read_group(
        &self,
        group: &[(usize, BlockHeader)],
        min_ms: i64,
        max_ms: i64,
        decoder: &mut BlockDecoder,
        out: &mut Vec<SeriesSamples>,
    ) -> io::Result<()> {
        let (Some((_, first)), Some((_, last))) = (group.first(), group.last()) else {
            return Ok(());
        };
        let ts_start = first.timestamps_offset;
        let ts_end = last.timestamps_offset + u64::from(last.timestamps_size);
        let values_start = first.values_offset;
        let values_end = last.values_offset + u64::from(last.values_size);
        let ts_bytes = self.read_column(true, ts_start, ts_end).await?;
        let values_bytes = self.read_column(false, values_start, values_end).await?;
        for (position, header) in group {
            let ts_from = (header.timestamps_offset - ts_start) as usize;
            let values_from = (header.values_offset - values_start) as usize;
            let ts_slice = ts_bytes.get(ts_from..ts_from + header.timestamps_size as usize);
            let values_slice =
                values_bytes.get(values_from..values_from + header.values_size as usize);
            let (Some(ts_slice), Some(values_slice)) = (ts_slice, values_slice) else {
                return Err(self.corrupt("short read"));
            };
            let mut timestamps = Vec::with_capacity(header.rows as usize);
            let mut values = Vec::with_capacity(header.rows as usize);
            decoder
                .decode(
                    &header.encoding,
                    header.rows as usize,
                    ts_slice,
                    values_slice,
                    &mut timestamps,
                    &mut values,
                )
                .map_err(|e| self.corrupt(&e.to_string()))?;
            if header.min_timestamp_ms < min_ms || header.max_timestamp_ms > max_ms {
                // Timestamps are sorted within a block: keep the contiguous run inside the range.
                let from = timestamps.partition_point(|&t| t < min_ms);
                let to = timestamps.partition_point(|&t| t <= max_ms);
                timestamps.truncate(to);
                values.truncate(to);
                timestamps.drain(..from);
                values.drain(..from);
            }
            out.push((*position, timestamps, values));
        }
        Ok(())
    }

    /// Reads `[start, end)` of `timestamps.bin` (`timestamps`) or `values.bin`, clamped to the file.
    pub async fn read_column(&self, timestamps: bool, start: u64, end: u64) -> io::Result<Vec<u8>> {
        match &self.columns {
            Columns::Disk {
                timestamps: file,
                timestamps_size: size,
                ..
            } if timestamps => read_clamped(file, *size, start, end).await,
            Columns::Disk {
                values: file,
                values_size: size,
                ..
            } => read_clamped(file, *size, start, end).await,
            Columns::Memory {
                timestamps: ts,
                values,
                ..
            } => {
                let bytes = if timestamps { ts } else { values };
                let end = (end.min(bytes.len() as u64)) as usize;
                Ok(bytes.get(start as usize..end).unwrap_or_default().to_vec())
            }
        }
    }

    fn corrupt(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("part {} is corrupt: {what}", self.dir.display()),
        )
    }
}

/// Where the group of picked blocks starting at `start` ends: blocks whose bytes lie close together.
fn coalesce_end(picked: &[(usize, BlockHeader)], start: usize) -> usize {
    let Some((_, first)) = picked.get(start) else {
        return start;
    };
    let mut end = start + 1;
    let mut ts_end = first.timestamps_offset + u64::from(first.timestamps_size);
    let mut values_end = first.values_offset + u64::from(first.values_size);
    while let Some((_, next)) = picked.get(end) {
        let ordered = next.timestamps_offset >= ts_end && next.values_offset >= values_end;
        let close = next.timestamps_offset - ts_end.min(next.timestamps_offset)
            < COALESCE_GAP_BYTES
            && next.values_offset - values_end.min(next.values_offset) < COALESCE_GAP_BYTES;
        let small = next.timestamps_offset + u64::from(next.timestamps_size)
            - first.timestamps_offset
            < MAX_READ_BYTES
            && next.values_offset + u64::from(next.values_size) - first.values_offset
                < MAX_READ_BYTES;
        if !(ordered && close && small) {
            break;
        }
        ts_end = next.timestamps_offset + u64::from(next.timestamps_size);
        values_end = next.values_offset + u64::from(next.values_size);
        end += 1;
    }
    end
}

/// Reads `[start, end)` of a DMA file, never past `file_size` (glommio returns stale bytes there).
async fn read_clamped(file: &DmaFile, file_size: u64, start: u64, end: u64) -> io::Result<Vec<u8>> {
    let end = end.min(file_size);
    if start >= end {
        return Ok(Vec::new());
    }
    let result = file
        .read_at(start, (end - start) as usize)
        .await
        .map_err(io::Error::from)?;
    let len = ((end - start) as usize).min(result.len());
    Ok(result.get(..len).unwrap_or_default().to_vec())
}

const _: () = assert!(MAX_ROWS_PER_BLOCK <= u32::MAX as usize);

thread_local! {
    /// One zstd context per shard thread for index blocks: creating one per block was 1% of the
    /// CPU under ingest (merges read every index block of their inputs).
    static INDEX_DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Decompresses an index block of at most `capacity` bytes with this thread's context.
fn decompress_index_block(compressed: &[u8], capacity: usize) -> io::Result<Vec<u8>> {
    INDEX_DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match &mut *slot {
            Some(decompressor) => decompressor,
            empty => empty.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(compressed, capacity)
    })
}
