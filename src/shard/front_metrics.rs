//! Counters of a shard's HTTP front, reported through `/metrics`.

use std::collections::BTreeMap;

/// Requests by route and status code, plus what ingest dropped.
#[derive(Debug, Clone, Default)]
pub struct FrontMetrics {
    /// (route, status) → requests.
    pub requests: BTreeMap<(&'static str, u16), u64>,
    /// Native histogram samples received and dropped (not stored yet).
    pub histograms_dropped: u64,
    /// Exemplars received and dropped.
    pub exemplars_dropped: u64,
    /// Series rejected for invalid labels.
    pub invalid_series: u64,
    /// Samples of rejected series.
    pub invalid_samples: u64,
    /// Malformed import lines skipped.
    pub import_lines_skipped: u64,
}

impl FrontMetrics {
    /// Counts one answered request.
    pub fn count_request(&mut self, route: &'static str, status: u16) {
        *self.requests.entry((route, status)).or_default() += 1;
    }

    /// Adds another front's counters.
    pub fn add(&mut self, other: &FrontMetrics) {
        for (key, count) in &other.requests {
            *self.requests.entry(*key).or_default() += count;
        }
        self.histograms_dropped += other.histograms_dropped;
        self.exemplars_dropped += other.exemplars_dropped;
        self.invalid_series += other.invalid_series;
        self.invalid_samples += other.invalid_samples;
        self.import_lines_skipped += other.import_lines_skipped;
    }
}
