//! One Influx line split into its parts, with the escaping rules VictoriaMetrics applies.
//!
//! ```text
//! measurement[,tag=value...] field=value[,field=value...] [timestamp]
//! ```
//!
//! In the measurement, tag keys, tag values and field keys a backslash escapes
//! `,`, ` `, `=` and `\`; before any other byte it stays literal. Field values
//! may be quoted strings, inside which `,`, ` ` and `=` need no escaping and
//! `\"` is a quote.

use std::fmt;

/// Why a line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfluxLineError {
    /// No space between the measurement (and tags) and the fields.
    MissingFields,
    /// A tag without `=`.
    MissingTagValue(String),
    /// A field without `=`.
    MissingFieldValue(String),
    /// A field with an empty key.
    EmptyFieldKey,
    /// A field value that is not a number, boolean or quoted string.
    BadFieldValue {
        /// The field key.
        key: String,
        /// The offending value.
        value: String,
    },
    /// A quoted field value without its closing quote.
    UnclosedQuote(String),
    /// The timestamp is not an integer.
    BadTimestamp(String),
}

impl fmt::Display for InfluxLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InfluxLineError::MissingFields => f.write_str("missing fields after the measurement"),
            InfluxLineError::MissingTagValue(t) => write!(f, "missing value for tag {t:?}"),
            InfluxLineError::MissingFieldValue(k) => write!(f, "missing value for field {k:?}"),
            InfluxLineError::EmptyFieldKey => f.write_str("empty field key"),
            InfluxLineError::BadFieldValue { key, value } => {
                write!(f, "cannot parse value {value:?} of field {key:?}")
            }
            InfluxLineError::UnclosedQuote(v) => {
                write!(f, "missing closing quote in field value {v:?}")
            }
            InfluxLineError::BadTimestamp(t) => write!(f, "cannot parse timestamp {t:?}"),
        }
    }
}

impl std::error::Error for InfluxLineError {}

/// A line cut into its still-escaped parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineParts<'a> {
    /// Escaped measurement.
    pub measurement: &'a [u8],
    /// Escaped `tag=value` list after the first comma, possibly empty.
    pub tags: &'a [u8],
    /// Field list, possibly with quoted values.
    pub fields: &'a [u8],
    /// Timestamp in the request's precision, if present.
    pub timestamp: Option<i64>,
}

/// Cuts a (non-empty, non-comment) line into measurement, tags, fields and timestamp.
pub fn split_line(line: &[u8]) -> Result<LineParts<'_>, InfluxLineError> {
    let space = find_unescaped(line, b' ').ok_or(InfluxLineError::MissingFields)?;
    let (head, rest) = line.split_at(space);
    let rest = trim_leading_spaces(rest);
    let (measurement, tags) = match find_unescaped(head, b',') {
        Some(comma) => {
            let (m, t) = head.split_at(comma);
            (m, t.get(1..).unwrap_or_default())
        }
        None => (head, &b""[..]),
    };
    let (fields, timestamp_text) = match find_unquoted(rest, b' ') {
        Some(space) => {
            let (f, t) = rest.split_at(space);
            (f, trim_leading_spaces(t))
        }
        None => (rest, &b""[..]),
    };
    if fields.is_empty() {
        return Err(InfluxLineError::MissingFields);
    }
    let timestamp_text = trim_trailing_spaces(timestamp_text);
    let timestamp = if timestamp_text.is_empty() {
        None
    } else {
        let parsed = std::str::from_utf8(timestamp_text)
            .ok()
            .and_then(|t| t.parse::<i64>().ok());
        Some(parsed.ok_or_else(|| InfluxLineError::BadTimestamp(lossy(timestamp_text)))?)
    };
    Ok(LineParts {
        measurement,
        tags,
        fields,
        timestamp,
    })
}

/// Calls `on_tag(key, value)` (still escaped) for each tag; empty keys or values are dropped as VictoriaMetrics does.
pub fn for_each_tag<'a>(
    mut tags: &'a [u8],
    mut on_tag: impl FnMut(&'a [u8], &'a [u8]),
) -> Result<(), InfluxLineError> {
    while !tags.is_empty() {
        let (tag, rest) = cut_at(tags, find_unescaped(tags, b','));
        tags = rest;
        let equals = find_unescaped(tag, b'=')
            .ok_or_else(|| InfluxLineError::MissingTagValue(lossy(tag)))?;
        let (key, value) = tag.split_at(equals);
        let value = value.get(1..).unwrap_or_default();
        if !key.is_empty() && !value.is_empty() {
            on_tag(key, value);
        }
    }
    Ok(())
}

/// A parsed field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue {
    /// A number (float, `i` integer, `u` unsigned, boolean as 1/0, or a quoted number).
    Number(f64),
    /// A string that is not a number: such fields are skipped.
    Text,
}

/// Calls `on_field(escaped_key, value)` for each field.
pub fn for_each_field<'a>(
    mut fields: &'a [u8],
    mut on_field: impl FnMut(&'a [u8], FieldValue),
) -> Result<(), InfluxLineError> {
    while !fields.is_empty() {
        let (field, rest) = cut_at(fields, find_unquoted(fields, b','));
        fields = rest;
        let equals = find_unescaped(field, b'=')
            .ok_or_else(|| InfluxLineError::MissingFieldValue(lossy(field)))?;
        let (key, value) = field.split_at(equals);
        let value = value.get(1..).unwrap_or_default();
        if key.is_empty() {
            return Err(InfluxLineError::EmptyFieldKey);
        }
        let parsed = parse_field_value(value).map_err(|e| match e {
            FieldValueError::Unclosed => InfluxLineError::UnclosedQuote(lossy(value)),
            FieldValueError::Bad => InfluxLineError::BadFieldValue {
                key: lossy(key),
                value: lossy(value),
            },
        })?;
        on_field(key, parsed);
    }
    Ok(())
}

