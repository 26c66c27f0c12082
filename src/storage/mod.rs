//! A shard's storage: its series index, its in-memory buffer and its monthly partitions of parts.
//!
//! Invariants:
//! 1. A row is visible to queries from the moment `ingest` returns: it sits in `buffer`, then in
//!    `sealing` while its in-memory part is built, then in an in-memory part, then in a committed
//!    part on disk (`inmemory.rs`, `flush.rs`).
//! 2. A part is live iff its partition's `parts.json` lists it; anything else under
//!    `data/` is removed at open.
//! 3. A series is written to the series log before any part that holds its rows commits.
//!
//! All state is owned by the shard's thread; `RefCell` borrows never span an await.

pub mod data_dir;
pub mod dedup;
mod disk_full;
pub mod encoding;
pub mod flush;
pub mod flush_pressure;
pub mod fs;
pub mod inmemory;
pub mod merge;
pub mod part;
pub mod partition;
pub mod retention;
pub mod snapshot;
pub mod sort;
#[cfg(test)]
mod storage_tests;
pub mod table;
pub mod wal;
pub mod write_gate;

pub use table::{SampleRange, Storage, StorageOptions, StorageStats};
