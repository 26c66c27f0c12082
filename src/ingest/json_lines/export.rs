//! Writing series as VictoriaMetrics JSON lines (`/api/v1/export`).
//!
//! ```text
//! {"metric":{"__name__":"m","k":"v"},"values":[1,2.5],"timestamps":[1700000000000,1700000010000]}
//! ```
//!
//! `__name__` comes first, then the other labels in canonical (name) order, as
//! VictoriaMetrics writes them. Values are written so that the importer reads
//! back the same bits, and importing then exporting gives the same bytes:
//! - finite values in the shortest form that round-trips (`1`, `-0`, `0.1`, `1e300`);
//! - `"Inf"`, `"-Inf"` and `"NaN"` as strings, which VictoriaMetrics' importer accepts;
//! - Prometheus' stale marker as `"StaleNaN"`. VictoriaMetrics drops stale markers
//!   from its exports and its importer rejects this string, so a caller exporting
//!   for VictoriaMetrics should filter them out;
//! - any other NaN payload becomes `"NaN"` (the one lossy case).
//!
//! One call writes one line; a caller exporting long series should cut them
//! into lines of bounded length (VictoriaMetrics' `max_rows_per_line`) so the
//! importer's line limit is never reached.

use crate::model::labels::{canonical_pairs, CanonicalDecodeError};
use crate::model::{is_stale_nan, METRIC_NAME_LABEL};

/// The string a stale marker is exported as.
pub const STALE_NAN_TEXT: &str = "StaleNaN";

/// Appends one JSON line (with its `\n`) for a series. Timestamps and values pair up to the shorter length.
pub fn write_series(
    out: &mut Vec<u8>,
    canonical_labels: &[u8],
    timestamps: &[i64],
    values: &[f64],
) -> Result<(), CanonicalDecodeError> {
    out.extend_from_slice(b"{\"metric\":{");
    let mut first = true;
    for pair in canonical_pairs(canonical_labels) {
        let (name, value) = pair?;
        if name == METRIC_NAME_LABEL.as_bytes() {
            write_label(out, name, value, &mut first);
        }
    }
    for pair in canonical_pairs(canonical_labels) {
        let (name, value) = pair?;
        if name != METRIC_NAME_LABEL.as_bytes() {
            write_label(out, name, value, &mut first);
        }
    }
    let count = timestamps.len().min(values.len());
    out.extend_from_slice(b"},\"values\":[");
    for (i, &value) in values.iter().take(count).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(out, value);
    }
    out.extend_from_slice(b"],\"timestamps\":[");
    for (i, &timestamp) in timestamps.iter().take(count).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(timestamp.to_string().as_bytes());
    }
    out.extend_from_slice(b"]}\n");
    Ok(())
}

fn write_label(out: &mut Vec<u8>, name: &[u8], value: &[u8], first: &mut bool) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    write_string(out, name);
    out.push(b':');
    write_string(out, value);
}

/// Appends `bytes` as a JSON string: `"` and `\` escaped, control bytes as `\n`, `\r`, `\t` or `\u00XX`.
pub fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.extend(
                    [b >> 4, b & 0xf]
                        .iter()
                        .filter_map(|&nibble| HEX.get(usize::from(nibble))),
                );
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Appends a value in the form described in the module docs.
pub fn write_value(out: &mut Vec<u8>, value: f64) {
    if is_stale_nan(value) {
        out.extend_from_slice(b"\"StaleNaN\"");
    } else if value.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if value == f64::INFINITY {
        out.extend_from_slice(b"\"Inf\"");
    } else if value == f64::NEG_INFINITY {
        out.extend_from_slice(b"\"-Inf\"");
    } else {
        // Debug is the shortest text that parses back to the same bits; drop its ".0" like VictoriaMetrics.
        let text = format!("{value:?}");
        out.extend_from_slice(text.strip_suffix(".0").unwrap_or(&text).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Labels, STALE_NAN_BITS};

    fn value_text(value: f64) -> String {
        let mut out = Vec::new();
        write_value(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values() {
        assert_eq!(value_text(1.0), "1");
        assert_eq!(value_text(-0.0), "-0");
        assert_eq!(value_text(0.1), "0.1");
        assert_eq!(value_text(1e300), "1e300");
        assert_eq!(value_text(1.5e-7), "1.5e-7");
        assert_eq!(value_text(f64::INFINITY), "\"Inf\"");
        assert_eq!(value_text(f64::NEG_INFINITY), "\"-Inf\"");
        assert_eq!(value_text(f64::NAN), "\"NaN\"");
        assert_eq!(value_text(f64::from_bits(STALE_NAN_BITS)), "\"StaleNaN\"");
    }

    #[test]
    fn writes_name_first_and_escapes() {
        let labels = Labels::from_pairs([("Zone", "a\"b\n\u{1}"), ("__name__", "m"), ("job", "é")]);
        let mut out = Vec::new();
        write_series(&mut out, &labels.to_canonical(), &[1, 2], &[1.5, 2.0]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"metric\":{\"__name__\":\"m\",\"Zone\":\"a\\\"b\\n\\u0001\",\"job\":\"é\"},\"values\":[1.5,2],\"timestamps\":[1,2]}\n"
        );
    }
}
