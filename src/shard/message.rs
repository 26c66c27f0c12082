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

/// Evaluate an instant-vector selector at every step of a range, on the series this shard owns.
#[derive(Debug, Clone)]
pub struct SelectRequest {
    /// The selector's matchers.
    pub matchers: Vec<Matcher>,
    /// First evaluation time (ms).
    pub start_ms: i64,
    /// Last evaluation time (ms), inclusive.
    pub end_ms: i64,
    /// Step between evaluations (ms, > 0).
    pub step_ms: i64,
    /// How far back a sample may be and still count (ms).
    pub lookback_ms: i64,
    /// The selector's `offset` (ms): data from `t - offset` is shown at `t`.
    pub offset_ms: i64,
}

/// One series' points at the evaluation steps where it had a value.
#[derive(Debug, Clone)]
pub struct SeriesPoints {
    /// The series' labels.
    pub labels: Labels,
    /// (evaluation time ms, value), ascending.
    pub points: Vec<(i64, f64)>,
}

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
        /// (accepted, rejected) samples, or why the shard refused them.
        reply: Reply<Result<(u64, u64), String>>,
    },
    /// Evaluate a selector over a range.
    Select {
        /// What to evaluate.
        request: SelectRequest,
        /// The series that had points.
        reply: Reply<Result<Vec<SeriesPoints>, String>>,
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
    /// Flush buffered rows to disk now.
    Flush {
        /// Done, or why not.
        reply: Reply<Result<(), String>>,
    },
}
