//! Messages between shards: one request per (client request, shard), each with its reply channel.
//!
//! Kept plain data (batches, matchers, numbers) so that the same messages can later
//! cross a socket to another node instead of a channel to another core.

use futures_channel::oneshot;

use super::front_metrics::FrontMetrics;
use crate::ingest::IngestBatch;
use crate::model::{Labels, Matcher};
use crate::storage::StorageStats;

/// The reply half of a request.
pub type Reply<T> = oneshot::Sender<T>;

/// Which series a metadata request is about.
#[derive(Debug, Clone)]
pub struct MetadataRequest {
    /// Selectors (`match[]`); empty = all series.
    pub selectors: Vec<Vec<Matcher>>,
    /// Only series with samples at or after this (ms).
    pub start_ms: i64,
    /// Only series with samples at or before this (ms).
    pub end_ms: i64,
}

/// What one shard reports for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct ShardStats {
    /// The storage's counters.
    pub storage: StorageStats,
    /// Its HTTP front's counters.
    pub front: FrontMetrics,
}

/// A request to a shard.
pub enum ShardRequest {
    /// Store these rows; reply once they are buffered (visible to queries).
    Ingest {
        /// The rows this shard owns.
        batch: IngestBatch,
        /// (accepted, rejected) samples, or why the shard refused them (503, maybe `Retry-After`).
        reply: Reply<Result<(u64, u64), crate::storage::write_gate::WriteRefused>>,
    },
    /// Answer a query's fetches (raw windows or rollups at a step grid) over this shard's series.
    Fetch {
        /// The fetches of one query.
        requests: Vec<crate::query::eval::plan::FetchRequest>,
        /// One result per request, or why not.
        reply: Reply<Result<Vec<crate::query::eval::plan::FetchResult>, String>>,
    },
    /// Labels of matching series.
    Series {
        /// Which series.
        request: MetadataRequest,
        /// Their label sets.
        reply: Reply<Vec<Labels>>,
    },
    /// Label names of matching series, sorted.
    LabelNames {
        /// Which series.
        request: MetadataRequest,
        /// The names.
        reply: Reply<Vec<String>>,
    },
    /// Values of one label over matching series, sorted.
    LabelValues {
        /// The label name.
        name: String,
        /// Which series.
        request: MetadataRequest,
        /// The values.
        reply: Reply<Vec<String>>,
    },
    /// Raw samples of matching series (export, federate).
    Export {
        /// Which series and time range.
        request: MetadataRequest,
        /// (labels, timestamps, values) per series.
        reply: Reply<Result<Vec<crate::storage::SampleRange>, String>>,
    },
    /// The metric metadata this shard's front received.
    Metadata {
        /// The metadata by family name.
        reply: Reply<crate::ingest::prometheus_text::Metadata>,
    },
    /// Counters.
    Stats {
        /// The counters.
        reply: Reply<ShardStats>,
    },
    /// Merge every partition (whose name starts with `prefix`) down to one part.
    ForceMerge {
        /// `YYYY_MM` prefix; empty = all.
        prefix: String,
        /// Merges done, or why not.
        reply: Reply<Result<usize, String>>,
    },
    /// Link this shard's committed state under a snapshot directory.
    Snapshot {
        /// The snapshot's directory for this shard.
        target: std::path::PathBuf,
        /// Done, or why not.
        reply: Reply<Result<(), String>>,
    },
    /// Flush buffered rows to disk now.
    Flush {
        /// Done, or why not.
        reply: Reply<Result<(), String>>,
    },
}
