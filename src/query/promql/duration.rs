//! Prometheus durations (`1y2w3d4h5m6s7ms`): parsing and canonical printing,
//! in milliseconds, as `model.ParseDuration` and `model.Duration.String` do.

/// Milliseconds per unit, biggest first; units must appear in this order.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a duration string into milliseconds; the error is Prometheus' message.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    match text {
        "0" => return Ok(0),
        "" => return Err("empty duration string".to_string()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {text:?}");
    let mut rest = text;
    let mut total: i64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (number, tail) = rest.split_at(digits);
        let value: i64 = number.parse().map_err(|_| invalid())?;
        let unit_len = tail.bytes().take_while(|b| !b.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(invalid());
        }
        let (unit, tail) = tail.split_at(unit_len);
        let Some((index, (_, unit_ms))) = UNITS
            .iter()
            .enumerate()
            .find(|(_, (name, _))| *name == unit)
        else {
            return Err(format!("unknown unit {unit:?} in duration {text:?}"));
        };
        if index < next_unit {
            return Err(invalid());
        }
        next_unit = index + 1;
        total = value
            .checked_mul(*unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration out of range".to_string())?;
        rest = tail;
    }
    Ok(total)
}

/// Formats milliseconds the way Prometheus prints durations (`1h30m`, `90d`, `0s`).
///
/// Years and weeks are only used when they divide the remainder exactly, as in
/// Prometheus (`12w6d` would be harder to read than `90d`).
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (index, (unit, unit_ms)) in UNITS.iter().enumerate() {
        let unit_ms = unit_ms.unsigned_abs();
        let exact_only = index < 2;
        if exact_only && rest % unit_ms != 0 {
            continue;
        }
        let count = rest / unit_ms;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
            rest -= count * unit_ms;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let cases = [
            ("0", Ok(0)),
            ("5m", Ok(300_000)),
            ("1h30m", Ok(5_400_000)),
            ("100ms", Ok(100)),
            ("1y", Ok(31_536_000_000)),
            ("1w", Ok(604_800_000)),
            ("1d", Ok(86_400_000)),
            ("10s53ms", Ok(10_053)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration_ms(text), want, "{text}");
        }
        for bad in ["", "5", "m", "1m1h", "1.5m", "1hs", "1s1s"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn format() {
        let cases = [
            (0, "0s"),
            (300_000, "5m"),
            (5_400_000, "1h30m"),
            (100, "100ms"),
            (90 * 86_400_000, "90d"),
            (14 * 86_400_000, "2w"),
            (31_536_000_000, "1y"),
            (1_500, "1s500ms"),
            (-60_000, "-1m"),
        ];
        for (ms, want) in cases {
            assert_eq!(format_duration_ms(ms), want, "{ms}");
        }
    }
}
