//! `strata-bench gen` end to end: the real binary writes workload files; the
//! test checks that the same seed gives the same bytes, another seed other
//! bytes, and that decoding the file (snappy + protobuf) gives exactly the
//! series and samples its header declares, with well-formed label sets.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use bytes::Bytes;
use prost::Message;
use strata::ingest::remote_write::proto::WriteRequest;
use strata::model::STALE_NAN_BITS;

/// A temp file path unique to this test process and `name`, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let file = format!("strata-bench-gen-{}-{name}.bin", std::process::id());
        TempFile(std::env::temp_dir().join(file))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `strata-bench gen` with a small churning workload and returns the file's bytes.
fn generate(name: &str, seed: u64) -> Vec<u8> {
    let out = TempFile::new(name);
    let status = Command::new(env!("CARGO_BIN_EXE_strata-bench"))
        .args(["gen", "--out"])
        .arg(&out.0)
        .args(["--seed", &seed.to_string()])
        .args(["--hosts", "10", "--cpus", "2", "--scrapes", "5"])
        .args(["--churn-fraction", "0.2", "--churn-every", "2"])
        .args(["--series-per-request", "100", "--start-ms", "1700000000000"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run strata-bench");
    assert!(status.success(), "strata-bench gen failed: {status}");
    std::fs::read(&out.0).expect("read workload file")
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let first = generate("seed7-a", 7);
    let second = generate("seed7-b", 7);
    let other = generate("seed8", 8);
    assert!(
        first.len() > 10_000,
        "suspiciously small file: {} bytes",
        first.len()
    );
    assert!(first == second, "same seed, different bytes");
    assert!(first != other, "different seeds, same bytes");
}

/// The little-endian u32 at `pos`.
fn le_u32(file: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes(file[pos..pos + 4].try_into().expect("4 bytes"))
}

/// The file's header JSON and its requests, decoded.
fn decode(file: &[u8]) -> (serde_json::Value, Vec<(u32, WriteRequest)>) {
    assert_eq!(&file[..8], b"STRATAWL");
    assert_eq!(le_u32(file, 8), 1);
    let header_len = le_u32(file, 12) as usize;
    let header = serde_json::from_slice(&file[16..16 + header_len]).expect("header JSON");
    let mut requests = Vec::new();
    let mut pos = 16 + header_len;
    while pos < file.len() {
        let len = le_u32(file, pos) as usize;
        let samples = le_u32(file, pos + 4);
        let body = &file[pos + 8..pos + 8 + len];
        let protobuf = snap::raw::Decoder::new()
            .decompress_vec(body)
            .expect("snappy block");
        let request = WriteRequest::decode(Bytes::from(protobuf)).expect("protobuf WriteRequest");
        requests.push((samples, request));
        pos += 8 + len;
    }
    (header, requests)
}

#[test]
fn declared_counts_match_the_decoded_requests() {
    let (header, requests) = decode(&generate("counts", 3));
    let totals = &header["totals"];
    let mut series = BTreeSet::new();
    let (mut samples, mut stale) = (0u64, 0u64);
    let mut last_timestamp = i64::MIN;
    let jitter_ms = header["jitter_ms"].as_i64().unwrap();
    for (declared_samples, request) in &requests {
        assert!(
            request.timeseries.len() <= 100,
            "request over --series-per-request"
        );
        let in_request: usize = request.timeseries.iter().map(|s| s.samples.len()).sum();
        assert_eq!(in_request, *declared_samples as usize);
        for ts in &request.timeseries {
            let names: Vec<&[u8]> = ts.labels.iter().map(|l| &l.name[..]).collect();
            assert!(
                names.windows(2).all(|w| w[0] < w[1]),
                "labels not sorted: {names:?}"
            );
            assert!(names.contains(&&b"__name__"[..]), "series without __name__");
            assert!(ts.labels.iter().all(|l| !l.value.is_empty()));
            series.insert(
                ts.labels
                    .iter()
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect::<Vec<_>>(),
            );
            for sample in &ts.samples {
                samples += 1;
                stale += u64::from(sample.value.to_bits() == STALE_NAN_BITS);
                // Requests follow scrape time; only jitter may reorder neighbours.
                assert!(sample.timestamp + jitter_ms >= last_timestamp);
                last_timestamp = last_timestamp.max(sample.timestamp);
            }
        }
    }
    assert_eq!(requests.len() as u64, totals["requests"].as_u64().unwrap());
    assert_eq!(samples, totals["samples"].as_u64().unwrap());
    assert_eq!(series.len() as u64, totals["series"].as_u64().unwrap());
    assert_eq!(stale, totals["stale_markers"].as_u64().unwrap());
    // 10 hosts, churn at rounds 2 and 4 replacing 2 hosts each: 14 hosts, 4 of them marked stale.
    let per_host = header["series_per_host"].as_u64().unwrap();
    assert_eq!(series.len() as u64, 14 * per_host);
    assert_eq!(stale, 4 * per_host);
    assert_eq!(samples, 5 * 10 * per_host + stale);
    let label_bytes = totals["label_bytes_per_sample"].as_f64().unwrap();
    assert!(
        (70.0..110.0).contains(&label_bytes),
        "label bytes per sample: {label_bytes}"
    );
}
