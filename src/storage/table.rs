//! The shard's table: ingest into a buffer, read across buffer and parts. Flushing, merging and
//! retention live in `flush.rs`, `merge/` and `retention.rs`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ahash::RandomState;

use super::dedup::deduplicate;
use super::fs;
use super::inmemory::InMemoryPart;
use super::part::index_block_cache::IndexBlockCache;
use super::part::Part;
use super::partition::{LivePart, Partition, PartitionKey, PartsList};
use super::wal::{batch_record, Replay, Wal, WalOptions};
use super::write_gate::{DiskWork, WriteRefused};
use crate::index::{series_log, Index, IndexOptions, Tsid};
use crate::ingest::IngestBatch;
use crate::model::{Labels, Matcher};

/// Samples more than this far in the future are rejected (clock skew allowance, as VictoriaMetrics).
const MAX_FUTURE_MS: i64 = 2 * 86_400_000;

/// One buffered sample.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BufferedRow {
    pub(crate) tsid: Tsid,
    pub(crate) timestamp_ms: i64,
    pub(crate) value: f64,
}

/// Counters a shard reports in `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StorageStats {
    /// Samples accepted.
    pub rows_ingested: u64,
    /// Samples rejected as older than retention.
    pub rows_too_old: u64,
    /// Samples rejected as too far in the future.
    pub rows_too_new: u64,
    /// Series registered.
    pub series: u64,
    /// Live parts.
    pub parts: u64,
    /// Live big parts.
    pub big_parts: u64,
    /// Rows in live parts.
    pub part_rows: u64,
    /// Bytes of live parts' column files.
    pub part_bytes: u64,
    /// Rows not yet on disk: buffered, being sealed, or in in-memory parts.
    pub buffered_rows: u64,
    /// In-memory parts waiting for the next flush.
    pub inmemory_parts: u64,
    /// Index-block cache hits.
    pub index_cache_hits: u64,
    /// Index-block cache misses (an index block read from disk and decoded).
    pub index_cache_misses: u64,
    /// Bytes of decoded index blocks held by the cache.
    pub index_cache_bytes: u64,
    /// Flushes done.
    pub flushes: u64,
    /// Merges done.
    pub merges: u64,
    /// Rows written by merges.
    pub merged_rows: u64,
    /// Partitions dropped by retention.
    pub partitions_dropped: u64,
    /// WAL commits waiting for their write (and fdatasync) right now.
    pub wal_commits_in_flight: u64,
    /// Whether a flush is running right now.
    pub flush_in_flight: u64,
    /// Whether a merge is running right now.
    pub merge_in_flight: u64,
    /// The series index's counters (parts, caches).
    pub index: crate::index::IndexStats,
    /// 1 while writes are paused by a full disk.
    pub writes_paused: u64,
    /// 1 once a failed fsync (or another unretryable I/O error) made the shard read-only.
    pub read_only: u64,
    /// WAL writes, flushes and merges that hit a full disk.
    pub no_space_errors: u64,
    /// fdatasyncs of WAL segments since open (group commit: one serves many requests).
    pub wal_fsyncs: u64,
}

/// What the samples of one selected series look like: labels plus sorted, deduplicated samples.
pub type SampleRange = (Labels, Vec<i64>, Vec<f64>);

/// How the storage is set up, from the flags.
#[derive(Debug, Clone, Copy)]
pub struct StorageOptions {
    /// The write-ahead log's durability; `None` runs without a WAL (tests of the storage alone).
    pub wal_sync: Option<super::wal::SyncMode>,
    /// Samples older than this (ms before now) are rejected; older partitions are dropped.
    pub retention_ms: i64,
    /// `--dedup.min-scrape-interval` in ms; 0 = off.
    pub dedup_interval_ms: i64,
    /// Budget of this shard's cache of decoded index blocks, in bytes.
    pub index_cache_bytes: u64,
    /// Whether samples older than retention or too far in the future are rejected and old
    /// partitions dropped; off only for replaying fixed historical data (PromQL test scripts start in 1970).
    pub time_checks: bool,
    /// Budgets of the series index's caches.
    pub series_index: IndexOptions,
}

