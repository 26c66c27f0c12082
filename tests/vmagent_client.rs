//! Issue 6, real client: vmagent 1.79 scrapes a target serving fixed Prometheus text and
//! remote-writes to Strata; the test reads the series back through `/api/v1/export` (JSON lines)
//! and checks the exact label sets (with the `job`/`instance` vmagent adds) and values.
//! Skips with a printed reason when the Debian `victoria-metrics` package (vmagent) is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{enc, now_ms, Server, TempDir};

const VMAGENT: &str = "/usr/bin/vmagent";

/// What the target serves on every scrape: values chosen to survive a float round trip exactly
/// and to tell series apart (a negative, a tiny, a large and an integral counter).
const TARGET_BODY: &str = "\
# HELP vmtest_requests_total Requests served.
# TYPE vmtest_requests_total counter
vmtest_requests_total{path=\"/a\",code=\"200\"} 1027
vmtest_requests_total{path=\"/b\",code=\"500\"} 3
# HELP vmtest_temperature_celsius Temperature of the probe.
# TYPE vmtest_temperature_celsius gauge
vmtest_temperature_celsius -12.5
vmtest_ratio{kind=\"tiny\"} 0.000123
vmtest_ratio{kind=\"large\"} 1.5e+300
";

/// The series the target exposes, as (labels without job/instance, value).
fn expected_target_series() -> Vec<(Vec<(&'static str, &'static str)>, f64)> {
    vec![
        (
            vec![
                ("__name__", "vmtest_requests_total"),
                ("code", "200"),
                ("path", "/a"),
            ],
            1027.0,
        ),
        (
            vec![
                ("__name__", "vmtest_requests_total"),
                ("code", "500"),
                ("path", "/b"),
            ],
            3.0,
        ),
        (vec![("__name__", "vmtest_temperature_celsius")], -12.5),
        (
            vec![("__name__", "vmtest_ratio"), ("kind", "tiny")],
            0.000123,
        ),
        (
            vec![("__name__", "vmtest_ratio"), ("kind", "large")],
            1.5e300,
        ),
    ]
}

/// A tiny HTTP server answering every request with `TARGET_BODY`; counts scrapes.
struct Target {
    addr: String,
    scrapes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Target {
    fn start() -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let scrapes = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (scrapes_seen, stopping) = (scrapes.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        std::thread::spawn({
                            let scrapes = scrapes_seen.clone();
                            move || serve_connection(stream, &scrapes)
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Target {
            addr,
            scrapes,
            stop,
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Answers the requests of one keep-alive connection until the client closes it.
fn serve_connection(stream: TcpStream, scrapes: &AtomicUsize) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        // Skip the headers; scrapes are GETs without a body.
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim_end().is_empty() {
                break;
            }
        }
        scrapes.fetch_add(1, Ordering::Relaxed);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{TARGET_BODY}",
            TARGET_BODY.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// The vmagent process, killed by PID when the test ends however it ends.
struct Vmagent(Child);

impl Drop for Vmagent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One exported series: its labels and samples.
struct Exported {
    labels: BTreeMap<String, String>,
    values: Vec<f64>,
    timestamps: Vec<i64>,
}

/// Parses `/api/v1/export` JSON lines.
fn parse_export(text: &str) -> Vec<Exported> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("export line is not JSON ({e}): {line}"));
            let labels = json["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let values = json["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect();
            let timestamps = json["timestamps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_i64().unwrap())
                .collect();
            Exported {
                labels,
                values,
                timestamps,
            }
        })
        .collect()
}

fn export(strata: &Server, selector: &str) -> Vec<Exported> {
    let response = strata.get(&format!("/api/v1/export?match[]={}", enc(selector)));
    assert_eq!(response.status, 200, "{}", response.text());
    parse_export(&response.text())
}

#[test]
fn vmagent_scrapes_and_remote_writes() {
    if !std::path::Path::new(VMAGENT).exists() {
        println!("SKIPPED vmagent_scrapes_and_remote_writes: {VMAGENT} not installed (apt-get install victoria-metrics)");
        return;
    }
    let dir = TempDir::new("vmagent");
    let strata = Server::start(&dir.path().join("strata"), &[]);
    let target = Target::start();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vmtest\n    static_configs:\n      - targets: ['{}']\n",
        target.addr
    );
    let config_path = dir.path().join("scrape.yml");
    std::fs::write(&config_path, config).unwrap();
    let started_ms = now_ms();
    let vmagent = Vmagent(
        Command::new(VMAGENT)
            .arg(format!("-promscrape.config={}", config_path.display()))
            .arg(format!(
                "-remoteWrite.url=http://{}/api/v1/write",
                strata.addr
            ))
            .arg(format!(
                "-remoteWrite.tmpDataPath={}",
                dir.path().join("vmagent-data").display()
            ))
            .arg("-remoteWrite.flushInterval=200ms")
            .arg(format!("-httpListenAddr=127.0.0.1:{}", free_port()))
            .arg("-loggerLevel=ERROR")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vmagent"),
    );

    // Wait (bounded) until every target series has at least two scrapes' samples.
    let expected = expected_target_series();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut series = Vec::new();
    while Instant::now() < deadline {
        series = export(&strata, r#"{job="vmtest",__name__=~"vmtest_.*"}"#);
        if series.len() >= expected.len() && series.iter().all(|s| s.values.len() >= 2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let scrapes = target.scrapes.load(Ordering::Relaxed);
    assert!(scrapes >= 2, "vmagent scraped the target {scrapes} times");
    let instance = target.addr.clone();

    // Exactly the target's series arrived, each with the job and instance vmagent adds.
    let mut want: Vec<BTreeMap<String, String>> = expected
        .iter()
        .map(|(labels, _)| {
            let mut map: BTreeMap<String, String> = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            map.insert("job".into(), "vmtest".into());
            map.insert("instance".into(), instance.clone());
            map
        })
        .collect();
    want.sort();
    let mut got: Vec<BTreeMap<String, String>> = series.iter().map(|s| s.labels.clone()).collect();
    got.sort();
    assert_eq!(got, want, "exported label sets");

    // Every sample carries the served value exactly, at a scrape time after the start, and the
    // samples of a series are distinct scrapes in time order.
    let now = now_ms();
    for (labels, value) in &expected {
        let name = labels[0].1;
        let exported = series
            .iter()
            .find(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
                    && s.labels.len() == labels.len() + 2
            })
            .unwrap_or_else(|| panic!("{name} {labels:?} missing"));
        assert!(exported.values.len() >= 2, "{name}: {:?}", exported.values);
        assert!(
            exported.values.iter().all(|v| v == value),
            "{name} {labels:?}: want {value}, got {:?}",
            exported.values
        );
        assert_eq!(exported.timestamps.len(), exported.values.len());
        assert!(
            exported.timestamps.windows(2).all(|w| w[0] < w[1]),
            "{name}: timestamps not increasing: {:?}",
            exported.timestamps
        );
        assert!(
            exported
                .timestamps
                .iter()
                .all(|&t| t >= started_ms - 1000 && t <= now),
            "{name}: timestamps {:?} outside [{started_ms}, {now}]",
            exported.timestamps
        );
    }

    // vmagent's own per-scrape series: `up` is 1 and the scraped sample count is the target's 5.
    let up = export(&strata, r#"up{job="vmtest"}"#);
    assert_eq!(up.len(), 1, "one up series");
    assert_eq!(up[0].labels.get("instance"), Some(&instance));
    assert!(up[0].values.iter().all(|&v| v == 1.0), "{:?}", up[0].values);
    let scraped = export(&strata, r#"scrape_samples_scraped{job="vmtest"}"#);
    assert_eq!(scraped.len(), 1);
    assert!(
        scraped[0]
            .values
            .iter()
            .all(|&v| v == expected.len() as f64),
        "{:?}",
        scraped[0].values
    );

    // The same data answers PromQL as well.
    let data = strata.get_data(&format!(
        "/api/v1/query?query={}",
        enc(r#"sum(vmtest_requests_total{job="vmtest"})"#)
    ));
    assert_eq!(data["result"][0]["value"][1], "1030", "{data}");

    let metrics = strata.get("/metrics").text();
    assert!(
        metrics.contains(r#"strata_http_requests_total{path="/api/v1/write",code="204"}"#),
        "{metrics}"
    );
    drop(vmagent);
    assert!(strata.stop().success());
}
