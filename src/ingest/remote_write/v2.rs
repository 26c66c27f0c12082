//! Decoding a remote write 2.0 body (`io.prometheus.write.v2.Request`) into per-shard batches.
//!
//! The body is a snappy block, as in 1.0. Each series names its labels by
//! pairs of indexes into the request's symbol table; they are resolved,
//! validated with the 1.0 rules (`decode::sorted_valid_order`) and routed like
//! 1.0 series. A series with an odd number of label references, an index past
//! the table, or invalid labels is rejected and the rest of the request kept.
//! Sample start timestamps (and the older series `created_timestamp`) are
//! decoded and ignored. Native histograms and exemplars are counted and
//! dropped, so the response reports them as not written. Series metadata
//! (type, help, unit) is collected by metric name.

#![deny(clippy::indexing_slicing)]

use std::fmt;

use bytes::Bytes;
use prost::Message;

use super::decode::{
    decompress_snappy, valid_order, DecodeError, Decoded, LabelLimits, LabelText, Router,
};
use super::v2_proto::{Metadata, Request, TimeSeries};
use crate::ingest::prometheus_text::{FamilyMetadata, Metadata as MetadataMap, MetricType};
use crate::model::METRIC_NAME_LABEL;

/// Most metric families whose metadata one request may record: bounds memory.
pub const MAX_METADATA_FAMILIES: usize = 10_000;

/// The remote write protobuf message a request carries, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteProto {
    /// `prometheus.WriteRequest` (1.0): no `proto` parameter, or that name.
    V1,
    /// `io.prometheus.write.v2.Request` (2.0).
    V2,
}

/// A Content-Type that is not a remote write message Strata knows (415).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedContentType(pub String);

impl fmt::Display for UnsupportedContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported Content-Type {:?}; want application/x-protobuf with proto=prometheus.WriteRequest or proto=io.prometheus.write.v2.Request",
            self.0
        )
    }
}

impl std::error::Error for UnsupportedContentType {}

impl WriteProto {
    /// Reads a remote write `Content-Type` header value.
    pub fn from_content_type(value: &str) -> Result<Self, UnsupportedContentType> {
        let unsupported = || UnsupportedContentType(value.chars().take(128).collect());
        let mut parts = value.split(';').map(str::trim);
        let media_type = parts.next().unwrap_or_default();
        if !media_type.eq_ignore_ascii_case("application/x-protobuf") {
            return Err(unsupported());
        }
        let mut proto = WriteProto::V1;
        for parameter in parts {
            let Some((name, argument)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("proto") {
                proto = match argument.trim().trim_matches('"') {
                    "prometheus.WriteRequest" => WriteProto::V1,
                    "io.prometheus.write.v2.Request" => WriteProto::V2,
                    _ => return Err(unsupported()),
                };
            }
        }
        Ok(proto)
    }
}

/// The result of decoding one 2.0 request: the same shape as a 1.0 request's.
pub type DecodedV2 = Decoded;

/// The counts of the three `X-Prometheus-Remote-Write-*-Written` response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenCounts {
    /// `X-Prometheus-Remote-Write-Samples-Written`.
    pub samples: u64,
    /// `X-Prometheus-Remote-Write-Histograms-Written` (0: histograms are dropped).
    pub histograms: u64,
    /// `X-Prometheus-Remote-Write-Exemplars-Written` (0: exemplars are dropped).
    pub exemplars: u64,
}

impl Decoded {
    /// What the 2.0 response headers should report.
    pub fn written(&self) -> WrittenCounts {
        WrittenCounts {
            samples: self.samples,
            histograms: 0,
            exemplars: 0,
        }
    }
}

/// Decompresses and decodes a snappy remote write 2.0 body for `shards` shards.
pub fn decode_v2(
    body: &[u8],
    shards: usize,
    max_bytes: usize,
    limits: &LabelLimits,
) -> Result<DecodedV2, DecodeError> {
    decode_v2_with_extra_labels(body, shards, max_bytes, limits, &[])
}

/// [`decode_v2`], adding `extra_labels` (`extra_label=` query arguments) to every series; they
/// replace same-named labels of the request, as with 1.0.
pub fn decode_v2_with_extra_labels(
    body: &[u8],
    shards: usize,
    max_bytes: usize,
    limits: &LabelLimits,
    extra_labels: &[(String, String)],
) -> Result<DecodedV2, DecodeError> {
    let raw = decompress_snappy(body, max_bytes)?;
    let request =
        Request::decode(Bytes::from(raw)).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    Ok(route_v2(&request, shards, limits, extra_labels))
}

/// Resolves every series' label references, then validates and routes it like a 1.0 series.
pub fn split_v2_by_shard(request: &Request, shards: usize, limits: &LabelLimits) -> DecodedV2 {
    route_v2(request, shards, limits, &[])
}

