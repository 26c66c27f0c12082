//! The `format` query argument of `/api/v1/import/csv`: what each column holds.
//!
//! ```text
//! format=1:metric:ask,2:label:ticker,3:time:unix_s
//! ```
//!
//! Entries are `<position>:<kind>:<extension>` with 1-based positions. Kinds:
//! `metric:<name>` (a value column), `label:<name>`, `time:<unix_s|unix_ms|unix_ns|rfc3339>`.
//! At least one metric column, at most one time column, no position twice.
//! VictoriaMetrics' `time:custom:<Go layout>` is refused: Go layouts are not
//! worth reimplementing until someone asks.

use std::fmt;

/// Highest column position accepted (VictoriaMetrics' `maxColumnsPerRow`).
pub const MAX_COLUMNS: usize = 64 * 1024;

/// How a time column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Unix seconds (a fraction is kept to the millisecond).
    UnixSeconds,
    /// Unix milliseconds.
    UnixMilliseconds,
    /// Unix nanoseconds.
    UnixNanoseconds,
    /// RFC 3339, e.g. `2006-01-02T15:04:05.123Z` or with a `+07:00` offset.
    Rfc3339,
}

/// What one column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// Not described: ignored.
    Ignored,
    /// Values of the metric with this name.
    Metric(String),
    /// The value of the label with this name.
    Label(String),
    /// The row's timestamp.
    Time(TimeFormat),
}

/// A `format` argument that cannot be used (400).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnSpecError {
    /// An entry is not `<position>:<kind>:<extension>`.
    BadEntry(String),
    /// A position is not an integer in `1..=MAX_COLUMNS`.
    BadPosition(String),
    /// Two entries name the same position.
    DuplicatePosition(usize),
    /// The kind is not `metric`, `label` or `time`.
    UnknownKind(String),
    /// A metric or label entry with an empty name.
    EmptyName(String),
    /// A time format Strata does not parse (including `custom:`).
    UnsupportedTimeFormat(String),
    /// More than one time column.
    DuplicateTime,
    /// No metric column.
    NoMetric,
}

impl fmt::Display for ColumnSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnSpecError::BadEntry(e) => {
                write!(
                    f,
                    "format entry {e:?} must be <column_pos>:<column_type>:<extension>"
                )
            }
            ColumnSpecError::BadPosition(p) => {
                write!(
                    f,
                    "column position {p:?} must be an integer from 1 to {MAX_COLUMNS}"
                )
            }
            ColumnSpecError::DuplicatePosition(p) => {
                write!(f, "column position {p} is described twice")
            }
            ColumnSpecError::UnknownKind(k) => {
                write!(f, "unknown column type {k:?}; allowed: metric, label, time")
            }
            ColumnSpecError::EmptyName(e) => write!(f, "empty metric or label name in {e:?}"),
            ColumnSpecError::UnsupportedTimeFormat(t) => write!(
                f,
                "unsupported time format {t:?}; supported: unix_s, unix_ms, unix_ns, rfc3339"
            ),
            ColumnSpecError::DuplicateTime => f.write_str("more than one time column"),
            ColumnSpecError::NoMetric => f.write_str("the format has no metric column"),
        }
    }
}

impl std::error::Error for ColumnSpecError {}

/// Parses `format` into one [`Column`] per position up to the highest described one.
pub fn parse_columns(format: &str) -> Result<Vec<Column>, ColumnSpecError> {
    let mut columns: Vec<Column> = Vec::new();
    let mut has_time = false;
    for entry in format.split(',') {
        let mut parts = entry.splitn(3, ':');
        let (Some(position), Some(kind), Some(extension)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(ColumnSpecError::BadEntry(entry.to_string()));
        };
        let position = position
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=MAX_COLUMNS).contains(p))
            .ok_or_else(|| ColumnSpecError::BadPosition(position.to_string()))?;
        let column = match kind {
            "metric" | "label" if extension.is_empty() => {
                return Err(ColumnSpecError::EmptyName(entry.to_string()))
            }
            "metric" => Column::Metric(extension.to_string()),
            "label" => Column::Label(extension.to_string()),
            "time" if has_time => return Err(ColumnSpecError::DuplicateTime),
            "time" => {
                has_time = true;
                Column::Time(time_format(extension)?)
            }
            other => return Err(ColumnSpecError::UnknownKind(other.to_string())),
        };
        if columns.len() < position {
            columns.resize(position, Column::Ignored);
        }
        let slot = columns
            .get_mut(position - 1)
            .ok_or(ColumnSpecError::DuplicatePosition(position))?;
        if *slot != Column::Ignored {
            return Err(ColumnSpecError::DuplicatePosition(position));
        }
        *slot = column;
    }
    if !columns.iter().any(|c| matches!(c, Column::Metric(_))) {
        return Err(ColumnSpecError::NoMetric);
    }
    Ok(columns)
}

