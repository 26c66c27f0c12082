//! Prometheus' experimental extended range selectors: `x[5m] anchored` and
//! `x[5m] smoothed` (and the smoothed instant selector `x smoothed`).
//!
//! Both read one lookback delta beyond the window: `anchored` before its start,
//! `smoothed` on both sides. `anchored` takes the last sample at or before the
//! window start as its left edge; `smoothed` interpolates the values at both
//! edges linearly between the neighbouring samples. No extrapolation happens.
//! Samples passed in are the widened window with stale markers removed.

/// How a range selector reads its window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RangeMode {
    /// Prometheus' default: samples in `(end - range, end]`.
    #[default]
    Plain,
    /// `anchored`: also the last sample up to one lookback before the start.
    Anchored,
    /// `smoothed`: edges interpolated from samples up to one lookback outside.
    Smoothed,
}

impl RangeMode {
    /// How far before the start and after the end samples are needed.
    pub fn extension_ms(self, lookback_ms: i64) -> (i64, i64) {
        match self {
            RangeMode::Plain => (0, 0),
            RangeMode::Anchored => (lookback_ms, 0),
            RangeMode::Smoothed => (lookback_ms, lookback_ms),
        }
    }
}

/// Index of the first `i` in `0..n` with `f(i)`, or `n` (Go's `sort.Search`).
fn search(n: usize, f: impl Fn(usize) -> bool) -> usize {
    (0..n).find(|&i| f(i)).unwrap_or(n)
}

/// Linear interpolation at `t`; a counter reset between the points is modelled
/// as the counter restarting from zero at the first point.
fn interpolate(p1: (i64, f64), p2: (i64, f64), t: i64, is_counter: bool) -> f64 {
    let (mut y1, y2) = (p1.1, p2.1);
    if is_counter && y2 < y1 {
        y1 = 0.0;
    }
    y1 + (y2 - y1) * (t - p1.0) as f64 / (p2.0 - p1.0) as f64
}

/// The sample pair at index `i`.
fn at(ts: &[i64], vs: &[f64], i: usize) -> Option<(i64, f64)> {
    Some((*ts.get(i)?, *vs.get(i)?))
}

/// The edges of a window over the widened samples: indices of the first and
/// last samples used and the values at the window start and end.
struct Edges {
    first: usize,
    last: usize,
    left: f64,
    right: f64,
}

fn edges(
    ts: &[i64],
    vs: &[f64],
    start: i64,
    end: i64,
    smoothed: bool,
    is_counter: bool,
) -> Option<Edges> {
    let n = ts.len();
    let mut last = n.checked_sub(1)?;
    let first = search(last, |i| ts.get(i).is_some_and(|&t| t > start)).saturating_sub(1);
    if smoothed {
        last = search(last, |i| ts.get(i).is_some_and(|&t| t >= end));
    }
    let (first_t, last_t) = (*ts.get(first)?, *ts.get(last)?);
    if last_t <= start || (smoothed && first_t > end) {
        return None;
    }
    let mut left = *vs.get(first)?;
    if smoothed && first_t < start {
        left = interpolate(
            at(ts, vs, first)?,
            at(ts, vs, first + 1)?,
            start,
            is_counter,
        );
    }
    let mut right = *vs.get(last)?;
    if smoothed && last > 0 && last_t > end {
        right = interpolate(at(ts, vs, last - 1)?, at(ts, vs, last)?, end, is_counter);
    }
    Some(Edges {
        first,
        last,
        left,
        right,
    })
}

/// `rate`/`increase`/`delta` over an anchored or smoothed window `(start, end]`.
pub fn extended_rate(
    ts: &[i64],
    vs: &[f64],
    start: i64,
    end: i64,
    smoothed: bool,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let e = edges(ts, vs, start, end, smoothed, is_counter)?;
    let mut result = e.right - e.left;
    if is_counter {
        // Resets strictly inside the edges; the edges handled their own.
        let mut first = e.first;
        let mut last = e.last as i64;
        if ts.get(first).is_some_and(|&t| t <= start) {
            first += 1;
        }
        if ts.get(e.last).is_some_and(|&t| t >= end) {
            last -= 1;
        }
        let inner = usize::try_from(last)
            .ok()
            .and_then(|last| vs.get(first..=last))
            .unwrap_or_default();
        let mut previous = e.left;
        for &v in inner {
            if v < previous {
                result += previous;
            }
            previous = v;
        }
        if e.right < previous {
            result += previous;
        }
    }
    if is_rate {
        result /= end.saturating_sub(start) as f64 / 1000.0;
    }
    Some(result)
}

