//! Time, duration and selector parameters, parsed and worded as Prometheus' HTTP API does.

use crate::duration::parse_duration_ms;
use crate::http::Params;
use crate::model::Matcher;
use crate::query::promql::{self, Expr};

use super::error::ApiError;

/// Prometheus' smallest and largest times (ms), used when `start`/`end` are absent.
pub const MIN_TIME_MS: i64 = -9_223_309_901_257_974;
/// See [`MIN_TIME_MS`].
pub const MAX_TIME_MS: i64 = 9_223_309_901_257_974;

/// Parses a time: unix seconds (float) or RFC3339.
pub fn parse_time(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<f64>() {
        if !seconds.is_finite() {
            return None;
        }
        let ms = (seconds * 1000.0).round();
        if ms < MIN_TIME_MS as f64 || ms > MAX_TIME_MS as f64 {
            return None;
        }
        return Some(ms as i64);
    }
    parse_rfc3339_ms(text)
}

/// The time parameter `name`, or `default`.
pub fn time_param(params: &Params, name: &str, default: i64) -> Result<i64, ApiError> {
    match params.get(name) {
        None | Some("") => Ok(default),
        Some(text) => parse_time(text).ok_or_else(|| {
            ApiError::invalid_param(name, format!("cannot parse {text:?} to a valid timestamp"))
        }),
    }
}

/// Parses a duration parameter: float seconds or a Prometheus duration; result in ms.
pub fn parse_duration_param(name: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(seconds) = text.parse::<f64>() {
        let ms = seconds * 1000.0;
        if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 1000.0 {
            return Err(ApiError::invalid_param(
                name,
                format!("cannot parse {text:?} to a valid duration. It overflows int64"),
            ));
        }
        return Ok(ms.round() as i64);
    }
    parse_duration_ms(text).map_err(|_| {
        ApiError::invalid_param(name, format!("cannot parse {text:?} to a valid duration"))
    })
}

/// Parses every `match[]` into matcher lists; each must be a plain vector selector.
pub fn selectors_param(params: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    params.get_all("match[]").map(parse_selector).collect()
}

/// Parses a series selector such as `up{job="x"}`.
pub fn parse_selector(text: &str) -> Result<Vec<Matcher>, ApiError> {
    let expr = promql::parse(text).map_err(|e| ApiError::invalid_param("match[]", e))?;
    match expr.unparen() {
        Expr::VectorSelector(selector) if selector.offset_ms == 0 && selector.at.is_none() => {
            Ok(selector.matchers.clone())
        }
        _ => Err(ApiError::invalid_param(
            "match[]",
            format!("{text:?} is not a series selector"),
        )),
    }
}

/// Parses RFC3339 (`2026-11-23T12:00:00Z`, `...00.123+01:00`) into ms.
fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if bytes.len() < 20
        || bytes.get(4) != Some(&b'-')
        || bytes.get(7) != Some(&b'-')
        || bytes.get(13) != Some(&b':')
        || bytes.get(16) != Some(&b':')
    {
        return None;
    }
    if !matches!(bytes.get(10), Some(b'T' | b't')) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut pos = 19;
    let mut fraction_ms = 0i64;
    if bytes.get(pos) == Some(&b'.') {
        let digits = bytes
            .get(pos + 1..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let frac = text.get(pos + 1..pos + 1 + digits)?;
        let padded: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
        fraction_ms = padded.parse().ok()?;
        pos += 1 + digits;
    }
    let offset_minutes = match bytes.get(pos..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
            let minutes = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
            if ![h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let total = hours * 60 + minutes;
            if *sign == b'+' {
                total
            } else {
                -total
            }
        }
        _ => return None,
    };
    let days = crate::storage::partition::days_from_civil(year as i32, month as u32, day as u32);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + fraction_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.1234"), Some(1_700_000_000_123));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20.5Z"),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            parse_time("2023-11-14T23:13:20+01:00"),
            Some(1_700_000_000_000)
        );
        for bad in [
            "",
            "abc",
            "NaN",
            "2023-11-14",
            "2023-13-14T22:13:20Z",
            "2023-11-14T22:13:20",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_param("step", "15"), Ok(15_000));
        assert_eq!(parse_duration_param("step", "0.5"), Ok(500));
        assert_eq!(parse_duration_param("step", "1m"), Ok(60_000));
        assert!(parse_duration_param("step", "x").is_err());
    }
}
