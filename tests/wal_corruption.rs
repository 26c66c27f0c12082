//! Issue 7: a torn or corrupted WAL tail is cut at the last good record; everything before the
//! damage is recovered and start-up says how much it dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;

use common::{enc, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const REQUESTS: usize = 10;

fn write_requests(server: &Server, base_ms: i64) {
    for k in 0..REQUESTS {
        let timeseries = vec![series(
            &[("__name__", "wal_metric"), ("k", &k.to_string())],
            &[(base_ms + k as i64 * 1000, k as f64)],
        )];
        assert_eq!(
            server
                .remote_write(&WriteRequest {
                    timeseries,
                    metadata: vec![]
                })
                .status,
            204
        );
    }
}

/// The newest WAL segment of the shard holding the most records, and where its data ends.
fn last_segment(dir: &std::path::Path) -> (PathBuf, usize) {
    let mut best: Option<(PathBuf, usize)> = None;
    for shard in ["shard-000", "shard-001"] {
        let mut segments: Vec<PathBuf> = std::fs::read_dir(dir.join(shard).join("wal"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        segments.sort();
        let Some(last) = segments.pop() else { continue };
        let bytes = std::fs::read(&last).unwrap();
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        if best.as_ref().is_none_or(|(_, e)| end > *e) {
            best = Some((last, end));
        }
    }
    best.unwrap()
}

fn present(server: &Server) -> Vec<usize> {
    let data = server.get_data(&format!("/api/v1/series?match[]={}", enc("wal_metric")));
    let mut ks: Vec<usize> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["k"].as_str().unwrap().parse().unwrap())
        .collect();
    ks.sort();
    ks
}

#[test]
fn torn_and_flipped_tails_are_cut_and_reported() {
    for damage in ["truncate", "flip"] {
        let dir = TempDir::new(&format!("wal-corrupt-{damage}"));
        let base_ms = (now_ms() - 3_600_000) / 1000 * 1000;
        let server = Server::start(dir.path(), &["--flush-interval", "1h"]);
        write_requests(&server, base_ms);
        server.kill();
        let (segment, end) = last_segment(dir.path());
        assert!(end > 16, "the WAL holds records");
        let mut bytes = std::fs::read(&segment).unwrap();
        match damage {
            "truncate" => bytes.truncate(end - 3),
            _ => bytes[end - 3] ^= 0xff,
        }
        std::fs::write(&segment, &bytes).unwrap();

        let server = Server::start(dir.path(), &["--flush-interval", "1h"]);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let log = server.stderr_lines().join("\n");
        assert!(
            log.contains("dropped") && log.contains("damaged tail"),
            "{damage}: start-up must say what it dropped:\n{log}"
        );
        let ks = present(&server);
        // Exactly one record (the damaged last one) is gone; everything before it is back.
        assert_eq!(ks.len(), REQUESTS - 1, "{damage}: recovered {ks:?}");
        assert!(server.stop().success());
        // And the next start replays nothing more and loses nothing.
        let server = Server::start(dir.path(), &["--flush-interval", "1h"]);
        assert_eq!(present(&server).len(), REQUESTS - 1);
        assert!(server.stop().success());
    }
}
