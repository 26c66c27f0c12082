//! Wire formats in: decoders that turn request bodies into rows for the shards.

pub mod remote_write;
