//! One sample line of the text exposition format.
//!
//! ```text
//! name[{label="value",...}] value [timestamp] [# exemplar]
//! {"utf-8.name",label="value"} value [timestamp]
//! ```
//!
//! Label values (and quoted names) unescape `\\`, `\"` and `\n`; any other
//! backslash stays literal, as in VictoriaMetrics. A trailing comma inside the
//! braces is allowed, and so is whitespace around labels.

use std::fmt;

use crate::ingest::row::RowLabels;
use crate::model::METRIC_NAME_LABEL;

/// Why a sample line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleError {
    /// The line starts with neither a metric name nor `{`.
    BadMetricName,
    /// A label name is missing or malformed at this byte offset.
    BadLabelName(usize),
    /// A label is not followed by `="value"` at this byte offset.
    BadLabelValue(usize),
    /// The label list has no closing `}`.
    UnclosedLabels,
    /// No metric name, neither before `{` nor quoted inside it.
    MissingMetricName,
    /// No value after the name and labels.
    MissingValue,
    /// The value is not a float.
    BadValue(String),
    /// The timestamp is not a number.
    BadTimestamp(String),
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleError::BadMetricName => f.write_str("line does not start with a metric name"),
            SampleError::BadLabelName(at) => write!(f, "bad label name at byte {at}"),
            SampleError::BadLabelValue(at) => write!(f, "expected =\"value\" at byte {at}"),
            SampleError::UnclosedLabels => f.write_str("missing closing '}'"),
            SampleError::MissingMetricName => f.write_str("missing metric name"),
            SampleError::MissingValue => f.write_str("missing value"),
            SampleError::BadValue(v) => write!(f, "cannot parse value {v:?}"),
            SampleError::BadTimestamp(t) => write!(f, "cannot parse timestamp {t:?}"),
        }
    }
}

impl std::error::Error for SampleError {}

/// How a line's timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampUnit {
    /// Integer milliseconds (Prometheus text 0.0.4).
    Milliseconds,
    /// Float seconds (OpenMetrics).
    Seconds,
}

/// A parsed sample: labels went into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds, if the line has one.
    pub timestamp_ms: Option<i64>,
}

/// Parses `line` into `labels` (cleared first; `__name__` first) and returns its value and timestamp.
pub fn parse_sample(
    line: &[u8],
    unit: TimestampUnit,
    labels: &mut RowLabels,
    scratch: &mut Vec<u8>,
) -> Result<Sample, SampleError> {
    labels.clear();
    let name_len = line.iter().take_while(|&&b| is_name_byte(b)).count();
    let (name, mut rest) = line.split_at(name_len);
    if name.first().is_some_and(u8::is_ascii_digit) {
        return Err(SampleError::BadMetricName);
    }
    if !name.is_empty() {
        labels.push(METRIC_NAME_LABEL.as_bytes(), name);
    }
    // VictoriaMetrics also accepts whitespace between the name and `{`.
    if let Some(after_brace) = rest.trim_ascii_start().strip_prefix(b"{") {
        let offset = line.len() - after_brace.len();
        rest = parse_labels(after_brace, offset, !name.is_empty(), labels, scratch)?;
    } else if name.is_empty() {
        return Err(SampleError::BadMetricName);
    }
    if labels.is_empty()
        || labels
            .iter()
            .all(|(n, _)| n != METRIC_NAME_LABEL.as_bytes())
    {
        return Err(SampleError::MissingMetricName);
    }
    let mut tokens = rest
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty());
    let value_text = tokens.next().ok_or(SampleError::MissingValue)?;
    let value = parse_float(value_text).ok_or_else(|| SampleError::BadValue(lossy(value_text)))?;
    let timestamp_ms = match tokens.next() {
        None => None,
        Some(t) if t.starts_with(b"#") => None,
        Some(t) => {
            Some(parse_timestamp(t, unit).ok_or_else(|| SampleError::BadTimestamp(lossy(t)))?)
        }
    };
    Ok(Sample {
        value,
        timestamp_ms,
    })
}

