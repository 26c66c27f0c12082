//! Issue 6, every ingest path × every `Content-Encoding`: JSON lines, Prometheus text, its
//! Pushgateway-style path, CSV, the three Influx paths, remote write 1.0 and 2.0, each sent as
//! identity, gzip, deflate, zstd and snappy with `extra_label=`. The line protocols get a body
//! with a malformed line between two good ones: the bad line is skipped, counted (response and
//! `/metrics`) and reported, the good lines are stored. An unknown encoding is 415 everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;
use common::{enc, http, now_ms, series, HttpResponse, Server, TempDir};
use prost::Message;
use strata::ingest::remote_write::proto::WriteRequest;
use strata::ingest::remote_write::v2_proto;

/// An expected series: metric name, labels besides the extra ones, value at t-1000 and at t.
type WantedSeries = (
    &'static str,
    &'static [(&'static str, &'static str)],
    f64,
    f64,
);
/// Series by sorted label pairs: their timestamps and values.
type SeriesSamples = BTreeMap<Vec<(String, String)>, (Vec<i64>, Vec<f64>)>;

const ENCODINGS: [&str; 5] = ["identity", "gzip", "deflate", "zstd", "snappy"];

fn compress(encoding: &str, raw: &[u8]) -> Vec<u8> {
    match encoding {
        "identity" => raw.to_vec(),
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        }
        "zstd" => zstd::bulk::compress(raw, 3).unwrap(),
        "snappy" => snap::raw::Encoder::new().compress_vec(raw).unwrap(),
        other => panic!("unknown encoding {other}"),
    }
}

/// One ingest path: where to send, what to send, and what must arrive.
struct Case {
    route: &'static str,
    path: &'static str,
    content_type: &'static str,
    /// The raw (uncompressed) body for timestamps around `t` (ms).
    body: fn(i64) -> Vec<u8>,
    /// The line number of the body's one malformed line, if it has one.
    bad_line: Option<u64>,
    /// Expected series: (metric name, labels besides the extra ones, value at t-1000, at t).
    want: &'static [WantedSeries],
}

fn json_body(t: i64) -> Vec<u8> {
    format!(
        "{{\"metric\":{{\"__name__\":\"every_json\",\"k\":\"a\"}},\"values\":[1.5],\"timestamps\":[{}]}}\n{{oops\n{{\"metric\":{{\"__name__\":\"every_json\",\"k\":\"a\"}},\"values\":[2.5],\"timestamps\":[{t}]}}\n",
        t - 1000
    )
    .into_bytes()
}

fn text_body(t: i64) -> Vec<u8> {
    format!(
        "# TYPE every_text gauge\nevery_text{{k=\"a\"}} 1.5 {}\nevery_text{{k=\"a\" 7\nevery_text{{k=\"a\"}} 2.5 {t}\n",
        t - 1000
    )
    .into_bytes()
}

fn csv_body(t: i64) -> Vec<u8> {
    format!("a,1.5,{}\na,not-a-number,{t}\na,2.5,{t}\n", t - 1000).into_bytes()
}

fn influx_body(t: i64) -> Vec<u8> {
    format!(
        "every_influx,k=a v=1.5 {}\nevery_influx,k=a v=\nevery_influx,k=a v=2.5 {}\n",
        (t - 1000) * 1_000_000,
        t * 1_000_000
    )
    .into_bytes()
}

fn remote_write_1_body(t: i64) -> Vec<u8> {
    WriteRequest {
        timeseries: vec![series(
            &[("__name__", "every_rw1"), ("k", "a")],
            &[(t - 1000, 1.5), (t, 2.5)],
        )],
        metadata: vec![],
    }
    .encode_to_vec()
}

fn remote_write_2_body(t: i64) -> Vec<u8> {
    let symbols = ["", "__name__", "every_rw2", "k", "a"]
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    let sample = |timestamp, value| v2_proto::Sample {
        value,
        timestamp,
        start_timestamp: 0,
    };
    v2_proto::Request {
        symbols,
        timeseries: vec![v2_proto::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![sample(t - 1000, 1.5), sample(t, 2.5)],
            histograms: vec![],
            exemplars: vec![],
            metadata: None,
            created_timestamp: 0,
        }],
    }
    .encode_to_vec()
}

const A: &[(&str, &str)] = &[("k", "a")];

fn cases() -> Vec<Case> {
    let line = |route, path, body, want| Case {
        route,
        path,
        content_type: "",
        body,
        // The text bodies open with a `# TYPE` line.
        bad_line: Some(if matches!(route, "text" | "push") {
            3
        } else {
            2
        }),
        want,
    };
    vec![
        line(
            "json",
            "/api/v1/import",
            json_body,
            &[("every_json", A, 1.5, 2.5)],
        ),
        line(
            "text",
            "/api/v1/import/prometheus",
            text_body,
            &[("every_text", A, 1.5, 2.5)],
        ),
        line(
            "push",
            "/api/v1/import/prometheus/metrics/job/pusher/instance/box-1",
            text_body,
            &[(
                "every_text",
                &[("k", "a"), ("job", "pusher"), ("instance", "box-1")],
                1.5,
                2.5,
            )],
        ),
        line(
            "csv",
            "/api/v1/import/csv?format=1:label:k,2:metric:every_csv,3:time:unix_ms",
            csv_body,
            &[("every_csv", A, 1.5, 2.5)],
        ),
        line(
            "influx1",
            "/write?db=d1",
            influx_body,
            &[("every_influx_v", &[("k", "a"), ("db", "d1")], 1.5, 2.5)],
        ),
        line(
            "influx2",
            "/influx/write",
            influx_body,
            &[("every_influx_v", A, 1.5, 2.5)],
        ),
        line(
            "influx3",
            "/api/v2/write?bucket=b3",
            influx_body,
            &[("every_influx_v", &[("k", "a"), ("db", "b3")], 1.5, 2.5)],
        ),
        Case {
            route: "rw1",
            path: "/api/v1/write",
            content_type: "application/x-protobuf",
            body: remote_write_1_body,
            bad_line: None,
            want: &[("every_rw1", A, 1.5, 2.5)],
        },
        Case {
            route: "rw2",
            path: "/api/v1/write",
            content_type: "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            body: remote_write_2_body,
            bad_line: None,
            want: &[("every_rw2", A, 1.5, 2.5)],
        },
    ]
}

