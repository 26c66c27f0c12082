//! Wire formats in: decoders that turn request bodies into per-shard batches.

pub mod batch;
pub mod content_encoding;
pub mod csv;
pub mod influx;
pub mod json_lines;
pub mod line_splitter;
pub mod prometheus_text;
pub mod remote_write;
pub mod row;
pub mod shard_sink;

pub use batch::IngestBatch;
pub use row::{ParseOptions, ParseStats, RowLabels, RowSink};
pub use shard_sink::ShardSink;

#[cfg(test)]
mod test_support;
