//! Comparing two servers' answers to the same API call, the way Prometheus'
//! own test harness does (promqltest): same series (label sets), same
//! timestamps, values equal within a relative tolerance, NaN equal to NaN.

use std::collections::BTreeMap;

use serde_json::Value;

/// Relative tolerance of sample values (promqltest's `epsilon`).
pub const EPSILON: f64 = 1e-6;
/// Smallest normal f64 (promqltest's `minNormal`).
const MIN_NORMAL: f64 = f64::MIN_POSITIVE;

/// promqltest's `almostEqual`.
pub fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

/// An answer reduced to what is compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `vector`, `matrix` or `scalar` results: per series (labels as sorted
    /// `name="value"` text), its points (seconds, value).
    Samples {
        /// `resultType`.
        result_type: String,
        /// Series by label text.
        series: BTreeMap<String, Vec<(f64, f64)>>,
    },
    /// Label names, label values or series label sets, sorted.
    Strings(Vec<String>),
}

fn label_text(metric: Option<&Value>) -> String {
    let Some(Value::Object(labels)) = metric else {
        return "{}".to_string();
    };
    // serde_json's map is ordered by key unless preserve_order is on; sort anyway.
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={}", value))
        .collect();
    pairs.sort();
    format!("{{{}}}", pairs.join(","))
}

fn point(value: &Value) -> Result<(f64, f64), String> {
    let pair = value.as_array().filter(|p| p.len() == 2);
    let (t, v) = match pair.map(|p| (p.first(), p.get(1))) {
        Some((Some(t), Some(v))) => (t, v),
        _ => return Err(format!("bad point {value}")),
    };
    let t = t.as_f64().ok_or_else(|| format!("bad timestamp {t}"))?;
    let v = v.as_str().ok_or_else(|| format!("bad value {v}"))?;
    let v = match v {
        "NaN" => f64::NAN,
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        text => text.parse().map_err(|_| format!("bad value {text:?}"))?,
    };
    Ok((t, v))
}

/// Parses a successful API response body into an `Answer`.
pub fn parse(body: &[u8]) -> Result<Answer, String> {
    let json: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let data = json.get("data").ok_or("no data field")?;
    if let Some(items) = data.as_array() {
        let mut strings: Vec<String> = items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => label_text(Some(other)),
            })
            .collect();
        strings.sort();
        return Ok(Answer::Strings(strings));
    }
    let result_type = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or("no resultType")?
        .to_string();
    let result = data.get("result").ok_or("no result")?;
    let mut series = BTreeMap::new();
    if result_type == "scalar" || result_type == "string" {
        series.insert("{}".to_string(), vec![point(result)?]);
        return Ok(Answer::Samples {
            result_type,
            series,
        });
    }
    for item in result.as_array().ok_or("result is not an array")? {
        let points = match (item.get("value"), item.get("values")) {
            (Some(value), _) => vec![point(value)?],
            (None, Some(Value::Array(values))) => {
                values.iter().map(point).collect::<Result<Vec<_>, _>>()?
            }
            _ => return Err("series without value(s)".to_string()),
        };
        series.insert(label_text(item.get("metric")), points);
    }
    Ok(Answer::Samples {
        result_type,
        series,
    })
}

/// `Ok` when `candidate` matches `reference`; otherwise the first difference.
pub fn compare(reference: &Answer, candidate: &Answer) -> Result<(), String> {
    match (reference, candidate) {
        (Answer::Strings(a), Answer::Strings(b)) => compare_strings(a, b),
        (
            Answer::Samples {
                result_type: type_a,
                series: a,
            },
            Answer::Samples {
                result_type: type_b,
                series: b,
            },
        ) => {
            if type_a != type_b {
                return Err(format!("resultType {type_b} instead of {type_a}"));
            }
            compare_series(a, b)
        }
        _ => Err("different kinds of answer".to_string()),
    }
}

