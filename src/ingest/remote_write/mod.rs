//! Prometheus remote_write: snappy-compressed protobuf `WriteRequest`s (1.0) and `Request`s (2.0).

pub mod decode;
pub mod proto;
pub mod v2;
pub mod v2_proto;
pub mod wire;
