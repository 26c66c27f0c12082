//! The hand-written HTTP/1.1 server: connections, request parsing, bodies, responses.
//!
//! Every shard runs it on its own SO_REUSEPORT listener. A connection is served
//! by the shard that accepted it: requests are parsed with httparse, pipelined
//! requests are answered in order, and limits bound what a client can make us
//! hold (header bytes, body bytes, time).

pub mod body;
pub mod body_stream;
pub mod params;
pub mod request;
pub mod response;
pub mod server;

pub use params::Params;
pub use request::Request;
pub use response::Response;
