//! Issue 5: dashboard-style PromQL over data written through remote_write, read through HTTP on 2
//! shards. Every expected value is derived by hand from how the data is built (linear counters,
//! cyclic gauges, constants) and written next to its expression, not copied from Strata's output.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;

use common::{enc, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const STEP_S: i64 = 15;
const SAMPLES: i64 = 81; // k = 0..=80: 20 minutes of 15 s scrapes
const HOSTS: usize = 3;

/// Data, for host i (instance "h{i}") and sample k at t_k = base + 15 s * k:
/// - req_total{code="200"} = 15 (i+1) k        → rate (i+1)/s
/// - req_total{code="500"} = 1.5 (i+1) k       → rate 0.1 (i+1)/s
/// - temp = 20 + i + (k mod 4)                  → cycles 0,1,2,3 above 20+i
/// - up = 1, mem_total = 1000, mem_free = 250 (i+1)
fn write_data(server: &Server, base_ms: i64) {
    let mut timeseries = Vec::new();
    for i in 0..HOSTS {
        let instance = format!("h{i}");
        let f = (i + 1) as f64;
        let samples = |value: &dyn Fn(f64) -> f64| -> Vec<(i64, f64)> {
            (0..SAMPLES)
                .map(|k| (base_ms + k * STEP_S * 1000, value(k as f64)))
                .collect()
        };
        timeseries.push(series(
            &[
                ("__name__", "req_total"),
                ("code", "200"),
                ("instance", &instance),
            ],
            &samples(&|k| 15.0 * f * k),
        ));
        timeseries.push(series(
            &[
                ("__name__", "req_total"),
                ("code", "500"),
                ("instance", &instance),
            ],
            &samples(&|k| 1.5 * f * k),
        ));
        timeseries.push(series(
            &[("__name__", "temp"), ("instance", &instance)],
            &samples(&|k| 20.0 + i as f64 + (k % 4.0)),
        ));
        timeseries.push(series(
            &[("__name__", "up"), ("instance", &instance)],
            &samples(&|_| 1.0),
        ));
        timeseries.push(series(
            &[("__name__", "mem_total"), ("instance", &instance)],
            &samples(&|_| 1000.0),
        ));
        timeseries.push(series(
            &[("__name__", "mem_free"), ("instance", &instance)],
            &samples(&|_| 250.0 * f),
        ));
    }
    let response = server.remote_write(&WriteRequest {
        timeseries,
        metadata: vec![],
    });
    assert_eq!(response.status, 204, "{}", response.text());
}

/// A result as label-set text → value, for order-independent comparison.
fn vector(server: &Server, query: &str, time_s: i64) -> (String, BTreeMap<String, f64>) {
    let data = server.get_data(&format!("/api/v1/query?query={}&time={time_s}", enc(query)));
    let kind = data["resultType"].as_str().unwrap().to_string();
    let mut out = BTreeMap::new();
    match kind.as_str() {
        "scalar" => {
            out.insert(
                "scalar".to_string(),
                data["result"][1].as_str().unwrap().parse().unwrap(),
            );
        }
        _ => {
            for entry in data["result"].as_array().unwrap() {
                let labels: Vec<String> = entry["metric"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                    .collect();
                out.insert(
                    labels.join(","),
                    entry["value"][1].as_str().unwrap().parse().unwrap(),
                );
            }
        }
    }
    (kind, out)
}

/// (expression, result type, expected label set text → value).
type Case = (&'static str, &'static str, Vec<(&'static str, f64)>);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn dashboard_queries_match_hand_derived_values() {
    let dir = TempDir::new("promql-dashboards");
    let server = Server::start(dir.path(), &[]);
    let base_s = (now_ms() / 1000 - 3600) / 60 * 60;
    write_data(&server, base_s * 1000);
    let t = base_s + STEP_S * (SAMPLES - 1); // evaluation time: the last sample, k = 80 (temp cycle at 0)
    let stddev = (2.0f64 / 3.0).sqrt();
    let cases: Vec<Case> = vec![
        (
            "up",
            "vector",
            vec![
                ("__name__=up,instance=h0", 1.0),
                ("__name__=up,instance=h1", 1.0),
                ("__name__=up,instance=h2", 1.0),
            ],
        ),
        ("sum(up)", "vector", vec![("", 3.0)]),
        ("count(up)", "vector", vec![("", 3.0)]),
        (
            r#"rate(req_total{code="200"}[5m])"#,
            "vector",
            vec![
                ("code=200,instance=h0", 1.0),
                ("code=200,instance=h1", 2.0),
                ("code=200,instance=h2", 3.0),
            ],
        ),
        ("sum(rate(req_total[5m]))", "vector", vec![("", 6.6)]),
        (
            "sum by (code) (rate(req_total[5m]))",
            "vector",
            vec![("code=200", 6.0), ("code=500", 0.6)],
        ),
        (
            "sum by (instance) (rate(req_total[5m]))",
            "vector",
            vec![
                ("instance=h0", 1.1),
                ("instance=h1", 2.2),
                ("instance=h2", 3.3),
            ],
        ),
        (
            r#"increase(req_total{code="200",instance="h0"}[5m])"#,
            "vector",
            vec![("code=200,instance=h0", 300.0)],
        ),
        (
            r#"rate(req_total{code="500"}[5m]) / ignoring(code) rate(req_total{code="200"}[5m])"#,
            "vector",
            vec![
                ("instance=h0", 0.1),
                ("instance=h1", 0.1),
                ("instance=h2", 0.1),
            ],
        ),
        (
            r#"sum(rate(req_total{code="500"}[5m])) / sum(rate(req_total[5m]))"#,
            "vector",
            vec![("", 0.6 / 6.6)],
        ),
        ("max(temp)", "vector", vec![("", 22.0)]),
        ("min(temp)", "vector", vec![("", 20.0)]),
        ("avg(temp)", "vector", vec![("", 21.0)]),
        (
            r#"max_over_time(temp{instance="h0"}[5m])"#,
            "vector",
            vec![("instance=h0", 23.0)],
        ),
        (
            r#"min_over_time(temp{instance="h1"}[5m])"#,
            "vector",
            vec![("instance=h1", 21.0)],
        ),
        // (t-60s, t] holds k = 77..=80: cycle 1, 2, 3, 0.
        (
            r#"avg_over_time(temp{instance="h0"}[1m])"#,
            "vector",
            vec![("instance=h0", 21.5)],
        ),
        (
            r#"count_over_time(temp{instance="h0"}[5m])"#,
            "vector",
            vec![("instance=h0", 20.0)],
        ),
        (
            r#"changes(temp{instance="h0"}[5m])"#,
            "vector",
            vec![("instance=h0", 19.0)],
        ),
        (
            "1 - mem_free / mem_total",
            "vector",
            vec![
                ("instance=h0", 0.75),
                ("instance=h1", 0.5),
                ("instance=h2", 0.25),
            ],
        ),
        (
            "topk(1, temp)",
            "vector",
            vec![("__name__=temp,instance=h2", 22.0)],
        ),
        (
            "bottomk(1, temp)",
            "vector",
            vec![("__name__=temp,instance=h0", 20.0)],
        ),
        (
            "temp > 20.5",
            "vector",
            vec![
                ("__name__=temp,instance=h1", 21.0),
                ("__name__=temp,instance=h2", 22.0),
            ],
        ),
        (
            "temp > bool 20.5",
            "vector",
            vec![
                ("instance=h0", 0.0),
                ("instance=h1", 1.0),
                ("instance=h2", 1.0),
            ],
        ),
        ("count(temp > 20.5)", "vector", vec![("", 2.0)]),
        (
            r#"label_replace(up{instance="h0"}, "host", "$1", "instance", "h(.*)")"#,
            "vector",
            vec![("__name__=up,host=0,instance=h0", 1.0)],
        ),
        ("sum without (instance) (up)", "vector", vec![("", 3.0)]),
        ("quantile(0.5, temp)", "vector", vec![("", 21.0)]),
        ("stddev(temp)", "vector", vec![("", stddev)]),
        ("scalar(sum(up)) * 2", "scalar", vec![("scalar", 6.0)]),
        ("absent(nonexistent_metric)", "vector", vec![("", 1.0)]),
        (
            r#"deriv(req_total{code="200",instance="h2"}[5m])"#,
            "vector",
            vec![("code=200,instance=h2", 3.0)],
        ),
        // Linear: the fitted line at t + 60 s is 15 * 80 + 60.
        (
            r#"predict_linear(req_total{code="200",instance="h0"}[5m], 60)"#,
            "vector",
            vec![("code=200,instance=h0", 1260.0)],
        ),
        (
            r#"rate(req_total{code="200",instance="h1"}[5m] offset 5m)"#,
            "vector",
            vec![("code=200,instance=h1", 2.0)],
        ),
        (
            r#"irate(req_total{code="200",instance="h1"}[1m])"#,
            "vector",
            vec![("code=200,instance=h1", 2.0)],
        ),
        (
            r#"resets(req_total{code="200",instance="h0"}[5m])"#,
            "vector",
            vec![("code=200,instance=h0", 0.0)],
        ),
        ("time()", "scalar", vec![("scalar", t as f64)]),
        ("sum(rate(req_total[5m])) * 60", "vector", vec![("", 396.0)]),
    ];
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for (query, want_kind, want) in &cases {
        let (kind, got) = vector(&server, query, t);
        let want: BTreeMap<String, f64> = want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let same = kind == *want_kind
            && got.len() == want.len()
            && want
                .iter()
                .all(|(k, v)| got.get(k).is_some_and(|g| close(*g, *v)));
        if !same {
            failures.push(format!(
                "{query}: got {kind} {got:?}, want {want_kind} {want:?}"
            ));
        }
    }
    // sort_desc keeps its order in the response.
    let data = server.get_data(&format!(
        "/api/v1/query?query={}&time={t}",
        enc("sort_desc(temp)")
    ));
    let order: Vec<&str> = data["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metric"]["instance"].as_str().unwrap())
        .collect();
    if order != ["h2", "h1", "h0"] {
        failures.push(format!("sort_desc order {order:?}"));
    }
    // A range query: every step of the last 10 minutes gives the same total rate.
    let data = server.get_data(&format!(
        "/api/v1/query_range?query={}&start={}&end={t}&step=60",
        enc("sum(rate(req_total[5m]))"),
        t - 600
    ));
    let values = data["result"][0]["values"].as_array().unwrap();
    if values.len() != 11
        || !values
            .iter()
            .all(|p| close(p[1].as_str().unwrap().parse().unwrap(), 6.6))
    {
        failures.push(format!("range sum(rate) = {values:?}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions differ:\n{}",
        failures.len(),
        cases.len() + 2,
        failures.join("\n")
    );
    println!(
        "{} dashboard expressions matched their hand-derived values",
        cases.len() + 2
    );
    assert!(server.stop().success());
}
