//! An ingest batch: the rows of one request that one shard owns, in a compact, sendable form.
//!
//! The front builds one batch per (request, owner shard): each series' canonical
//! labels are copied once into one buffer, samples into two flat columns. Four
//! allocations per batch, none per label or sample.

use crate::model::labels::encode_canonical_label;

/// One series inside a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchSeries {
    /// End offset of its canonical labels in `labels` (start = previous end).
    pub labels_end: u32,
    /// End offset of its samples in the columns (start = previous end).
    pub samples_end: u32,
    /// xxh3 of its canonical labels, computed once by the front for routing and reused by the owner's index.
    pub hash: u64,
}

/// Rows for one shard.
#[derive(Debug, Default, Clone)]
pub struct IngestBatch {
    /// Concatenated canonical label encodings.
    pub labels: Vec<u8>,
    /// Per series: where its labels and samples end.
    pub series: Vec<BatchSeries>,
    /// Sample timestamps (ms).
    pub timestamps: Vec<i64>,
    /// Sample values, bit-exact.
    pub values: Vec<f64>,
}

impl IngestBatch {
    /// Starts a series; add its labels in name order with [`push_label`](Self::push_label),
    /// its samples with [`push_sample`](Self::push_sample), then call [`end_series`](Self::end_series).
    pub fn push_label(&mut self, name: &[u8], value: &[u8]) {
        encode_canonical_label(name, value, &mut self.labels);
    }

    /// Adds a sample to the current series.
    pub fn push_sample(&mut self, timestamp_ms: i64, value: f64) {
        self.timestamps.push(timestamp_ms);
        self.values.push(value);
    }

    /// Closes the current series.
    pub fn end_series(&mut self) {
        let start = self.series.last().map_or(0, |s| s.labels_end as usize);
        let hash = xxhash_rust::xxh3::xxh3_64(self.labels.get(start..).unwrap_or_default());
        self.end_series_hashed(hash);
    }

    /// Closes the current series whose canonical labels hash to `hash` (xxh3, as [`Labels::hash`]).
    ///
    /// [`Labels::hash`]: crate::model::Labels::hash
    pub fn end_series_hashed(&mut self, hash: u64) {
        self.series.push(BatchSeries {
            labels_end: self.labels.len() as u32,
            samples_end: self.timestamps.len() as u32,
            hash,
        });
    }

    /// Drops the labels and samples added since the last `end_series` (a series that failed validation).
    pub fn abandon_series(&mut self) {
        let (labels_end, samples_end) = self
            .series
            .last()
            .map_or((0, 0), |s| (s.labels_end as usize, s.samples_end as usize));
        self.labels.truncate(labels_end);
        self.timestamps.truncate(samples_end);
        self.values.truncate(samples_end);
    }

    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.timestamps.len()
    }

    /// Bytes its contents take (labels, series entries, both sample columns).
    pub fn content_bytes(&self) -> usize {
        self.labels.len()
            + self.series.len() * std::mem::size_of::<BatchSeries>()
            + self.timestamps.len() * (std::mem::size_of::<i64>() + std::mem::size_of::<f64>())
    }

    /// Whether the batch holds no series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Iterates over (canonical labels, timestamps, values) per series.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[i64], &[f64])> {
        self.iter_hashed()
            .map(|(_, labels, timestamps, values)| (labels, timestamps, values))
    }

    /// Iterates over (hash, canonical labels, timestamps, values) per series.
    pub fn iter_hashed(&self) -> impl Iterator<Item = (u64, &[u8], &[i64], &[f64])> {
        let mut labels_start = 0usize;
        let mut samples_start = 0usize;
        self.series.iter().map(move |s| {
            let labels = self
                .labels
                .get(labels_start..s.labels_end as usize)
                .unwrap_or_default();
            let range = samples_start..s.samples_end as usize;
            let timestamps = self.timestamps.get(range.clone()).unwrap_or_default();
            let values = self.values.get(range).unwrap_or_default();
            labels_start = s.labels_end as usize;
            samples_start = s.samples_end as usize;
            (s.hash, labels, timestamps, values)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_iterates() {
        let mut batch = IngestBatch::default();
        batch.push_label(b"__name__", b"a");
        batch.push_sample(1, 1.0);
        batch.end_series();
        batch.push_label(b"__name__", b"bad");
        batch.push_sample(2, 2.0);
        batch.abandon_series();
        batch.push_label(b"__name__", b"b");
        batch.push_sample(3, 3.0);
        batch.push_sample(4, 4.0);
        batch.end_series();
        let got: Vec<_> = batch
            .iter()
            .map(|(l, t, v)| (l.len(), t.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![(11, vec![1], vec![1.0]), (11, vec![3, 4], vec![3.0, 4.0])]
        );
        assert_eq!(batch.samples(), 3);
    }
}