/// Parses the labels after `{` and returns the bytes after `}`.
fn parse_labels<'a>(
    mut rest: &'a [u8],
    offset: usize,
    has_name: bool,
    labels: &mut RowLabels,
    scratch: &mut Vec<u8>,
) -> Result<&'a [u8], SampleError> {
    let total = offset + rest.len();
    let at = |rest: &[u8]| total - rest.len();
    let mut has_name = has_name;
    loop {
        rest = rest.trim_ascii_start();
        if let Some(after) = rest.strip_prefix(b"}") {
            return Ok(after);
        }
        if rest.is_empty() {
            return Err(SampleError::UnclosedLabels);
        }
        // A label name: bare, or quoted (UTF-8 names); a quoted string alone is the metric name.
        let (name, after_name, quoted) = if rest.starts_with(b"\"") {
            let (text, after) = quoted_string(rest).ok_or(SampleError::BadLabelName(at(rest)))?;
            (text, after, true)
        } else {
            let len = rest
                .iter()
                .take_while(|&&b| is_name_byte(b) && b != b':')
                .count();
            if len == 0 || rest.first().is_some_and(u8::is_ascii_digit) {
                return Err(SampleError::BadLabelName(at(rest)));
            }
            let (name, after) = rest.split_at(len);
            (name, after, false)
        };
        let after_name = after_name.trim_ascii_start();
        if quoted && !has_name && (after_name.starts_with(b",") || after_name.starts_with(b"}")) {
            scratch.clear();
            unescape_into(name, scratch);
            labels.push(METRIC_NAME_LABEL.as_bytes(), scratch);
            has_name = true;
            rest = after_name.strip_prefix(b",").unwrap_or(after_name);
            continue;
        }
        let after_equals = after_name
            .strip_prefix(b"=")
            .map(<[u8]>::trim_ascii_start)
            .ok_or(SampleError::BadLabelValue(at(after_name)))?;
        let (value, after_value) =
            quoted_string(after_equals).ok_or(SampleError::BadLabelValue(at(after_equals)))?;
        scratch.clear();
        unescape_into(value, scratch);
        if quoted {
            let mut unescaped_name = Vec::with_capacity(name.len());
            unescape_into(name, &mut unescaped_name);
            labels.push(&unescaped_name, scratch);
        } else {
            labels.push(name, scratch);
        }
        rest = after_value.trim_ascii_start();
        if let Some(after_comma) = rest.strip_prefix(b",") {
            rest = after_comma;
        } else if !rest.starts_with(b"}") {
            return Err(SampleError::UnclosedLabels);
        }
    }
}

/// Splits `"...."` off the front: returns the still-escaped content and the bytes after the closing quote.
fn quoted_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let inner = bytes.strip_prefix(b"\"")?;
    let mut escaped = false;
    for (i, &b) in inner.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            let (content, rest) = inner.split_at(i);
            return Some((content, rest.get(1..).unwrap_or_default()));
        }
    }
    None
}

