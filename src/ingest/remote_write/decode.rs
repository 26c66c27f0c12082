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
    with_decompressed(body, max_bytes, |raw| {
        decode_raw(raw, shards, limits, extra_labels)
    })?
}

/// Decodes a decompressed `WriteRequest`.
fn decode_raw(
    raw: &[u8],
    shards: usize,
    limits: &LabelLimits,
    extra_labels: &[(String, String)],
) -> Result<Decoded, DecodeError> {
    let mut router = Router::with_body_capacity(shards, limits, raw.len());
    let mut merged: Vec<(&[u8], &[u8])> = Vec::new();
    let extra_ascii = extra_labels
        .iter()
        .all(|(n, v)| n.is_ascii() && v.is_ascii());
    walk_write_request(raw, |series| {
        router.decoded.histograms_dropped += series.histograms;
        router.decoded.exemplars_dropped += series.exemplars;
        let text = if series.labels_ascii && extra_ascii {
            LabelText::Ascii
        } else {
            LabelText::Unchecked
        };
        if extra_labels.is_empty() {
            router.route_text(
                series.labels,
                text,
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
            router.route_text(
                &merged,
                text,
                series.samples.iter().copied(),
                series.samples.len(),
            );
        }
    })
    .map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    router.decoded.metadata =
        read_metadata(raw).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    Ok(router.decoded)
}

/// Largest decompression buffer a thread keeps between requests; a bigger one (a rare huge
/// request) is freed after use, so one request cannot pin its size for ever.
const MAX_KEPT_BUFFER_BYTES: usize = 8 << 20;

thread_local! {
    /// The decompressed body of the request being decoded, kept for the next request: no
    /// allocation and no zero-filling per request once it has grown.
    static DECOMPRESSED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Decompresses a snappy block (refusing one that would exceed `max_bytes`) into this thread's
/// reused buffer and calls `decode` on it.
pub fn with_decompressed<T>(
    body: &[u8],
    max_bytes: usize,
    decode: impl FnOnce(&[u8]) -> T,
) -> Result<T, DecodeError> {
    let size = decompressed_len(body, max_bytes)?;
    // Taken out, not borrowed: `decode` may (in a test) decompress another body.
    let mut buffer = DECOMPRESSED.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if buffer.len() < size {
        buffer.resize(size, 0);
    }
    let out = buffer.get_mut(..size).unwrap_or_default();
    let result = snap::raw::Decoder::new()
        .decompress(body, out)
        .map_err(|e| DecodeError::Snappy(e.to_string()))
        .and_then(|written| {
            out.get(..written)
                .ok_or_else(|| DecodeError::Snappy("decompressed past the buffer".to_string()))
        })
        .map(decode);
    if buffer.len() <= MAX_KEPT_BUFFER_BYTES {
        DECOMPRESSED.with(|b| *b.borrow_mut() = buffer);
    }
    result
}

/// The decompressed size a snappy block declares, refused past `max_bytes`.
fn decompressed_len(body: &[u8], max_bytes: usize) -> Result<usize, DecodeError> {
    let size = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if size > max_bytes {
        return Err(DecodeError::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    Ok(size)
}

/// Decompresses a snappy block, refusing one that would exceed `max_bytes`.
pub fn decompress_snappy(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    decompressed_len(body, max_bytes)?;
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

    /// A router whose batches start with room for what a decompressed body of `body_bytes`
    /// holds, so that they do not grow (and copy) step by step: canonical labels take fewer
    /// bytes than the protobuf they come from, and a sample at least [`MIN_SAMPLE_BYTES`].
    pub fn with_body_capacity(shards: usize, limits: &'l LabelLimits, body_bytes: usize) -> Self {
        let mut router = Router::new(shards, limits);
        let shards = router.decoded.batches.len();
        // Series spread over the shards by hash: a quarter more than an even share.
        let share = |bytes: usize| bytes / shards + bytes / shards / 4;
        for batch in &mut router.decoded.batches {
            batch.labels.reserve(share(body_bytes));
            batch
                .timestamps
                .reserve(share(body_bytes / MIN_SAMPLE_BYTES));
            batch.values.reserve(share(body_bytes / MIN_SAMPLE_BYTES));
            batch.series.reserve(share(body_bytes / MIN_SERIES_BYTES));
        }
        router
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
        self.route_text(labels, LabelText::Unchecked, samples, count);
    }

    /// [`route`](Self::route) for labels whose text is known to be `text`.
    pub fn route_text(
        &mut self,
        labels: &[(&[u8], &[u8])],
        text: LabelText,
        samples: impl Iterator<Item = (i64, f64)>,
        count: usize,
    ) {
        if count == 0 {
            return;
        }
        if let Err(reason) = valid_order(labels, text, self.limits, &mut self.order) {
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

/// Fewest bytes a sample takes in a `WriteRequest`: a `Sample` message's tag and length, the
/// double's tag and 8 bytes, the timestamp's tag and at least one varint byte.
const MIN_SAMPLE_BYTES: usize = 13;
/// Fewest bytes a series with one label and one sample takes in a `WriteRequest`.
const MIN_SERIES_BYTES: usize = 2 + 6 + 2 + MIN_SAMPLE_BYTES;

/// What is known about the text of a series' label names and values before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelText {
    /// All ASCII (checked over the whole series or request at once): valid UTF-8.
    Ascii,
    /// Not checked yet: each name and value is checked for UTF-8.
    Unchecked,
}

/// Checks a series' labels and fills `order` with the indexes of its non-empty labels in name order.
///
/// Shared by every ingest format so that all of them accept the same label sets.
pub(crate) fn sorted_valid_order(
    labels: &[(&[u8], &[u8])],
    limits: &LabelLimits,
    order: &mut Vec<usize>,
) -> Result<(), String> {
    valid_order(labels, LabelText::Unchecked, limits, order)
}

/// [`sorted_valid_order`] for labels whose text is known to be `text`. One pass over the labels
/// in the common case (names sorted and unique, as senders send them); only an unsorted series
/// pays for sorting and the duplicate search.
pub(crate) fn valid_order(
    labels: &[(&[u8], &[u8])],
    text: LabelText,
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
    let mut strictly_sorted = true;
    let mut previous: Option<&[u8]> = None;
    for (i, &(name, value)) in labels.iter().enumerate() {
        check_label(name, value, text, limits)?;
        strictly_sorted &= previous.is_none_or(|p| p < name);
        previous = Some(name);
        // Prometheus drops labels with empty values: they are not part of the series.
        if !value.is_empty() {
            order.push(i);
        }
    }
    if order.is_empty() {
        return Err("no labels with a value".to_string());
    }
    if strictly_sorted {
        return Ok(());
    }
    order.sort_by_key(|&i| labels.get(i).map(|l| l.0));
    // Duplicate names, empty values included: compare all pairs (at most max_labels², no
    // allocation); a sorted series with a duplicate has it next to it.
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

/// One label's checks: a name, valid UTF-8 (unless known ASCII), lengths within the limits.
#[inline]
fn check_label(
    name: &[u8],
    value: &[u8],
    text: LabelText,
    limits: &LabelLimits,
) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty label name".to_string());
    }
    // Only error messages need the name as text (valid UTF-8 once checked).
    let name_text = || String::from_utf8_lossy(name);
    if text == LabelText::Unchecked {
        // ASCII (nearly every label) is valid UTF-8: `is_ascii` is inlined, while `from_utf8`
        // is a call per string.
        if !name.is_ascii() && std::str::from_utf8(name).is_err() {
            return Err("label name is not valid UTF-8".to_string());
        }
        if !value.is_ascii() && std::str::from_utf8(value).is_err() {
            return Err(format!(
                "value of label {:?} is not valid UTF-8",
                name_text()
            ));
        }
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

    /// The ASCII fast path and the per-label UTF-8 checks accept and reject the same series.
    #[test]
    fn label_text_fast_path_agrees_with_the_checks() {
        let cases: [&[(&[u8], &[u8])]; 5] = [
            &[(b"__name__", b"up"), (b"job", b"a")],
            &[(b"__name__", "caf\u{e9}".as_bytes())],
            &[(b"__name__", b"\xff")],
            &[(b"b", b"1"), (b"a", b"2")],
            &[(b"a", b"1"), (b"a", b"")],
        ];
        let wants = [true, true, false, true, false];
        for (labels, want) in cases.iter().zip(wants) {
            let mut order = Vec::new();
            let checked = sorted_valid_order(labels, &LIMITS, &mut order);
            assert_eq!(checked.is_ok(), want, "{labels:?}");
            let request = WriteRequest {
                timeseries: vec![series(labels)],
                metadata: vec![],
            };
            let body = snap::raw::Encoder::new()
                .compress_vec(&prost::Message::encode_to_vec(&request))
                .unwrap();
            let decoded = decode(&body, 2, 1 << 20, &LIMITS).unwrap();
            assert_eq!(decoded.samples, u64::from(want), "{labels:?}");
            assert_eq!(decoded.rejected_series, u64::from(!want), "{labels:?}");
        }
    }

    /// The reused decompression buffer never leaks a longer earlier body into a shorter one.
    #[test]
    fn reused_buffer_decodes_each_body_alone() {
        let body = |series_count: usize| {
            let request = WriteRequest {
                timeseries: (0..series_count)
                    .map(|i| series(&[(b"__name__", format!("m{i}").as_bytes())]))
                    .collect(),
                metadata: vec![],
            };
            snap::raw::Encoder::new()
                .compress_vec(&prost::Message::encode_to_vec(&request))
                .unwrap()
        };
        for count in [50, 3, 20, 1] {
            let decoded = decode(&body(count), 1, 1 << 20, &LIMITS).unwrap();
            assert_eq!(decoded.samples, count as u64);
            assert_eq!(decoded.batches[0].series.len(), count);
        }
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
