//! What `compare` measured, as plain data: the report writer's only input.
//!
//! These structs depend on nothing else in the harness, so the writer can be
//! tested with fixed values (`tests/bench_report.rs` includes this module by path).

use serde::{Deserialize, Serialize};

/// One `compare` run: the workload, the machine set-up, and every server's numbers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CompareResults {
    /// Day of the run, `YYYY-MM-DD`; the report's file name starts with it.
    pub date: String,
    /// Short workload name for the file name, e.g. `quick-11k-series`.
    pub workload_name: String,
    /// The workload sent to every server.
    pub workload: WorkloadSummary,
    /// CPUs the servers were pinned to, e.g. `0`.
    pub server_cpus: String,
    /// CPUs the client was pinned to, e.g. `1`.
    pub client_cpus: String,
    /// Query repetitions per query and server.
    pub query_repetitions: u64,
    /// Free-text lines added under "Notes" (how bytes were measured, caveats).
    pub notes: Vec<String>,
    /// One entry per server, in run order. Ratios use the names `strata`,
    /// `victoriametrics` and `prometheus`.
    pub servers: Vec<ServerResult>,
}

/// The workload's size.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WorkloadSummary {
    /// Hosts scraped per round.
    pub hosts: u64,
    /// Distinct series.
    pub series: u64,
    /// Samples in the file.
    pub samples: u64,
    /// Requests in the file.
    pub requests: u64,
    /// Scrape rounds.
    pub scrapes: u64,
    /// Scrape interval, seconds.
    pub scrape_interval_seconds: f64,
}

/// One server's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ServerResult {
    /// `strata`, `victoriametrics` or `prometheus`.
    pub name: String,
    /// Version string as the server reported it (or the binary path).
    pub version: String,
    /// The ingest run.
    pub ingest: IngestSummary,
    /// Bytes of the whole data directory after the server stopped.
    pub disk_bytes: u64,
    /// `disk_bytes / ingest.samples_accepted`; `None` if nothing was accepted.
    pub bytes_per_sample: Option<f64>,
    /// Peak resident set size (VmHWM) before stopping, bytes.
    pub peak_rss_bytes: u64,
    /// Per query, in query-set order.
    pub queries: Vec<QueryResult>,
}

/// Throughput, latency and cost of loading one server.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IngestSummary {
    /// Samples in requests answered 2xx.
    pub samples_accepted: u64,
    /// Failed requests.
    pub requests_failed: u64,
    /// From the first request to the last response, seconds.
    pub elapsed_seconds: f64,
    /// Accepted samples per second.
    pub samples_per_second: f64,
    /// Server CPU time per accepted sample, microseconds.
    pub server_us_per_sample: Option<f64>,
    /// Request latency, milliseconds.
    pub latency_ms: Percentiles,
    /// Samples accepted in each second of the run.
    pub samples_per_interval: Vec<u64>,
}

/// Latency percentiles, milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Measurements.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// How a server answered one query of the set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QueryResult {
    /// Short name of the query, e.g. `cpu_rate_by_instance`.
    pub name: String,
    /// What the server did with it.
    pub status: QueryStatus,
    /// Latency of the answered repetitions, milliseconds.
    pub latency_ms: Percentiles,
    /// This server's answer against the reference (Prometheus).
    pub answer: AnswerCheck,
}

/// Whether a server answered a query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum QueryStatus {
    /// Every repetition answered 2xx.
    #[default]
    Ok,
    /// HTTP 400 with "not implemented" (Strata while its PromQL engine lands), or 422.
    Unsupported(String),
    /// Any other failure, with the first message.
    Error(String),
}

/// How an answer compares with the reference server's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum AnswerCheck {
    /// Nothing to compare (no reference, or either side did not answer).
    #[default]
    NotCompared,
    /// This server is the reference.
    Reference,
    /// Same series and points, values within the tolerance.
    Equal,
    /// The first difference found.
    Different(String),
}

impl QueryStatus {
    /// A short word for tables.
    pub fn label(&self) -> &'static str {
        match self {
            QueryStatus::Ok => "ok",
            QueryStatus::Unsupported(_) => "unsupported",
            QueryStatus::Error(_) => "error",
        }
    }
}

impl AnswerCheck {
    /// A short word for tables.
    pub fn label(&self) -> &'static str {
        match self {
            AnswerCheck::NotCompared => "n/a",
            AnswerCheck::Reference => "reference",
            AnswerCheck::Equal => "equal",
            AnswerCheck::Different(_) => "different",
        }
    }
}
