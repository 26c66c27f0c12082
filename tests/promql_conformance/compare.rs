//! Comparing results with expectations the way Prometheus' harness does:
//! float tolerance, series sets, order, annotations.

use strata::model::Labels;
use strata::query::eval::{AnnotationKind, QueryResult, Value};

use super::script::Eval;
use super::skip::SeriesPoints;

/// Prometheus' `almost.Equal` with epsilon 1e-6.
pub fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < 1e-6
}

/// Whether two results are equal up to float tolerance (instant vectors as sets).
pub fn same_value(a: &Value, b: &Value) -> bool {
    let as_points = |v: &Value| -> Option<SeriesPoints> {
        match v {
            Value::Vector(samples) => Some(
                samples
                    .iter()
                    .map(|s| (s.labels.clone(), vec![(0, s.value)]))
                    .collect(),
            ),
            Value::Matrix(series) => Some(
                series
                    .iter()
                    .map(|s| (s.labels.clone(), s.points.clone()))
                    .collect(),
            ),
            _ => None,
        }
    };
    match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => almost_equal(*x, *y),
        (Value::String(x), Value::String(y)) => x == y,
        _ => match (as_points(a), as_points(b)) {
            (Some(x), Some(y)) => compare_series(&x, &y, false).is_ok(),
            _ => false,
        },
    }
}

/// Prometheus' rules: once a kind is expected, every expectation must match a
/// returned annotation of that kind and every returned one must match an expectation.
pub fn check_annotations(eval: &Eval, result: &QueryResult) -> Result<(), String> {
    for (kind, expected, none) in [
        (AnnotationKind::Warning, &eval.warn, eval.no_warn),
        (AnnotationKind::Info, &eval.info, eval.no_info),
    ] {
        let got: Vec<String> = result
            .annotations
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.render(&eval.query))
            .collect();
        if none && !got.is_empty() {
            return Err(format!("unexpected {kind:?} annotations: {got:?}"));
        }
        if expected.is_empty() {
            continue;
        }
        if got.is_empty() {
            return Err(format!("expected {kind:?} annotations, got none"));
        }
        for want in expected.iter() {
            if !got.iter().any(|g| want.matches(g)) {
                return Err(format!(
                    "no {kind:?} annotation matches {want:?}; got {got:?}"
                ));
            }
        }
        for g in &got {
            if !expected.iter().any(|want| want.matches(g)) {
                return Err(format!("unexpected {kind:?} annotation {g:?}"));
            }
        }
    }
    Ok(())
}

pub fn short(value: &Value) -> String {
    let text = format!("{value:?}");
    text.chars().take(300).collect()
}

pub fn compare(eval: &Eval, value: &Value) -> Result<(), String> {
    if let Some(want) = &eval.string {
        return match value {
            Value::String(s) if s == want => Ok(()),
            other => Err(format!("want string {want:?}, got {}", short(other))),
        };
    }
    if let Some(want) = eval.scalar {
        return match value {
            Value::Scalar(v) if almost_equal(*v, want) => Ok(()),
            other => Err(format!("want scalar {want}, got {}", short(other))),
        };
    }
    match value {
        Value::Vector(samples) => {
            if eval.range.is_some() || eval.range_vector.is_some() {
                return Err(format!("want range vector, got {}", short(value)));
            }
            let got: SeriesPoints = samples
                .iter()
                .map(|s| (s.labels.clone(), vec![(eval.time_ms, s.value)]))
                .collect();
            let expected: SeriesPoints = eval
                .series
                .iter()
                .map(|(l, vs)| {
                    (
                        l.clone(),
                        vs.iter().flatten().map(|&v| (eval.time_ms, v)).collect(),
                    )
                })
                .collect();
            compare_series(&expected, &got, eval.ordered)
        }
        Value::Matrix(series) => {
            let (start, step) = match (eval.range, eval.range_vector) {
                (Some((s, _, st)), _) | (None, Some((s, _, st))) => (s, st),
                _ => return Err(format!("want instant vector, got {}", short(value))),
            };
            let got: SeriesPoints = series
                .iter()
                .map(|s| (s.labels.clone(), s.points.clone()))
                .collect();
            let expected: SeriesPoints = eval
                .series
                .iter()
                .map(|(l, vs)| {
                    let points = vs
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| v.map(|v| (start + i as i64 * step, v)))
                        .collect();
                    (l.clone(), points)
                })
                .collect();
            compare_series(&expected, &got, false)
        }
        other => Err(format!("want series, got {}", short(other))),
    }
}

pub fn compare_series(
    expected: &[(Labels, Vec<(i64, f64)>)],
    got: &[(Labels, Vec<(i64, f64)>)],
    ordered: bool,
) -> Result<(), String> {
    for (labels, want) in expected {
        let Some((index, (_, have))) = got.iter().enumerate().find(|(_, (l, _))| l == labels)
        else {
            return Err(format!("missing series {labels}; got {}", names(got)));
        };
        let same = want.len() == have.len()
            && want
                .iter()
                .zip(have)
                .all(|(a, b)| a.0 == b.0 && almost_equal(a.1, b.1));
        if !same {
            return Err(format!("{labels}: want {want:?}, got {have:?}"));
        }
        if ordered && expected.iter().position(|(l, _)| l == labels) != Some(index) {
            return Err(format!(
                "{labels}: want position {:?}, got {index}",
                expected.iter().position(|(l, _)| l == labels)
            ));
        }
    }
    if let Some((labels, points)) = got
        .iter()
        .find(|(l, _)| !expected.iter().any(|(e, _)| e == l))
    {
        return Err(format!("unexpected series {labels} {points:?}"));
    }
    Ok(())
}

pub fn names(series: &[(Labels, Vec<(i64, f64)>)]) -> String {
    let list: Vec<String> = series.iter().take(5).map(|(l, _)| l.to_string()).collect();
    format!(
        "[{}{}]",
        list.join(", "),
        if series.len() > 5 { ", …" } else { "" }
    )
}