fn route_v2(
    request: &Request,
    shards: usize,
    limits: &LabelLimits,
    extra_labels: &[(String, String)],
) -> DecodedV2 {
    let mut router = Router::new(shards, limits);
    let mut labels: Vec<(&[u8], &[u8])> = Vec::new();
    let mut order: Vec<usize> = Vec::new();
    // Every label is a symbol: checking the symbol table once spares a check per label per series.
    let ascii = request.symbols.iter().all(|s| s.is_ascii())
        && extra_labels
            .iter()
            .all(|(n, v)| n.is_ascii() && v.is_ascii());
    let text = if ascii {
        LabelText::Ascii
    } else {
        LabelText::Unchecked
    };
    for series in &request.timeseries {
        router.decoded.histograms_dropped += series.histograms.len() as u64;
        router.decoded.exemplars_dropped += series.exemplars.len() as u64;
        let samples = series.samples.len();
        if let Err(reason) = resolve_labels(&request.symbols, &series.labels_refs, &mut labels) {
            router.reject(&labels, &reason, samples);
            continue;
        }
        if !extra_labels.is_empty() {
            labels.retain(|(name, _)| !extra_labels.iter().any(|(n, _)| n.as_bytes() == *name));
            labels.extend(
                extra_labels
                    .iter()
                    .map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            );
        }
        // Metadata is kept from valid series, with or without samples.
        if valid_order(&labels, text, limits, &mut order).is_ok() {
            record_metadata(
                &request.symbols,
                series,
                &labels,
                &mut router.decoded.metadata,
            );
        }
        router.route_text(
            &labels,
            text,
            series.samples.iter().map(|s| (s.timestamp, s.value)),
            samples,
        );
    }
    router.decoded
}

/// Fills `labels` with the (name, value) pairs that `refs` point at.
fn resolve_labels<'a>(
    symbols: &'a [Bytes],
    refs: &[u32],
    labels: &mut Vec<(&'a [u8], &'a [u8])>,
) -> Result<(), String> {
    labels.clear();
    if refs.len() % 2 != 0 {
        return Err(format!("odd number of label references ({})", refs.len()));
    }
    for pair in refs.chunks_exact(2) {
        let &[name_ref, value_ref] = pair else {
            continue;
        };
        let name = symbol(symbols, name_ref)?;
        let value = symbol(symbols, value_ref)?;
        labels.push((name, value));
    }
    Ok(())
}

fn symbol(symbols: &[Bytes], index: u32) -> Result<&[u8], String> {
    symbols
        .get(index as usize)
        .map(Bytes::as_ref)
        .ok_or_else(|| {
            format!(
                "symbol reference {index} is past the table of {} symbols",
                symbols.len()
            )
        })
}

