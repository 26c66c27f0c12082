//! Wire formats in: decoders that turn request bodies into per-shard batches.
//!
//! Remote write (1.0 and 2.0) bodies are snappy blocks, decoded whole. The
//! text formats (Influx, Prometheus text/OpenMetrics, JSON lines, CSV) stream:
//! the HTTP layer feeds the body as it arrives, in pieces of any size,
//!
//! ```text
//! BodyDecoder::feed(chunk, |piece| parser.feed(piece, &mut sink))   // per received chunk
//! if sink.is_full() { send(sink.take_batches()) }
//! BodyDecoder::finish(..); parser.finish(&mut sink) -> stats; send(sink.take_batches())
//! ```
//!
//! Each parser keeps at most one partial line ([`line_splitter`]), the
//! decompressor a bounded window ([`content_encoding`]), and the sink what has
//! not been handed over yet, so memory is bounded for any body size. Malformed
//! lines are skipped and counted in [`ParseStats`] with the first one's number
//! and reason; rows with invalid labels are counted by [`ShardSink`].
//! `stream_tests.rs` runs the whole chain.

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
mod stream_tests;
#[cfg(test)]
mod test_support;
