//! JSON output as Prometheus writes it: sample values as strings, timestamps as seconds with ms.

use std::fmt::Write;

use crate::model::Labels;

/// Appends a value the way Prometheus formats it (`strconv.FormatFloat(v, 'f', -1, 64)`).
pub fn push_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        // Rust's Display is the shortest round-trip form without an exponent, as Go's 'f', -1.
        let _ = write!(out, "{value}");
    }
}

/// Appends a ms timestamp as Prometheus does: unix seconds, then `.` and three digits unless whole.
pub fn push_timestamp(out: &mut String, timestamp_ms: i64) {
    let (sign, abs) = if timestamp_ms < 0 {
        ("-", timestamp_ms.unsigned_abs())
    } else {
        ("", timestamp_ms as u64)
    };
    let seconds = abs / 1000;
    let fraction = abs % 1000;
    let _ = write!(out, "{sign}{seconds}");
    if fraction != 0 {
        let _ = write!(out, ".{fraction:03}");
    }
}

/// Appends a JSON string literal.
pub fn push_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string()));
}

/// Appends a label set as a JSON object.
pub fn push_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(out, &label.name);
        out.push(':');
        push_string(out, &label.value);
    }
    out.push('}');
}

/// Appends `[t,"v"]`.
pub fn push_point(out: &mut String, timestamp_ms: i64, value: f64) {
    out.push('[');
    push_timestamp(out, timestamp_ms);
    out.push_str(",\"");
    push_value(out, value);
    out.push_str("\"]");
}

/// A success envelope around already-serialized `data`.
pub fn success(data: &str) -> Vec<u8> {
    let mut out = String::with_capacity(data.len() + 32);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    out.push('}');
    out.into_bytes()
}

/// A success envelope with warnings.
pub fn success_with_warnings(data: &str, warnings: &[String]) -> Vec<u8> {
    if warnings.is_empty() {
        return success(data);
    }
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    out.push_str(",\"warnings\":");
    out.push_str(&serde_json::to_string(warnings).unwrap_or_else(|_| "[]".into()));
    out.push('}');
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_go_formats_them() {
        let cases = [
            (1.0, "1"),
            (-0.0, "-0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (123456.789, "123456.789"),
        ];
        for (value, want) in cases {
            let mut out = String::new();
            push_value(&mut out, value);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn timestamps_as_prometheus_formats_them() {
        for (ms, want) in [
            (1_700_000_000_000, "1700000000"),
            (1_500, "1.500"),
            (1_050, "1.050"),
            (-1_500, "-1.500"),
            (7, "0.007"),
        ] {
            let mut out = String::new();
            push_timestamp(&mut out, ms);
            assert_eq!(out, want);
        }
    }
}
