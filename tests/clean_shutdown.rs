//! Issue 7, deliver 4: a graceful shutdown (SIGTERM) flushes everything into parts, so the WAL
//! it leaves holds no record, and the next start-up replays nothing and still has every sample.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::{enc, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const REQUESTS: i64 = 30;
const SERIES: usize = 10;

/// Bytes of every WAL segment file under the data dir, and how many there are.
fn wal_segments(data_dir: &Path) -> (u64, usize) {
    let (mut bytes, mut files) = (0, 0);
    for shard in std::fs::read_dir(data_dir).unwrap().map_while(Result::ok) {
        let Ok(segments) = std::fs::read_dir(shard.path().join("wal")) else {
            continue;
        };
        for segment in segments.map_while(Result::ok) {
            if segment.file_name().to_string_lossy().ends_with(".seg") {
                bytes += segment.metadata().unwrap().len();
                files += 1;
            }
        }
    }
    (bytes, files)
}

fn stored_samples(server: &Server) -> usize {
    let response = server.get(&format!(
        "/api/v1/export?match[]={}&start=0",
        enc("clean_shutdown")
    ));
    assert_eq!(response.status, 200);
    response
        .text()
        .lines()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            json["timestamps"].as_array().unwrap().len()
        })
        .sum()
}

#[test]
fn clean_shutdown_flushes_everything_and_the_next_start_replays_nothing() {
    let dir = TempDir::new("clean-shutdown");
    // No timed flush: at SIGTERM every sample is still only in memory and the WAL.
    let flags = ["--flush-interval", "1h"];
    let server = Server::start(dir.path(), &flags);
    let base_ms = (now_ms() - 600_000) / 1000 * 1000;
    for n in 0..REQUESTS {
        let timeseries = (0..SERIES)
            .map(|s| {
                let instance = format!("i{s}");
                series(
                    &[("__name__", "clean_shutdown"), ("instance", &instance)],
                    &[(base_ms + n * 1000, n as f64)],
                )
            })
            .collect();
        let response = server.remote_write(&WriteRequest {
            timeseries,
            metadata: vec![],
        });
        assert_eq!(response.status, 204, "{}", response.text());
    }
    let (bytes_before, _) = wal_segments(dir.path());
    assert!(
        bytes_before > 0,
        "the samples are in the WAL before the stop"
    );
    assert!(server.stop().success());

    // Everything went into parts; the WAL segments left hold no record.
    let (bytes_after, files_after) = wal_segments(dir.path());
    assert!(
        files_after > 0,
        "each shard keeps its (empty) current segment"
    );
    assert_eq!(bytes_after, 0, "a clean shutdown leaves nothing to replay");

    let server = Server::start(dir.path(), &flags);
    let expected = REQUESTS as usize * SERIES;
    assert_eq!(stored_samples(&server), expected);
    let log = server.stderr_lines().join("\n");
    assert!(
        !log.contains("wal replay"),
        "a start after a clean shutdown replays nothing:\n{log}"
    );
    let metrics = server.get("/metrics").text();
    let buffered: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("strata_buffered_rows{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(buffered, 0, "nothing came back from the WAL into memory");
    assert!(server.stop().success());
}
