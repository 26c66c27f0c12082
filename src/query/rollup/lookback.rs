//! The implicit rollup of an instant vector selector: the latest sample in
//! `(t - lookback, t]`, unless that sample is a stale marker (which ends the series).

use crate::model::is_stale_nan;

/// Index of the latest sample in `(end_ms - lookback_ms, end_ms]` if it is not stale.
///
/// `timestamps` must be sorted ascending.
pub fn latest_index(
    timestamps: &[i64],
    values: &[f64],
    end_ms: i64,
    lookback_ms: i64,
) -> Option<usize> {
    let after = timestamps.partition_point(|&t| t <= end_ms);
    let index = after.checked_sub(1)?;
    let t = *timestamps.get(index)?;
    let v = *values.get(index)?;
    if t <= end_ms.saturating_sub(lookback_ms) || is_stale_nan(v) {
        return None;
    }
    Some(index)
}

/// The latest sample `(timestamp, value)` visible at `end_ms`.
pub fn latest(
    timestamps: &[i64],
    values: &[f64],
    end_ms: i64,
    lookback_ms: i64,
) -> Option<(i64, f64)> {
    let index = latest_index(timestamps, values, end_ms, lookback_ms)?;
    Some((*timestamps.get(index)?, *values.get(index)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::STALE_NAN_BITS;

    #[test]
    fn left_open_and_stale_ends_series() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let ts = [0, 10, 20];
        let vs = [1.0, 2.0, stale];
        assert_eq!(latest(&ts, &vs, 15, 300), Some((10, 2.0)));
        assert_eq!(latest(&ts, &vs, 25, 300), None);
        assert_eq!(latest(&[0], &[1.0], 300, 300), None);
        assert_eq!(latest(&[0], &[1.0], 299, 300), Some((0, 1.0)));
    }
}
