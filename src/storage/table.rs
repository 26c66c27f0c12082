//! The shard's table: ingest into a buffer, flush into parts, merge parts, read across all of them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ahash::RandomState;

use super::fs;
use super::part::builder::PartBuilder;
use super::part::Part;
use super::partition::{part_name, Partition, PartitionKey, PartsList};
use crate::index::{search, series_log, Index, SeriesRef, Tsid};
use crate::ingest::IngestBatch;
use crate::model::{Labels, Matcher};

/// zstd level of blocks in flushed parts: fast, since flushes are on the ingest core.
const FLUSH_ZSTD_LEVEL: i32 = 1;
/// zstd level of merged parts: merges run in the background and data lives there longest.
const MERGE_ZSTD_LEVEL: i32 = 5;
/// A partition with more small parts than this gets its smallest parts merged, so reads touch few parts.
const MAX_SMALL_PARTS: usize = 8;
/// How many parts one merge combines.
const PARTS_TO_MERGE: usize = 6;
/// Samples more than this far in the future are rejected (clock skew allowance, as VictoriaMetrics).
const MAX_FUTURE_MS: i64 = 2 * 86_400_000;

/// One buffered sample.
#[derive(Debug, Clone, Copy)]
struct BufferedRow {
    series: SeriesRef,
    timestamp_ms: i64,
    value: f64,
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
    /// Rows in live parts.
    pub part_rows: u64,
    /// Rows waiting in memory.
    pub buffered_rows: u64,
    /// Flushes done.
    pub flushes: u64,
    /// Merges done.
    pub merges: u64,
}

/// What the samples of one selected series look like: labels plus sorted, deduplicated samples.
pub type SampleRange = (Labels, Vec<i64>, Vec<f64>);

/// A shard's storage.
pub struct Storage {
    dir: PathBuf,
    retention_ms: i64,
    index: RefCell<Index>,
    buffer: RefCell<Vec<BufferedRow>>,
    /// Rows taken from the buffer whose part is being written; still visible to queries.
    flushing: RefCell<Vec<Rc<Vec<BufferedRow>>>>,
    partitions: RefCell<BTreeMap<PartitionKey, Partition>>,
    /// Parts replaced by a merge that a query still held; deleted once free.
    retired: RefCell<Vec<Rc<Part>>>,
    next_part_id: Cell<u64>,
    next_series_log: Cell<u64>,
    /// One flush or merge at a time.
    flush_lock: glommio::sync::Semaphore,
    stats: RefCell<StorageStats>,
}

impl Storage {
    /// Opens (or creates) the storage under a shard directory.
    pub async fn open(dir: &Path, retention_ms: i64) -> io::Result<Storage> {
        let data = dir.join("data");
        let indexdb = dir.join("indexdb");
        fs::create_dir_all(&data.join("small")).await?;
        fs::create_dir_all(&indexdb).await?;
        let mut index = Index::new();
        let mut next_series_log = 0;
        let mut logs: Vec<(u64, String)> = fs::list_dir(&indexdb)
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
        let (partitions, next_part_id) = open_partitions(&data).await?;
        for partition in partitions.values() {
            for (_, part) in &partition.small {
                for header in part.headers() {
                    if let Some(series) = index.by_metric_id(header.tsid.metric_id) {
                        index.note_timestamp(series, header.min_timestamp_ms);
                        index.note_timestamp(series, header.max_timestamp_ms);
                    }
                }
            }
        }
        let storage = Storage {
            dir: dir.to_path_buf(),
            retention_ms,
            index: RefCell::new(index),
            buffer: RefCell::new(Vec::new()),
            flushing: RefCell::new(Vec::new()),
            partitions: RefCell::new(partitions),
            retired: RefCell::new(Vec::new()),
            next_part_id: Cell::new(next_part_id),
            next_series_log: Cell::new(next_series_log),
            flush_lock: glommio::sync::Semaphore::new(1),
            stats: RefCell::new(StorageStats::default()),
        };
        storage.refresh_part_stats();
        Ok(storage)
    }