fn send(server: &Server, case: &Case, encoding: &str, t: i64) -> HttpResponse {
    let separator = if case.path.contains('?') { '&' } else { '?' };
    let path = format!(
        "{}{separator}extra_label=route={}&extra_label=enc={encoding}",
        case.path, case.route
    );
    let body = compress(encoding, &(case.body)(t));
    let mut headers = vec![("Content-Encoding", encoding)];
    if !case.content_type.is_empty() {
        headers.push(("Content-Type", case.content_type));
    }
    http(&server.addr, "POST", &path, &headers, &body)
}

/// Exported series of one (route, encoding): labels → (timestamps, values).
fn exported(server: &Server, route: &str, encoding: &str) -> SeriesSamples {
    let selector = format!(r#"{{route="{route}",enc="{encoding}"}}"#);
    let response = server.get(&format!("/api/v1/export?match[]={}", enc(&selector)));
    assert_eq!(response.status, 200, "{}", response.text());
    response
        .text()
        .lines()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            let labels = json["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let timestamps = json["timestamps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_i64().unwrap())
                .collect();
            let values = json["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            (labels, (timestamps, values))
        })
        .collect()
}

#[test]
fn every_path_every_encoding_extra_labels_and_bad_lines() {
    let dir = TempDir::new("every-path");
    let server = Server::start(dir.path(), &[]);
    let t = now_ms() / 1000 * 1000 - 10_000;
    let mut skipped_lines = 0u64;
    for case in cases() {
        for encoding in ENCODINGS {
            let what = format!("{} ({}) with {encoding}", case.route, case.path);
            let response = send(&server, &case, encoding, t);
            let is_influx = case.route.starts_with("influx");
            let bad_line = format!("line {}:", case.bad_line.unwrap_or(0));
            if case.bad_line.is_none() {
                assert_eq!(response.status, 204, "{what}: {}", response.text());
            } else if is_influx {
                // Influx reports a partial write as 400 naming the bad line; good lines are kept.
                assert_eq!(response.status, 400, "{what}: {}", response.text());
                let error = response.json()["error"].as_str().unwrap().to_string();
                assert!(error.contains("partial write"), "{what}: {error}");
                assert!(
                    error.contains("1 lines or samples skipped, 2 samples stored"),
                    "{what}: {error}"
                );
                assert!(error.contains(&bad_line), "{what}: {error}");
                skipped_lines += 1;
            } else {
                assert_eq!(response.status, 204, "{what}: {}", response.text());
                assert_eq!(
                    response.header("x-strata-samples-imported"),
                    Some("2"),
                    "{what}"
                );
                assert_eq!(
                    response.header("x-strata-lines-skipped"),
                    Some("1"),
                    "{what}"
                );
                let first = response.header("x-strata-first-error").unwrap_or_default();
                assert!(first.contains(&bad_line), "{what}: {first}");
                skipped_lines += 1;
            }

            // Exactly the good samples arrived, with both extra labels.
            let got = exported(&server, case.route, encoding);
            let want: SeriesSamples = case
                .want
                .iter()
                .map(|(name, labels, first, second)| {
                    let mut all: Vec<(String, String)> = labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    all.push(("__name__".into(), name.to_string()));
                    all.push(("route".into(), case.route.into()));
                    all.push(("enc".into(), encoding.into()));
                    all.sort();
                    (all, (vec![t - 1000, t], vec![*first, *second]))
                })
                .collect();
            let got: BTreeMap<_, _> = got
                .into_iter()
                .map(|(mut labels, samples)| {
                    labels.sort();
                    (labels, samples)
                })
                .collect();
            assert_eq!(got, want, "{what}");
        }
        // An encoding nobody speaks is 415 on every path.
        let response = http(
            &server.addr,
            "POST",
            case.path,
            &[
                ("Content-Encoding", "br"),
                ("Content-Type", case.content_type),
            ],
            b"xx",
        );
        assert_eq!(
            response.status,
            415,
            "{} with br: {}",
            case.route,
            response.text()
        );
        assert!(response.json()["error"].as_str().unwrap().contains("br"));
    }
    // Every skipped line was counted.
    let metrics = server.get("/metrics").text();
    let line = format!("strata_import_lines_skipped_total {skipped_lines}");
    assert!(
        metrics.lines().any(|l| l == line),
        "want {line:?} in\n{metrics}"
    );
    assert!(server.stop().success());
}