fn compare_strings(reference: &[String], candidate: &[String]) -> Result<(), String> {
    if let Some(missing) = reference.iter().find(|s| !candidate.contains(s)) {
        return Err(format!(
            "{} items instead of {}; missing {missing}",
            candidate.len(),
            reference.len()
        ));
    }
    if let Some(extra) = candidate.iter().find(|s| !reference.contains(s)) {
        return Err(format!(
            "{} items instead of {}; extra {extra}",
            candidate.len(),
            reference.len()
        ));
    }
    Ok(())
}

fn compare_series(
    reference: &BTreeMap<String, Vec<(f64, f64)>>,
    candidate: &BTreeMap<String, Vec<(f64, f64)>>,
) -> Result<(), String> {
    let count = |n: usize, m: usize| format!("{n} series instead of {m}");
    if let Some(missing) = reference.keys().find(|k| !candidate.contains_key(*k)) {
        let counts = count(candidate.len(), reference.len());
        return Err(format!("{counts}; missing {missing}"));
    }
    if let Some(extra) = candidate.keys().find(|k| !reference.contains_key(*k)) {
        let counts = count(candidate.len(), reference.len());
        return Err(format!("{counts}; extra {extra}"));
    }
    let mut first = None;
    let (mut differing, mut total) = (0usize, 0usize);
    for (labels, expected) in reference {
        let got = candidate.get(labels).map_or(&[][..], Vec::as_slice);
        if got.len() != expected.len() {
            return Err(format!(
                "{labels}: {} points instead of {}",
                got.len(),
                expected.len()
            ));
        }
        for (&(t_expected, v_expected), &(t_got, v_got)) in expected.iter().zip(got) {
            total += 1;
            let why = if (t_expected - t_got).abs() > 1e-6 {
                format!("{labels}: point at {t_got} instead of {t_expected}")
            } else if !almost_equal(v_expected, v_got) {
                format!("{labels} at {t_expected}: {v_got} instead of {v_expected}")
            } else {
                continue;
            };
            differing += 1;
            first.get_or_insert(why);
        }
    }
    match first {
        None => Ok(()),
        Some(why) => Err(format!(
            "{differing} of {total} points differ; first: {why}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Answer {
        parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn tolerance_is_relative_and_nan_equals_nan() {
        assert!(almost_equal(1.0, 1.0 + 1e-9));
        assert!(!almost_equal(1.0, 1.0001));
        assert!(almost_equal(f64::NAN, f64::NAN));
        assert!(!almost_equal(0.0, 1e-300));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY));
    }

    #[test]
    fn matrices_compare_by_labels_then_points() {
        let reference = answer(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"a","i":"1"},"values":[[10,"1.5"],[20,"NaN"]]},
            {"metric":{"i":"2","job":"a"},"values":[[10,"3"]]}]}}"#,
        );
        let reordered = answer(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"i":"2","job":"a"},"values":[[10,"3.0000000001"]]},
            {"metric":{"i":"1","job":"a"},"values":[[10,"1.5"],[20,"NaN"]]}]}}"#,
        );
        assert_eq!(compare(&reference, &reordered), Ok(()));
        let off = answer(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"i":"2","job":"a"},"values":[[10,"3.1"]]},
            {"metric":{"i":"1","job":"a"},"values":[[10,"1.5"],[20,"NaN"]]}]}}"#,
        );
        let error = compare(&reference, &off).unwrap_err();
        assert!(error.contains("3.1 instead of 3"), "{error}");
        let vector = answer(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
        assert!(compare(&reference, &vector).is_err());
    }

    #[test]
    fn string_lists_compare_as_sets() {
        let a = answer(r#"{"status":"success","data":["b","a"]}"#);
        let b = answer(r#"{"status":"success","data":["a","b"]}"#);
        let c = answer(r#"{"status":"success","data":["a"]}"#);
        assert_eq!(compare(&a, &b), Ok(()));
        assert!(compare(&a, &c).unwrap_err().contains("missing b"));
    }
}
