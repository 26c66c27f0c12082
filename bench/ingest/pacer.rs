//! When each request may be sent: immediately, or on a schedule that holds a
//! target rate of samples per second.
//!
//! The schedule is absolute (request `i` is due when the samples before it
//! would have been sent at the target rate), so a slow response does not slow
//! the whole run down: later requests are simply already due.

use std::time::{Duration, Instant};

/// Due times of a workload's requests.
pub struct Pacer {
    /// Start of the schedule.
    start: Instant,
    /// Target samples per second; `None` sends as fast as possible.
    rate: Option<f64>,
    /// Samples in requests before request `i`.
    samples_before: Vec<u64>,
}

impl Pacer {
    /// A schedule for requests of `samples_per_request` samples, starting at `start`.
    pub fn new(
        start: Instant,
        rate: Option<f64>,
        samples_per_request: impl Iterator<Item = u32>,
    ) -> Pacer {
        let samples_before = match rate {
            None => Vec::new(),
            Some(_) => samples_per_request
                .scan(0u64, |sum, samples| {
                    let before = *sum;
                    *sum += u64::from(samples);
                    Some(before)
                })
                .collect(),
        };
        Pacer {
            start,
            rate,
            samples_before,
        }
    }

    /// When request `index` is due (`None`: now).
    pub fn due(&self, index: usize) -> Option<Instant> {
        let rate = self.rate?;
        let before = *self.samples_before.get(index)?;
        Some(self.start + Duration::from_secs_f64(before as f64 / rate))
    }

    /// Sleeps until request `index` is due and returns when it was due (now,
    /// if unpaced); `None` if it is due only after `deadline`.
    ///
    /// Latency is measured from the due time, not from the actual send: when
    /// the server falls behind, the requests it delayed count their wait too
    /// (no coordinated omission).
    pub fn wait(&self, index: usize, deadline: Option<Instant>) -> Option<Instant> {
        let now = Instant::now();
        let Some(due) = self.due(index) else {
            return Some(now);
        };
        if deadline.is_some_and(|deadline| due >= deadline) {
            return None;
        }
        if due > now {
            std::thread::sleep(due - now);
        }
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpaced_is_always_due() {
        let pacer = Pacer::new(Instant::now(), None, [500u32, 500].into_iter());
        assert_eq!(pacer.due(0), None);
        assert_eq!(pacer.due(1), None);
    }

    #[test]
    fn paced_requests_are_due_after_the_samples_before_them() {
        let start = Instant::now();
        let pacer = Pacer::new(start, Some(1000.0), [500u32, 250, 250].into_iter());
        let offsets: Vec<u128> = (0..3)
            .map(|i| (pacer.due(i).unwrap() - start).as_millis())
            .collect();
        assert_eq!(offsets, vec![0, 500, 750]);
        assert_eq!(
            pacer.wait(2, Some(start + Duration::from_millis(600))),
            None
        );
        assert_eq!(pacer.wait(0, None), Some(start));
    }
}
