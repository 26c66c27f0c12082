//! Issue 3, deliverable 3: rows go buffer → in-memory part (about every second) → small part on
//! disk (every few seconds). Queries see all three layers at once; the WAL keeps rows that are only
//! in memory, so a SIGKILL loses none of them; a flush moves in-memory parts to disk and frees the
//! WAL segments they covered.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const SERIES: usize = 300;
const STEP_MS: i64 = 1_000;
/// Disk flushes only when asked; seals every 200 ms.
const FLAGS: [&str; 4] = [
    "--flush-interval",
    "1h",
    "--inmemory-part-interval",
    "200ms",
];

fn value_of(i: usize, k: usize) -> f64 {
    (i * 1_000 + k) as f64 + 0.25
}

fn write_round(server: &Server, base_ms: i64, k: usize) {
    let timeseries = (0..SERIES)
        .map(|i| {
            let instance = format!("i{i}");
            series(
                &[("__name__", "layer_metric"), ("instance", &instance)],
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

/// Sum over shards of one gauge or counter in /metrics.
fn metric(server: &Server, name: &str) -> u64 {
    let prefix = format!("{name}{{");
    server
        .get("/metrics")
        .text()
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every round in `rounds` reads back exactly, once.
fn check(server: &Server, base_ms: i64, rounds: usize) {
    common::RoundGrid {
        metric: "layer_metric",
        series: SERIES,
        step_ms: STEP_MS,
        value_of,
    }
    .check(server, base_ms, rounds);
}

/// Every WAL segment file, as "shard-NNN/name".
fn wal_segments(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for shard in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let shard_name = shard.file_name().to_string_lossy().into_owned();
        if !shard_name.starts_with("shard-") {
            continue;
        }
        for segment in std::fs::read_dir(shard.path().join("wal")).unwrap() {
            let name = segment.unwrap().file_name().to_string_lossy().into_owned();
            names.push(format!("{shard_name}/{name}"));
        }
    }
    names
}

#[test]
fn queries_see_buffer_inmemory_and_disk_parts_and_a_kill_loses_nothing() {
    let dir = TempDir::new("inmemory-parts");
    let base_ms = (now_ms() - 3_600_000) / 1000 * 1000;
    let server = Server::start(dir.path(), &FLAGS);

    // Rounds 0-4 go to disk.
    for k in 0..5 {
        write_round(&server, base_ms, k);
    }
    assert_eq!(server.get("/internal/force_flush").status, 200);
    assert!(metric(&server, "strata_parts") > 0);
    assert_eq!(metric(&server, "strata_inmemory_parts"), 0);
    assert_eq!(metric(&server, "strata_buffered_rows"), 0);

    // Rounds 5-9 are sealed into in-memory parts and stay there: no disk flush runs.
    let parts_on_disk = metric(&server, "strata_parts");
    let flushes = metric(&server, "strata_flushes_total");
    for k in 5..10 {
        write_round(&server, base_ms, k);
    }
    wait_for("a seal", || metric(&server, "strata_inmemory_parts") > 0);
    assert_eq!(metric(&server, "strata_parts"), parts_on_disk);
    assert_eq!(metric(&server, "strata_flushes_total"), flushes);

    // Round 10 may still be buffered: one query sees disk, in-memory and buffered rows together.
    write_round(&server, base_ms, 10);
    check(&server, base_ms, 11);
    wait_for("round 10 sealed", || {
        metric(&server, "strata_buffered_rows") == (11 - 5) * SERIES as u64
    });
    check(&server, base_ms, 11);

    // SIGKILL with rows only in memory: the WAL still holds them (sealing deletes no segment).
    server.kill();
    let server = Server::start(dir.path(), &FLAGS);
    check(&server, base_ms, 11);

    // A flush moves the in-memory parts to disk, and the WAL segments they covered go away.
    let segments_before = wal_segments(dir.path());
    wait_for("replayed rows sealed", || {
        metric(&server, "strata_inmemory_parts") > 0
    });
    assert_eq!(server.get("/internal/force_flush").status, 200);
    assert_eq!(metric(&server, "strata_inmemory_parts"), 0);
    assert_eq!(metric(&server, "strata_buffered_rows"), 0);
    let segments_after = wal_segments(dir.path());
    assert!(!segments_before.is_empty());
    assert!(
        segments_before.iter().all(|s| !segments_after.contains(s)),
        "the segments holding the replayed rows were deleted: before {segments_before:?}, after {segments_after:?}"
    );
    check(&server, base_ms, 11);
    assert!(server.stop().success());
}
