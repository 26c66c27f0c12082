//! Trend functions: `deriv`, `predict_linear` (least squares) and
//! `double_exponential_smoothing` (Holt's linear method).

use super::kahan::kahan_sum_inc;

/// Least-squares slope (per second) and intercept at `intercept_ms`.
pub fn linear_regression(timestamps: &[i64], values: &[f64], intercept_ms: i64) -> (f64, f64) {
    let first = values.first().copied().unwrap_or(f64::NAN);
    let constant = values.iter().all(|&v| v == first);
    if constant {
        if first.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first);
    }
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &y) in timestamps.iter().zip(values) {
        n += 1.0;
        let x = (t - intercept_ms) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(y, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * y, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv`: the per-second slope; `None` with fewer than two samples.
pub fn deriv(timestamps: &[i64], values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let first_t = *timestamps.first()?;
    Some(linear_regression(timestamps, values, first_t).0)
}

/// `predict_linear`: the value `seconds` after `eval_ms`.
pub fn predict_linear(
    timestamps: &[i64],
    values: &[f64],
    eval_ms: i64,
    seconds: f64,
) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(timestamps, values, eval_ms);
    Some(slope * seconds + intercept)
}

/// Why the smoothing parameters are unusable.
#[derive(Clone, Debug, PartialEq)]
pub enum SmoothingError {
    /// The smoothing factor is not in (0, 1).
    SmoothingFactor(f64),
    /// The trend factor is not in (0, 1).
    TrendFactor(f64),
}

impl std::fmt::Display for SmoothingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmoothingError::SmoothingFactor(v) => write!(
                f,
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {v:.6}"
            ),
            SmoothingError::TrendFactor(v) => {
                write!(f, "invalid trend factor. Expected: 0 < tf < 1, got: {v:.6}")
            }
        }
    }
}

/// `double_exponential_smoothing(x, sf, tf)`; `None` with fewer than two samples.
pub fn double_exponential_smoothing(
    values: &[f64],
    smoothing: f64,
    trend: f64,
) -> Result<Option<f64>, SmoothingError> {
    if smoothing <= 0.0 || smoothing >= 1.0 || smoothing.is_nan() {
        return Err(SmoothingError::SmoothingFactor(smoothing));
    }
    if trend <= 0.0 || trend >= 1.0 || trend.is_nan() {
        return Err(SmoothingError::TrendFactor(trend));
    }
    let (Some(&first), Some(&second)) = (values.first(), values.get(1)) else {
        return Ok(None);
    };
    let (mut s0, mut s1) = (0.0, first);
    let mut b = second - first;
    for (i, &v) in values.iter().enumerate().skip(1) {
        let x = smoothing * v;
        if i > 1 {
            b = trend * (s1 - s0) + (1.0 - trend) * b;
        }
        let y = (1.0 - smoothing) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line() {
        let ts = [0, 1000, 2000];
        assert_eq!(deriv(&ts, &[1.0, 3.0, 5.0]), Some(2.0));
        assert_eq!(predict_linear(&ts, &[1.0, 3.0, 5.0], 2000, 1.0), Some(7.0));
        assert_eq!(deriv(&ts, &[4.0, 4.0, 4.0]), Some(0.0));
    }

    #[test]
    fn smoothing_checks_factors() {
        assert!(double_exponential_smoothing(&[1.0, 2.0], 1.0, 0.5).is_err());
        assert_eq!(double_exponential_smoothing(&[1.0], 0.5, 0.5), Ok(None));
        assert_eq!(
            double_exponential_smoothing(&[1.0, 2.0, 3.0], 0.5, 0.5),
            Ok(Some(3.0))
        );
    }
}
