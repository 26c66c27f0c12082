//! Issue 7: no acknowledged sample is lost. Several clients write concurrently and record every
//! acknowledged request; the server is SIGKILLed at a random moment; after a restart every
//! acknowledged sample is present exactly once, and the data dir opens. Repeated for
//! `STRATA_CRASH_CYCLES` cycles (20 in CI; the long run uses 200). Each cycle logs whether a WAL
//! write, a flush or a merge was in flight when the kill landed. Each restart checks the last
//! cycle's samples one by one and the older ones by count; the end checks all one by one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{enc, encode_remote_write, http, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::WriteRequest;

const WRITERS: usize = 4;
const SERIES_PER_REQUEST: usize = 20;

/// (instance, timestamp) → value of every acknowledged sample.
type Acked = Arc<Mutex<HashMap<(String, i64), f64>>>;

fn gauge(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b'{'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn writer(
    addr: String,
    id: usize,
    cycle: usize,
    stop: Arc<AtomicBool>,
    acked: Acked,
    base_ms: i64,
) {
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        // Unique timestamps per (writer, cycle, request), all in the past and within retention.
        let ts = base_ms + (cycle as i64 * WRITERS as i64 + id as i64) * 1_000_000 + n;
        let timeseries: Vec<_> = (0..SERIES_PER_REQUEST)
            .map(|s| {
                let instance = format!("w{id}-s{s}");
                series(
                    &[("__name__", "crash_wal"), ("instance", &instance)],
                    &[(ts, (n * 7 + s as i64) as f64)],
                )
            })
            .collect();
        let body = encode_remote_write(&WriteRequest {
            timeseries,
            metadata: vec![],
        });
        let result = std::panic::catch_unwind(|| {
            http(
                &addr,
                "POST",
                "/api/v1/write",
                &[
                    ("Content-Type", "application/x-protobuf"),
                    ("Content-Encoding", "snappy"),
                ],
                &body,
            )
            .status
        });
        match result {
            Ok(204) => {
                let mut acked = acked.lock().unwrap();
                for s in 0..SERIES_PER_REQUEST {
                    acked.insert((format!("w{id}-s{s}"), ts), (n * 7 + s as i64) as f64);
                }
            }
            // The server died mid-request: not acknowledged, nothing to check.
            _ => return,
        }
        n += 1;
    }
}

/// The window of timestamps the writers use in `cycle`: `[start, end)`.
fn window(base_ms: i64, cycle: usize) -> (i64, i64) {
    let start = base_ms + (cycle * WRITERS) as i64 * 1_000_000;
    (start, start + WRITERS as i64 * 1_000_000)
}

/// Every sample stored with a timestamp in `[start_ms, end_ms]`: (instance, timestamp) → values.
fn export(server: &Server, start_ms: i64, end_ms: i64) -> HashMap<(String, i64), Vec<f64>> {
    let response = server.get(&format!(
        "/api/v1/export?match[]={}&start={}&end={}",
        enc("crash_wal"),
        start_ms as f64 / 1000.0,
        end_ms as f64 / 1000.0
    ));
    assert_eq!(response.status, 200);
    let mut stored: HashMap<(String, i64), Vec<f64>> = HashMap::new();
    for line in response.text().lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        let instance = json["metric"]["instance"].as_str().unwrap().to_string();
        for (t, v) in json["timestamps"]
            .as_array()
            .unwrap()
            .iter()
            .zip(json["values"].as_array().unwrap())
        {
            stored
                .entry((instance.clone(), t.as_i64().unwrap()))
                .or_default()
                .push(v.as_f64().unwrap());
        }
    }
    stored
}

/// Checks that every acknowledged sample with a timestamp in `[start_ms, end_ms]` is stored
/// exactly once with its value; returns how many samples are stored there (acknowledged or not:
/// a request cut by the kill may have been stored without its answer getting out).
fn check_range(server: &Server, acked: &Acked, start_ms: i64, end_ms: i64, cycle: usize) -> usize {
    let stored = export(server, start_ms, end_ms);
    let acked = acked.lock().unwrap();
    let mut missing = 0;
    let mut checked = 0;
    for (key, value) in acked.iter() {
        if key.1 < start_ms || key.1 > end_ms {
            continue;
        }
        checked += 1;
        match stored.get(key) {
            Some(values) => {
                assert_eq!(
                    values.len(),
                    1,
                    "cycle {cycle}: {key:?} stored {} times",
                    values.len()
                );
                assert_eq!(values[0], *value, "cycle {cycle}: {key:?}");
            }
            None => missing += 1,
        }
    }
    assert_eq!(
        missing, 0,
        "cycle {cycle}: {missing} of {checked} acknowledged samples lost"
    );
    stored.len()
}

