//! One scraped host: its series, their state, and its place in the scrape interval.

use strata::model::STALE_NAN_BITS;

use super::catalog::{self, HostSeries, BUCKET_BOUNDS, HANDLERS};
use super::value_model::{round_to, ValueModel};
use crate::prng::Prng;

/// Chance that a host restarts at a given scrape (its counters reset): about
/// once every 2.3 days per host at a 10 s interval, so a 1,000-host run sees a
/// few resets per hour of data.
pub const RESTART_PROBABILITY_PER_SCRAPE: f64 = 1.0 / 20_000.0;

/// Most requests one handler serves between two scrapes (uniformly 0..this).
const MAX_REQUESTS_PER_SCRAPE: u64 = 200;

/// A request-latency histogram's cumulative state.
#[derive(Clone, Debug, Default)]
struct Histogram {
    /// Cumulative count per bucket of [`BUCKET_BOUNDS`] (the last is `+Inf`, = count).
    buckets: [u64; BUCKET_BOUNDS.len()],
    /// Sum of observed latencies, seconds.
    sum: f64,
    /// Typical latency of the handler, seconds.
    base_seconds: f64,
}

impl Histogram {
    fn observe_scrape(&mut self, prng: &mut Prng) {
        let requests = prng.below(MAX_REQUESTS_PER_SCRAPE);
        for _ in 0..requests {
            // Log-uniform over ~2 decades, with a rare slow tail.
            let mut latency = self.base_seconds * (4.0 * prng.next_f64()).exp();
            if prng.chance(0.01) {
                latency *= 20.0;
            }
            self.sum += latency;
            for (bucket, bound) in self.buckets.iter_mut().zip(BUCKET_BOUNDS) {
                if latency <= bound {
                    *bucket += 1;
                }
            }
        }
        self.sum = round_to(self.sum, 1e-6);
    }
}

/// A host: its identity, schedule offset, series and their values.
pub struct Host {
    /// Number behind the `instance` label; never reused, so churn makes new series.
    pub instance_id: u64,
    /// Where in the scrape interval this host is scraped (Prometheus spreads targets).
    pub offset_ms: u64,
    prng: Prng,
    series: Vec<HostSeries>,
    histograms: Vec<Histogram>,
}

/// The `instance` label value of host `id`: a DNS name and port, as service
/// discovery would give, long enough to make ~90 bytes of label text per sample.
pub fn instance_name(id: u64) -> String {
    format!("node-{id:06}.internal:9100")
}

impl Host {
    /// A host whose values and schedule depend only on `seed` and `instance_id`.
    pub fn new(
        seed: u64,
        instance_id: u64,
        cpus: u32,
        interval_ms: u64,
        first_scrape_ms: i64,
    ) -> Host {
        let mut prng = Prng::derive(seed, instance_id);
        let offset_ms = prng.below(interval_ms.max(1));
        let now_seconds = first_scrape_ms as f64 / 1000.0;
        let series =
            catalog::host_series(&instance_name(instance_id), cpus, &mut prng, now_seconds);
        let histograms = HANDLERS
            .iter()
            .map(|_| Histogram {
                base_seconds: prng.range_f64(0.001, 0.02),
                ..Histogram::default()
            })
            .collect();
        Host {
            instance_id,
            offset_ms,
            prng,
            series,
            histograms,
        }
    }

    /// This scrape's random delay in [0, jitter_ms].
    pub fn draw_jitter_ms(&mut self, jitter_ms: u64) -> u64 {
        self.prng.below(jitter_ms + 1)
    }

    /// Advances every series by one interval and emits each value.
    pub fn scrape(
        &mut self,
        interval_seconds: f64,
        timestamp_ms: i64,
        emit: &mut impl FnMut(&HostSeries, f64),
    ) {
        if self.prng.chance(RESTART_PROBABILITY_PER_SCRAPE) {
            self.restart(timestamp_ms);
        }
        for histogram in &mut self.histograms {
            histogram.observe_scrape(&mut self.prng);
        }
        for series in &mut self.series {
            series.model.advance(&mut self.prng, interval_seconds);
            let value = current_value(&series.model, &self.histograms);
            emit(series, value);
        }
    }

    /// Emits Prometheus' stale marker for every series: the host went away.
    pub fn emit_stale(&self, emit: &mut impl FnMut(&HostSeries, f64)) {
        for series in &self.series {
            emit(series, f64::from_bits(STALE_NAN_BITS));
        }
    }

    fn restart(&mut self, timestamp_ms: i64) {
        let now_seconds = timestamp_ms as f64 / 1000.0;
        for series in &mut self.series {
            series.model.reset(now_seconds);
        }
        for histogram in &mut self.histograms {
            histogram.buckets = Default::default();
            histogram.sum = 0.0;
        }
    }
}

fn current_value(model: &ValueModel, histograms: &[Histogram]) -> f64 {
    let count = |h: usize| histograms.get(h).and_then(|h| h.buckets.last().copied());
    match *model {
        ValueModel::Constant(value)
        | ValueModel::BootTime(value)
        | ValueModel::Counter { value, .. }
        | ValueModel::Gauge { value, .. } => value,
        ValueModel::HistogramBucket { histogram, bucket } => histograms
            .get(histogram)
            .and_then(|h| h.buckets.get(bucket))
            .map_or(0.0, |c| *c as f64),
        ValueModel::HistogramSum { histogram } => histograms.get(histogram).map_or(0.0, |h| h.sum),
        ValueModel::HistogramCount { histogram } => count(histogram).map_or(0.0, |c| c as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_is_inf_bucket() {
        let mut host = Host::new(1, 0, 2, 10_000, 1_700_000_000_000);
        for round in 0..5 {
            let mut values = Vec::new();
            host.scrape(
                10.0,
                1_700_000_000_000 + round * 10_000,
                &mut |series, value| {
                    let name = series.labels[0].value.clone();
                    values.push((name, value));
                },
            );
            let buckets: Vec<f64> = values
                .iter()
                .filter(|(n, _)| &n[..] == b"http_request_duration_seconds_bucket")
                .map(|(_, v)| *v)
                .take(BUCKET_BOUNDS.len())
                .collect();
            assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
            let count = values
                .iter()
                .find(|(n, _)| &n[..] == b"http_request_duration_seconds_count")
                .map(|(_, v)| *v);
            assert_eq!(count, buckets.last().copied());
        }
    }

    #[test]
    fn same_seed_and_id_give_same_host() {
        let collect = |seed| {
            let mut host = Host::new(seed, 3, 2, 10_000, 0);
            let mut values = Vec::new();
            host.scrape(10.0, 0, &mut |_, v| values.push(v.to_bits()));
            (host.offset_ms, values)
        };
        assert_eq!(collect(5), collect(5));
        assert_ne!(collect(5), collect(6));
    }
}