fn time_format(text: &str) -> Result<TimeFormat, ColumnSpecError> {
    match text {
        "unix_s" => Ok(TimeFormat::UnixSeconds),
        "unix_ms" => Ok(TimeFormat::UnixMilliseconds),
        "unix_ns" => Ok(TimeFormat::UnixNanoseconds),
        "rfc3339" => Ok(TimeFormat::Rfc3339),
        other => Err(ColumnSpecError::UnsupportedTimeFormat(other.to_string())),
    }
}

impl TimeFormat {
    /// Parses a cell into milliseconds since the Unix epoch.
    pub fn parse_ms(self, cell: &str) -> Option<i64> {
        let cell = cell.trim();
        match self {
            TimeFormat::UnixSeconds => cell
                .parse::<i64>()
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .or_else(|| {
                    let seconds = cell.parse::<f64>().ok().filter(|s| s.is_finite())?;
                    Some((seconds * 1000.0).round() as i64)
                }),
            TimeFormat::UnixMilliseconds => cell.parse::<i64>().ok(),
            TimeFormat::UnixNanoseconds => cell.parse::<i64>().ok().map(|ns| ns / 1_000_000),
            TimeFormat::Rfc3339 => parse_rfc3339_ms(cell),
        }
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into Unix milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, s)| bytes.get(i) != Some(&s))
        || !matches!(bytes.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = bytes.get(19..)?;
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for i in 0..3 {
            let digit = fraction
                .get(..digits)
                .and_then(|d| d.get(i))
                .map_or(0, |&d| i64::from(d - b'0'));
            millis = millis * 10 + digit;
        }
        rest = fraction.get(digits..)?;
    }
    let offset_minutes = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [h1, h2, m1, m2];
            if !digits.iter().all(|d| d.is_ascii_digit()) {
                return None;
            }
            let value = |a: &u8, b: &u8| i64::from(a - b'0') * 10 + i64::from(b - b'0');
            let minutes = value(h1, h2) * 60 + value(m1, m2);
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_example() {
        assert_eq!(
            parse_columns("1:metric:ask,2:label:ticker,4:time:unix_s"),
            Ok(vec![
                Column::Metric("ask".into()),
                Column::Label("ticker".into()),
                Column::Ignored,
                Column::Time(TimeFormat::UnixSeconds),
            ])
        );
    }

    #[test]
    fn rejects_bad_formats() {
        let check = |format: &str, want: ColumnSpecError| {
            assert_eq!(parse_columns(format), Err(want), "{format}")
        };
        check("1:metric", ColumnSpecError::BadEntry("1:metric".into()));
        check("0:metric:a", ColumnSpecError::BadPosition("0".into()));
        check("x:metric:a", ColumnSpecError::BadPosition("x".into()));
        check(
            "99999:metric:a",
            ColumnSpecError::BadPosition("99999".into()),
        );
        check(
            "1:metric:a,1:label:b",
            ColumnSpecError::DuplicatePosition(1),
        );
        check("1:value:a", ColumnSpecError::UnknownKind("value".into()));
        check("1:label:", ColumnSpecError::EmptyName("1:label:".into()));
        check(
            "1:metric:a,2:time:custom:2006",
            ColumnSpecError::UnsupportedTimeFormat("custom:2006".into()),
        );
        check(
            "1:metric:a,2:time:unix_s,3:time:unix_ms",
            ColumnSpecError::DuplicateTime,
        );
        check("1:label:a", ColumnSpecError::NoMetric);
    }

    #[test]
    fn times() {
        assert_eq!(
            TimeFormat::UnixSeconds.parse_ms("1700000000"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            TimeFormat::UnixSeconds.parse_ms("1700000000.25"),
            Some(1_700_000_000_250)
        );
        assert_eq!(TimeFormat::UnixMilliseconds.parse_ms("17"), Some(17));
        assert_eq!(
            TimeFormat::UnixNanoseconds.parse_ms("1700000000123456789"),
            Some(1_700_000_000_123)
        );
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2023-11-14T22:13:20.5Z"),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-11-15T00:13:20.123456+02:00"),
            Some(1_700_000_000_123)
        );
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59Z"), Some(-1000));
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-11-14 22:13:20",
            "2023-11-14T22:13:20.Z",
            "x",
            "2023-13-01T00:00:00Z",
            "2023-11-14T22:13:20+0200",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }
}
