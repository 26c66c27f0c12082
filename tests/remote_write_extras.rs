//! Issue 2: native histograms and exemplars are dropped and counted, never an error; stale
//! markers end a series for instant queries; samples outside retention are rejected and counted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use bytes::Bytes;
use common::{enc, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::{Exemplar, WriteRequest};
use strata::model::STALE_NAN_BITS;

#[test]
fn histograms_exemplars_stale_markers_and_retention() {
    let dir = TempDir::new("rw-extras");
    let server = Server::start(dir.path(), &[]);
    let now = now_ms() / 1000 * 1000;
    let mut with_extras = series(
        &[("__name__", "extras"), ("job", "x")],
        &[(now - 20_000, 1.0)],
    );
    with_extras.exemplars.push(Exemplar {
        labels: vec![],
        value: 1.0,
        timestamp: now - 20_000,
    });
    with_extras.histograms.push(Bytes::from_static(b"\x08\x01"));
    let only_histogram = {
        let mut s = series(&[("__name__", "native_hist")], &[]);
        s.histograms.push(Bytes::from_static(b"\x08\x02"));
        s
    };
    let stale = f64::from_bits(STALE_NAN_BITS);
    let going_stale = series(
        &[("__name__", "gone"), ("job", "x")],
        &[(now - 60_000, 5.0), (now - 30_000, stale)],
    );
    let too_old = series(&[("__name__", "ancient")], &[(now - 40 * 86_400_000, 1.0)]);
    let request = WriteRequest {
        timeseries: vec![with_extras, only_histogram, going_stale, too_old],
        metadata: vec![],
    };
    let response = server.remote_write(&request);
    assert_eq!(response.status, 204, "{}", response.text());

    let data = server.get_data(&format!("/api/v1/query?query=extras&time={}", now / 1000));
    assert_eq!(data["result"][0]["value"][1], "1");
    // Before the stale marker the series answers; after it, it is gone.
    let before = server.get_data(&format!(
        "/api/v1/query?query=gone&time={}",
        (now - 40_000) / 1000
    ));
    assert_eq!(before["result"][0]["value"][1], "5");
    let after = server.get_data(&format!("/api/v1/query?query=gone&time={}", now / 1000));
    assert_eq!(after["result"], serde_json::json!([]));
    let ancient = server.get_data(&format!(
        "/api/v1/query?query={}&time={}",
        enc("ancient"),
        (now - 40 * 86_400_000) / 1000
    ));
    assert_eq!(ancient["result"], serde_json::json!([]));

    let metrics = server.get("/metrics").text();
    assert!(
        metrics.contains("strata_histograms_dropped_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strata_exemplars_dropped_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strata_rows_rejected_total{reason=\"too_old\"} 1"),
        "{metrics}"
    );
    assert!(server.stop().success());
}
