//! Prometheus remote write 2.0 protobuf messages (`io.prometheus.write.v2.Request`).
//!
//! Written by hand with `prost` derives, like the 1.0 messages in `proto.rs`.
//! Symbols are `bytes` (wire-compatible with `string`), so decoding from a
//! [`bytes::Bytes`] buffer slices it instead of copying; UTF-8 is checked by
//! the caller. Histograms and exemplars are kept as raw bytes: Strata only
//! counts them.

use bytes::Bytes;

/// The top-level remote write 2.0 request. Tags 1–3 are reserved so a 1.0 body decodes as empty.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// De-duplicated strings referenced by index; `symbols[0]` is `""`.
    #[prost(bytes = "bytes", repeated, tag = "4")]
    pub symbols: Vec<Bytes>,
    /// The series.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

/// One series: label references, samples, and what Strata counts but does not store.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Pairs of (name, value) indexes into `symbols`.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Float samples in time order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Native histogram samples (raw, counted and dropped).
    #[prost(bytes = "bytes", repeated, tag = "3")]
    pub histograms: Vec<Bytes>,
    /// Exemplars (raw, counted and dropped).
    #[prost(bytes = "bytes", repeated, tag = "4")]
    pub exemplars: Vec<Bytes>,
    /// Type, help and unit of the series' family.
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
    /// When the counter started (ms), 0 when unset; superseded by `Sample::start_timestamp`. Not stored.
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

/// A float sample.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value, bit-exact (stale markers included).
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
    /// When the counter started (ms), 0 when unset. Not stored.
    #[prost(int64, tag = "3")]
    pub start_timestamp: i64,
}

/// A series' metadata.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Metadata {
    /// `MetricType`: 0 unspecified, 1 counter, 2 gauge, 3 histogram, 4 gauge histogram, 5 summary, 6 info, 7 stateset.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Index of the help text in `symbols` (0: none).
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    /// Index of the unit in `symbols` (0: none).
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}
