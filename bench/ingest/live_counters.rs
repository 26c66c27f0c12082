//! Counters the connection threads update after every request and the
//! progress monitor reads once a second (relaxed atomics: totals, not ordering).

use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals of one target.
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Index of the next request to send; connections take requests from it in order.
    pub next_request: AtomicU64,
    /// Requests written (answered or not).
    pub requests_sent: AtomicU64,
    /// Requests answered 2xx.
    pub requests_ok: AtomicU64,
    /// Samples in requests answered 2xx.
    pub samples_accepted: AtomicU64,
    /// Request body bytes written.
    pub bytes_sent: AtomicU64,
    /// Requests that failed (non-2xx or no response).
    pub errors: AtomicU64,
    /// Connection threads still running.
    pub workers_running: AtomicU64,
}

impl LiveCounters {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
