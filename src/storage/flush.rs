//! Flushing: buffered rows become a small part per partition, committed through `parts.json`.

use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;

use super::fs;
use super::part::builder::PartBuilder;
use super::part::Part;
use super::partition::{part_name, LivePart, PartitionKey};
use super::table::{BufferedRow, Storage};
use crate::index::{series_log, Tsid};

/// zstd level of blocks in flushed parts: fast, since flushes run on the ingest core.
pub const FLUSH_ZSTD_LEVEL: i32 = 1;
/// Series encoded between two scheduler checks, so a flush never holds the core for long.
const SERIES_PER_YIELD: usize = 1024;
/// Buffered rows (24 bytes each, so 4.5 MiB) that trigger a flush before `--flush-interval`.
/// Without it the buffer grows with the ingest rate: a fast import reached 250 MiB of RSS in
/// one 2 s interval. Ingest waits for this flush, so while one runs the buffer refills at most
/// about once more. Below 256 Ki so that one more request's rows rarely double the vector's
/// capacity; smaller means more (and smaller) parts for the merger to combine.
pub const MAX_BUFFERED_ROWS: usize = 192 * 1024;

/// A new part to commit and the parts it replaces.
pub(crate) struct Commit<'a> {
    pub(crate) key: PartitionKey,
    pub(crate) builder: &'a PartBuilder,
    pub(crate) big: bool,
    pub(crate) replaced: &'a [u64],
}

impl Storage {
    /// Writes buffered rows (and new series) to disk as small parts, then wakes the merger.
    pub async fn flush(&self) -> io::Result<()> {
        self.flush_at_least(0).await
    }

    /// Flushes if the buffer holds [`MAX_BUFFERED_ROWS`] or more. Callers queue behind a flush
    /// in progress and check again once it is done, which is the ingest's backpressure.
    pub async fn flush_if_full(&self) -> io::Result<()> {
        if self.buffer.borrow().len() < MAX_BUFFERED_ROWS {
            return Ok(());
        }
        self.flush_at_least(MAX_BUFFERED_ROWS).await
    }

    /// Flushes when, with the flush lock held, at least `min_rows` rows are buffered.
    async fn flush_at_least(&self, min_rows: usize) -> io::Result<()> {
        let Ok(_permit) = self.flush_lock.acquire_permit(1).await else {
            return Ok(());
        };
        if min_rows > 0 && self.buffer.borrow().len() < min_rows {
            return Ok(());
        }
        // Rows are appended to the WAL and buffered without an await in between, so every row in
        // a segment before `cut` is in the buffer taken next.
        let cut = match self.wal.get() {
            Some(wal) => Some(
                wal.rotate()
                    .await
                    .map_err(|e| io::Error::new(e.kind(), e.to_string()))?,
            ),
            None => None,
        };
        let mut rows = std::mem::take(&mut *self.buffer.borrow_mut());
        // Sorted in place before queries see it (they only filter by series), so the part is
        // built without a sorted copy. Stable: equal (series, time) keep arrival order, and the
        // last one wins in `build_flush_part`.
        rows.sort_by_key(|r| (r.series, r.timestamp_ms));
        let rows = Rc::new(rows);
        self.flushing.borrow_mut().push(rows.clone());
        self.stats.borrow_mut().flush_in_flight = 1;
        let result = self.flush_rows(&rows).await;
        self.stats.borrow_mut().flush_in_flight = 0;
        self.flushing.borrow_mut().retain(|r| !Rc::ptr_eq(r, &rows));
        if let Err(error) = result {
            // Nothing of these rows committed: put them back so no acknowledged sample is lost.
            let mut buffer = self.buffer.borrow_mut();
            let newer = std::mem::take(&mut *buffer);
            buffer.extend_from_slice(&rows);
            buffer.extend(newer);
            return Err(error);
        }
        if let (Some(wal), Some(cut)) = (self.wal.get(), cut) {
            // Those rows are in committed parts now: their segments are no longer needed.
            wal.remove_segments_before(cut)
                .await
                .map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
        }
        self.stats.borrow_mut().flushes += 1;
        self.delete_retired().await;
        self.refresh_part_stats();
        Ok(())
    }