/// A shard's storage.
pub struct Storage {
    pub(crate) dir: PathBuf,
    pub(crate) options: StorageOptions,
    pub(crate) index: Index,
    pub(crate) buffer: RefCell<Vec<BufferedRow>>,
    /// Rows taken from the buffer whose in-memory part is being built; still visible to queries.
    pub(crate) sealing: RefCell<Vec<Rc<Vec<BufferedRow>>>>,
    /// Sealed rows waiting for the next flush to disk (see `inmemory.rs`).
    pub(crate) in_memory: RefCell<Vec<InMemoryPart>>,
    pub(crate) next_seal_seq: Cell<u64>,
    /// One seal at a time.
    pub(crate) seal_lock: glommio::sync::Semaphore,
    /// Decoded index blocks of disk parts, for queries.
    pub(crate) index_cache: IndexBlockCache,
    pub(crate) partitions: RefCell<BTreeMap<PartitionKey, Partition>>,
    /// Parts replaced by a merge or dropped by retention, deleted once no query holds them.
    pub(crate) retired: RefCell<Vec<Rc<Part>>>,
    pub(crate) next_part_id: Cell<u64>,
    /// One flush at a time.
    pub(crate) flush_lock: glommio::sync::Semaphore,
    /// One merge at a time.
    pub(crate) merge_lock: glommio::sync::Semaphore,
    /// Serializes `parts.json` rewrites (flushes and merges commit concurrently).
    pub(crate) commit_lock: glommio::sync::Semaphore,
    pub(crate) stats: RefCell<StorageStats>,
    /// The write-ahead log; set once, after replay.
    pub(crate) wal: std::cell::OnceCell<Wal>,
    /// Scratch for encoding WAL records.
    wal_scratch: RefCell<Vec<u8>>,
    /// Whether writes are accepted (a full disk pauses them, a failed fsync stops them).
    pub(crate) write_gate: RefCell<super::write_gate::WriteGate>,
}

impl Storage {
    /// Opens (or creates) the storage under a shard directory.
    pub async fn open(dir: &Path, options: StorageOptions) -> io::Result<Storage> {
        let data = dir.join("data");
        let indexdb = dir.join("indexdb");
        fs::create_dir_all(&data.join("small")).await?;
        fs::create_dir_all(&data.join("big")).await?;
        fs::create_dir_all(&indexdb).await?;
        let index = Index::open(&indexdb, options.series_index).await?;
        let (partitions, next_part_id) = open_partitions(&data).await?;
        import_series_logs(&index, &indexdb, &partitions).await?;
        let storage = Storage {
            dir: dir.to_path_buf(),
            options,
            index,
            buffer: RefCell::new(Vec::new()),
            sealing: RefCell::new(Vec::new()),
            in_memory: RefCell::new(Vec::new()),
            next_seal_seq: Cell::new(0),
            seal_lock: glommio::sync::Semaphore::new(1),
            index_cache: IndexBlockCache::new(options.index_cache_bytes),
            partitions: RefCell::new(partitions),
            retired: RefCell::new(Vec::new()),
            next_part_id: Cell::new(next_part_id),
            flush_lock: glommio::sync::Semaphore::new(1),
            merge_lock: glommio::sync::Semaphore::new(1),
            commit_lock: glommio::sync::Semaphore::new(1),
            stats: RefCell::new(StorageStats::default()),
            wal: std::cell::OnceCell::new(),
            wal_scratch: RefCell::new(Vec::new()),
            write_gate: RefCell::new(Default::default()),
        };
        if let Some(sync) = options.wal_sync {
            storage.replay_wal(sync).await?;
        }
        storage.refresh_part_stats();
        Ok(storage)
    }

    /// Replays the WAL into the buffer (rows whose parts already committed come back as duplicates
    /// of equal timestamps, which reads and merges collapse), then keeps the log for new writes.
    async fn replay_wal(&self, sync: super::wal::SyncMode) -> io::Result<()> {
        let now = crate::shard::now_ms();
        let mut failures = 0u64;
        let wal_error = |e: super::wal::Error| io::Error::new(e.kind(), e.to_string());
        // Replaying a row re-registers its series if a crash lost the index items (the WAL
        // carries every row's labels), so data and index agree after recovery.
        let mut replay = Replay::start(&self.dir.join("wal"))
            .await
            .map_err(wal_error)?;
        while let Some((_, bytes)) = replay.next().await.map_err(wal_error)? {
            let batch = match batch_record::decode(bytes) {
                Ok(batch) => batch,
                Err(_) => {
                    failures += 1;
                    continue;
                }
            };
            if self.ingest(&batch, now).await.is_err() {
                failures += 1;
            }
        }
        let (wal, report) = Wal::open_after(replay, WalOptions::new(sync))
            .await
            .map_err(wal_error)?;
        if report.records > 0 || report.dropped_bytes > 0 {
            log::info!("{}: {report}", self.dir.display());
        }
        if failures > 0 {
            log::warn!(
                "{}: {failures} WAL records could not be applied",
                self.dir.display()
            );
        }
        let _ = self.wal.set(wal);
        Ok(())
    }

