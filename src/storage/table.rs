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
use super::part::Part;
use super::partition::{LivePart, Partition, PartitionKey, PartsList};
use super::wal::{batch_record, Wal, WalOptions};
use crate::index::{search, series_log, Index, SeriesRef, Tsid};
use crate::ingest::IngestBatch;
use crate::model::{Labels, Matcher};

/// Samples more than this far in the future are rejected (clock skew allowance, as VictoriaMetrics).
const MAX_FUTURE_MS: i64 = 2 * 86_400_000;

/// One buffered sample.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BufferedRow {
    pub(crate) series: SeriesRef,
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
    /// Rows waiting in memory.
    pub buffered_rows: u64,
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
    /// Whether samples older than retention or too far in the future are rejected and old
    /// partitions dropped; off only for replaying fixed historical data (PromQL test scripts start in 1970).
    pub time_checks: bool,
}

/// A shard's storage.
pub struct Storage {
    pub(crate) dir: PathBuf,
    pub(crate) options: StorageOptions,
    pub(crate) index: RefCell<Index>,
    pub(crate) buffer: RefCell<Vec<BufferedRow>>,
    /// Rows taken from the buffer whose part is being written; still visible to queries.
    pub(crate) flushing: RefCell<Vec<Rc<Vec<BufferedRow>>>>,
    pub(crate) partitions: RefCell<BTreeMap<PartitionKey, Partition>>,
    /// Parts replaced by a merge or dropped by retention, deleted once no query holds them.
    pub(crate) retired: RefCell<Vec<Rc<Part>>>,
    pub(crate) next_part_id: Cell<u64>,
    pub(crate) next_series_log: Cell<u64>,
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
}

impl Storage {
    /// Opens (or creates) the storage under a shard directory.
    pub async fn open(dir: &Path, options: StorageOptions) -> io::Result<Storage> {
        let data = dir.join("data");
        let indexdb = dir.join("indexdb");
        fs::create_dir_all(&data.join("small")).await?;
        fs::create_dir_all(&data.join("big")).await?;
        fs::create_dir_all(&indexdb).await?;
        let (index, next_series_log) = open_index(&indexdb).await?;
        let (partitions, next_part_id) = open_partitions(&data).await?;
        let storage = Storage {
            dir: dir.to_path_buf(),
            options,
            index: RefCell::new(index),
            buffer: RefCell::new(Vec::new()),
            flushing: RefCell::new(Vec::new()),
            partitions: RefCell::new(partitions),
            retired: RefCell::new(Vec::new()),
            next_part_id: Cell::new(next_part_id),
            next_series_log: Cell::new(next_series_log),
            flush_lock: glommio::sync::Semaphore::new(1),
            merge_lock: glommio::sync::Semaphore::new(1),
            commit_lock: glommio::sync::Semaphore::new(1),
            stats: RefCell::new(StorageStats::default()),
            wal: std::cell::OnceCell::new(),
            wal_scratch: RefCell::new(Vec::new()),
        };
        storage.note_series_time_ranges();
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
        let (wal, report) = Wal::open(&self.dir.join("wal"), WalOptions::new(sync), |_, bytes| {
            let applied = batch_record::decode(bytes)
                .map_err(|e| e.to_string())
                .and_then(|batch| self.ingest(&batch, now));
            if applied.is_err() {
                failures += 1;
            }
        })
        .await
        .map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
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
    pub async fn ingest_durable(
        &self,
        batch: &IngestBatch,
        now_ms: i64,
    ) -> Result<(u64, u64), String> {
        let Some(wal) = self.wal.get() else {
            return self.ingest(batch, now_ms);
        };
        let position = {
            let mut scratch = self.wal_scratch.borrow_mut();
            scratch.clear();
            batch_record::encode(batch, &mut scratch);
            wal.append(&scratch).map_err(|e| wal_error(&e))?
        };
        let counts = self.ingest(batch, now_ms)?;
        self.stats.borrow_mut().wal_commits_in_flight += 1;
        let committed = wal.commit(position).await;
        self.stats.borrow_mut().wal_commits_in_flight -= 1;
        committed.map_err(|e| wal_error(&e))?;
        Ok(counts)
    }

    /// Widens every series' known time range by the blocks of the live parts.
    fn note_series_time_ranges(&self) {
        let partitions = self.partitions.borrow();
        let mut index = self.index.borrow_mut();
        for live in partitions.values().flat_map(|p| p.parts.iter()) {
            for header in live.part.headers() {
                if let Some(series) = index.by_metric_id(header.tsid.metric_id) {
                    index.note_timestamp(series, header.min_timestamp_ms);
                    index.note_timestamp(series, header.max_timestamp_ms);
                }
            }
        }
    }

    /// Accepts a batch: registers new series and buffers the rows. Returns (accepted, rejected) sample counts.
    pub fn ingest(&self, batch: &IngestBatch, now_ms: i64) -> Result<(u64, u64), String> {
        let (min_ms, max_ms) = if self.options.time_checks {
            (
                now_ms.saturating_sub(self.options.retention_ms),
                now_ms.saturating_add(MAX_FUTURE_MS),
            )
        } else {
            (i64::MIN, i64::MAX)
        };
        let mut index = self.index.borrow_mut();
        let mut buffer = self.buffer.borrow_mut();
        let mut stats = self.stats.borrow_mut();
        let (mut accepted, mut rejected) = (0u64, 0u64);
        for (hash, canonical, timestamps, values) in batch.iter_hashed() {
            let series = match index.lookup_hashed(hash, canonical) {
                Some(series) => series,
                None => {
                    let labels = Labels::decode_canonical(canonical).map_err(|e| e.to_string())?;
                    index.register_hashed(hash, canonical, labels)
                }
            };
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
                index.note_timestamp(series, timestamp_ms);
                buffer.push(BufferedRow {
                    series,
                    timestamp_ms,
                    value,
                });
                accepted += 1;
            }
        }
        stats.rows_ingested += accepted;
        Ok((accepted, rejected))
    }