    /// Writes rows sorted by (series, time) as one small part per partition they touch.
    async fn flush_rows(&self, rows: &[BufferedRow]) -> io::Result<()> {
        self.write_series_log().await?;
        let (Some(min_ms), Some(max_ms)) = (
            rows.iter().map(|r| r.timestamp_ms).min(),
            rows.iter().map(|r| r.timestamp_ms).max(),
        ) else {
            return Ok(());
        };
        if PartitionKey::of(min_ms) == PartitionKey::of(max_ms) {
            // The usual case, one month: no copy.
            return self.flush_partition(PartitionKey::of(min_ms), rows).await;
        }
        // Splitting keeps each partition's rows in (series, time) order.
        let mut by_partition: BTreeMap<PartitionKey, Vec<BufferedRow>> = BTreeMap::new();
        for row in rows {
            by_partition
                .entry(PartitionKey::of(row.timestamp_ms))
                .or_default()
                .push(*row);
        }
        for (key, rows) in by_partition {
            self.flush_partition(key, &rows).await?;
        }
        Ok(())
    }

    async fn flush_partition(&self, key: PartitionKey, rows: &[BufferedRow]) -> io::Result<()> {
        glommio::yield_if_needed().await;
        let builder = self.build_flush_part(rows).await;
        self.commit_part(Commit {
            key,
            builder: &builder,
            big: false,
            replaced: &[],
        })
        .await?;
        Ok(())
    }

    /// Encodes rows sorted by (series, time) into a part, series in TSID order.
    async fn build_flush_part(&self, rows: &[BufferedRow]) -> PartBuilder {
        // Runs of one series: (tsid, start, end).
        let mut runs: Vec<(Tsid, usize, usize)> = Vec::new();
        {
            let index = self.index.borrow();
            let mut start = 0;
            while let Some(first) = rows.get(start) {
                let len = rows.get(start..).map_or(0, |r| {
                    r.iter().take_while(|x| x.series == first.series).count()
                });
                if let Some(entry) = index.entry(first.series) {
                    runs.push((entry.tsid, start, start + len));
                }
                start += len;
            }
        }
        runs.sort_unstable_by_key(|r| r.0);
        let mut builder = PartBuilder::new(FLUSH_ZSTD_LEVEL);
        let mut timestamps: Vec<i64> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        for (i, &(tsid, start, end)) in runs.iter().enumerate() {
            timestamps.clear();
            values.clear();
            for row in rows.get(start..end).unwrap_or_default() {
                if timestamps.last() == Some(&row.timestamp_ms) {
                    if let Some(last) = values.last_mut() {
                        *last = row.value;
                    }
                    continue;
                }
                timestamps.push(row.timestamp_ms);
                values.push(row.value);
            }
            builder.add_series(tsid, &timestamps, &values);
            if i % SERIES_PER_YIELD == 0 {
                glommio::yield_if_needed().await;
            }
        }
        builder
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

    /// Writes a new part (if not empty) under a temp name, renames it into place, then commits the
    /// partition's new part list atomically. Replaced parts retire once no query holds them.
    /// Returns false when the partition vanished meanwhile (retention) and nothing was committed.
    pub(crate) async fn commit_part(&self, commit: Commit<'_>) -> io::Result<bool> {
        let Commit {
            key,
            builder,
            big,
            replaced,
        } = commit;
        let id = self.next_part_id.get();
        self.next_part_id.set(id + 1);
        let kind = if big { "big" } else { "small" };
        let partition_dir = self.dir.join("data").join(kind).join(key.to_string());
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
        let Ok(_permit) = self.commit_lock.acquire_permit(1).await else {
            return Ok(false);
        };
        let mut next = self
            .partitions
            .borrow()
            .get(&key)
            .cloned()
            .unwrap_or_default();
        if !replaced.is_empty()
            && !replaced
                .iter()
                .all(|id| next.parts.iter().any(|p| p.id == *id))
        {
            // The inputs are gone (retention dropped the partition): discard the output.
            drop(new_part);
            fs::remove_dir_all(&final_dir).await?;
            return Ok(false);
        }
        let mut retired: Vec<Rc<Part>> = Vec::new();
        next.parts.retain(|p| {
            let keep = !replaced.contains(&p.id);
            if !keep {
                retired.push(p.part.clone());
            }
            keep
        });
        if let Some(part) = new_part {
            next.parts.push(LivePart { id, big, part });
        }
        let json = serde_json::to_vec(&next.parts_list()).map_err(io::Error::other)?;
        fs::write_file_atomic(
            &self.dir.join("data").join(format!("{key}.parts.json")),
            &json,
        )
        .await?;
        self.partitions.borrow_mut().insert(key, next);
        self.retired.borrow_mut().extend(retired);
        Ok(true)
    }
}
