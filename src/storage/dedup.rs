//! Deduplication (`--dedup.min-scrape-interval`): one sample per interval per series.
//!
//! As VictoriaMetrics does: time is cut into intervals `(k*d - d, k*d]`; each keeps
//! its sample with the largest timestamp, and among equal timestamps the largest value.

/// Deduplicates time-sorted samples in place; `interval_ms <= 0` only collapses equal timestamps (last wins).
pub fn deduplicate(timestamps: &mut Vec<i64>, values: &mut Vec<f64>, interval_ms: i64) {
    debug_assert_eq!(timestamps.len(), values.len());
    let mut write = 0usize;
    for read in 0..timestamps.len() {
        let (Some(&ts), Some(&value)) = (timestamps.get(read), values.get(read)) else {
            break;
        };
        let replaces_previous = write > 0
            && timestamps.get(write - 1).is_some_and(|&prev| {
                if interval_ms > 0 {
                    bucket_end(prev, interval_ms) == bucket_end(ts, interval_ms)
                } else {
                    prev == ts
                }
            });
        if replaces_previous {
            let (Some(prev_ts), Some(prev_value)) =
                (timestamps.get_mut(write - 1), values.get_mut(write - 1))
            else {
                break;
            };
            let keep_previous_value = interval_ms > 0 && *prev_ts == ts && *prev_value > value;
            *prev_ts = ts;
            if !keep_previous_value {
                *prev_value = value;
            }
            continue;
        }
        if let (Some(t), Some(v)) = (timestamps.get_mut(write), values.get_mut(write)) {
            *t = ts;
            *v = value;
        }
        write += 1;
    }
    timestamps.truncate(write);
    values.truncate(write);
}

/// The end of the interval holding `ts`: the smallest multiple of `interval_ms` not below `ts`.
fn bucket_end(ts: i64, interval_ms: i64) -> i64 {
    let rem = ts.rem_euclid(interval_ms);
    if rem == 0 {
        ts
    } else {
        ts - rem + interval_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ts: &[i64], vs: &[f64], interval: i64, want_ts: &[i64], want_vs: &[f64]) {
        let (mut t, mut v) = (ts.to_vec(), vs.to_vec());
        deduplicate(&mut t, &mut v, interval);
        assert_eq!(
            (t.as_slice(), v.as_slice()),
            (want_ts, want_vs),
            "{ts:?} {vs:?} / {interval}"
        );
    }

    #[test]
    fn keeps_last_per_interval_and_max_on_ties() {
        check(
            &[1, 2, 3],
            &[1.0, 2.0, 3.0],
            0,
            &[1, 2, 3],
            &[1.0, 2.0, 3.0],
        );
        check(&[1, 1, 2], &[5.0, 1.0, 2.0], 0, &[1, 2], &[1.0, 2.0]);
        check(
            &[1_000, 9_000, 10_000, 10_001, 19_999],
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            10_000,
            &[10_000, 19_999],
            &[3.0, 5.0],
        );
        check(
            &[5_000, 5_000, 5_000],
            &[1.0, 7.0, 3.0],
            10_000,
            &[5_000],
            &[7.0],
        );
        check(&[-5, 0, 5], &[1.0, 2.0, 3.0], 10, &[0, 5], &[2.0, 3.0]);
        check(&[], &[], 10, &[], &[]);
    }
}