    /// The samples of every series matching `matchers` within `[min_ms, max_ms]`, sorted by time, one value per timestamp.
    pub async fn select(
        &self,
        matchers: &[Matcher],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<SampleRange>> {
        let (mut wanted, mut parts) = {
            let index = self.index.borrow();
            let mut wanted: Vec<(Tsid, SeriesRef, Labels)> =
                search::select(&index, matchers, min_ms, max_ms)
                    .into_iter()
                    .filter_map(|s| index.entry(s).map(|e| (e.tsid, s, e.labels.clone())))
                    .collect();
            wanted.sort_by_key(|(tsid, _, _)| *tsid);
            let parts: Vec<LivePart> = self
                .partitions
                .borrow()
                .iter()
                .filter(|(key, _)| key.end_ms() > min_ms && key.start_ms() <= max_ms)
                .flat_map(|(_, p)| p.parts.iter().cloned())
                .collect();
            (wanted, parts)
        };
        let mut samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); wanted.len()];
        let tsids: Vec<Tsid> = wanted.iter().map(|(t, _, _)| *t).collect();
        // Older parts first, so that newer writes win on equal timestamps.
        parts.sort_by_key(|p| p.id);
        for live in &parts {
            for (position, timestamps, values) in live.part.read(&tsids, min_ms, max_ms).await? {
                if let Some(out) = samples.get_mut(position) {
                    out.extend(timestamps.into_iter().zip(values));
                }
            }
        }
        drop(parts);
        {
            // Buffered rows are the newest: they come last so that they win on equal timestamps.
            let position_of: HashMap<SeriesRef, usize, RandomState> = wanted
                .iter()
                .enumerate()
                .map(|(i, (_, s, _))| (*s, i))
                .collect();
            let flushing = self.flushing.borrow();
            let buffer = self.buffer.borrow();
            let sources = flushing
                .iter()
                .map(|r| r.as_slice())
                .chain(std::iter::once(buffer.as_slice()));
            for rows in sources {
                for row in rows {
                    if row.timestamp_ms < min_ms || row.timestamp_ms > max_ms {
                        continue;
                    }
                    if let Some(out) = position_of
                        .get(&row.series)
                        .and_then(|&i| samples.get_mut(i))
                    {
                        out.push((row.timestamp_ms, row.value));
                    }
                }
            }
        }
        let mut result = Vec::with_capacity(wanted.len());
        for ((_, _, labels), mut points) in wanted.drain(..).zip(samples) {
            if points.is_empty() {
                continue;
            }
            // Stable: among equal timestamps the newest source stays last.
            points.sort_by_key(|&(t, _)| t);
            let (mut timestamps, mut values): (Vec<i64>, Vec<f64>) = points.into_iter().unzip();
            deduplicate(&mut timestamps, &mut values, self.options.dedup_interval_ms);
            result.push((labels, timestamps, values));
        }
        Ok(result)
    }

    /// Labels of the series matching any of `selectors` (all series when empty) with samples in `[min_ms, max_ms]`.
    pub fn series(&self, selectors: &[Vec<Matcher>], min_ms: i64, max_ms: i64) -> Vec<Labels> {
        let index = self.index.borrow();
        select_any(&index, selectors, min_ms, max_ms)
            .into_iter()
            .filter_map(|s| index.entry(s).map(|e| e.labels.clone()))
            .collect()
    }

    /// Label names of the selected series, sorted.
    pub fn label_names(&self, selectors: &[Vec<Matcher>], min_ms: i64, max_ms: i64) -> Vec<String> {
        let index = self.index.borrow();
        let mut names = std::collections::BTreeSet::new();
        for series in select_any(&index, selectors, min_ms, max_ms) {
            if let Some(entry) = index.entry(series) {
                for label in &entry.labels {
                    if !names.contains(label.name.as_str()) {
                        names.insert(label.name.clone());
                    }
                }
            }
        }
        names.into_iter().collect()
    }

    /// Values of label `name` over the selected series, sorted.
    pub fn label_values(
        &self,
        name: &str,
        selectors: &[Vec<Matcher>],
        min_ms: i64,
        max_ms: i64,
    ) -> Vec<String> {
        let index = self.index.borrow();
        let mut values = std::collections::BTreeSet::new();
        for series in select_any(&index, selectors, min_ms, max_ms) {
            if let Some(entry) = index.entry(series) {
                let value = entry.labels.get(name);
                if !value.is_empty() && !values.contains(value) {
                    values.insert(value.to_string());
                }
            }
        }
        values.into_iter().collect()
    }

    /// Refreshes and returns the counters.
    pub fn stats(&self) -> StorageStats {
        self.refresh_part_stats();
        *self.stats.borrow()
    }

    pub(crate) fn refresh_part_stats(&self) {
        let partitions = self.partitions.borrow();
        let mut stats = self.stats.borrow_mut();
        let live = || partitions.values().flat_map(|p| p.parts.iter());
        stats.parts = live().count() as u64;
        stats.big_parts = live().filter(|p| p.big).count() as u64;
        stats.part_rows = live().map(|p| p.part.metadata.rows).sum();
        stats.part_bytes = live().map(|p| p.part.column_bytes()).sum();
        stats.series = self.index.borrow().len() as u64;
        stats.buffered_rows = self.buffer.borrow().len() as u64;
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

/// The message a refused write carries: the front answers 503, so the sender retries.
fn wal_error(error: &super::wal::Error) -> String {
    if error.is_no_space() {
        format!("disk full, writes are paused until space is freed: {error}")
    } else {
        format!("write-ahead log failed, this shard is read-only until restarted: {error}")
    }
}

/// Series matching any of `selectors` (every series when there are none) within the time range, ascending.
fn select_any(
    index: &Index,
    selectors: &[Vec<Matcher>],
    min_ms: i64,
    max_ms: i64,
) -> Vec<SeriesRef> {
    if selectors.is_empty() {
        return search::select(index, &[], min_ms, max_ms);
    }
    let mut refs: Vec<SeriesRef> = selectors
        .iter()
        .flat_map(|m| search::select(index, m, min_ms, max_ms))
        .collect();
    refs.sort_unstable();
    refs.dedup();
    refs
}

/// Reads the series log back into a fresh index; returns it and the next log sequence number.
async fn open_index(indexdb: &Path) -> io::Result<(Index, u64)> {
    let mut index = Index::new();
    let mut next_series_log = 0;
    let mut logs: Vec<(u64, String)> = fs::list_dir(indexdb)
        .await?
        .into_iter()
        .filter_map(|name| {
            let seq = name.strip_prefix("series-")?.strip_suffix(".bin")?;
            Some((u64::from_str_radix(seq, 16).ok()?, name))
        })
        .collect();
    logs.sort();
    for (seq, name) in &logs {
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
            index.restore(record.tsid, &record.canonical, labels);
        }
        next_series_log = seq + 1;
    }
    Ok((index, next_series_log))
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
                partition.parts.push(LivePart {
                    id,
                    big,
                    part: Rc::new(Part::open(&dir).await?),
                });
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
