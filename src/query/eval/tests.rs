//! Engine tests over a small in-memory data set: both evaluation paths
//! (pushdown and engine-side rollups), limits, errors and result order.

use futures_lite::future::block_on;

use super::*;
use crate::model::{Labels, STALE_NAN_BITS};
use crate::query::promql::parse;

/// `a{i="1"}`, `a{i="2"}`: counters every 15s for 10 minutes; `b`: a gauge with a stale marker.
fn source() -> MemorySource {
    let mut source = MemorySource::new();
    for (i, slope) in [("1", 1.0), ("2", 2.0)] {
        let labels = Labels::from_pairs([("__name__", "a"), ("i", i)]);
        for k in 0..=40 {
            source.add_sample(&labels, k * 15_000, slope * k as f64);
        }
    }
    let b = Labels::from_pairs([("__name__", "b")]);
    source.add_sample(&b, 0, 5.0);
    source.add_sample(&b, 60_000, f64::from_bits(STALE_NAN_BITS));
    source
}

fn instant(query: &str, time_ms: i64, params: QueryParams) -> Result<Value, EvalError> {
    let Ok(expr) = parse(query) else {
        panic!("{query} must parse");
    };
    let params = QueryParams {
        start_ms: time_ms,
        end_ms: time_ms,
        ..params
    };
    block_on(instant_query(&expr, &params, &source())).map(|r| r.value)
}

fn values(value: &Value) -> Vec<(String, f64)> {
    match value {
        Value::Vector(v) => v.iter().map(|s| (s.labels.to_string(), s.value)).collect(),
        other => panic!("want a vector, got {other:?}"),
    }
}

#[test]
fn pushdown_and_engine_rollups_agree() {
    for query in [
        "rate(a[1m])",
        "max_over_time(a[2m] offset 1m)",
        "quantile_over_time(0.5, a[5m])",
        "predict_linear(a[5m] @ 300, 60)",
        "timestamp(a)",
    ] {
        let pushed = instant(query, 300_000, QueryParams::instant(0));
        let local = instant(
            query,
            300_000,
            QueryParams {
                pushdown_rollups: false,
                ..QueryParams::instant(0)
            },
        );
        assert_eq!(pushed, local, "{query}");
    }
    let rate = instant("rate(a[1m])", 300_000, QueryParams::instant(0));
    let Ok(rate) = rate else {
        panic!("rate must evaluate");
    };
    let got = values(&rate);
    assert_eq!(got.len(), 2);
    assert!((got[0].1 - 1.0 / 15.0).abs() < 1e-12 && (got[1].1 - 2.0 / 15.0).abs() < 1e-12);
}

#[test]
fn stale_marker_ends_a_series_and_names_drop_late() {
    let at_30s = instant("b", 30_000, QueryParams::instant(0));
    assert_eq!(at_30s.map(|v| values(&v)), Ok(vec![("b{}".into(), 5.0)]));
    let at_90s = instant("b", 90_000, QueryParams::instant(0));
    assert_eq!(at_90s.map(|v| values(&v)), Ok(vec![]));
    let last = instant("last_over_time(b[1m])", 30_000, QueryParams::instant(0));
    assert_eq!(last.map(|v| values(&v)), Ok(vec![("b{}".into(), 5.0)]));
    let negated = instant("-a or -b", 30_000, QueryParams::instant(0));
    assert_eq!(negated.map(|v| values(&v).len()), Ok(3));
    let collision = instant(
        r#"label_replace(a, "i", "x", "", "")"#,
        30_000,
        QueryParams::instant(0),
    );
    assert_eq!(
        collision.map_err(|e| e.to_string()),
        Err("vector cannot contain metrics with the same labelset".to_string())
    );
}

#[test]
fn matching_errors_are_prometheus_messages() {
    let err = instant("a + on() a", 60_000, QueryParams::instant(0));
    let Err(err) = err else {
        panic!("duplicate match groups must fail");
    };
    assert!(
        err.to_string()
            .contains("many-to-many matching not allowed"),
        "{err}"
    );
    assert_eq!(err.error_type(), ErrorType::Execution);
}

#[test]
fn sample_limit_and_range_order() {
    let limited = instant(
        "count_over_time(a[10m:15s])",
        600_000,
        QueryParams {
            max_samples: 10,
            ..QueryParams::instant(0)
        },
    );
    assert_eq!(limited, Err(EvalError::TooManySamples { limit: 10 }));
    let Ok(expr) = parse("a * 2") else {
        panic!("query must parse");
    };
    let range = block_on(range_query(
        &expr,
        &QueryParams::range(0, 60_000, 30_000),
        &source(),
    ));
    let Ok(Value::Matrix(series)) = range.map(|r| r.value) else {
        panic!("range query must give a matrix");
    };
    let labels: Vec<String> = series.iter().map(|s| s.labels.to_string()).collect();
    assert_eq!(labels, vec!["{i=\"1\"}", "{i=\"2\"}"]);
    assert_eq!(
        series[1].points,
        vec![(0, 0.0), (30_000, 8.0), (60_000, 16.0)]
    );
    let Ok(matrix) = parse("a[1m]") else {
        panic!("query must parse");
    };
    let refused = block_on(range_query(
        &matrix,
        &QueryParams::range(0, 60_000, 30_000),
        &source(),
    ));
    assert!(matches!(refused, Err(EvalError::BadData(_))));
}

#[test]
fn extreme_times_do_not_overflow() {
    for query in [
        "a @ 9223372036854",
        "rate(a[5m] @ -9223372036854)",
        "max_over_time(a[1h:1m] @ 9223372036854 offset -1000w)",
        "a offset 100000w",
    ] {
        // Parse errors are fine; evaluation must not panic.
        if let Ok(expr) = parse(query) {
            let params = QueryParams::range(0, 120_000, 60_000);
            let _ = block_on(range_query(&expr, &params, &source()));
            let _ = block_on(instant_query(&expr, &QueryParams::instant(0), &source()));
        }
    }
}

#[test]
fn huge_subquery_grids_are_refused() {
    let Ok(expr) = parse("max_over_time(nothing[10000w:1ms])") else {
        panic!("query must parse");
    };
    let result = block_on(instant_query(&expr, &QueryParams::instant(0), &source()));
    assert!(matches!(result, Err(EvalError::TooManySamples { .. })));
}
