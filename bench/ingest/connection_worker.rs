//! One connection's send loop: take the next request, wait until it is due,
//! POST it, record latency and outcome. Failed requests are counted and not
//! retried; a broken connection is reopened for the next request.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::live_counters::LiveCounters;
use super::pacer::Pacer;
use crate::cpu_time::CpuTime;
use crate::http_client::HttpConnection;
use crate::workload_file::Workload;

/// Pause after a failed connect, so a dead target does not burn through the
/// whole workload in a busy loop of refused connections.
const CONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// Highest latency the histogram holds (longer ones are clamped): one hour, in µs.
pub const MAX_LATENCY_MICROS: u64 = 3_600_000_000;

/// Headers of every remote_write 1.0 request (PROTOCOLS.md).
const HEADERS: [(&str, &str); 4] = [
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    (
        "User-Agent",
        concat!("strata-bench/", env!("CARGO_PKG_VERSION")),
    ),
];

/// What every connection of one target shares.
pub struct TargetJob {
    /// The requests.
    pub workload: Arc<Workload>,
    /// `host:port`.
    pub target: String,
    /// URL path to POST to.
    pub path: String,
    /// Requests to send in all (at most the workload's).
    pub max_requests: u64,
    /// No request starts after this.
    pub deadline: Option<Instant>,
    /// Connect, read and write timeout.
    pub timeout: Duration,
    /// Due times.
    pub pacer: Pacer,
    /// Running totals.
    pub live: LiveCounters,
}

/// What one connection measured.
pub struct WorkerResult {
    /// Latency of 2xx responses, µs.
    pub latency_micros: Histogram<u64>,
    /// Failed requests by status code or error kind.
    pub errors: BTreeMap<String, u64>,
    /// The first message seen for each error key.
    pub error_examples: BTreeMap<String, String>,
    /// CPU time of this thread.
    pub cpu: CpuTime,
    /// When this connection's last request ended.
    pub ended: Instant,
}

/// A histogram for latencies in µs with 3 significant digits.
pub fn new_latency_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3) {
        Ok(histogram) => histogram,
        Err(e) => panic!("BUG: constant histogram bounds rejected: {e}"),
    }
}

/// Sends requests until the workload, `max_requests` or the deadline runs out.
pub fn run_worker(job: &TargetJob) -> WorkerResult {
    let mut result = WorkerResult {
        latency_micros: new_latency_histogram(),
        errors: BTreeMap::new(),
        error_examples: BTreeMap::new(),
        cpu: CpuTime::default(),
        ended: Instant::now(),
    };
    let mut connection: Option<HttpConnection> = None;
    loop {
        if job
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            break;
        }
        let index = job.live.next_request.fetch_add(1, Ordering::Relaxed);
        if index >= job.max_requests {
            break;
        }
        let Some(frame) = job.workload.frames.get(index as usize) else {
            break;
        };
        let Some(due) = job.pacer.wait(index as usize, job.deadline) else {
            break;
        };
        let conn = match connection.take() {
            Some(conn) => conn,
            None => match HttpConnection::connect(&job.target, job.timeout) {
                Ok(conn) => conn,
                Err(e) => {
                    count_error(&mut result, &job.live, e.kind(), || e.to_string());
                    std::thread::sleep(CONNECT_BACKOFF);
                    continue;
                }
            },
        };
        connection = send_one(job, conn, frame, due, &mut result);
    }
    result.cpu = CpuTime::thread();
    result.ended = Instant::now();
    result
}

/// Sends one request that was due at `due`; returns the connection if it can be reused.
fn send_one(
    job: &TargetJob,
    mut conn: HttpConnection,
    frame: &crate::workload_file::Frame,
    due: Instant,
    result: &mut WorkerResult,
) -> Option<HttpConnection> {
    let body = job.workload.body(frame);
    LiveCounters::add(&job.live.requests_sent, 1);
    LiveCounters::add(&job.live.bytes_sent, body.len() as u64);
    match conn.post(&job.path, &HEADERS, body) {
        Ok(response) if (200..300).contains(&response.status) => {
            let micros = due.elapsed().as_micros() as u64;
            result.latency_micros.saturating_record(micros.max(1));
            LiveCounters::add(&job.live.requests_ok, 1);
            LiveCounters::add(&job.live.samples_accepted, u64::from(frame.samples));
            (!response.close).then_some(conn)
        }
        Ok(response) => {
            let key = response.status.to_string();
            let message = || {
                String::from_utf8_lossy(&response.body_prefix)
                    .trim()
                    .to_string()
            };
            count_error(result, &job.live, &key, message);
            (!response.close).then_some(conn)
        }
        Err(e) => {
            count_error(result, &job.live, e.kind(), || e.to_string());
            None
        }
    }
}

fn count_error(
    result: &mut WorkerResult,
    live: &LiveCounters,
    key: &str,
    message: impl FnOnce() -> String,
) {
    LiveCounters::add(&live.errors, 1);
    *result.errors.entry(key.to_string()).or_default() += 1;
    if !result.error_examples.contains_key(key) {
        result.error_examples.insert(key.to_string(), message());
    }
}
