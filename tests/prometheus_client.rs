//! Issue 2, real client: Prometheus 2.42 scrapes Strata's /metrics and remote-writes to Strata;
//! then `promtool query instant` against Strata returns the scraped series.
//! Skips with a printed reason when the Debian `prometheus` package is not installed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{enc, Server, TempDir};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn prometheus_remote_writes_and_promtool_queries() {
    if !std::path::Path::new(PROMETHEUS).exists() || !std::path::Path::new(PROMTOOL).exists() {
        println!("SKIPPED prometheus_remote_writes_and_promtool_queries: {PROMETHEUS} or {PROMTOOL} not installed (apt-get install prometheus)");
        return;
    }
    let dir = TempDir::new("prometheus");
    let strata = Server::start(&dir.path().join("strata"), &[]);
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: strata\n    static_configs:\n      - targets: ['{addr}']\nremote_write:\n  - url: http://{addr}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n      max_samples_per_send: 500\n",
        addr = strata.addr
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let web = format!("127.0.0.1:{}", free_port());
    let mut prometheus = Command::new(PROMETHEUS)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("prom-data").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");

    let query = enc(r#"strata_series{job="strata"}"#);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut found = 0;
    while Instant::now() < deadline {
        let response = strata.get(&format!("/api/v1/query?query={query}"));
        if response.status == 200 {
            found = response.json()["data"]["result"]
                .as_array()
                .map_or(0, Vec::len);
            if found >= 2 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        found >= 2,
        "Prometheus' remote_write never delivered strata_series for both shards"
    );

    let output = Command::new(PROMTOOL)
        .args([
            "query",
            "instant",
            &format!("http://{}", strata.addr),
            r#"strata_series{job="strata"}"#,
        ])
        .output()
        .expect("run promtool");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "promtool failed: {} {}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("strata_series{"), "{stdout}");
    assert!(
        stdout.contains(r#"job="strata""#)
            && stdout.contains(r#"shard="0""#)
            && stdout.contains(r#"shard="1""#),
        "{stdout}"
    );
    // Prometheus also writes `up` for the scrape, and its remote-write requests were counted.
    let up = strata.get_data(&format!(
        "/api/v1/query?query={}",
        enc(r#"up{job="strata"}"#)
    ));
    assert_eq!(up["result"][0]["value"][1], "1", "{up}");
    let metrics = strata.get("/metrics").text();
    assert!(
        metrics.contains(r#"strata_http_requests_total{path="/api/v1/write",code="204"}"#),
        "{metrics}"
    );

    // SAFETY: terminating the Prometheus process this test started.
    unsafe {
        libc::kill(prometheus.id() as i32, libc::SIGTERM);
    }
    let _ = prometheus.wait();
    assert!(strata.stop().success());
}
