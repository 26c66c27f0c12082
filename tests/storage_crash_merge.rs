//! Issue 3: SIGKILL while merges run leaves a consistent data dir that opens, with every flushed
//! sample present exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{enc, json_ms, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const SERIES: usize = 2_000;
const ROUNDS: usize = 30;

#[test]
fn sigkill_during_merges_keeps_flushed_data() {
    let dir = TempDir::new("crash-merge");
    let base_ms = (now_ms() - 3_600_000) / 1000 * 1000;
    // Many small parts: one flush per round, with merges disabled by a huge flush interval so they pile up.
    let server = Server::start(dir.path(), &["--flush-interval", "1h"]);
    for k in 0..ROUNDS {
        let timeseries = (0..SERIES)
            .map(|i| {
                let instance = format!("i{i}");
                series(
                    &[("__name__", "crash_metric"), ("instance", &instance)],
                    &[(base_ms + 1000 * k as i64, (i * 100 + k) as f64)],
                )
            })
            .collect();
        assert_eq!(
            server
                .remote_write(&WriteRequest {
                    timeseries,
                    metadata: vec![]
                })
                .status,
            204
        );
        assert_eq!(server.get("/internal/force_flush").status, 200);
    }
    // Everything is flushed. Now kill it at several moments while merges are running.
    let addr = server.addr.clone();
    let merger = std::thread::spawn(move || {
        common::http(&addr, "GET", "/internal/force_merge", &[], b"").status
    });
    std::thread::sleep(Duration::from_millis(30));
    server.kill();
    let _ = merger.join();
    for attempt in 0..3 {
        let server = Server::start(dir.path(), &["--flush-interval", "1h"]);
        let end = base_ms + 1000 * (ROUNDS as i64 - 1);
        let data = server.get_data(&format!(
            "/api/v1/query_range?query={}&start={}&end={}&step=1s",
            enc("crash_metric"),
            base_ms as f64 / 1000.0,
            end as f64 / 1000.0
        ));
        let result = data["result"].as_array().unwrap();
        assert_eq!(result.len(), SERIES, "attempt {attempt}");
        for entry in result {
            let i: usize = entry["metric"]["instance"].as_str().unwrap()[1..]
                .parse()
                .unwrap();
            let values = entry["values"].as_array().unwrap();
            assert_eq!(values.len(), ROUNDS, "series {i} attempt {attempt}");
            for (k, point) in values.iter().enumerate() {
                assert_eq!(json_ms(&point[0]), base_ms + 1000 * k as i64);
                assert_eq!(
                    point[1].as_str().unwrap(),
                    ((i * 100 + k) as f64).to_string()
                );
            }
        }
        // No leftovers of interrupted merges survive a start.
        let leftovers = walk(dir.path())
            .into_iter()
            .filter(|p| p.contains("/tmp-"))
            .count();
        assert_eq!(leftovers, 0, "temp parts removed at start");
        let addr = server.addr.clone();
        let merger = std::thread::spawn(move || {
            common::http(&addr, "GET", "/internal/force_merge", &[], b"").status
        });
        std::thread::sleep(Duration::from_millis(10 + 15 * attempt as u64));
        server.kill();
        let _ = merger.join();
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.display().to_string());
            if path.is_dir() {
                out.extend(walk(&path));
            }
        }
    }
    out
}
