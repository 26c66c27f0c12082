//! Decoding a remote_write 1.0 body into per-shard batches.
//!
//! The body is a snappy block holding a protobuf `WriteRequest`. Labels are
//! validated per series; an invalid series is reported and skipped while the
//! valid series of the same request are kept (the spec allows it). Label bytes
//! are borrowed from the decompressed buffer and copied once, into the owner
//! shard's batch.

use super::proto::WriteRequest;
use super::wire::{read_metadata, walk_write_request};
use crate::ingest::IngestBatch;
use crate::model::labels::encode_canonical_label;

/// Limits on series labels, from the flags.
#[derive(Debug, Clone, Copy)]
pub struct LabelLimits {
    /// Most labels per series.
    pub max_labels: usize,
    /// Longest label name in bytes.
    pub max_name_bytes: usize,
    /// Longest label value in bytes.
    pub max_value_bytes: usize,
}

/// A body that cannot be decoded at all (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The snappy block is broken.
    Snappy(String),
    /// The decompressed body exceeds the limit (413).
    TooLarge {
        /// Its declared size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The protobuf is broken.
    Protobuf(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Snappy(e) => write!(f, "cannot decompress snappy body: {e}"),
            DecodeError::TooLarge { size, limit } => {
                write!(f, "decompressed body of {size} bytes is larger than the limit of {limit} bytes (--max-request-bytes)")
            }
            DecodeError::Protobuf(e) => write!(f, "cannot decode protobuf WriteRequest: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The result of decoding one request.
#[derive(Debug, Default)]
pub struct Decoded {
    /// One batch per shard (empty batches for shards owning nothing).
    pub batches: Vec<IngestBatch>,
    /// Valid samples.
    pub samples: u64,
    /// Series rejected for invalid labels.
    pub rejected_series: u64,
    /// Samples of rejected series.
    pub rejected_samples: u64,
    /// The first rejection's message, naming the series.
    pub first_rejection: Option<String>,
    /// Native histogram samples dropped (not stored yet).
    pub histograms_dropped: u64,
    /// Exemplars dropped (not stored).
    pub exemplars_dropped: u64,
    /// Metric metadata the request carried.
    pub metadata: crate::ingest::prometheus_text::Metadata,
}

/// Decompresses and decodes a snappy remote_write body for `shards` shards.
pub fn decode(
    body: &[u8],
    shards: usize,
    max_bytes: usize,
    limits: &LabelLimits,
) -> Result<Decoded, DecodeError> {
    decode_with_extra_labels(body, shards, max_bytes, limits, &[])
}

/// [`decode`], adding `extra_labels` (`extra_label=` query arguments) to every series; they
/// replace same-named labels of the request.
pub fn decode_with_extra_labels(
    body: &[u8],
    shards: usize,
    max_bytes: usize,
    limits: &LabelLimits,
    extra_labels: &[(String, String)],
) -> Result<Decoded, DecodeError> {
    let raw = decompress_snappy(body, max_bytes)?;
    let mut router = Router::new(shards, limits);
    let mut merged: Vec<(&[u8], &[u8])> = Vec::new();
    walk_write_request(&raw, |series| {
        router.decoded.histograms_dropped += series.histograms;
        router.decoded.exemplars_dropped += series.exemplars;
        if extra_labels.is_empty() {
            router.route(
                series.labels,
                series.samples.iter().copied(),
                series.samples.len(),
            );
        } else {
            // extra_label values replace same-named labels of the request.
            merged.clear();
            merged.extend(
                series
                    .labels
                    .iter()
                    .filter(|(name, _)| !extra_labels.iter().any(|(n, _)| n.as_bytes() == *name)),
            );
            merged.extend(
                extra_labels
                    .iter()
                    .map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            );
            router.route(
                &merged,
                series.samples.iter().copied(),
                series.samples.len(),
            );
        }
    })
    .map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    router.decoded.metadata =
        read_metadata(&raw).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    Ok(router.decoded)
}

/// Decompresses a snappy block, refusing one that would exceed `max_bytes`.
pub fn decompress_snappy(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    let size = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if size > max_bytes {
        return Err(DecodeError::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError::Snappy(e.to_string()))
}

/// Validates every series of a prost-decoded request and copies it into its owner's batch.
pub fn split_by_shard(request: &WriteRequest, shards: usize, limits: &LabelLimits) -> Decoded {
    let mut router = Router::new(shards, limits);
    let mut labels: Vec<(&[u8], &[u8])> = Vec::new();
    for series in &request.timeseries {
        router.decoded.histograms_dropped += series.histograms.len() as u64;
        router.decoded.exemplars_dropped += series.exemplars.len() as u64;
        labels.clear();
        labels.extend(
            series
                .labels
                .iter()
                .map(|l| (l.name.as_ref(), l.value.as_ref())),
        );
        router.route(
            &labels,
            series.samples.iter().map(|s| (s.timestamp, s.value)),
            series.samples.len(),
        );
    }
    router.decoded
}

/// Validates series and appends each to the batch of the shard that owns it, reusing its scratch
/// buffers from series to series.
pub struct Router<'l> {
    /// What was routed so far.
    pub decoded: Decoded,
    limits: &'l LabelLimits,
    order: Vec<usize>,
    canonical: Vec<u8>,
}

impl<'l> Router<'l> {
    /// A router for `shards` shards.
    pub fn new(shards: usize, limits: &'l LabelLimits) -> Self {
        Router {
            decoded: Decoded {
                batches: vec![IngestBatch::default(); shards.max(1)],
                ..Default::default()
            },
            limits,
            order: Vec::with_capacity(16),
            canonical: Vec::with_capacity(256),
        }
    }

    /// Counts a series (of `count` samples) as rejected; the first rejection is kept for the response.
    pub fn reject(&mut self, labels: &[(&[u8], &[u8])], reason: &str, count: usize) {
        if count == 0 {
            return;
        }
        self.decoded.rejected_series += 1;
        self.decoded.rejected_samples += count as u64;
        self.decoded
            .first_rejection
            .get_or_insert_with(|| format!("invalid series {}: {reason}", describe(labels)));
    }

    /// Routes one series (labels as sent, `count` samples); an invalid series is counted and reported.
    pub fn route(
        &mut self,
        labels: &[(&[u8], &[u8])],
        samples: impl Iterator<Item = (i64, f64)>,
        count: usize,
    ) {
        if count == 0 {
            return;
        }
        if let Err(reason) = sorted_valid_order(labels, self.limits, &mut self.order) {
            self.reject(labels, &reason, count);
            return;
        }
        self.canonical.clear();
        for &i in &self.order {
            if let Some(&(name, value)) = labels.get(i) {
                encode_canonical_label(name, value, &mut self.canonical);
            }
        }
        let hash = xxhash_rust::xxh3::xxh3_64(&self.canonical);
        let shard = (hash % self.decoded.batches.len() as u64) as usize;
        let Some(batch) = self.decoded.batches.get_mut(shard) else {
            return;
        };
        batch.labels.extend_from_slice(&self.canonical);
        for (timestamp, value) in samples {
            batch.push_sample(timestamp, value);
        }
        batch.end_series_hashed(hash);
        self.decoded.samples += count as u64;
    }
}

/// Checks a series' labels and fills `order` with the indexes of its non-empty labels in name order.
///
/// Shared by every ingest format so that all of them accept the same label sets.
pub(crate) fn sorted_valid_order(
    labels: &[(&[u8], &[u8])],
    limits: &LabelLimits,
    order: &mut Vec<usize>,
) -> Result<(), String> {
    order.clear();
    if labels.len() > limits.max_labels {
        return Err(format!(
            "{} labels, more than the limit of {} (--max-labels-per-series)",
            labels.len(),
            limits.max_labels
        ));
    }
    for (i, &(name, value)) in labels.iter().enumerate() {
        if name.is_empty() {
            return Err("empty label name".to_string());
        }
        // ASCII (nearly every label) is valid UTF-8: `is_ascii` is inlined, while `from_utf8` is a
        // call per string that cost ~5% of ingest CPU (perf, node_exporter workload).
        if !name.is_ascii() && std::str::from_utf8(name).is_err() {
            return Err("label name is not valid UTF-8".to_string());
        }
        // Only error messages need the name as text (valid UTF-8 by now).
        let name_text = || String::from_utf8_lossy(name);
        if !value.is_ascii() && std::str::from_utf8(value).is_err() {
            return Err(format!(
                "value of label {:?} is not valid UTF-8",
                name_text()
            ));
        }
        if name.len() > limits.max_name_bytes {
            return Err(format!(
                "label name {:?} is longer than {} bytes (--max-label-name-bytes)",
                name_text(),
                limits.max_name_bytes
            ));
        }
        if value.len() > limits.max_value_bytes {
            return Err(format!(
                "value of label {:?} is longer than {} bytes (--max-label-value-bytes)",
                name_text(),
                limits.max_value_bytes
            ));
        }
        // Prometheus drops labels with empty values: they are not part of the series.
        if !value.is_empty() {
            order.push(i);
        }
    }
    if order.is_empty() {
        return Err("no labels with a value".to_string());
    }
    let is_sorted = order
        .windows(2)
        .all(|w| labels.get(w[0]).map(|l| l.0) < labels.get(w[1]).map(|l| l.0));
    if !is_sorted {
        order.sort_by_key(|&i| labels.get(i).map(|l| l.0));
    }
    // Duplicate names, empty values included. Senders sort labels, so the common case is one
    // pass over neighbours; otherwise compare all pairs (at most max_labels², no allocation).
    let sorted_names = labels.windows(2).all(|w| w[0].0 <= w[1].0);
    let duplicate = if sorted_names {
        labels.windows(2).find(|w| w[0].0 == w[1].0).map(|w| w[0].0)
    } else {
        labels
            .iter()
            .enumerate()
            .find(|(i, a)| labels.iter().skip(i + 1).any(|b| b.0 == a.0))
            .map(|(_, a)| a.0)
    };
    if let Some(name) = duplicate {
        return Err(format!(
            "duplicate label name {:?}",
            String::from_utf8_lossy(name)
        ));
    }
    Ok(())
}

/// A short, safe rendering of a series for error messages.
pub(crate) fn describe(labels: &[(&[u8], &[u8])]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in labels.iter().take(10).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let value = String::from_utf8_lossy(value);
        let value: String = value.chars().take(64).collect();
        out.push_str(&format!("{}={:?}", String::from_utf8_lossy(name), value));
    }
    if labels.len() > 10 {
        out.push_str(", ...");
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::super::proto::{Label, Sample, TimeSeries};
    use super::*;
    use crate::model::Labels;
    use bytes::Bytes;

    const LIMITS: LabelLimits = LabelLimits {
        max_labels: 4,
        max_name_bytes: 16,
        max_value_bytes: 16,
    };

    fn series(labels: &[(&[u8], &[u8])]) -> TimeSeries {
        TimeSeries {
            labels: labels
                .iter()
                .map(|(n, v)| Label {
                    name: Bytes::copy_from_slice(n),
                    value: Bytes::copy_from_slice(v),
                })
                .collect(),
            samples: vec![Sample {
                value: 1.0,
                timestamp: 5,
            }],
            exemplars: vec![],
            histograms: vec![],
        }
    }

    #[test]
    fn routes_by_canonical_hash_and_sorts() {
        let request = WriteRequest {
            timeseries: vec![series(&[
                (b"job", b"a"),
                (b"__name__", b"up"),
                (b"empty", b""),
            ])],
            metadata: vec![],
        };
        let decoded = split_by_shard(&request, 3, &LIMITS);
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let owner = (labels.hash() % 3) as usize;
        let batch = &decoded.batches[owner];
        let (canonical, ts, _) = batch.iter().next().unwrap();
        assert_eq!(canonical, labels.to_canonical().as_slice());
        assert_eq!(ts, &[5]);
        assert_eq!(decoded.samples, 1);
    }

    #[test]
    fn rejects_invalid_series_and_keeps_valid() {
        let long = [b'x'; 17];
        let request = WriteRequest {
            timeseries: vec![
                series(&[(b"__name__", b"ok")]),
                series(&[(b"", b"x")]),
                series(&[(b"a", b"1"), (b"a", b"2")]),
                series(&[(b"a", b"\xff")]),
                series(&[(b"a", &long)]),
                series(&[
                    (b"a", b"1"),
                    (b"b", b"1"),
                    (b"c", b"1"),
                    (b"d", b"1"),
                    (b"e", b"1"),
                ]),
            ],
            metadata: vec![],
        };
        let decoded = split_by_shard(&request, 2, &LIMITS);
        assert_eq!(decoded.samples, 1);
        assert_eq!(decoded.rejected_series, 5);
        assert!(decoded
            .first_rejection
            .unwrap()
            .contains("empty label name"));
    }

    #[test]
    fn broken_bodies_are_errors() {
        assert!(matches!(
            decode(b"\xff\xff\xff", 1, 1 << 20, &LIMITS),
            Err(DecodeError::Snappy(_))
        ));
        let garbage = snap::raw::Encoder::new()
            .compress_vec(b"\x0a\xff\xff")
            .unwrap();
        assert!(matches!(
            decode(&garbage, 1, 1 << 20, &LIMITS),
            Err(DecodeError::Protobuf(_))
        ));
        let big = snap::raw::Encoder::new()
            .compress_vec(&vec![0u8; 5000])
            .unwrap();
        assert!(matches!(
            decode(&big, 1, 1000, &LIMITS),
            Err(DecodeError::TooLarge { .. })
        ));
    }
}
