//! Wire formats in: decoders that turn request bodies into per-shard batches.

pub mod batch;
pub mod remote_write;

pub use batch::IngestBatch;
