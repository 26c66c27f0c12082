//! The parameters and totals of a generated workload, stored as JSON in the
//! workload file's header so `ingest` (and later `compare`) can report what was sent.

use serde::{Deserialize, Serialize};

/// What `gen` was asked for and what it produced. Field order is the JSON order,
/// and nothing here depends on the wall clock of the run, so equal flags give equal bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadHeader {
    /// Version of the generator's value and label model; bumped when output changes on purpose.
    pub generator_version: u32,
    /// PRNG seed.
    pub seed: u64,
    /// Hosts scraped at the same time (churn replaces some, the count stays).
    pub hosts: u64,
    /// CPUs per host (node_cpu_seconds_total has 8 modes per CPU).
    pub cpus_per_host: u32,
    /// Series one host exposes.
    pub series_per_host: u64,
    /// Scrape interval.
    pub scrape_interval_ms: u64,
    /// Upper bound of the random delay added to each scrape's timestamp.
    pub jitter_ms: u64,
    /// Scrapes of every host.
    pub scrapes: u64,
    /// Timestamp of the first scrape round, ms since the Unix epoch.
    pub start_ms: i64,
    /// Fraction of hosts replaced at each churn point.
    pub churn_fraction: f64,
    /// Scrapes between churn points (0: no churn).
    pub churn_every_scrapes: u64,
    /// Most series (= samples, one per series) in one request.
    pub series_per_request: u64,
    /// Totals, filled in once generation ends.
    pub totals: WorkloadTotals,
}

/// Counts over the whole workload file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadTotals {
    /// Distinct series (label sets) over the whole file, churned hosts included.
    pub series: u64,
    /// Samples in all requests, stale markers included.
    pub samples: u64,
    /// Of those, Prometheus stale markers written when a host is replaced.
    pub stale_markers: u64,
    /// Requests (frames) in the file.
    pub requests: u64,
    /// Sum of label name and value bytes over all samples, divided by samples.
    pub label_bytes_per_sample: f64,
    /// Protobuf bytes before snappy.
    pub protobuf_bytes: u64,
    /// Snappy-compressed bytes actually sent.
    pub compressed_bytes: u64,
    /// Smallest and largest sample timestamp, ms.
    pub min_timestamp_ms: i64,
    /// Largest sample timestamp, ms.
    pub max_timestamp_ms: i64,
}