enum FieldValueError {
    Unclosed,
    Bad,
}

fn parse_field_value(value: &[u8]) -> Result<FieldValue, FieldValueError> {
    if let Some(quoted) = value.strip_prefix(b"\"") {
        let inner = quoted
            .strip_suffix(b"\"")
            .ok_or(FieldValueError::Unclosed)?;
        // Some agents send numbers as strings; keep those, skip real text.
        return Ok(parse_float(inner).map_or(FieldValue::Text, FieldValue::Number));
    }
    let number = match value {
        b"t" | b"T" | b"true" | b"True" | b"TRUE" => Some(1.0),
        b"f" | b"F" | b"false" | b"False" | b"FALSE" => Some(0.0),
        [digits @ .., b'i'] => text(digits)
            .and_then(|t| t.parse::<i64>().ok())
            .map(|n| n as f64),
        [digits @ .., b'u'] => text(digits)
            .and_then(|t| t.parse::<u64>().ok())
            .map(|n| n as f64),
        _ => parse_float(value),
    };
    number.map(FieldValue::Number).ok_or(FieldValueError::Bad)
}

fn parse_float(value: &[u8]) -> Option<f64> {
    text(value).and_then(|t| t.trim().parse::<f64>().ok())
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// Appends `src` to `out` with the escaping backslashes removed.
pub fn unescape_into(src: &[u8], out: &mut Vec<u8>) {
    let mut bytes = src.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            if let Some(&next) = bytes.peek() {
                if matches!(next, b',' | b' ' | b'=' | b'\\') {
                    out.push(next);
                    bytes.next();
                    continue;
                }
            }
        }
        out.push(b);
    }
}

/// The index of the first `wanted` byte not preceded by an escaping backslash.
fn find_unescaped(bytes: &[u8], wanted: u8) -> Option<usize> {
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == wanted {
            return Some(i);
        }
    }
    None
}

/// Like [`find_unescaped`], ignoring bytes inside double quotes.
fn find_unquoted(bytes: &[u8], wanted: u8) -> Option<usize> {
    let mut escaped = false;
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == wanted && !quoted {
            return Some(i);
        }
    }
    None
}

/// Splits at `at` dropping the separator, or returns everything and an empty tail.
fn cut_at(bytes: &[u8], at: Option<usize>) -> (&[u8], &[u8]) {
    match at {
        Some(i) => {
            let (head, tail) = bytes.split_at(i);
            (head, tail.get(1..).unwrap_or_default())
        }
        None => (bytes, &[]),
    }
}

fn trim_leading_spaces(mut bytes: &[u8]) -> &[u8] {
    while let Some(rest) = bytes.strip_prefix(b" ") {
        bytes = rest;
    }
    bytes
}

fn trim_trailing_spaces(mut bytes: &[u8]) -> &[u8] {
    while let Some(rest) = bytes.strip_suffix(b" ") {
        bytes = rest;
    }
    bytes
}

/// Bounded, lossy text for error messages.
fn lossy(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.chars().take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_escapes_and_quotes() {
        let parts = split_line(br#"we\ ather\,x,loc=us\ west f="a b,c=d",g=1 1700"#).unwrap();
        assert_eq!(parts.measurement, br"we\ ather\,x");
        assert_eq!(parts.tags, br"loc=us\ west");
        assert_eq!(parts.fields, br#"f="a b,c=d",g=1"#);
        assert_eq!(parts.timestamp, Some(1700));
        let mut out = Vec::new();
        unescape_into(parts.measurement, &mut out);
        assert_eq!(out, b"we ather,x");
        out.clear();
        unescape_into(br"a\\b\nc\=", &mut out);
        assert_eq!(out, br"a\b\nc=");
    }

    #[test]
    fn field_values() {
        let check = |value: &[u8], want: Option<FieldValue>| {
            assert_eq!(parse_field_value(value).ok(), want, "{:?}", lossy(value));
        };
        check(b"1.5", Some(FieldValue::Number(1.5)));
        check(b"-2i", Some(FieldValue::Number(-2.0)));
        check(b"3u", Some(FieldValue::Number(3.0)));
        check(b"-3u", None);
        check(b"T", Some(FieldValue::Number(1.0)));
        check(b"false", Some(FieldValue::Number(0.0)));
        check(br#""12.5""#, Some(FieldValue::Number(12.5)));
        check(br#""hello""#, Some(FieldValue::Text));
        check(br#""open"#, None);
        check(b"abc", None);
        check(b"", None);
    }

    #[test]
    fn bad_lines() {
        assert_eq!(split_line(b"cpu"), Err(InfluxLineError::MissingFields));
        assert!(matches!(
            split_line(b"cpu v=1 12x"),
            Err(InfluxLineError::BadTimestamp(_))
        ));
        assert!(for_each_tag(b"a=1,b", |_, _| {}).is_err());
        assert!(for_each_field(b"=1", |_, _| {}).is_err());
        assert!(for_each_field(b"a", |_, _| {}).is_err());
        let mut tags = Vec::new();
        for_each_tag(b"a=,=b,c=d", |k, v| tags.push((k, v))).unwrap();
        assert_eq!(tags, vec![(&b"c"[..], &b"d"[..])]);
    }
}