    /// [`ingest`](Self::ingest), made durable first: the batch is appended to the WAL, buffered,
    /// and the call returns only once the WAL commit covering it has finished (group commit).
    /// Refused while the write gate is closed (full disk, read-only).
    pub async fn ingest_durable(
        &self,
        batch: &IngestBatch,
        now_ms: i64,
    ) -> Result<(u64, u64), WriteRefused> {
        let Some(wal) = self.wal.get() else {
            return self
                .ingest(batch, now_ms)
                .await
                .map_err(WriteRefused::permanent);
        };
        self.admit_write()?;
        // Series lookups may await (index blocks are read from disk); appending to the WAL and
        // buffering must not, so that a flush's WAL cut separates buffered rows exactly.
        let tsids = self
            .resolve_series(batch)
            .await
            .map_err(WriteRefused::permanent)?;
        let position = {
            let mut scratch = self.wal_scratch.borrow_mut();
            scratch.clear();
            batch_record::encode(batch, &mut scratch);
            wal.append(&scratch).map_err(|e| self.wal_failed(&e))?
        };
        let counts = self.buffer_rows(batch, &tsids, now_ms);
        self.stats.borrow_mut().wal_commits_in_flight += 1;
        let committed = wal.commit(position).await;
        self.stats.borrow_mut().wal_commits_in_flight -= 1;
        committed.map_err(|e| self.wal_failed(&e))?;
        self.disk_work_succeeded(DiskWork::Wal);
        Ok(counts)
    }

