//! Prometheus durations: `1h30m`, `5m`, `100ms`, `1y`; units in descending order.

use std::fmt;

/// A duration string that is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a valid duration string: {:?}", self.0)
    }
}

impl std::error::Error for DurationError {}

const UNITS: [(&str, i64); 8] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
    ("", 0),
];

/// Parses a Prometheus duration into milliseconds. `0` alone is accepted.
pub fn parse_duration_ms(text: &str) -> Result<i64, DurationError> {
    let err = || DurationError(text.to_string());
    if text == "0" {
        return Ok(0);
    }
    if text.is_empty() {
        return Err(err());
    }
    let mut rest = text;
    let mut total: i64 = 0;
    // Index into UNITS of the last unit seen: units must strictly descend.
    let mut last_unit = None::<usize>;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err());
        }
        let (number, tail) = rest.split_at(digits);
        let number: i64 = number.parse().map_err(|_| err())?;
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let index = UNITS
            .iter()
            .position(|(u, _)| *u == unit && !u.is_empty())
            .ok_or_else(err)?;
        if last_unit.is_some_and(|last| index <= last) {
            return Err(err());
        }
        last_unit = Some(index);
        let factor = UNITS.get(index).map_or(0, |(_, f)| *f);
        total = number
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        rest = tail;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        for (text, ms) in [
            ("0", 0),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("100ms", 100),
            ("1y", 31_536_000_000),
            ("10s53ms", 10_053),
            ("31d", 2_678_400_000),
        ] {
            assert_eq!(parse_duration_ms(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn rejects_bad_durations() {
        for text in [
            "",
            "5",
            "m",
            "1m1h",
            "5x",
            "1.5s",
            "-1s",
            "1s1s",
            "99999999999999999999y",
        ] {
            assert!(parse_duration_ms(text).is_err(), "{text}");
        }
    }
}
