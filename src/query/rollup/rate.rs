//! Counter and gauge differences: `rate`, `increase`, `delta` (with Prometheus'
//! extrapolation to the window edges), `irate`, `idelta`, `resets`, `changes`.

/// `rate`/`increase`/`delta` over the window `(start_ms, end_ms]` holding the samples.
///
/// `is_counter` adds back counter resets; `is_rate` divides by the range in seconds.
/// `None` with fewer than two samples.
pub fn extrapolated_rate(
    timestamps: &[i64],
    values: &[f64],
    start_ms: i64,
    end_ms: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if values.len() < 2 || timestamps.len() != values.len() {
        return None;
    }
    let (first_t, last_t) = (*timestamps.first()?, *timestamps.last()?);
    let (first_v, last_v) = (*values.first()?, *values.last()?);
    let mut result = last_v - first_v;
    if is_counter {
        let mut previous = first_v;
        for &current in values.iter().skip(1) {
            if current < previous {
                result += previous;
            }
            previous = current;
        }
    }
    let sampled_interval = (last_t - first_t) as f64 / 1000.0;
    let average_between = sampled_interval / (values.len() - 1) as f64;
    let mut to_start = first_t.saturating_sub(start_ms) as f64 / 1000.0;
    let mut to_end = end_ms.saturating_sub(last_t) as f64 / 1000.0;
    let threshold = average_between * 1.1;
    if to_start >= threshold {
        to_start = average_between / 2.0;
    }
    if is_counter && result > 0.0 && first_v >= 0.0 {
        // A counter does not go below zero: extrapolate at most to where it would be zero.
        let to_zero = sampled_interval * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average_between / 2.0;
    }
    let mut factor = (sampled_interval + to_start + to_end) / sampled_interval;
    if is_rate {
        factor /= end_ms.saturating_sub(start_ms) as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (`is_rate`) or `idelta` from the last two samples.
pub fn instant_value(timestamps: &[i64], values: &[f64], is_rate: bool) -> Option<f64> {
    let n = values.len();
    if n < 2 || timestamps.len() != n {
        return None;
    }
    let (previous_t, last_t) = (*timestamps.get(n - 2)?, *timestamps.get(n - 1)?);
    let (previous, last) = (*values.get(n - 2)?, *values.get(n - 1)?);
    let mut result = last - previous;
    if is_rate && last < previous {
        result = last;
    }
    let interval = last_t - previous_t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// How many times the value dropped (`resets`).
pub fn resets(values: &[f64]) -> f64 {
    values.windows(2).filter(|w| w[1] < w[0]).count() as f64
}

/// How many times the value changed (`changes`); NaN to NaN is no change.
pub fn changes(values: &[f64]) -> f64 {
    values
        .windows(2)
        .filter(|w| w[1] != w[0] && !(w[1].is_nan() && w[0].is_nan()))
        .count() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_extrapolates_to_window_edges() {
        // Samples every 10s over a 60s window: counter 0..50.
        let ts = [10_000, 20_000, 30_000, 40_000, 50_000, 60_000];
        let vs = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0];
        let increase = extrapolated_rate(&ts, &vs, 0, 60_000, true, false);
        // Start extrapolation is capped where the counter would hit zero.
        assert_eq!(increase, Some(50.0));
        assert_eq!(
            extrapolated_rate(&ts[..1], &vs[..1], 0, 60_000, true, true),
            None
        );
    }

    #[test]
    fn counter_resets_are_added_back() {
        let ts = [0, 10_000, 20_000];
        let vs = [5.0, 10.0, 2.0];
        assert_eq!(resets(&vs), 1.0);
        assert_eq!(instant_value(&ts, &vs, true), Some(0.2));
        assert_eq!(instant_value(&ts, &vs, false), Some(-8.0));
        assert_eq!(changes(&[1.0, 1.0, 2.0, f64::NAN, f64::NAN]), 2.0);
    }
}
