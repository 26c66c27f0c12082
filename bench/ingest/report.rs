//! The result of `ingest`: per target, what was accepted, how fast, at what
//! latency, what failed, and what the client itself cost. Serialized as JSON
//! for `compare`, printed as text for people.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::workload_header::WorkloadHeader;

/// The whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IngestReport {
    /// Report format version, bumped on incompatible changes.
    pub report_version: u32,
    /// The workload file sent.
    pub workload_file: String,
    /// Its header: parameters and totals.
    pub workload: WorkloadHeader,
    /// Connections per target.
    pub connections: u64,
    /// Target samples/s per target, if paced.
    pub rate_samples_per_second: Option<f64>,
    /// Targets were loaded at the same time (else one after another).
    pub parallel_targets: bool,
    /// CPU time of the whole client process during sending, seconds.
    pub client_cpu_seconds: f64,
    /// One entry per `--target`, in flag order.
    pub targets: Vec<TargetReport>,
}

/// What one target did with the workload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetReport {
    /// `host:port`.
    pub target: String,
    /// Requests written.
    pub requests_sent: u64,
    /// Requests answered 2xx.
    pub requests_ok: u64,
    /// Samples in requests answered 2xx.
    pub samples_accepted: u64,
    /// Request body bytes written (snappy-compressed).
    pub bytes_sent: u64,
    /// From the first request to the last response, seconds.
    pub elapsed_seconds: f64,
    /// `samples_accepted / elapsed_seconds`.
    pub samples_per_second: f64,
    /// Latency of 2xx requests, milliseconds: from when the request was due
    /// (with `--rate`) or taken (without) to the end of the response.
    pub latency_ms: LatencySummary,
    /// Failed requests by HTTP status or error kind (connect, timeout, io, closed, protocol).
    pub errors: BTreeMap<String, u64>,
    /// First message seen per error key.
    pub error_examples: BTreeMap<String, String>,
    /// CPU time of this target's connection threads.
    pub client_cpu: ClientCpu,
    /// CPU time of the server process during the run, if `--server-pid` was given.
    pub server_cpu: Option<ServerCpu>,
    /// Samples accepted in each second of the run (the last entry may cover less than a second).
    pub samples_per_interval: Vec<u64>,
    /// Length of the last interval, seconds (every other one is 1 s).
    pub last_interval_seconds: f64,
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl LatencySummary {
    /// Summarizes a histogram of microseconds.
    pub fn from_micros(histogram: &Histogram<u64>) -> LatencySummary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        LatencySummary {
            count: histogram.len(),
            mean: histogram.mean() / 1000.0,
            p50: ms(histogram.value_at_quantile(0.5)),
            p90: ms(histogram.value_at_quantile(0.9)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }
}

/// CPU time of the client, to set against the server's.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClientCpu {
    /// User time, seconds.
    pub user_seconds: f64,
    /// System time, seconds.
    pub system_seconds: f64,
    /// (user + system) / samples accepted, nanoseconds; `None` if nothing was accepted.
    pub ns_per_sample: Option<f64>,
}

/// CPU time of the server process while this target was loaded (background
/// work that continues after the last response is not included).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ServerCpu {
    /// The process.
    pub pid: u32,
    /// User + system seconds, all threads, at /proc's clock-tick resolution.
    pub cpu_seconds: f64,
    /// `cpu_seconds` / samples accepted, microseconds; `None` if nothing was accepted.
    pub us_per_sample: Option<f64>,
}

/// Prints the report for people.
pub fn print_human(report: &IngestReport) {
    let w = &report.workload;
    println!(
        "workload {}: {} series, {} samples in {} requests ({} hosts × {} scrapes, ≤{} series/request)",
        report.workload_file,
        w.totals.series,
        w.totals.samples,
        w.totals.requests,
        w.hosts,
        w.scrapes,
        w.series_per_request
    );
    let pacing = report
        .rate_samples_per_second
        .map_or("as fast as possible".to_string(), |r| {
            format!("paced at {r:.0} samples/s")
        });
    println!(
        "{} connection(s) per target, {pacing}; client CPU {:.2}s",
        report.connections, report.client_cpu_seconds
    );
    for t in &report.targets {
        let l = &t.latency_ms;
        println!("target {}", t.target);
        println!(
            "  accepted {} samples in {:.2}s: {:.0} samples/s ({} of {} requests ok, {:.1} MiB sent)",
            t.samples_accepted,
            t.elapsed_seconds,
            t.samples_per_second,
            t.requests_ok,
            t.requests_sent,
            t.bytes_sent as f64 / (1 << 20) as f64
        );
        println!(
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  (mean {:.2}, n={})",
            l.p50, l.p90, l.p99, l.p999, l.max, l.mean, l.count
        );
        let per_sample = t
            .client_cpu
            .ns_per_sample
            .map_or("n/a".to_string(), |ns| format!("{ns:.0}"));
        println!(
            "  client CPU: user {:.2}s system {:.2}s = {per_sample} ns/sample",
            t.client_cpu.user_seconds, t.client_cpu.system_seconds
        );
        if let Some(server) = &t.server_cpu {
            let per_sample = server
                .us_per_sample
                .map_or("n/a".to_string(), |us| format!("{us:.2}"));
            println!(
                "  server CPU (pid {}): {:.2}s = {per_sample} µs/sample",
                server.pid, server.cpu_seconds
            );
        }
        if t.errors.is_empty() {
            println!("  errors: none");
        }
        for (key, count) in &t.errors {
            let example = t.error_examples.get(key).map_or("", String::as_str);
            println!("  errors {key}: {count} (first: {example:.120})");
        }
    }
}
