//! Durations on the command line: `500ms`, `10s`, `5m`, `2h`, `1d` (one unit, integer amount).

use std::time::Duration;

/// Parses a flag value such as `10s` into a [`Duration`]; clap calls it as a `value_parser`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration {text:?} needs a unit: ms, s, m, h or d"))?;
    let (amount, unit) = text.split_at(split);
    let amount: u64 = amount
        .parse()
        .map_err(|_| format!("duration {text:?} must start with an integer"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("duration {text:?}: unknown unit {unit:?}")),
    };
    amount
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, want_ms: Option<u64>) {
        let got = parse_duration(text).ok().map(|d| d.as_millis() as u64);
        assert_eq!(got, want_ms, "{text}");
    }

    #[test]
    fn parses_units_and_rejects_garbage() {
        check("500ms", Some(500));
        check("10s", Some(10_000));
        check("5m", Some(300_000));
        check("2h", Some(7_200_000));
        check("1d", Some(86_400_000));
        check("0s", Some(0));
        check("10", None);
        check("s", None);
        check("1.5s", None);
        check("3w", None);
    }
}