/// Appends `src` with `\\`, `\"` and `\n` unescaped; other backslashes stay.
pub fn unescape_into(src: &[u8], out: &mut Vec<u8>) {
    let mut bytes = src.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        let replacement = match (b, bytes.peek()) {
            (b'\\', Some(b'\\')) => Some(b'\\'),
            (b'\\', Some(b'"')) => Some(b'"'),
            (b'\\', Some(b'n')) => Some(b'\n'),
            _ => None,
        };
        match replacement {
            Some(r) => {
                out.push(r);
                bytes.next();
            }
            None => out.push(b),
        }
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Parses a float as Go's `ParseFloat` would for exposition values (`NaN`, `+Inf`, `-Inf`, ...).
pub fn parse_float(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// Timestamps this small cannot be milliseconds of any real sample (they are in
/// January 1970): as VictoriaMetrics does, read them as OpenMetrics seconds.
const SECONDS_HEURISTIC_LIMIT: f64 = 2_147_483_648.0;

fn parse_timestamp(text: &[u8], unit: TimestampUnit) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let seconds_to_ms = |s: f64| (s * 1000.0).round() as i64;
    match unit {
        TimestampUnit::Milliseconds => {
            let number = finite(text.parse::<f64>().ok()?)?;
            if number.abs() < SECONDS_HEURISTIC_LIMIT {
                Some(seconds_to_ms(number))
            } else {
                // Integers parse exactly; a float this large is a millisecond count.
                text.parse::<i64>().ok().or(Some(number as i64))
            }
        }
        TimestampUnit::Seconds => finite(text.parse::<f64>().ok()?).map(seconds_to_ms),
    }
}

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Want<'a> = Result<(Vec<(&'a str, &'a str)>, f64, Option<i64>), SampleError>;

    fn check(line: &str, want: Want<'_>) {
        let mut labels = RowLabels::new(&[]);
        let mut scratch = Vec::new();
        let got = parse_sample(
            line.as_bytes(),
            TimestampUnit::Milliseconds,
            &mut labels,
            &mut scratch,
        )
        .map(|s| {
            let pairs: Vec<(String, String)> = labels
                .iter()
                .map(|(n, v)| (lossy(n), String::from_utf8_lossy(v).into_owned()))
                .collect();
            (pairs, s.value, s.timestamp_ms)
        });
        let want = want.map(|(pairs, v, t)| {
            (
                pairs
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
                v,
                t,
            )
        });
        match (&got, &want) {
            (Ok((gl, gv, gt)), Ok((wl, wv, wt))) => {
                assert_eq!(gl, wl, "{line}");
                assert_eq!(gv.to_bits(), wv.to_bits(), "{line}");
                assert_eq!(gt, wt, "{line}");
            }
            _ => assert_eq!(got, want, "{line}"),
        }
    }

    #[test]
    fn good_samples() {
        check("up 1", Ok((vec![("__name__", "up")], 1.0, None)));
        check(
            "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000",
            Ok((
                vec![
                    ("__name__", "http_requests_total"),
                    ("method", "post"),
                    ("code", "200"),
                ],
                1027.0,
                Some(1395066363000),
            )),
        );
        check(
            r#"msdos{path="C:\\DIR\\", q="a \"b\"\nc", x="\d" ,} -Inf"#,
            Ok((
                vec![
                    ("__name__", "msdos"),
                    ("path", r"C:\DIR\"),
                    ("q", "a \"b\"\nc"),
                    ("x", r"\d"),
                ],
                f64::NEG_INFINITY,
                None,
            )),
        );
        check(
            r#"{"my.metric", "lab.el"="v"} +Inf 1700000000000"#,
            Ok((
                vec![("__name__", "my.metric"), ("lab.el", "v")],
                f64::INFINITY,
                Some(1_700_000_000_000),
            )),
        );
        check(
            "foo_bucket{le=\"0.5\"} 3 # {trace_id=\"x\"} 0.4 1.2",
            Ok((vec![("__name__", "foo_bucket"), ("le", "0.5")], 3.0, None)),
        );
        check(
            "a\t2.5e3\t7",
            Ok((vec![("__name__", "a")], 2500.0, Some(7000))),
        );
        check(
            "a {b=\"c\"} 1 1700000000.25",
            Ok((
                vec![("__name__", "a"), ("b", "c")],
                1.0,
                Some(1_700_000_000_250),
            )),
        );
    }

    #[test]
    fn nan_is_a_value() {
        let mut labels = RowLabels::new(&[]);
        let sample = parse_sample(
            b"x NaN",
            TimestampUnit::Milliseconds,
            &mut labels,
            &mut Vec::new(),
        )
        .unwrap();
        assert!(sample.value.is_nan());
    }

    #[test]
    fn open_metrics_timestamps_are_seconds() {
        let mut labels = RowLabels::new(&[]);
        let sample = parse_sample(
            b"x 1 1700000000.5",
            TimestampUnit::Seconds,
            &mut labels,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(sample.timestamp_ms, Some(1_700_000_000_500));
    }

    #[test]
    fn bad_samples() {
        check("", Err(SampleError::BadMetricName));
        check("9up 1", Err(SampleError::BadMetricName));
        check("up", Err(SampleError::MissingValue));
        check("up x", Err(SampleError::BadValue("x".into())));
        check("up 1 y", Err(SampleError::BadTimestamp("y".into())));
        check("up{a=\"b\" 1", Err(SampleError::UnclosedLabels));
        check("up{a=\"b 1", Err(SampleError::BadLabelValue(5)));
        check("up{a=b} 1", Err(SampleError::BadLabelValue(5)));
        check("up{=\"b\"} 1", Err(SampleError::BadLabelName(3)));
        check("{a=\"b\"} 1", Err(SampleError::MissingMetricName));
        check("up{a=\"b\"", Err(SampleError::UnclosedLabels));
    }
}
