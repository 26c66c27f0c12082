//! Prometheus remote_write 1.0 protobuf messages (`prometheus.WriteRequest`).
//!
//! Written by hand with `prost` derives (no `protoc` on these machines). Label
//! names and values are `bytes`, which is wire-compatible with `string`: when
//! decoding from a [`bytes::Bytes`] buffer they become slices of that buffer
//! instead of fresh allocations (DESIGN.md, cost budget). UTF-8 is checked by
//! the caller.

use bytes::Bytes;

/// The top-level remote_write 1.0 request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series with their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric metadata (type, help, unit), sent separately from samples.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// One series: its labels and samples (plus exemplars and native histograms, which Strata counts and drops).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Labels, sorted by name per the spec.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples in time order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars; not stored.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histogram samples; not stored. Kept as raw bytes: only their count matters.
    #[prost(bytes = "bytes", repeated, tag = "4")]
    pub histograms: Vec<Bytes>,
}

/// A label as raw bytes (a slice of the request buffer).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(bytes = "bytes", tag = "1")]
    pub name: Bytes,
    /// Label value.
    #[prost(bytes = "bytes", tag = "2")]
    pub value: Bytes,
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
}

/// An exemplar (counted, not stored).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// The exemplar's own labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Its value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// Metadata about a metric family.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// Metric type (counter, gauge, ...), as the `MetricType` enum.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The family name.
    #[prost(bytes = "bytes", tag = "2")]
    pub metric_family_name: Bytes,
    /// Help text.
    #[prost(bytes = "bytes", tag = "4")]
    pub help: Bytes,
    /// Unit.
    #[prost(bytes = "bytes", tag = "5")]
    pub unit: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn round_trips_and_keeps_stale_nan_bits() {
        let stale = f64::from_bits(crate::model::STALE_NAN_BITS);
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: Bytes::from_static(b"__name__"),
                    value: Bytes::from_static(b"up"),
                }],
                samples: vec![Sample {
                    value: stale,
                    timestamp: 1,
                }],
                exemplars: vec![],
                histograms: vec![],
            }],
            metadata: vec![],
        };
        let decoded = WriteRequest::decode(Bytes::from(req.encode_to_vec())).ok();
        let value = decoded
            .as_ref()
            .and_then(|d| d.timeseries.first())
            .and_then(|t| t.samples.first())
            .map(|s| s.value.to_bits());
        assert_eq!(value, Some(crate::model::STALE_NAN_BITS));
    }
}