/// Index of the anchor of an anchored window: the last sample at or before
/// `start` (or the first sample); `None` without any sample after `start`.
pub fn anchor_index(ts: &[i64], start: i64) -> Option<usize> {
    let last = *ts.last()?;
    if last <= start {
        return None;
    }
    Some(search(ts.len() - 1, |i| ts.get(i).is_some_and(|&t| t > start)).saturating_sub(1))
}

/// The value of a smoothed instant selector at `t`: the sample at `t`, else the
/// interpolation between its neighbours, else the latest sample before `t`.
pub fn smoothed_value(ts: &[i64], vs: &[f64], t: i64) -> Option<f64> {
    let after = ts.partition_point(|&x| x <= t);
    let previous = at(ts, vs, after.checked_sub(1)?)?;
    if previous.0 == t {
        return Some(previous.1);
    }
    match at(ts, vs, after) {
        Some(next) => Some(interpolate(previous, next, t, false)),
        None => Some(previous.1),
    }
}

/// A range selector's value under `anchored`/`smoothed`: the samples inside
/// `(start, end]` with synthetic points at both edges (Prometheus' `extendFloats`).
pub fn extend_points(
    ts: &[i64],
    vs: &[f64],
    start: i64,
    end: i64,
    smoothed: bool,
) -> Vec<(i64, f64)> {
    let Some(e) = edges(ts, vs, start, end, smoothed, false) else {
        return Vec::new();
    };
    let mut first = e.first;
    let mut last = e.last as i64;
    if ts.get(first).is_some_and(|&t| t <= start) {
        first += 1;
    }
    if ts.get(e.last).is_some_and(|&t| t >= end) {
        last -= 1;
    }
    let mut out = vec![(start, e.left)];
    if let Ok(last) = usize::try_from(last) {
        for i in first..=last {
            if let Some(p) = at(ts, vs, i) {
                out.push(p);
            }
        }
    }
    out.push((end, e.right));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // metric 1+1x4 9+1x4 every 15s (Prometheus' extended_vectors.test).
    const TS: [i64; 10] = [
        0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000, 120_000, 135_000,
    ];
    const VS: [f64; 10] = [1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 10.0, 11.0, 12.0, 13.0];

    #[test]
    fn anchored_increase_starts_at_the_anchor() {
        // The caller cuts the samples to the read span `(start - lookback, end]`.
        let increase = |t: i64| {
            let n = TS.partition_point(|&x| x <= t);
            extended_rate(&TS[..n], &VS[..n], t - 60_000, t, false, true, false)
        };
        assert_eq!(increase(20_000), Some(1.0));
        assert_eq!(increase(65_000), Some(4.0));
        assert_eq!(increase(80_000), Some(7.0));
    }

    #[test]
    fn smoothed_increase_interpolates_edges() {
        let increase = |t: i64| extended_rate(&TS, &VS, t - 60_000, t, true, true, false);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        assert!(close(increase(5_000), 1.0 / 3.0));
        assert!(close(increase(65_000), 5.0));
        assert!(close(increase(125_000), 6.0));
        assert_eq!(smoothed_value(&TS, &VS, 7_500), Some(1.5));
        assert_eq!(smoothed_value(&TS, &VS, 200_000), Some(13.0));
        // A reset between the edge samples: the counter restarts from zero.
        let reset = extended_rate(
            &[0, 15_000],
            &[100.0, 10.0],
            2_000,
            12_000,
            true,
            true,
            true,
        );
        assert!(close(reset, 2.0 / 3.0));
    }
}