    /// Accepts a batch: registers new series and buffers the rows. Returns (accepted, rejected) sample counts.
    pub fn ingest(&self, batch: &IngestBatch, now_ms: i64) -> Result<(u64, u64), String> {
        let min_ms = now_ms.saturating_sub(self.retention_ms);
        let max_ms = now_ms.saturating_add(MAX_FUTURE_MS);
        let mut index = self.index.borrow_mut();
        let mut buffer = self.buffer.borrow_mut();
        let mut stats = self.stats.borrow_mut();
        let (mut accepted, mut rejected) = (0u64, 0u64);
        for (canonical, timestamps, values) in batch.iter() {
            let series = match index.lookup(canonical) {
                Some(series) => series,
                None => {
                    let labels = Labels::decode_canonical(canonical).map_err(|e| e.to_string())?;
                    index.register(canonical, labels)
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

    /// Writes buffered rows (and new series) to disk as small parts; then merges if a partition has too many parts.
    pub async fn flush(&self) -> io::Result<()> {
        let Ok(_permit) = self.flush_lock.acquire_permit(1).await else {
            return Ok(());
        };
        let rows = Rc::new(std::mem::take(&mut *self.buffer.borrow_mut()));
        self.flushing.borrow_mut().push(rows.clone());
        let result = self.flush_rows(&rows).await;
        self.flushing.borrow_mut().retain(|r| !Rc::ptr_eq(r, &rows));
        if let Err(error) = result {
            // Nothing of these rows committed: put them back so no acknowledged sample is lost.
            let mut buffer = self.buffer.borrow_mut();
            let newer = std::mem::take(&mut *buffer);
            buffer.extend_from_slice(&rows);
            buffer.extend(newer);
            return Err(error);
        }
        self.stats.borrow_mut().flushes += 1;
        self.merge_if_needed().await?;
        self.delete_retired().await;
        self.refresh_part_stats();
        Ok(())
    }

    async fn flush_rows(&self, rows: &[BufferedRow]) -> io::Result<()> {
        self.write_series_log().await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut by_partition: BTreeMap<PartitionKey, Vec<(Tsid, i64, f64)>> = BTreeMap::new();
        {
            let index = self.index.borrow();
            for row in rows {
                let Some(entry) = index.entry(row.series) else {
                    continue;
                };
                by_partition
                    .entry(PartitionKey::of(row.timestamp_ms))
                    .or_default()
                    .push((entry.tsid, row.timestamp_ms, row.value));
            }
        }
        for (key, mut samples) in by_partition {
            // Stable sort keeps arrival order among equal (series, time); the last one wins.
            samples.sort_by_key(|&(tsid, ts, _)| (tsid, ts));
            let builder = build_part(&samples, FLUSH_ZSTD_LEVEL);
            self.commit_part(key, &builder, &[]).await?;
        }
        Ok(())
    }

    async fn write_series_log(&self) -> io::Result<()> {
        let unpersisted = self.index.borrow_mut().take_unpersisted();
        if unpersisted.is_empty() {
            return Ok(());
        }
        let bytes = {
            let index = self.index.borrow();
            let records: Vec<(Tsid, Vec<u8>)> = unpersisted
                .iter()
                .filter_map(|&s| index.entry(s).map(|e| (e.tsid, e.labels.to_canonical())))
                .collect();
            series_log::encode(records.iter().map(|(t, c)| (*t, c.as_slice())))
        };
        let seq = self.next_series_log.get();
        let path = self
            .dir
            .join("indexdb")
            .join(format!("series-{seq:016x}.bin"));
        match fs::write_file_atomic(&path, &bytes).await {
            Ok(()) => {
                self.next_series_log.set(seq + 1);
                Ok(())
            }
            Err(error) => {
                self.index.borrow_mut().return_unpersisted(unpersisted);
                Err(error)
            }
        }
    }

    /// Writes `builder` as a new part of partition `key`, replacing the parts `replaced`, and commits.
    async fn commit_part(
        &self,
        key: PartitionKey,
        builder: &PartBuilder,
        replaced: &[u64],
    ) -> io::Result<()> {
        let id = self.next_part_id.get();
        self.next_part_id.set(id + 1);
        let partition_dir = self.dir.join("data").join("small").join(key.to_string());
        let tmp_dir = partition_dir.join(format!("tmp-{}", part_name(id)));
        let final_dir = partition_dir.join(part_name(id));
        let new_part = if builder.is_empty() {
            None
        } else {
            fs::create_dir_all(&partition_dir).await?;
            Part::write(builder, &tmp_dir).await?;
            fs::rename(&tmp_dir, &final_dir).await?;
            fs::sync_dir(&partition_dir).await?;
            Some(Rc::new(Part::open(&final_dir).await?))
        };
        let list = {
            let partitions = self.partitions.borrow();
            let mut list = partitions
                .get(&key)
                .map(Partition::parts_list)
                .unwrap_or_default();
            let replaced_names: Vec<String> = replaced.iter().map(|&id| part_name(id)).collect();
            list.small.retain(|name| !replaced_names.contains(name));
            if new_part.is_some() {
                list.small.push(part_name(id));
            }
            list
        };
        let json = serde_json::to_vec(&list).map_err(io::Error::other)?;
        fs::write_file_atomic(
            &self.dir.join("data").join(format!("{key}.parts.json")),
            &json,
        )
        .await?;
        let mut partitions = self.partitions.borrow_mut();
        let partition = partitions.entry(key).or_default();
        let mut retired = self.retired.borrow_mut();
        partition.small.retain(|(part_id, part)| {
            let keep = !replaced.contains(part_id);
            if !keep {
                retired.push(part.clone());
            }
            keep
        });
        if let Some(part) = new_part {
            partition.small.push((id, part));
        }
        Ok(())
    }

    async fn merge_if_needed(&self) -> io::Result<()> {
        loop {
            let plan = {
                let partitions = self.partitions.borrow();
                partitions.iter().find_map(|(key, partition)| {
                    (partition.small.len() > MAX_SMALL_PARTS).then(|| {
                        let mut by_size: Vec<(u64, Rc<Part>)> = partition.small.clone();
                        by_size.sort_by_key(|(id, part)| (part.metadata.rows, *id));
                        by_size.truncate(PARTS_TO_MERGE);
                        by_size.sort_by_key(|(id, _)| *id);
                        (*key, by_size)
                    })
                })
            };
            let Some((key, parts)) = plan else {
                return Ok(());
            };
            let mut samples: Vec<(Tsid, i64, f64)> = Vec::new();
            for (_, part) in &parts {
                for (tsid, timestamps, values) in part.read_all().await? {
                    samples.extend(
                        timestamps
                            .into_iter()
                            .zip(values)
                            .map(|(t, v)| (tsid, t, v)),
                    );
                }
                glommio::yield_if_needed().await;
            }
            samples.sort_by_key(|&(tsid, ts, _)| (tsid, ts));
            let builder = build_part(&samples, MERGE_ZSTD_LEVEL);
            let ids: Vec<u64> = parts.iter().map(|(id, _)| *id).collect();
            drop(parts);
            self.commit_part(key, &builder, &ids).await?;
            self.stats.borrow_mut().merges += 1;
        }
    }

    async fn delete_retired(&self) {
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
                log::warn!("cannot remove merged part {}: {error}", dir.display());
            }
        }
    }

    /// The samples of every series matching `matchers` within `[min_ms, max_ms]`, sorted by time, one value per timestamp.
    pub async fn select(
        &self,
        matchers: &[Matcher],
        min_ms: i64,
        max_ms: i64,
    ) -> io::Result<Vec<SampleRange>> {
        let (mut wanted, parts) = {
            let index = self.index.borrow();
            let mut wanted: Vec<(Tsid, SeriesRef, Labels)> =
                search::select(&index, matchers, min_ms, max_ms)
                    .into_iter()
                    .filter_map(|s| index.entry(s).map(|e| (e.tsid, s, e.labels.clone())))
                    .collect();
            wanted.sort_by_key(|(tsid, _, _)| *tsid);
            let parts: Vec<(u64, Rc<Part>)> = self
                .partitions
                .borrow()
                .iter()
                .filter(|(key, _)| key.end_ms() > min_ms && key.start_ms() <= max_ms)
                .flat_map(|(_, p)| p.small.iter().cloned())
                .collect();
            (wanted, parts)
        };
        let mut samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); wanted.len()];
        let tsids: Vec<Tsid> = wanted.iter().map(|(t, _, _)| *t).collect();
        let mut parts = parts;
        parts.sort_by_key(|(id, _)| *id);
        for (_, part) in &parts {
            for (position, timestamps, values) in part.read(&tsids, min_ms, max_ms).await? {
                if let Some(out) = samples.get_mut(position) {
                    out.extend(timestamps.into_iter().zip(values));
                }
            }
        }
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
            points.sort_by_key(|&(t, _)| t);
            dedup_keep_last(&mut points);
            let (timestamps, values) = points.into_iter().unzip();
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

    fn refresh_part_stats(&self) {
        let partitions = self.partitions.borrow();
        let mut stats = self.stats.borrow_mut();
        stats.parts = partitions.values().map(|p| p.small.len() as u64).sum();
        stats.part_rows = partitions
            .values()
            .flat_map(|p| p.small.iter())
            .map(|(_, p)| p.metadata.rows)
            .sum();
        stats.series = self.index.borrow().len() as u64;
        stats.buffered_rows = self.buffer.borrow().len() as u64;
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

/// Builds a part from samples sorted by (TSID, time); equal (TSID, time) keep the last.
fn build_part(samples: &[(Tsid, i64, f64)], zstd_level: i32) -> PartBuilder {
    let mut builder = PartBuilder::new(zstd_level);
    let mut timestamps: Vec<i64> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut start = 0;
    while let Some(&(tsid, _, _)) = samples.get(start) {
        let end = start
            + samples
                .get(start..)
                .map_or(0, |rest| rest.iter().take_while(|s| s.0 == tsid).count());
        timestamps.clear();
        values.clear();
        for &(_, ts, value) in samples.get(start..end).unwrap_or_default() {
            if timestamps.last() == Some(&ts) {
                if let Some(last) = values.last_mut() {
                    *last = value;
                }
                continue;
            }
            timestamps.push(ts);
            values.push(value);
        }
        builder.add_series(tsid, &timestamps, &values);
        start = end;
    }
    builder
}

/// Keeps the last of equal timestamps in a time-sorted list.
fn dedup_keep_last(points: &mut Vec<(i64, f64)>) {
    let mut write = 0usize;
    for read in 0..points.len() {
        let Some(&point) = points.get(read) else {
            break;
        };
        if write > 0 && points.get(write - 1).is_some_and(|p| p.0 == point.0) {
            if let Some(slot) = points.get_mut(write - 1) {
                *slot = point;
            }
        } else {
            if let Some(slot) = points.get_mut(write) {
                *slot = point;
            }
            write += 1;
        }
    }
    points.truncate(write);
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
        for part in &list.small {
            let id = u64::from_str_radix(part, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: bad part name {part:?}", path.display()),
                )
            })?;
            next_part_id = next_part_id.max(id + 1);
            let dir = data.join("small").join(key.to_string()).join(part);
            partition.small.push((id, Rc::new(Part::open(&dir).await?)));
        }
        partitions.insert(key, partition);
    }
    // Remove part dirs no parts.json lists: leftovers of a flush or merge a crash interrupted.
    for month in fs::list_dir(&data.join("small")).await? {
        let month_dir = data.join("small").join(&month);
        let live: Vec<String> = PartitionKey::parse(&month)
            .and_then(|k| partitions.get(&k))
            .map(|p| p.parts_list().small)
            .unwrap_or_default();
        for entry in fs::list_dir(&month_dir).await? {
            if !live.contains(&entry) {
                log::info!(
                    "removing uncommitted part {}",
                    month_dir.join(&entry).display()
                );
                fs::remove_dir_all(&month_dir.join(&entry)).await?;
            }
            if let Ok(id) = u64::from_str_radix(entry.trim_start_matches("tmp-"), 16) {
                next_part_id = next_part_id.max(id + 1);
            }
        }
    }
    Ok((partitions, next_part_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_last() {
        let mut points = vec![(1, 1.0), (1, 2.0), (2, 3.0), (3, 4.0), (3, 5.0), (3, 6.0)];
        dedup_keep_last(&mut points);
        assert_eq!(points, vec![(1, 2.0), (2, 3.0), (3, 6.0)]);
    }
}
