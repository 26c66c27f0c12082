//! One shard's sample storage: block encodings, parts, partitions, merges and the WAL.

pub mod encoding;
