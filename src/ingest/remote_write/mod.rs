//! Prometheus remote_write: snappy-compressed protobuf `WriteRequest`s.

pub mod decode;
pub mod proto;
