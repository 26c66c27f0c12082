//! Prometheus remote_write: snappy-compressed protobuf `WriteRequest`s.

pub mod proto;
