//! Issue 2: 10,000 series x 20 samples written through remote_write on 2 shards are read back
//! exactly through query_range, series, labels and label values — before and after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;

use common::{enc, json_ms, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const SERIES: usize = 10_000;
const SAMPLES: usize = 20;
const STEP_MS: i64 = 15_000;
const PER_REQUEST: usize = 500;

fn labels_of(i: usize) -> [(String, String); 3] {
    [
        ("__name__".to_string(), format!("rt_metric_{}", i % 10)),
        ("instance".to_string(), format!("host-{}", i / 10)),
        ("job".to_string(), "roundtrip".to_string()),
    ]
}

fn value_of(i: usize, k: usize) -> f64 {
    // Mixed magnitudes and fractions that must survive bit-exactly.
    (i as f64) * 1000.25 + (k as f64) / 8.0 - 3.5
}

fn check_all(server: &Server, base_ms: i64) {
    let end_ms = base_ms + STEP_MS * (SAMPLES as i64 - 1);
    let query = enc(r#"{job="roundtrip"}"#);
    let data = server.get_data(&format!(
        "/api/v1/query_range?query={query}&start={}&end={}&step=15s",
        base_ms as f64 / 1000.0,
        end_ms as f64 / 1000.0
    ));
    assert_eq!(data["resultType"], "matrix");
    let result = data["result"].as_array().unwrap();
    assert_eq!(result.len(), SERIES, "series in query_range");
    let mut seen = BTreeMap::new();
    for entry in result {
        let instance = entry["metric"]["instance"].as_str().unwrap();
        let name = entry["metric"]["__name__"].as_str().unwrap();
        let host: usize = instance.strip_prefix("host-").unwrap().parse().unwrap();
        let digit: usize = name.strip_prefix("rt_metric_").unwrap().parse().unwrap();
        let i = host * 10 + digit;
        assert_eq!(entry["metric"]["job"], "roundtrip");
        assert_eq!(entry["metric"].as_object().unwrap().len(), 3);
        let values = entry["values"].as_array().unwrap();
        assert_eq!(values.len(), SAMPLES, "points of series {i}");
        for (k, point) in values.iter().enumerate() {
            assert_eq!(json_ms(&point[0]), base_ms + STEP_MS * k as i64);
            let got: f64 = point[1].as_str().unwrap().parse().unwrap();
            assert_eq!(
                got.to_bits(),
                value_of(i, k).to_bits(),
                "series {i} sample {k}"
            );
        }
        seen.insert(i, ());
    }
    assert_eq!(seen.len(), SERIES);

    let series_data = server.get_data(&format!("/api/v1/series?match[]={query}"));
    let mut got: Vec<Vec<(String, String)>> = series_data
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .collect();
    got.sort();
    let mut want: Vec<Vec<(String, String)>> = (0..SERIES).map(|i| labels_of(i).to_vec()).collect();
    want.sort();
    assert_eq!(got, want, "series API");

    let labels = server.get_data("/api/v1/labels");
    assert_eq!(labels, serde_json::json!(["__name__", "instance", "job"]));
    let names = server.get_data(&format!("/api/v1/label/__name__/values?match[]={query}"));
    let want_names: Vec<String> = (0..10).map(|d| format!("rt_metric_{d}")).collect();
    assert_eq!(names, serde_json::json!(want_names));
    let instances = server.get_data("/api/v1/label/instance/values");
    let mut want_instances: Vec<String> = (0..SERIES / 10).map(|h| format!("host-{h}")).collect();
    want_instances.sort();
    assert_eq!(instances, serde_json::json!(want_instances));
}

#[test]
fn ten_thousand_series_survive_a_restart() {
    let dir = TempDir::new("roundtrip");
    // No timed flush during the first phase: reads come from the in-memory buffer,
    // and only the SIGTERM flush puts the rows on disk for the second phase.
    let server = Server::start(dir.path(), &["--flush-interval", "1h"]);
    let base_ms = (now_ms() - 3_600_000) / 1000 * 1000;
    for chunk_start in (0..SERIES).step_by(PER_REQUEST) {
        let timeseries = (chunk_start..chunk_start + PER_REQUEST)
            .map(|i| {
                let labels = labels_of(i);
                let pairs: Vec<(&str, &str)> = labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let samples: Vec<(i64, f64)> = (0..SAMPLES)
                    .map(|k| (base_ms + STEP_MS * k as i64, value_of(i, k)))
                    .collect();
                series(&pairs, &samples)
            })
            .collect();
        let response = server.remote_write(&WriteRequest {
            timeseries,
            metadata: vec![],
        });
        assert_eq!(response.status, 204, "{}", response.text());
    }
    // Read at once: acknowledged samples are visible before any flush.
    check_all(&server, base_ms);
    let status = server.stop();
    assert!(status.success(), "clean exit: {status:?}");
    assert!(dir.path().join("strata.json").exists());
    let parts_json = std::fs::read_dir(dir.path().join("shard-000/data"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".parts.json"))
        .count();
    assert!(parts_json >= 1, "the shutdown flush committed a partition");

    let server = Server::start(dir.path(), &[]);
    check_all(&server, base_ms);
    let metrics = server.get("/metrics").text();
    assert!(metrics.contains("strata_series{shard=\"0\"}"), "{metrics}");
    assert!(server.stop().success());
}
