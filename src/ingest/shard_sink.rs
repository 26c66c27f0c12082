//! A [`RowSink`] that validates rows and routes them into per-shard [`IngestBatch`]es.
//!
//! Labels are checked with the same rules as remote_write 1.0
//! (`remote_write::decode::sorted_valid_order`), put in canonical order, and the
//! row goes to the shard that owns the hash of its canonical encoding. A row
//! whose series equals the previous row's is appended to that series, so
//! formats that repeat a series line after line (JSON lines, sorted text)
//! build one series per run instead of one per sample.
//!
//! The batches grow with the body: to keep memory bounded for any body size,
//! the caller hands them to the shards whenever [`ShardSink::is_full`] (see
//! [`FLUSH_SAMPLES`], [`FLUSH_BYTES`]) and once more at the end.

#![deny(clippy::indexing_slicing)]

use super::remote_write::decode::{describe, sorted_valid_order, LabelLimits};
use super::row::{RowLabels, RowSink};
use super::IngestBatch;
use crate::model::labels::encode_canonical_label;

/// A good point to hand the batches over: about 1.6 MiB of samples plus their labels.
pub const FLUSH_SAMPLES: usize = 100_000;
/// Hand the batches over at this many bytes even with fewer samples: text formats carry
/// labels on every line (~70 bytes a sample), and each shard's WAL record and encoding
/// scratch grow to the largest batch it receives.
pub const FLUSH_BYTES: usize = 2 << 20;

/// Rows routed by owner shard, with the counts of what was kept and rejected.
#[derive(Debug)]
pub struct ShardSink {
    /// One batch per shard.
    pub batches: Vec<IngestBatch>,
    /// Samples kept.
    pub samples: u64,
    /// Samples rejected for invalid labels.
    pub rejected_samples: u64,
    /// The first rejection, naming the series.
    pub first_rejection: Option<String>,
    limits: LabelLimits,
    /// Indexes of the current row's labels in name order.
    order: Vec<usize>,
    /// The current row's canonical labels.
    canonical: Vec<u8>,
    /// The previous row's canonical labels and owner shard, to extend its series.
    last_canonical: Vec<u8>,
    last_shard: Option<usize>,
    /// Reused storage for the current row's label pairs (always empty between rows).
    pairs: Vec<(&'static [u8], &'static [u8])>,
}

impl ShardSink {
    /// A sink for `shards` shards (at least one) that enforces `limits`.
    pub fn new(shards: usize, limits: LabelLimits) -> Self {
        ShardSink {
            batches: vec![IngestBatch::default(); shards.max(1)],
            samples: 0,
            rejected_samples: 0,
            first_rejection: None,
            limits,
            order: Vec::new(),
            canonical: Vec::new(),
            last_canonical: Vec::new(),
            last_shard: None,
            pairs: Vec::new(),
        }
    }

    /// Samples in the batches since the last [`take_batches`](Self::take_batches).
    pub fn pending_samples(&self) -> usize {
        self.batches.iter().map(IngestBatch::samples).sum()
    }

    /// Bytes in the batches since the last [`take_batches`](Self::take_batches).
    pub fn pending_bytes(&self) -> usize {
        self.batches.iter().map(IngestBatch::content_bytes).sum()
    }

    /// Whether it is time to hand the batches over ([`FLUSH_SAMPLES`] or [`FLUSH_BYTES`]).
    pub fn is_full(&self) -> bool {
        self.pending_samples() >= FLUSH_SAMPLES || self.pending_bytes() >= FLUSH_BYTES
    }

    /// Hands the batches over (one per shard), leaving empty ones behind.
    pub fn take_batches(&mut self) -> Vec<IngestBatch> {
        self.last_shard = None;
        let shards = self.batches.len();
        std::mem::replace(&mut self.batches, vec![IngestBatch::default(); shards])
    }

    fn append(&mut self, timestamp_ms: i64, value: f64) {
        let shard = owner_shard(&self.canonical, self.batches.len());
        let Some(batch) = self.batches.get_mut(shard) else {
            return;
        };
        let same_series = self.last_shard == Some(shard) && self.last_canonical == self.canonical;
        batch.push_sample(timestamp_ms, value);
        let samples_end = u32::try_from(batch.timestamps.len()).unwrap_or(u32::MAX);
        match batch.series.last_mut() {
            Some(last) if same_series => last.samples_end = samples_end,
            _ => {
                batch.labels.extend_from_slice(&self.canonical);
                batch.end_series();
            }
        }
        self.samples += 1;
        self.last_shard = Some(shard);
        std::mem::swap(&mut self.last_canonical, &mut self.canonical);
    }
}

/// The shard that owns the series with these canonical labels (as `remote_write::decode` routes).
pub fn owner_shard(canonical: &[u8], shards: usize) -> usize {
    (xxhash_rust::xxh3::xxh3_64(canonical) % shards.max(1) as u64) as usize
}

/// Empties a vector of borrowed pairs so its allocation can hold pairs of another lifetime.
fn recycle<'b>(mut pairs: Vec<(&[u8], &[u8])>) -> Vec<(&'b [u8], &'b [u8])> {
    pairs.clear();
    // The vector is empty: the map never runs, and the in-place collect keeps the allocation.
    pairs.into_iter().map(|_| (&[][..], &[][..])).collect()
}

impl RowSink for ShardSink {
    fn row(&mut self, labels: &RowLabels, timestamp_ms: i64, value: f64) {
        let mut pairs = recycle(std::mem::take(&mut self.pairs));
        pairs.extend(labels.iter());
        match sorted_valid_order(&pairs, &self.limits, &mut self.order) {
            Ok(()) => {
                self.canonical.clear();
                for &i in &self.order {
                    if let Some(&(name, value)) = pairs.get(i) {
                        encode_canonical_label(name, value, &mut self.canonical);
                    }
                }
                self.append(timestamp_ms, value);
            }
            Err(reason) => {
                self.rejected_samples += 1;
                self.first_rejection.get_or_insert_with(|| {
                    format!("invalid series {}: {reason}", describe(&pairs))
                });
            }
        }
        self.pairs = recycle(pairs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Labels;

    const LIMITS: LabelLimits = LabelLimits {
        max_labels: 4,
        max_name_bytes: 16,
        max_value_bytes: 16,
    };

    #[test]
    fn sorts_routes_and_extends_runs() {
        let mut sink = ShardSink::new(3, LIMITS);
        let mut labels = RowLabels::new(&[]);
        labels.push(b"job", b"a");
        labels.push(b"__name__", b"up");
        sink.row(&labels, 1, 1.0);
        sink.row(&labels, 2, 2.0);
        labels.clear();
        labels.push(b"__name__", b"bad");
        labels.push(b"__name__", b"dup");
        sink.row(&labels, 3, 3.0);
        assert_eq!(sink.samples, 2);
        assert_eq!(sink.rejected_samples, 1);
        assert!(sink
            .first_rejection
            .as_deref()
            .unwrap_or("")
            .contains("duplicate"));
        let want = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let owner = (want.hash() % 3) as usize;
        let batches = sink.take_batches();
        let series: Vec<_> = batches[owner].iter().collect();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].0, want.to_canonical().as_slice());
        assert_eq!(series[0].1, &[1, 2]);
        assert!(sink.batches.iter().all(IngestBatch::is_empty));
    }
}
