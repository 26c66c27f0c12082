//! How one series' value evolves from scrape to scrape.
//!
//! Values are rounded the way exporters print them (bytes are integers, CPU
//! seconds and load averages have two decimals), which is what makes real
//! data compress: a generator emitting full-precision random floats would
//! flatter nobody's storage but be unrealistic for everyone's.

use crate::prng::Prng;

/// The evolution rule and current state of one series.
#[derive(Clone, Debug)]
pub enum ValueModel {
    /// Never changes (sizes, totals, `up`).
    Constant(f64),
    /// `node_boot_time_seconds`: constant until the host restarts.
    BootTime(f64),
    /// Monotonic counter: grows by about `rate_per_second` × interval each scrape.
    Counter {
        /// Current value.
        value: f64,
        /// Mean increase per second.
        rate_per_second: f64,
        /// Values are multiples of this (1 for bytes, 0.01 for seconds).
        quantum: f64,
    },
    /// Bounded random walk.
    Gauge {
        /// Current value.
        value: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// Largest change per scrape.
        step: f64,
        /// Values are multiples of this.
        quantum: f64,
    },
    /// Cumulative count of bucket `bucket` of histogram `histogram` of the host.
    HistogramBucket {
        /// Index of the host's histogram.
        histogram: usize,
        /// Index of the bucket (the last one is `+Inf`).
        bucket: usize,
    },
    /// `_sum` of histogram `histogram`.
    HistogramSum {
        /// Index of the host's histogram.
        histogram: usize,
    },
    /// `_count` of histogram `histogram`.
    HistogramCount {
        /// Index of the host's histogram.
        histogram: usize,
    },
}

/// Rounds `value` to a multiple of `quantum` the way a printed decimal would read back:
/// for fractions, through an integer scale, so 0.07 is the double nearest to 7/100.
pub fn round_to(value: f64, quantum: f64) -> f64 {
    if quantum >= 1.0 {
        (value / quantum).round() * quantum
    } else {
        let scale = (1.0 / quantum).round();
        (value * scale).round() / scale
    }
}

impl ValueModel {
    /// Advances the state by one scrape of `interval_seconds`.
    pub fn advance(&mut self, prng: &mut Prng, interval_seconds: f64) {
        match self {
            ValueModel::Counter {
                value,
                rate_per_second,
                quantum,
            } => {
                let increase = *rate_per_second * interval_seconds * prng.range_f64(0.5, 1.5);
                *value = round_to(*value + increase, *quantum);
            }
            ValueModel::Gauge {
                value,
                min,
                max,
                step,
                quantum,
            } => {
                let moved = *value + prng.range_f64(-*step, *step);
                *value = round_to(moved.clamp(*min, *max), *quantum);
            }
            ValueModel::Constant(_)
            | ValueModel::BootTime(_)
            | ValueModel::HistogramBucket { .. }
            | ValueModel::HistogramSum { .. }
            | ValueModel::HistogramCount { .. } => {}
        }
    }

    /// The host restarted at `now_seconds`: counters start again from zero.
    pub fn reset(&mut self, now_seconds: f64) {
        match self {
            ValueModel::Counter { value, .. } => *value = 0.0,
            ValueModel::BootTime(boot) => *boot = now_seconds.round(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_reads_like_printed_decimals() {
        assert_eq!(round_to(0.0712, 0.01), 0.07);
        assert_eq!(round_to(1234.5678, 0.01), 1234.57);
        assert_eq!(round_to(10_000.0, 4096.0), 8192.0);
        assert_eq!(round_to(17.4, 1.0), 17.0);
    }

    #[test]
    fn counters_never_decrease_and_gauges_stay_in_bounds() {
        let mut prng = Prng::new(11);
        let mut counter = ValueModel::Counter {
            value: 5.0,
            rate_per_second: 0.3,
            quantum: 0.01,
        };
        let mut gauge = ValueModel::Gauge {
            value: 50.0,
            min: 0.0,
            max: 100.0,
            step: 30.0,
            quantum: 1.0,
        };
        let mut last = 5.0;
        for _ in 0..1000 {
            counter.advance(&mut prng, 10.0);
            gauge.advance(&mut prng, 10.0);
            let ValueModel::Counter { value, .. } = counter else {
                unreachable!()
            };
            assert!(value >= last);
            last = value;
            let ValueModel::Gauge { value, .. } = gauge else {
                unreachable!()
            };
            assert!((0.0..=100.0).contains(&value));
        }
    }
}
