//! The `*_over_time` aggregations over one window's values (stale markers removed).
//!
//! Every function takes a non-empty slice; the caller yields no point for an empty window.

use super::kahan::{kahan_sum, kahan_sum_inc};
use super::quantile::quantile;

/// `avg_over_time`: compensated mean, switching to an incremental mean on overflow.
pub fn avg(values: &[f64]) -> f64 {
    let (mut sum, mut c, mut mean) = (0.0, 0.0, 0.0);
    let mut incremental = false;
    for (i, &v) in values.iter().enumerate() {
        let count = (i + 1) as f64;
        if !incremental {
            let (new_sum, new_c) = kahan_sum_inc(v, sum, c);
            if count == 1.0 || !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_sum_inc(v / count, q * mean, q * c);
    }
    if incremental {
        return mean + c;
    }
    let count = values.len() as f64;
    sum / count + c / count
}

/// `sum_over_time`
pub fn sum(values: &[f64]) -> f64 {
    kahan_sum(values)
}

/// `min_over_time`: NaN only if every value is NaN.
pub fn min(values: &[f64]) -> f64 {
    let mut result = values.first().copied().unwrap_or(f64::NAN);
    for &v in values {
        if v < result || result.is_nan() {
            result = v;
        }
    }
    result
}

/// `max_over_time`: NaN only if every value is NaN.
pub fn max(values: &[f64]) -> f64 {
    let mut result = values.first().copied().unwrap_or(f64::NAN);
    for &v in values {
        if v > result || result.is_nan() {
            result = v;
        }
    }
    result
}

/// Index of the minimum (`max == false`) or maximum, the latest on ties; NaN only if all are.
pub fn extreme_index(values: &[f64], max: bool) -> usize {
    let mut best = 0;
    let mut best_value = values.first().copied().unwrap_or(f64::NAN);
    for (i, &v) in values.iter().enumerate().skip(1) {
        let better = if max {
            v >= best_value
        } else {
            v <= best_value
        };
        if better || best_value.is_nan() {
            best = i;
            best_value = v;
        }
    }
    best
}

/// `stdvar_over_time`: population variance (Welford with compensation).
pub fn stdvar(values: &[f64]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &v in values {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// `stddev_over_time`
pub fn stddev(values: &[f64]) -> f64 {
    stdvar(values).sqrt()
}

/// `quantile_over_time`; `scratch` is reused for sorting.
pub fn quantile_of(q: f64, values: &[f64], scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend_from_slice(values);
    quantile(q, scratch)
}

/// `mad_over_time`: the median absolute deviation from the median.
pub fn mad(values: &[f64], scratch: &mut Vec<f64>) -> f64 {
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let median = quantile_of(0.5, values, scratch);
    scratch.clear();
    scratch.extend(values.iter().map(|v| (v - median).abs()));
    quantile(0.5, scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates() {
        let vs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(avg(&vs), 2.5);
        assert_eq!(sum(&vs), 10.0);
        assert_eq!(min(&[f64::NAN, 2.0, 1.0]), 1.0);
        assert_eq!(max(&vs), 4.0);
        assert_eq!(stdvar(&vs), 1.25);
        let mut scratch = Vec::new();
        assert_eq!(quantile_of(0.5, &vs, &mut scratch), 2.5);
        assert_eq!(mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0], &mut scratch), 1.0);
        assert_eq!(avg(&[f64::MAX, f64::MAX]), f64::MAX);
    }
}
