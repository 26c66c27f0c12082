//! Samples a process' resident set (`VmRSS` in `/proc/<pid>/status`) on a thread and keeps
//! the peak, so a short spike between two samples is the only thing it can miss; the kernel's
//! own high-water mark (`VmHWM`) is read beside it as a check.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`), if readable.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A running sampler.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<(u64, u64)>>,
}

impl RssSampler {
    /// Starts sampling `pid` every `period`.
    pub fn start(pid: u32, period: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut peak, mut count) = (0u64, 0u64);
            while !stopping.load(Ordering::Relaxed) {
                if let Some(rss) = status_bytes(pid, "VmRSS") {
                    peak = peak.max(rss);
                    count += 1;
                }
                std::thread::sleep(period);
            }
            (peak, count)
        });
        RssSampler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops; the peak `VmRSS` seen (bytes) and the number of samples taken.
    pub fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or((0, 0))
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_rss() {
        let pid = std::process::id();
        assert!(status_bytes(pid, "VmRSS").is_some_and(|b| b > 0));
        assert!(status_bytes(pid, "VmNope").is_none());
        let sampler = RssSampler::start(pid, Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(20));
        let (peak, count) = sampler.finish();
        assert!(peak > 0 && count > 0);
    }
}
