//! The implicit rollup of an instant vector selector: the latest sample within the lookback window.
//!
//! At evaluation time `t` the selector yields the sample with the largest timestamp in
//! `(t - offset - lookback, t - offset]`, unless that sample is a stale marker.

use crate::model::is_stale_nan;
use crate::shard::message::SelectRequest;

/// Points of one series (samples sorted by time, one per timestamp) at every step of `request`.
pub fn instant_points(
    timestamps: &[i64],
    values: &[f64],
    request: &SelectRequest,
) -> Vec<(i64, f64)> {
    let mut points = Vec::new();
    let mut t = request.start_ms;
    // Index of the first sample after the current window's end.
    let mut next = 0usize;
    while t <= request.end_ms {
        let window_end = t - request.offset_ms;
        let window_start = window_end - request.lookback_ms;
        while timestamps.get(next).is_some_and(|&ts| ts <= window_end) {
            next += 1;
        }
        if let Some(latest) = next.checked_sub(1) {
            if let (Some(&ts), Some(&value)) = (timestamps.get(latest), values.get(latest)) {
                if ts > window_start && !is_stale_nan(value) {
                    points.push((t, value));
                }
            }
        }
        match t.checked_add(request.step_ms) {
            Some(next_t) => t = next_t,
            None => break,
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::STALE_NAN_BITS;

    fn request(start_ms: i64, end_ms: i64, step_ms: i64) -> SelectRequest {
        SelectRequest {
            matchers: Vec::new(),
            start_ms,
            end_ms,
            step_ms,
            lookback_ms: 300_000,
            offset_ms: 0,
        }
    }

    #[test]
    fn window_is_left_open_and_stale_hides() {
        let ts = [0, 10_000, 20_000];
        let stale = f64::from_bits(STALE_NAN_BITS);
        let vs = [1.0, 2.0, stale];
        let points = instant_points(&ts, &vs, &request(0, 20_000, 5_000));
        assert_eq!(
            points,
            vec![(0, 1.0), (5_000, 1.0), (10_000, 2.0), (15_000, 2.0)]
        );
        // Exactly lookback after the last sample it is gone (left-open window).
        let points = instant_points(&[0], &[1.0], &request(299_999, 300_000, 1));
        assert_eq!(points, vec![(299_999, 1.0)]);
    }

    #[test]
    fn offset_shifts_the_window() {
        let mut r = request(60_000, 60_000, 1);
        r.offset_ms = 60_000;
        assert_eq!(
            instant_points(&[0, 60_000], &[1.0, 2.0], &r),
            vec![(60_000, 1.0)]
        );
    }
}