/// How many samples are stored with a timestamp in `[start_ms, end_ms]`, counted by the server
/// (`count_over_time`), which costs far less than exporting them.
fn count_stored(server: &Server, start_ms: i64, end_ms: i64) -> usize {
    let query = format!(
        "sum(count_over_time(crash_wal[{}ms]))",
        end_ms - start_ms + 1
    );
    let data = server.get_data(&format!(
        "/api/v1/query?query={}&time={}",
        enc(&query),
        end_ms as f64 / 1000.0
    ));
    data["result"][0]["value"][1]
        .as_str()
        .map_or(0, |v| v.parse().unwrap())
}

/// After a restart: the previous cycle's window is checked sample by sample, the older windows
/// (checked when they were the previous one, and written to by nobody since) by their count.
/// Linear in the data of one cycle, plus one server-side count, so long runs stay affordable.
fn check_incremental(
    server: &Server,
    acked: &Acked,
    base_ms: i64,
    cycle: usize,
    stored_per_window: &mut Vec<usize>,
) {
    let previous = cycle - 1;
    let (start, end) = window(base_ms, previous);
    let stored = check_range(server, acked, start, end - 1, cycle);
    if previous > 0 {
        let counted = count_stored(server, base_ms, start - 1);
        let expected: usize = stored_per_window.iter().sum();
        assert_eq!(
            counted, expected,
            "cycle {cycle}: older windows hold {counted} samples, {expected} when they were checked"
        );
    }
    stored_per_window.push(stored);
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_sample() {
    let cycles: usize = std::env::var("STRATA_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    let dir = TempDir::new("crash-wal");
    let flags = ["--flush-interval", "150ms"];
    let acked: Acked = Arc::new(Mutex::new(HashMap::new()));
    // 200 cycles x 4 writers x 1e6 ms span about 9.3 days: start 10 days back.
    let base_ms = (now_ms() - 10 * 86_400_000) / 1000 * 1000;
    let mut rng = (now_ms() as u64) | 1;
    let mut landed_on_work = 0;
    let mut stored_per_window: Vec<usize> = Vec::new();
    for cycle in 0..cycles {
        let server = Server::start(dir.path(), &flags);
        if cycle > 0 {
            check_incremental(&server, &acked, base_ms, cycle, &mut stored_per_window);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|id| {
                let (addr, stop, acked) = (server.addr.clone(), stop.clone(), acked.clone());
                std::thread::spawn(move || writer(addr, id, cycle, stop, acked, base_ms))
            })
            .collect();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(100 + rng % 500));
        let metrics = server.get("/metrics").text();
        let (wal, flush, merge) = (
            gauge(&metrics, "strata_wal_commits_in_flight"),
            gauge(&metrics, "strata_flush_in_flight"),
            gauge(&metrics, "strata_merge_in_flight"),
        );
        let started = Instant::now();
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let _ = w.join();
        }
        let on_work = wal + flush + merge > 0;
        landed_on_work += usize::from(on_work);
        println!(
            "cycle {cycle}: killed {:?} after the metrics read; in flight: wal commits {wal}, flush {flush}, merge {merge}; {} samples acknowledged so far",
            started.elapsed(),
            acked.lock().unwrap().len()
        );
    }
    // The end: every acknowledged sample of every cycle, checked one by one.
    let server = Server::start(dir.path(), &flags);
    let (_, end) = window(base_ms, cycles);
    check_range(&server, &acked, base_ms, end, cycles);
    assert!(server.stop().success());
    // Straight to stderr so that CI's log shows it even though the test passes.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "crash test: {cycles} cycles, {} acknowledged samples, 0 lost, 0 duplicated; kills landing on a WAL write, flush or merge: {landed_on_work}",
        acked.lock().unwrap().len()
    );
    assert!(
        landed_on_work * 3 >= cycles,
        "only {landed_on_work} of {cycles} kills landed on work in flight"
    );
}
