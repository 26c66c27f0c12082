//! Issue 7, full disk: on a small loop-mounted ext4 image (not tmpfs, where glommio turns O_DIRECT
//! off), a filler file eats the free space while clients ingest. Writes must be refused with 503,
//! a Prometheus error JSON and `Retry-After`, queries must still answer, ingest must resume by
//! itself once the filler is deleted, and every acknowledged sample must be stored exactly once,
//! also after a crash (WAL replay over the segments that saw ENOSPC) and after a clean restart.
//!
//! Needs root (mount) and `mkfs.ext4`; skips with a printed reason when they are unavailable.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{enc, encode_remote_write, http, now_ms, series, Server};
use strata::ingest::remote_write::proto::WriteRequest;

/// Size of the ext4 image: small, so filling it is quick, big enough for strata's start-up files.
const IMAGE_MIB: u64 = 64;
const WRITERS: usize = 2;
const SERIES_PER_REQUEST: usize = 20;
/// How long each phase may take before the test fails (the whole test stays well under a minute).
const PHASE_TIMEOUT: Duration = Duration::from_secs(20);

/// A loop-mounted ext4 image; unmounted (which detaches the loop device) and removed on drop.
struct LoopMount {
    image: PathBuf,
    mount_dir: PathBuf,
}

impl LoopMount {
    /// Creates and mounts the image, or says why it cannot.
    fn create(name: &str) -> Result<LoopMount, String> {
        let base = std::env::temp_dir().join(format!("strata-{name}-{}", std::process::id()));
        let image = base.with_extension("img");
        let mount_dir = base.with_extension("mnt");
        std::fs::create_dir_all(&mount_dir).map_err(|e| format!("mkdir: {e}"))?;
        let file = std::fs::File::create(&image).map_err(|e| format!("create image: {e}"))?;
        file.set_len(IMAGE_MIB << 20)
            .map_err(|e| format!("size image: {e}"))?;
        drop(file);
        let mount = LoopMount { image, mount_dir };
        // -m 0: no blocks reserved for root (we are root, so both filler and strata could use them).
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-m", "0"])
            .arg(&mount.image))?;
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&mount.image)
            .arg(&mount.mount_dir))?;
        Ok(mount)
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        let mut unmounted = false;
        for _ in 0..20 {
            if run(Command::new("umount").arg(&self.mount_dir)).is_ok() {
                unmounted = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !unmounted {
            let _ = run(Command::new("umount").arg("-l").arg(&self.mount_dir));
        }
        // `mount -o loop` sets autoclear, but detach explicitly whatever still uses the image.
        if let Ok(output) = Command::new("losetup").arg("-j").arg(&self.image).output() {
            for line in String::from_utf8_lossy(&output.stdout).lines() {
                if let Some(device) = line.split(':').next() {
                    let _ = run(Command::new("losetup").args(["-d", device]));
                }
            }
        }
        let _ = std::fs::remove_file(&self.image);
        let _ = std::fs::remove_dir(&self.mount_dir);
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?}: {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// Grows a file until the file system refuses more (1 MiB steps, then 4 KiB ones).
fn fill(file: &mut std::fs::File) {
    for chunk in [1 << 20, 4096] {
        let zeros = vec![0u8; chunk];
        while file.write_all(&zeros).is_ok() {}
    }
    let _ = file.sync_all();
}

/// (instance, timestamp) → value of every acknowledged sample.
type Acked = Arc<Mutex<HashMap<(String, i64), f64>>>;

#[derive(Default)]
struct Counts {
    acked_requests: AtomicU64,
    refused: AtomicU64,
    /// Refusals that lacked `Retry-After` or the Prometheus error JSON.
    malformed_refusals: AtomicU64,
    other_statuses: AtomicU64,
}

/// Sends requests with unique timestamps until `stop`; records what was acknowledged and honours
/// `Retry-After` (at most 1 s, so the test stays short) as Prometheus does.
fn writer(addr: String, id: usize, stop: Arc<AtomicBool>, acked: Acked, counts: Arc<Counts>) {
    let base_ms = (now_ms() - 3_600_000) / 1000 * 1000 + id as i64 * 1_000_000;
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let ts = base_ms + n;
        let request = n;
        let value = move |s: usize| (request * 31 + s as i64) as f64;
        let timeseries: Vec<_> = (0..SERIES_PER_REQUEST)
            .map(|s| {
                let instance = format!("w{id}-s{s}");
                series(
                    &[("__name__", "full_disk"), ("instance", &instance)],
                    &[(ts, value(s))],
                )
            })
            .collect();
        let body = encode_remote_write(&WriteRequest {
            timeseries,
            metadata: vec![],
        });
        let response = http(
            &addr,
            "POST",
            "/api/v1/write",
            &[
                ("Content-Type", "application/x-protobuf"),
                ("Content-Encoding", "snappy"),
            ],
            &body,
        );
        n += 1;
        match response.status {
            204 => {
                let mut acked = acked.lock().unwrap();
                for s in 0..SERIES_PER_REQUEST {
                    acked.insert((format!("w{id}-s{s}"), ts), value(s));
                }
                counts.acked_requests.fetch_add(1, Ordering::Relaxed);
            }
            503 => {
                counts.refused.fetch_add(1, Ordering::Relaxed);
                let retry_after = response
                    .header("retry-after")
                    .and_then(|v| v.parse::<u64>().ok());
                let json = response.json();
                let well_formed = retry_after.is_some_and(|s| s >= 1)
                    && json["status"] == "error"
                    && json["errorType"] == "unavailable"
                    && json["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("disk full"));
                if !well_formed {
                    eprintln!(
                        "malformed 503: Retry-After {:?}, body {json}",
                        response.header("retry-after")
                    );
                    counts.malformed_refusals.fetch_add(1, Ordering::Relaxed);
                }
                let wait =
                    Duration::from_secs(retry_after.unwrap_or(1)).min(Duration::from_secs(1));
                std::thread::sleep(wait);
            }
            other => {
                eprintln!("unexpected status {other}: {}", response.text());
                counts.other_statuses.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Every acknowledged sample is stored exactly once, with its value.
fn verify(server: &Server, acked: &Acked, when: &str) {
    let response = server.get(&format!(
        "/api/v1/export?match[]={}&start=0",
        enc("full_disk")
    ));
    assert_eq!(response.status, 200, "{when}: export");
    let mut stored: HashMap<(String, i64), Vec<f64>> = HashMap::new();
    for line in response.text().lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        let instance = json["metric"]["instance"].as_str().unwrap().to_string();
        let timestamps = json["timestamps"].as_array().unwrap();
        let values = json["values"].as_array().unwrap();
        for (t, v) in timestamps.iter().zip(values) {
            stored
                .entry((instance.clone(), t.as_i64().unwrap()))
                .or_default()
                .push(v.as_f64().unwrap());
        }
    }
    let acked = acked.lock().unwrap();
    let mut missing = 0;
    for (key, value) in acked.iter() {
        match stored.get(key).map(Vec::as_slice) {
            Some([stored_value]) => assert_eq!(stored_value, value, "{when}: {key:?}"),
            Some(values) => panic!("{when}: {key:?} stored {} times", values.len()),
            None => missing += 1,
        }
    }
    assert_eq!(
        missing,
        0,
        "{when}: {missing} of {} acknowledged samples missing",
        acked.len()
    );
}

fn gauge(server: &Server, name: &str) -> u64 {
    server
        .get("/metrics")
        .text()
        .lines()
        .filter(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b'{'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool, mut meanwhile: impl FnMut()) {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        meanwhile();
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn data_dir(mount: &Path) -> PathBuf {
    mount.join("data")
}

#[test]
fn full_disk_pauses_writes_and_resumes_without_losing_a_sample() {
    let mount = match LoopMount::create("full-disk") {
        Ok(mount) => mount,
        Err(reason) => {
            eprintln!("SKIPPED full_disk: cannot make a loop-mounted ext4 image here: {reason}");
            return;
        }
    };
    let started = Instant::now();
    let dir = data_dir(&mount.mount_dir);
    let flags = ["--flush-interval", "300ms"];
    let server = Server::start(&dir, &flags);
    let acked: Acked = Arc::new(Mutex::new(HashMap::new()));
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| {
            let (addr, stop, acked, counts) = (
                server.addr.clone(),
                stop.clone(),
                acked.clone(),
                counts.clone(),
            );
            std::thread::spawn(move || writer(addr, id, stop, acked, counts))
        })
        .collect();
    wait_for(
        "the first acknowledged writes",
        || counts.acked_requests.load(Ordering::Relaxed) >= 20,
        || {},
    );

    // Fill the disk, and keep it full: strata frees space too (WAL segments, merged parts).
    let filler_path = mount.mount_dir.join("filler");
    let mut filler = std::fs::File::create(&filler_path).unwrap();
    wait_for(
        "writes refused with 503",
        || counts.refused.load(Ordering::Relaxed) >= 3,
        || fill(&mut filler),
    );
    // While writes are refused, queries answer.
    let query = server.get(&format!(
        "/api/v1/query?query={}",
        enc("count(count_over_time(full_disk[2h]))")
    ));
    assert_eq!(
        query.status,
        200,
        "a query on a full disk: {}",
        query.text()
    );
    assert_eq!(
        query.json()["data"]["result"][0]["value"][1],
        (WRITERS * SERIES_PER_REQUEST).to_string(),
        "{}",
        query.text()
    );
    let paused_seen = gauge(&server, "strata_writes_paused");
    let disk_full_errors = gauge(&server, "strata_disk_full_errors_total");
    assert!(disk_full_errors > 0, "the full disk was counted");
    let full_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < full_until {
        fill(&mut filler);
        std::thread::sleep(Duration::from_millis(50));
    }
    let refused_while_full = counts.refused.load(Ordering::Relaxed);

    // Free the space: ingest must resume by itself, without a restart.
    drop(filler);
    std::fs::remove_file(&filler_path).unwrap();
    let acked_at_free = counts.acked_requests.load(Ordering::Relaxed);
    let freed = Instant::now();
    wait_for(
        "writes to be acknowledged again after the space was freed",
        || counts.acked_requests.load(Ordering::Relaxed) >= acked_at_free + 20,
        || {},
    );
    let resumed_after = freed.elapsed();
    wait_for(
        "the write gate to report open",
        || gauge(&server, "strata_writes_paused") == 0,
        || {},
    );
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(
        gauge(&server, "strata_read_only"),
        0,
        "a full disk is not fatal"
    );
    assert_eq!(counts.malformed_refusals.load(Ordering::Relaxed), 0);
    assert_eq!(counts.other_statuses.load(Ordering::Relaxed), 0);
    verify(&server, &acked, "after the disk was freed");

    // A crash now replays WAL segments that saw ENOSPC: nothing damaged, nothing lost.
    server.kill();
    let server = Server::start(&dir, &flags);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.stderr_lines().join("\n");
    assert!(!log.contains("damaged tail"), "replay found damage:\n{log}");
    verify(&server, &acked, "after a crash and replay");
    assert!(server.stop().success());
    let server = Server::start(&dir, &flags);
    verify(&server, &acked, "after a clean restart");
    assert!(server.stop().success());
    let _ = writeln!(
        std::io::stderr(),
        "full disk: {} acknowledged requests ({} samples), {refused_while_full} refused with 503 \
         while full (paused gauge seen: {paused_seen}, disk-full errors: {disk_full_errors}), \
         writes resumed {resumed_after:?} after the filler was deleted; 0 lost; whole test {:?}",
        counts.acked_requests.load(Ordering::Relaxed),
        acked.lock().unwrap().len(),
        started.elapsed()
    );
}
