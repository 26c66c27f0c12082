//! Issue 3: with tiny flush intervals many parts are written and merged in the background while
//! ingest goes on; the part count stays bounded, every sample reads back exactly, and a restart in
//! the middle loses nothing that was flushed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const SERIES: usize = 200;
const ROUNDS: usize = 120;
const STEP_MS: i64 = 1_000;

fn value_of(i: usize, k: usize) -> f64 {
    (i * 10_000 + k) as f64 / 4.0
}

fn write_round(server: &Server, base_ms: i64, k: usize) {
    let timeseries = (0..SERIES)
        .map(|i| {
            let instance = format!("i{i}");
            series(
                &[("__name__", "merge_metric"), ("instance", &instance)],
                &[(base_ms + STEP_MS * k as i64, value_of(i, k))],
            )
        })
        .collect();
    let response = server.remote_write(&WriteRequest {
        timeseries,
        metadata: vec![],
    });
    assert_eq!(response.status, 204, "{}", response.text());
}

fn parts(server: &Server) -> u64 {
    let metrics = server.get("/metrics").text();
    metrics
        .lines()
        .filter(|l| l.starts_with("strata_parts{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Every round in `rounds` reads back exactly, once.
fn check(server: &Server, base_ms: i64, rounds: usize) {
    common::RoundGrid {
        metric: "merge_metric",
        series: SERIES,
        step_ms: STEP_MS,
        value_of,
    }
    .check(server, base_ms, rounds);
}

#[test]
fn parts_stay_bounded_and_samples_survive_merges_and_restarts() {
    let dir = TempDir::new("merges");
    let flags = ["--flush-interval", "50ms"];
    let base_ms = (now_ms() - 3_600_000) / 1000 * 1000;
    let mut server = Server::start(dir.path(), &flags);
    let mut max_parts = 0;
    for k in 0..ROUNDS {
        write_round(&server, base_ms, k);
        std::thread::sleep(std::time::Duration::from_millis(20));
        max_parts = max_parts.max(parts(&server));
        if k == ROUNDS / 2 {
            // A clean restart in the middle: everything written so far is flushed and kept.
            assert!(server.stop().success());
            server = Server::start(dir.path(), &flags);
            check(&server, base_ms, k + 1);
        }
    }
    check(&server, base_ms, ROUNDS);
    let metrics = server.get("/metrics").text();
    let merges: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("strata_merges_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(merges > 0, "background merges ran: {metrics}");
    // Two shards, one partition each: the planner caps a partition near 25 parts.
    assert!(
        max_parts <= 2 * 26,
        "part count stayed bounded, saw {max_parts}"
    );

    let response = server.get("/internal/force_merge");
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(parts(&server), 2, "force_merge leaves one part per shard");
    check(&server, base_ms, ROUNDS);
    assert!(server.stop().success());
    println!("max live parts {max_parts}, background merges {merges}");
}