/// Records a series' type, help and unit under its metric name (bad references are ignored).
fn record_metadata(
    symbols: &[Bytes],
    series: &TimeSeries,
    labels: &[(&[u8], &[u8])],
    out: &mut MetadataMap,
) {
    let Some(Metadata {
        r#type,
        help_ref,
        unit_ref,
    }) = series.metadata
    else {
        return;
    };
    let metric_type = metric_type(r#type);
    let help = symbol(symbols, help_ref).ok().filter(|h| !h.is_empty());
    let unit = symbol(symbols, unit_ref).ok().filter(|u| !u.is_empty());
    if metric_type.is_none() && help.is_none() && unit.is_none() {
        return;
    }
    let Some(&(_, name)) = labels
        .iter()
        .find(|(n, _)| *n == METRIC_NAME_LABEL.as_bytes())
    else {
        return;
    };
    let name = String::from_utf8_lossy(name);
    if out.len() >= MAX_METADATA_FAMILIES && !out.contains_key(name.as_ref()) {
        return;
    }
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    out.insert(
        name.into_owned(),
        FamilyMetadata {
            metric_type,
            help: help.map(text),
            unit: unit.map(text),
        },
    );
}

fn metric_type(value: i32) -> Option<MetricType> {
    Some(match value {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::GaugeHistogram,
        5 => MetricType::Summary,
        6 => MetricType::Info,
        7 => MetricType::StateSet,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::v2_proto::Sample;
    use super::*;
    use crate::model::{Labels, STALE_NAN_BITS};

    const LIMITS: LabelLimits = LabelLimits {
        max_labels: 4,
        max_name_bytes: 16,
        max_value_bytes: 16,
    };

    const SYMBOLS: [&str; 9] = [
        "",
        "__name__",
        "up",
        "job",
        "a",
        "help text",
        "seconds",
        "b",
        "\u{0}",
    ];

    fn request(series: Vec<TimeSeries>) -> Request {
        Request {
            symbols: SYMBOLS
                .iter()
                .map(|s| Bytes::from_static(s.as_bytes()))
                .collect(),
            timeseries: series,
        }
    }

    fn series(labels_refs: &[u32], samples: &[(i64, f64)]) -> TimeSeries {
        TimeSeries {
            labels_refs: labels_refs.to_vec(),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| Sample {
                    value,
                    timestamp,
                    start_timestamp: 0,
                })
                .collect(),
            histograms: vec![],
            exemplars: vec![],
            metadata: None,
            created_timestamp: 0,
        }
    }

    fn encode(request: &Request) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(&request.encode_to_vec())
            .unwrap()
    }

    #[test]
    fn content_types() {
        let check = |value: &str, want: Option<WriteProto>| {
            assert_eq!(WriteProto::from_content_type(value).ok(), want, "{value}");
        };
        check("application/x-protobuf", Some(WriteProto::V1));
        check(
            "application/x-protobuf;proto=prometheus.WriteRequest",
            Some(WriteProto::V1),
        );
        check(
            "application/x-protobuf; proto=io.prometheus.write.v2.Request",
            Some(WriteProto::V2),
        );
        check(
            "application/x-protobuf;proto=io.prometheus.write.v3.Request",
            None,
        );
        check("application/json", None);
    }

    #[test]
    fn decodes_routes_and_counts() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let mut with_extras = series(&[3, 4, 1, 2], &[(10, 1.0), (20, stale)]);
        with_extras.histograms = vec![Bytes::from_static(b"h")];
        with_extras.exemplars = vec![Bytes::from_static(b"e"), Bytes::from_static(b"e")];
        with_extras.samples[0].start_timestamp = 5;
        with_extras.metadata = Some(Metadata {
            r#type: 1,
            help_ref: 5,
            unit_ref: 6,
        });
        let body = encode(&request(vec![with_extras, series(&[1, 2, 3, 7], &[])]));
        let decoded = decode_v2(&body, 3, 1 << 20, &LIMITS).unwrap();
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let owner = (labels.hash() % 3) as usize;
        let (canonical, timestamps, values) = decoded.batches[owner].iter().next().unwrap();
        assert_eq!(canonical, labels.to_canonical().as_slice());
        assert_eq!(timestamps, &[10, 20]);
        assert_eq!(values[1].to_bits(), STALE_NAN_BITS);
        assert_eq!(decoded.samples, 2);
        assert_eq!(decoded.histograms_dropped, 1);
        assert_eq!(decoded.exemplars_dropped, 2);
        assert_eq!(
            decoded.written(),
            WrittenCounts {
                samples: 2,
                histograms: 0,
                exemplars: 0
            }
        );
        assert_eq!(
            decoded.metadata.get("up"),
            Some(&FamilyMetadata {
                metric_type: Some(MetricType::Counter),
                help: Some("help text".into()),
                unit: Some("seconds".into()),
            })
        );
        assert_eq!(decoded.rejected_series, 0);
    }

    #[test]
    fn rejects_bad_series_and_keeps_good_ones() {
        let decoded = split_v2_by_shard(
            &request(vec![
                series(&[1, 2], &[(1, 1.0)]),
                series(&[1, 2, 3], &[(1, 1.0)]),
                series(&[1, 99], &[(1, 1.0), (2, 2.0)]),
                series(&[1, 2, 1, 4], &[(1, 1.0)]),
                series(&[0, 2], &[(1, 1.0)]),
                series(&[], &[(1, 1.0)]),
            ]),
            2,
            &LIMITS,
        );
        assert_eq!(decoded.samples, 1);
        assert_eq!(decoded.rejected_series, 5);
        assert_eq!(decoded.rejected_samples, 6);
        assert!(decoded.first_rejection.unwrap().contains("odd number"));
    }

    #[test]
    fn broken_bodies_are_errors() {
        assert!(matches!(
            decode_v2(b"\xff\xff\xff", 1, 1 << 20, &LIMITS),
            Err(DecodeError::Snappy(_))
        ));
        let garbage = snap::raw::Encoder::new()
            .compress_vec(b"\x2a\xff\xff")
            .unwrap();
        assert!(matches!(
            decode_v2(&garbage, 1, 1 << 20, &LIMITS),
            Err(DecodeError::Protobuf(_))
        ));
        let big = encode(&request(vec![series(&[1, 2], &[(1, 1.0); 100])]));
        assert!(matches!(
            decode_v2(&big, 1, 100, &LIMITS),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_v1_body_decodes_as_empty() {
        use super::super::proto::{
            Label, Sample as V1Sample, TimeSeries as V1Series, WriteRequest,
        };
        let v1 = WriteRequest {
            timeseries: vec![V1Series {
                labels: vec![Label {
                    name: Bytes::from_static(b"__name__"),
                    value: Bytes::from_static(b"up"),
                }],
                samples: vec![V1Sample {
                    value: 1.0,
                    timestamp: 1,
                }],
                exemplars: vec![],
                histograms: vec![],
            }],
            metadata: vec![],
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&v1.encode_to_vec())
            .unwrap();
        let decoded = decode_v2(&body, 1, 1 << 20, &LIMITS).unwrap();
        assert_eq!(decoded.samples, 0);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..200) {
            let _ = decode_v2(&snap::raw::Encoder::new().compress_vec(&bytes).unwrap(), 2, 1 << 20, &LIMITS);
            let _ = decode_v2(&bytes, 2, 1 << 20, &LIMITS);
            let valid = request(vec![series(&[1, 2, 3, 4], &[(1, 1.0), (2, 2.0)])]).encode_to_vec();
            let cut = cut.min(valid.len());
            let _ = decode_v2(&snap::raw::Encoder::new().compress_vec(&valid[..cut]).unwrap(), 2, 1 << 20, &LIMITS);
        }
    }
}
