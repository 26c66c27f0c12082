//! The set of hosts scraped together, scrape rounds in time order, and churn.
//!
//! Round `k` scrapes every host at `start + k × interval + offset + jitter`.
//! Every `churn_every` rounds, `churn_fraction` of the hosts are replaced by
//! hosts with new `instance` values (a deployment rolling over); the replaced
//! hosts' series get Prometheus' stale markers in that round.

use super::catalog::HostSeries;
use super::host::Host;
use crate::prng::Prng;

/// Stream number of the churn decisions, apart from any host's stream.
const CHURN_STREAM: u64 = u64::MAX;

/// Schedule and churn parameters.
#[derive(Clone, Copy, Debug)]
pub struct FleetConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Hosts scraped in every round.
    pub hosts: u64,
    /// CPUs per host.
    pub cpus: u32,
    /// Scrape interval.
    pub interval_ms: u64,
    /// Most random delay per scrape.
    pub jitter_ms: u64,
    /// Timestamp of round 0.
    pub start_ms: i64,
    /// Fraction of hosts replaced at each churn point.
    pub churn_fraction: f64,
    /// Rounds between churn points; 0 disables churn.
    pub churn_every: u64,
}

/// What a round emits, in order: `(series, timestamp_ms, value)`.
pub trait RoundSink {
    /// One sample of one series.
    fn sample(&mut self, series: &HostSeries, timestamp_ms: i64, value: f64);
}

/// All hosts currently scraped.
pub struct Fleet {
    config: FleetConfig,
    hosts: Vec<Host>,
    next_instance_id: u64,
    churn_prng: Prng,
    /// Scratch: (timestamp, slot) of this round, sorted.
    order: Vec<(i64, u64, usize)>,
}

impl Fleet {
    /// Hosts 0..hosts, ready for round 0.
    pub fn new(config: FleetConfig) -> Fleet {
        let hosts = (0..config.hosts)
            .map(|id| new_host(&config, id, config.start_ms))
            .collect();
        Fleet {
            config,
            hosts,
            next_instance_id: config.hosts,
            churn_prng: Prng::derive(config.seed, CHURN_STREAM),
            order: Vec::new(),
        }
    }

    /// Hosts created so far, replaced ones included.
    pub fn hosts_created(&self) -> u64 {
        self.next_instance_id
    }

    /// Emits round `round`: samples in timestamp order (ties by instance).
    pub fn round(&mut self, round: u64, sink: &mut impl RoundSink) {
        let round_start_ms = self.config.start_ms + (round * self.config.interval_ms) as i64;
        let retired = self.churn(round, round_start_ms);
        self.order.clear();
        for (slot, host) in self.hosts.iter_mut().enumerate() {
            let jitter = host.draw_jitter_ms(self.config.jitter_ms);
            let timestamp = round_start_ms + (host.offset_ms + jitter) as i64;
            self.order.push((timestamp, host.instance_id, slot));
        }
        self.order.sort_unstable();
        let interval_seconds = self.config.interval_ms as f64 / 1000.0;
        for &(timestamp, _, slot) in &self.order {
            // `retired` is sorted by slot.
            if let Ok(found) = retired.binary_search_by_key(&slot, |(s, _)| *s) {
                if let Some((_, old)) = retired.get(found) {
                    old.emit_stale(&mut |series, value| sink.sample(series, timestamp, value));
                }
            }
            if let Some(host) = self.hosts.get_mut(slot) {
                host.scrape(interval_seconds, timestamp, &mut |series, value| {
                    sink.sample(series, timestamp, value);
                });
            }
        }
    }

    /// Replaces hosts if `round` is a churn point; returns (slot, old host) pairs sorted by slot.
    fn churn(&mut self, round: u64, round_start_ms: i64) -> Vec<(usize, Host)> {
        let every = self.config.churn_every;
        if every == 0 || round == 0 || round % every != 0 {
            return Vec::new();
        }
        let count = (self.config.churn_fraction * self.hosts.len() as f64).round() as usize;
        let mut slots: Vec<usize> = (0..self.hosts.len()).collect();
        // Partial Fisher–Yates: the first `count` slots are a uniform random choice.
        for i in 0..count.min(slots.len()) {
            let j = i + self.churn_prng.below((slots.len() - i) as u64) as usize;
            slots.swap(i, j);
        }
        slots.truncate(count);
        slots.sort_unstable();
        let mut retired = Vec::with_capacity(slots.len());
        for slot in slots {
            let host = new_host(&self.config, self.next_instance_id, round_start_ms);
            self.next_instance_id += 1;
            if let Some(place) = self.hosts.get_mut(slot) {
                retired.push((slot, std::mem::replace(place, host)));
            }
        }
        retired
    }
}

fn new_host(config: &FleetConfig, id: u64, first_scrape_ms: i64) -> Host {
    Host::new(
        config.seed,
        id,
        config.cpus,
        config.interval_ms,
        first_scrape_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<(Vec<u8>, i64, u64)>);

    impl RoundSink for Collect {
        fn sample(&mut self, series: &HostSeries, timestamp_ms: i64, value: f64) {
            let instance = series.labels[1].value.to_vec();
            self.0.push((instance, timestamp_ms, value.to_bits()));
        }
    }

    fn config(churn_fraction: f64, churn_every: u64) -> FleetConfig {
        FleetConfig {
            seed: 1,
            hosts: 10,
            cpus: 1,
            interval_ms: 10_000,
            jitter_ms: 5,
            start_ms: 1_700_000_000_000,
            churn_fraction,
            churn_every,
        }
    }

    #[test]
    fn rounds_are_in_time_order() {
        let mut fleet = Fleet::new(config(0.0, 0));
        let mut sink = Collect(Vec::new());
        for round in 0..3 {
            fleet.round(round, &mut sink);
        }
        assert!(sink.0.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(sink
            .0
            .iter()
            .all(|s| s.1 >= 1_700_000_000_000 && s.1 < 1_700_000_030_000));
    }

    #[test]
    fn churn_replaces_hosts_and_marks_old_series_stale() {
        let mut fleet = Fleet::new(config(0.3, 2));
        let mut sink = Collect(Vec::new());
        for round in 0..5 {
            fleet.round(round, &mut sink);
        }
        // Churn at rounds 2 and 4: 3 new hosts each.
        assert_eq!(fleet.hosts_created(), 16);
        let stale = sink
            .0
            .iter()
            .filter(|s| s.2 == strata::model::STALE_NAN_BITS)
            .count();
        assert_eq!(stale as u64, 6 * super::super::catalog::series_per_host(1));
    }
}
