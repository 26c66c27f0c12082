//! The in-memory part layer: about every second the buffer is sealed into in-memory parts (rows
//! sorted by TSID then time, cut into blocks), which `flush.rs` writes to disk as one small part
//! per partition every few seconds.
//!
//! Invariants:
//! 1. Every sealed row stays visible to queries: it is in `sealing` from the moment it leaves the
//!    buffer until its in-memory part is in `in_memory`, with no await in between the two steps.
//! 2. `seal_lock` is held for a whole seal, so once a flush holds it no rows taken from the
//!    buffer earlier are anywhere but in `in_memory` (or already on disk).
//! 3. In-memory parts are ordered by `seq`: a higher `seq` holds newer writes.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::part::builder::PartBuilder;
use super::part::Part;
use super::partition::PartitionKey;
use super::sort::sort_by_key_yielding;
use super::table::{BufferedRow, Storage};
use crate::index::Tsid;

/// zstd level of blocks in in-memory parts: they live for seconds, so speed beats size.
pub const INMEMORY_ZSTD_LEVEL: i32 = 1;
/// Series encoded between two scheduler checks, so a seal never holds the core for long.
const SERIES_PER_YIELD: usize = 1024;

/// A part of the last seconds' rows, not yet on disk.
#[derive(Clone)]
pub struct InMemoryPart {
    /// Seal order: a higher value holds newer writes.
    pub seq: u64,
    /// The partition its rows belong to.
    pub key: PartitionKey,
    /// Its blocks.
    pub part: Rc<Part>,
}

impl Storage {
    /// Turns the buffered rows into in-memory parts, one per partition.
    pub async fn seal_buffer(&self) {
        let Ok(_permit) = self.seal_lock.acquire_permit(1).await else {
            return;
        };
        let rows = Rc::new(std::mem::take(&mut *self.buffer.borrow_mut()));
        if rows.is_empty() {
            return;
        }
        let seq = self.next_seal_seq.get();
        self.next_seal_seq.set(seq + 1);
        self.sealing.borrow_mut().push(rows.clone());
        let mut parts = Vec::new();
        for (key, rows) in split_by_partition(&rows) {
            glommio::yield_if_needed().await;
            let builder = self.build_part(&rows, INMEMORY_ZSTD_LEVEL).await;
            if !builder.is_empty() {
                parts.push(InMemoryPart {
                    seq,
                    key,
                    part: Rc::new(Part::in_memory(builder)),
                });
            }
        }
        // No await from here on: the rows move from `sealing` to `in_memory` at once (invariant 1).
        self.in_memory.borrow_mut().extend(parts);
        self.sealing.borrow_mut().retain(|r| !Rc::ptr_eq(r, &rows));
    }

    /// Encodes rows into a part: sorted by (series, time), equal timestamps keep the last
    /// arrival, series in TSID order.
    pub(crate) async fn build_part(&self, rows: &[BufferedRow], zstd_level: i32) -> PartBuilder {
        let mut rows = rows.to_vec();
        // Stable: equal (series, time) keep arrival order, and the last one wins below.
        sort_by_key_yielding(&mut rows, |r| (r.tsid, r.timestamp_ms)).await;
        // Runs of one series: (tsid, start, end).
        let mut runs: Vec<(Tsid, usize, usize)> = Vec::new();
        let mut start = 0;
        while let Some(first) = rows.get(start) {
            let len = rows
                .get(start..)
                .map_or(0, |r| r.iter().take_while(|x| x.tsid == first.tsid).count())
                .max(1);
            runs.push((first.tsid, start, start + len));
            start += len;
        }
        let mut builder = PartBuilder::new(zstd_level);
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

    /// Rows in in-memory parts, rows being sealed and buffered rows: what a crash would replay.
    pub(crate) fn unflushed_rows(&self) -> u64 {
        let in_parts: u64 = self
            .in_memory
            .borrow()
            .iter()
            .map(|p| p.part.metadata.rows)
            .sum();
        let sealing: usize = self.sealing.borrow().iter().map(|r| r.len()).sum();
        in_parts + sealing as u64 + self.buffer.borrow().len() as u64
    }
}

/// Rows grouped by monthly partition (one group, without copying, in the common case).
fn split_by_partition(
    rows: &[BufferedRow],
) -> Vec<(PartitionKey, std::borrow::Cow<'_, [BufferedRow]>)> {
    let (Some(min), Some(max)) = (
        rows.iter().map(|r| r.timestamp_ms).min(),
        rows.iter().map(|r| r.timestamp_ms).max(),
    ) else {
        return Vec::new();
    };
    if PartitionKey::of(min) == PartitionKey::of(max) {
        return vec![(PartitionKey::of(min), std::borrow::Cow::Borrowed(rows))];
    }
    let mut by_partition: BTreeMap<PartitionKey, Vec<BufferedRow>> = BTreeMap::new();
    for row in rows {
        by_partition
            .entry(PartitionKey::of(row.timestamp_ms))
            .or_default()
            .push(*row);
    }
    by_partition
        .into_iter()
        .map(|(key, rows)| (key, std::borrow::Cow::Owned(rows)))
        .collect()
}
