//! Issue 6, bounded memory on every streaming import path: `strata-bench import-rss` streams a
//! generated body (chunked, over 1000 series) into a fresh Strata per format and samples its
//! RSS. This CI version sends 128 MiB per format (the README's 1 GiB run is the same command
//! with `--body-mib 1024`) and requires a peak less than 64 MiB above the RSS before the import.
//! A memory bound, not a timing: the run's speed does not matter.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::TempDir;

const MIB: u64 = 1 << 20;

#[test]
fn streaming_imports_grow_rss_by_less_than_64_mib() {
    let dir = TempDir::new("import-rss");
    let json_path = dir.path().join("import-rss.json");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strata-bench"))
        .args(["import-rss", "--body-mib", "128", "--settle", "2s"])
        .arg("--strata")
        .arg(common::strata_bin())
        .arg("--json-out")
        .arg(&json_path)
        .output()
        .expect("run strata-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{stderr}");

    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let results = results.as_array().unwrap();
    let formats: Vec<&str> = results
        .iter()
        .map(|r| r["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["json", "prometheus", "csv", "influx"]);
    for result in results {
        let field = |name: &str| result[name].as_u64().unwrap();
        let format = result["format"].as_str().unwrap();
        assert!(field("body_bytes") >= 128 * MIB, "{format}: {result}");
        // Every sample of the body was stored (the bench checks the server's count against it).
        assert!(field("samples") > 1_000_000, "{format}: {result}");
        // The sampler really watched the import.
        assert!(field("rss_samples") >= 10, "{format}: {result}");
        let growth = field("rss_peak_bytes").saturating_sub(field("rss_before_bytes"));
        assert!(
            growth < 64 * MIB,
            "{format}: RSS grew by {} MiB during a 128 MiB import: {result}",
            growth / MIB
        );
    }
}
