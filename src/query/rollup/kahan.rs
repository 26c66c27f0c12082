//! Compensated (Kahan) summation, as Prometheus uses it for sums, means and regressions.

/// Adds `inc` to `sum` with compensation `c`; returns the new sum and compensation.
pub fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The compensated sum of `values`.
pub fn kahan_sum(values: &[f64]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for &v in values {
        (sum, c) = kahan_sum_inc(v, sum, c);
    }
    if sum.is_infinite() {
        sum
    } else {
        sum + c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensates_small_terms() {
        assert_eq!(kahan_sum(&[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(kahan_sum(&[f64::INFINITY, 1.0]), f64::INFINITY);
    }
}