    /// Copies of the rows being sealed or buffered for `wanted` within `[min_ms, max_ms]`, per
    /// wanted series, in arrival order.
    fn unsealed_samples(&self, wanted: &[Tsid], min_ms: i64, max_ms: i64) -> Vec<Vec<(i64, f64)>> {
        let mut samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); wanted.len()];
        let position_of: HashMap<Tsid, usize, RandomState> = wanted
            .iter()
            .enumerate()
            .map(|(i, tsid)| (*tsid, i))
            .collect();
        let sealing = self.sealing.borrow();
        let buffer = self.buffer.borrow();
        let sources = sealing
            .iter()
            .map(|r| r.as_slice())
            .chain(std::iter::once(buffer.as_slice()));
        for rows in sources {
            for row in rows {
                if row.timestamp_ms < min_ms || row.timestamp_ms > max_ms {
                    continue;
                }
                if let Some(out) = position_of.get(&row.tsid).and_then(|&i| samples.get_mut(i)) {
                    out.push((row.timestamp_ms, row.value));
                }
            }
        }
        samples
    }

    /// Accepts a batch: registers new series and buffers the rows. Returns (accepted, rejected) sample counts.
    pub async fn ingest(&self, batch: &IngestBatch, now_ms: i64) -> Result<(u64, u64), String> {
        let tsids = self.resolve_series(batch).await?;
        Ok(self.buffer_rows(batch, &tsids, now_ms))
    }

    /// The TSID of every series of the batch, registering new ones.
    async fn resolve_series(&self, batch: &IngestBatch) -> Result<Vec<Tsid>, String> {
        let mut tsids = Vec::with_capacity(batch.iter_hashed().size_hint().0);
        for (hash, canonical, _, _) in batch.iter_hashed() {
            let found = self
                .index
                .lookup(hash, canonical)
                .await
                .map_err(|e| format!("series index read failed: {e}"))?;
            let tsid = match found {
                Some(tsid) => tsid,
                None => {
                    let labels = Labels::decode_canonical(canonical).map_err(|e| e.to_string())?;
                    self.index.register(hash, canonical, &labels)
                }
            };
            tsids.push(tsid);
        }
        Ok(tsids)
    }

    /// Buffers the rows of a batch whose series are `tsids`; notes their days in the index.
    fn buffer_rows(&self, batch: &IngestBatch, tsids: &[Tsid], now_ms: i64) -> (u64, u64) {
        let (min_ms, max_ms) = if self.options.time_checks {
            (
                now_ms.saturating_sub(self.options.retention_ms),
                now_ms.saturating_add(MAX_FUTURE_MS),
            )
        } else {
            (i64::MIN, i64::MAX)
        };
        let mut buffer = self.buffer.borrow_mut();
        let mut stats = self.stats.borrow_mut();
        let (mut accepted, mut rejected) = (0u64, 0u64);
        for ((_, canonical, timestamps, values), tsid) in batch.iter_hashed().zip(tsids) {
            let mut last_day = None;
            for (&timestamp_ms, &value) in timestamps.iter().zip(values) {
                if timestamp_ms < min_ms {
                    stats.rows_too_old += 1;
                    rejected += 1;
                    continue;
                }
                if timestamp_ms > max_ms {
                    stats.rows_too_new += 1;
                    rejected += 1;
                    continue;
                }
                let day = crate::index::item::day_of(timestamp_ms);
                if last_day != Some(day) {
                    self.index.note_day(tsid, canonical, day);
                    last_day = Some(day);
                }
                buffer.push(BufferedRow {
                    tsid: *tsid,
                    timestamp_ms,
                    value,
                });
                accepted += 1;
            }
        }
        stats.rows_ingested += accepted;
        (accepted, rejected)
    }

    /// The samples of every series matching `matchers` within `[min_ms, max_ms]`, sorted by time, one value per timestamp.
    pub async fn select(
        &self,
        matchers: &[Matcher],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<SampleRange>> {
        // The index search may await (index blocks are read from disk). Everything else the
        // query reads is taken after it in one step, with no await: disk parts, in-memory parts,
        // and copies of the matching rows being sealed or buffered. Rows move between those
        // layers without an await too, so the query sees each row exactly once, and the parts
        // it holds (`Rc`) are not deleted before it is done (`delete_retired`).
        let ids = self.index.search(matchers, min_ms, max_ms).await?;
        let mut wanted = self.index.series_of(&ids).await?;
        wanted.sort_by_key(|(tsid, _)| *tsid);
        let tsids: Vec<Tsid> = wanted.iter().map(|(t, _)| *t).collect();
        let (disk_parts, memory_parts, mut samples) = {
            let mut disk_parts: Vec<LivePart> = self
                .partitions
                .borrow()
                .iter()
                .filter(|(key, _)| key.end_ms() > min_ms && key.start_ms() <= max_ms)
                .flat_map(|(_, p)| p.parts.iter().cloned())
                .collect();
            // Older parts first, so that newer writes win on equal timestamps.
            disk_parts.sort_by_key(|p| (p.newest_write, p.id));
            let mut memory_parts: Vec<InMemoryPart> = self.in_memory.borrow().clone();
            memory_parts.sort_by_key(|p| p.seq);
            let unsealed = self.unsealed_samples(&tsids, min_ms, max_ms);
            (disk_parts, memory_parts, unsealed)
        };
        // Per series, oldest source first: disk parts, in-memory parts, then the unsealed rows.
        let mut read: Vec<Vec<(i64, f64)>> = vec![Vec::new(); wanted.len()];
        let parts = disk_parts
            .iter()
            .map(|p| &p.part)
            .chain(memory_parts.iter().map(|p| &p.part));
        for part in parts {
            for (position, timestamps, values) in
                part.read(&tsids, min_ms, max_ms, &self.index_cache).await?
            {
                if let Some(out) = read.get_mut(position) {
                    out.extend(timestamps.into_iter().zip(values));
                }
            }
        }
        drop((disk_parts, memory_parts));
        for (out, unsealed) in read.iter_mut().zip(samples.iter_mut()) {
            out.append(unsealed);
        }
        let samples = read;
        let mut result = Vec::with_capacity(wanted.len());
        for ((_, labels), mut points) in wanted.drain(..).zip(samples) {
            if points.is_empty() {
                continue;
            }
            // Stable: among equal timestamps the newest source stays last.
            points.sort_by_key(|&(t, _)| t);
            let (mut timestamps, mut values): (Vec<i64>, Vec<f64>) = points.into_iter().unzip();
            deduplicate(&mut timestamps, &mut values, self.options.dedup_interval_ms);
            result.push((Rc::unwrap_or_clone(labels), timestamps, values));
        }
        Ok(result)
    }

    /// Labels of the series matching any of `selectors` (all series when empty) with samples in `[min_ms, max_ms]`.
    pub async fn series(
        &self,
        selectors: &[Vec<Matcher>],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<Rc<Labels>>> {
        let ids = self.select_any(selectors, min_ms, max_ms).await?;
        Ok(self
            .index
            .series_of(&ids)
            .await?
            .into_iter()
            .map(|(_, labels)| labels)
            .collect())
    }

    /// Label names of the selected series, sorted.
    pub async fn label_names(
        &self,
        selectors: &[Vec<Matcher>],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<String>> {
        let mut names = std::collections::BTreeSet::new();
        for labels in self.series(selectors, min_ms, max_ms).await? {
            for label in labels.iter() {
                if !names.contains(label.name.as_str()) {
                    names.insert(label.name.clone());
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    /// Values of label `name` over the selected series, sorted.
    pub async fn label_values(
        &self,
        name: &str,
        selectors: &[Vec<Matcher>],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<String>> {
        let mut values = std::collections::BTreeSet::new();
        for labels in self.series(selectors, min_ms, max_ms).await? {
            let value = labels.get(name);
            if !value.is_empty() && !values.contains(value) {
                values.insert(value.to_string());
            }
        }
        Ok(values.into_iter().collect())
    }

    /// Metric ids of the series matching any of `selectors` (every series when there are none), ascending.
    pub async fn select_any(
        &self,
        selectors: &[Vec<Matcher>],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<u64>> {
        if selectors.is_empty() {
            return self.index.search(&[], min_ms, max_ms).await;
        }
        let mut ids: Vec<u64> = Vec::new();
        for matchers in selectors {
            ids.extend(self.index.search(matchers, min_ms, max_ms).await?);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The series index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Runs one background merge of the series index if one is due.
    pub async fn merge_index(&self) -> io::Result<bool> {
        self.index.merge_step().await
    }

    /// Refreshes and returns the counters.
    pub fn stats(&self) -> StorageStats {
        self.refresh_part_stats();
        let mut stats = *self.stats.borrow();
        stats.wal_fsyncs = self.wal.get().map_or(0, |wal| wal.stats().fsyncs);
        stats
    }

    pub(crate) fn refresh_part_stats(&self) {
        let partitions = self.partitions.borrow();
        let mut stats = self.stats.borrow_mut();
        let live = || partitions.values().flat_map(|p| p.parts.iter());
        stats.parts = live().count() as u64;
        stats.big_parts = live().filter(|p| p.big).count() as u64;
        stats.part_rows = live().map(|p| p.part.metadata.rows).sum();
        stats.part_bytes = live().map(|p| p.part.column_bytes()).sum();
        stats.index = self.index.stats();
        stats.series = stats.index.series_created;
        stats.buffered_rows = self.unflushed_rows();
        stats.inmemory_parts = self.in_memory.borrow().len() as u64;
        let (hits, misses) = self.index_cache.counters();
        stats.index_cache_hits = hits;
        stats.index_cache_misses = misses;
        stats.index_cache_bytes = self.index_cache.bytes();
    }

    /// Deletes retired parts that no query holds any more.
    pub(crate) async fn delete_retired(&self) {
        let free: Vec<Rc<Part>> = {
            let mut retired = self.retired.borrow_mut();
            let (free, busy): (Vec<_>, Vec<_>) =
                retired.drain(..).partition(|p| Rc::strong_count(p) == 1);
            *retired = busy;
            free
        };
        for part in free {
            let dir = part.dir.clone();
            drop(part);
            if let Err(error) = fs::remove_dir_all(&dir).await {
                log::warn!("cannot remove retired part {}: {error}", dir.display());
            }
        }
    }
}

/// Imports the series logs of the interim index (`indexdb/series-*.bin`, before the mergeset) once,
/// keeping each series' TSID, then removes them.
async fn import_series_logs(
    index: &Index,
    indexdb: &Path,
    partitions: &BTreeMap<PartitionKey, Partition>,
) -> io::Result<()> {
    let logs: Vec<String> = fs::list_dir(indexdb)
        .await?
        .into_iter()
        .filter(|name| name.starts_with("series-") && name.ends_with(".bin"))
        .collect();
    if logs.is_empty() {
        return Ok(());
    }
    let mut imported: HashMap<u64, Vec<u8>, RandomState> = HashMap::default();
    for name in &logs {
        let path = indexdb.join(name);
        let bytes = fs::read_small_file(&path).await?.unwrap_or_default();
        let records = series_log::decode(&path, &bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        for record in records {
            let labels = Labels::decode_canonical(&record.canonical).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
            index
                .import(&record.canonical, &labels, record.tsid)
                .await?;
            imported.insert(record.tsid.metric_id, record.canonical);
        }
    }
    // The interim index had no per-day entries: derive them from the data's blocks.
    for live in partitions.values().flat_map(|p| p.parts.iter()) {
        for number in 0..live.part.index_blocks() {
            let headers = live.part.index_block(number, None).await?;
            for header in headers.iter() {
                let Some(canonical) = imported.get(&header.tsid.metric_id) else {
                    continue;
                };
                let first = crate::index::item::day_of(header.min_timestamp_ms);
                let last = crate::index::item::day_of(header.max_timestamp_ms);
                for day in first..=last.min(first.saturating_add(366)) {
                    index.note_day(&header.tsid, canonical, day);
                }
            }
        }
    }
    index.flush().await?;
    for name in &logs {
        let path = indexdb.join(name);
        std::fs::remove_file(&path).map_err(|e| fs::with_path(e, "remove", &path))?;
    }
    log::info!(
        "{}: imported {} series logs into the index",
        indexdb.display(),
        logs.len()
    );
    Ok(())
}

/// Opens every committed partition under `data/` and removes whatever is not committed.
async fn open_partitions(data: &Path) -> io::Result<(BTreeMap<PartitionKey, Partition>, u64)> {
    let mut partitions = BTreeMap::new();
    let mut next_part_id = 1;
    for name in fs::list_dir(data).await? {
        let Some(key) = name
            .strip_suffix(".parts.json")
            .and_then(PartitionKey::parse)
        else {
            if name.ends_with(".tmp") {
                std::fs::remove_file(data.join(&name))
                    .map_err(|e| fs::with_path(e, "remove", &data.join(&name)))?;
            }
            continue;
        };
        let path = data.join(&name);
        let bytes = fs::read_small_file(&path).await?.unwrap_or_default();
        let list: PartsList = serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is corrupt: {e}", path.display()),
            )
        })?;
        let mut partition = Partition::default();
        for (big, names) in [(false, &list.small), (true, &list.big)] {
            for part in names {
                let id = u64::from_str_radix(part, 16).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: bad part name {part:?}", path.display()),
                    )
                })?;
                next_part_id = next_part_id.max(id + 1);
                let dir = data
                    .join(if big { "big" } else { "small" })
                    .join(key.to_string())
                    .join(part);
                partition
                    .parts
                    .push(LivePart::new(id, big, Rc::new(Part::open(&dir).await?)));
            }
        }
        partitions.insert(key, partition);
    }
    // Remove part dirs no parts.json lists: leftovers of a flush or merge a crash interrupted.
    for (big, kind) in [(false, "small"), (true, "big")] {
        for month in fs::list_dir(&data.join(kind)).await? {
            let month_dir = data.join(kind).join(&month);
            let live: Vec<String> = PartitionKey::parse(&month)
                .and_then(|k| partitions.get(&k))
                .map(|p| {
                    if big {
                        p.parts_list().big
                    } else {
                        p.parts_list().small
                    }
                })
                .unwrap_or_default();
            for entry in fs::list_dir(&month_dir).await? {
                if let Ok(id) = u64::from_str_radix(entry.trim_start_matches("tmp-"), 16) {
                    next_part_id = next_part_id.max(id + 1);
                }
                if !live.contains(&entry) {
                    log::info!(
                        "removing uncommitted part {}",
                        month_dir.join(&entry).display()
                    );
                    fs::remove_dir_all(&month_dir.join(&entry)).await?;
                }
            }
        }
    }
    Ok((partitions, next_part_id))
}
