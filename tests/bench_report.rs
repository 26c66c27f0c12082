//! The `compare` report writer, given fixed results: the markdown has the
//! ingest table, the ratios Strata/VictoriaMetrics and Strata/Prometheus and the
//! per-query tables; the SVGs are well-formed (balanced tags) with one polyline
//! per server holding one point per interval or percentile.

#[allow(dead_code)]
#[path = "../bench/report/mod.rs"]
mod report;

use report::results::{
    AnswerCheck, CompareResults, IngestSummary, Percentiles, QueryResult, QueryStatus,
    ServerResult, WorkloadSummary,
};

fn query(name: &str, status: QueryStatus, answer: AnswerCheck, p50: f64) -> QueryResult {
    QueryResult {
        name: name.to_string(),
        status,
        latency_ms: Percentiles {
            count: 10,
            p50,
            p90: p50 * 2.0,
            p99: p50 * 3.0,
            max: p50 * 4.0,
        },
        answer,
    }
}

fn server(name: &str, samples_per_second: f64, intervals: usize, rss_mib: u64) -> ServerResult {
    ServerResult {
        name: name.to_string(),
        version: format!("{name}-1.0"),
        ingest: IngestSummary {
            samples_accepted: 1_000_000,
            requests_failed: 0,
            elapsed_seconds: 1e6 / samples_per_second,
            samples_per_second,
            server_us_per_sample: Some(samples_per_second / 1e5),
            latency_ms: Percentiles {
                count: 100,
                p50: 1.0,
                p90: 2.0,
                p99: 4.0,
                max: 8.0,
            },
            samples_per_interval: (0..intervals as u64).map(|i| 1000 * (i + 1)).collect(),
        },
        disk_bytes: 1_500_000,
        bytes_per_sample: Some(1.5),
        peak_rss_bytes: rss_mib << 20,
        queries: Vec::new(),
    }
}

fn fixed_results() -> CompareResults {
    let mut strata = server("strata", 200_000.0, 3, 50);
    let mut vm = server("victoriametrics", 400_000.0, 4, 100);
    let mut prometheus = server("prometheus", 100_000.0, 5, 200);
    strata.bytes_per_sample = Some(0.9);
    vm.bytes_per_sample = Some(0.45);
    prometheus.bytes_per_sample = Some(1.8);
    strata.queries = vec![
        query("up", QueryStatus::Ok, AnswerCheck::Equal, 1.0),
        query(
            "cpu_rate",
            QueryStatus::Unsupported("not implemented yet".into()),
            AnswerCheck::NotCompared,
            0.0,
        ),
    ];
    vm.queries = vec![
        query("up", QueryStatus::Ok, AnswerCheck::Equal, 0.5),
        query(
            "cpu_rate",
            QueryStatus::Ok,
            AnswerCheck::Different("series count 3 vs 4".into()),
            2.0,
        ),
    ];
    prometheus.queries = vec![
        query("up", QueryStatus::Ok, AnswerCheck::Reference, 0.25),
        query("cpu_rate", QueryStatus::Ok, AnswerCheck::Reference, 4.0),
    ];
    CompareResults {
        date: "2026-11-23".to_string(),
        workload_name: "quick-test".to_string(),
        workload: WorkloadSummary {
            hosts: 10,
            series: 2000,
            samples: 1_000_000,
            requests: 400,
            scrapes: 500,
            scrape_interval_seconds: 10.0,
        },
        server_cpus: "0".to_string(),
        client_cpus: "1".to_string(),
        query_repetitions: 10,
        notes: vec!["bytes measured after stop".to_string()],
        servers: vec![strata, vm, prometheus],
    }
}

/// Checks that every tag is closed in order; returns the names of all opened elements.
fn balanced_tags(xml: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("unterminated tag") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().expect("closing tag without opening");
            assert_eq!(open, name.trim(), "mismatched closing tag");
            continue;
        }
        let name = tag
            .split_whitespace()
            .next()
            .expect("empty tag")
            .trim_end_matches('/');
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()));
        seen.push(name.to_string());
        if !tag.ends_with('/') {
            stack.push(name.to_string());
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    assert!(!rest.contains('>'), "stray '>' after the last tag");
    seen
}

/// Point counts of every polyline in document order.
fn polyline_point_counts(svg: &str) -> Vec<usize> {
    svg.split("<polyline")
        .skip(1)
        .map(|element| {
            let points = element.split("points=\"").nth(1).expect("points attribute");
            let points = &points[..points.find('"').expect("closing quote")];
            points
                .split_whitespace()
                .inspect(|p| {
                    let (x, y) = p.split_once(',').expect("x,y");
                    assert!(x.parse::<f64>().is_ok_and(f64::is_finite), "{p}");
                    assert!(y.parse::<f64>().is_ok_and(f64::is_finite), "{p}");
                })
                .count()
        })
        .collect()
}

#[test]
fn markdown_has_tables_and_ratios() {
    let md = report::render_markdown(&fixed_results());
    assert!(md.starts_with("# Strata vs VictoriaMetrics vs Prometheus: 2026-11-23-quick-test"));
    assert!(md.contains(
        "| strata | strata-1.0 | 1000000 | 0 | 200000 | 2.00 | 1.00 | 4.00 | 1500000 | 0.90 | 50.0 |"
    ));
    assert!(md.contains("| victoriametrics | victoriametrics-1.0 | 1000000 | 0 | 400000 | 4.00 |"));
    assert!(md.contains("| metric | Strata/VictoriaMetrics | Strata/Prometheus |"));
    assert!(md.contains("| samples/s (higher is better) | 0.50× | 2.00× |"));
    assert!(md.contains("| server µs CPU/sample | 0.50× | 2.00× |"));
    assert!(md.contains("| ingest p99 latency | 1.00× | 1.00× |"));
    assert!(md.contains("| bytes/sample on disk | 2.00× | 0.50× |"));
    assert!(md.contains("| peak RSS | 0.50× | 0.25× |"));
    assert!(md.contains("| `up` | 1.00 / 3.00 | 0.50 / 1.50 | 0.25 / 0.75 |"));
    assert!(md.contains("| `cpu_rate` | unsupported | 2.00 / 6.00 | 4.00 / 12.00 |"));
    assert!(md.contains("| `up` | equal | equal | reference |"));
    assert!(md.contains("| `cpu_rate` | n/a | different | reference |"));
    assert!(md.contains("- victoriametrics `cpu_rate`: series count 3 vs 4"));
    assert!(md.contains("Unsupported by strata (HTTP 400, not implemented yet): `cpu_rate`."));
    assert!(md.contains("![throughput](2026-11-23-quick-test-throughput.svg)"));
    assert!(md.contains("![latency](2026-11-23-quick-test-latency.svg)"));
    assert!(md.contains(
        "![query latency](2026-11-23-quick-test-queries.svg)\n\nq1 `up`, q2 `cpu_rate`\n"
    ));
    assert!(md.contains("- bytes measured after stop"));
}

#[test]
fn ratio_handles_missing_and_zero() {
    assert_eq!(report::ratio(Some(3.0), Some(2.0)), "1.50×");
    assert_eq!(report::ratio(None, Some(2.0)), "n/a");
    assert_eq!(report::ratio(Some(1.0), Some(0.0)), "n/a");
}

#[test]
fn svgs_are_well_formed_with_one_point_per_interval_or_percentile() {
    let results = fixed_results();
    let throughput = report::throughput_chart(&results).to_svg();
    let tags = balanced_tags(&throughput);
    assert_eq!(tags.first().map(String::as_str), Some("svg"));
    assert_eq!(polyline_point_counts(&throughput), vec![3, 4, 5]);
    let latency = report::latency_chart(&results).to_svg();
    balanced_tags(&latency);
    assert_eq!(polyline_point_counts(&latency), vec![4, 4, 4]);
    for name in ["strata", "victoriametrics", "prometheus", "p99"] {
        assert!(latency.contains(&format!(">{name}</text>")), "{name}");
    }
    // Strata's unsupported cpu_rate leaves a gap: one single-point polyline for it.
    let queries = report::query_latency_chart(&results).to_svg();
    balanced_tags(&queries);
    assert_eq!(polyline_point_counts(&queries), vec![1, 2, 2]);
    assert_eq!(queries.matches("<circle").count(), 5);
}

#[test]
fn write_report_puts_markdown_and_charts_side_by_side() {
    let dir = std::env::temp_dir().join(format!("strata-bench-report-{}", std::process::id()));
    let paths = report::write_report(&fixed_results(), &dir).expect("write report");
    assert_eq!(paths.markdown, dir.join("2026-11-23-quick-test.md"));
    let files = [
        &paths.markdown,
        &paths.throughput_svg,
        &paths.latency_svg,
        &paths.query_latency_svg,
        &paths.results_json,
    ];
    for path in files {
        assert!(std::fs::metadata(path).expect("file exists").len() > 100);
    }
    let json = std::fs::read(&paths.results_json).unwrap();
    let back: report::results::CompareResults = serde_json::from_slice(&json).unwrap();
    assert_eq!(back.servers.len(), 3);
    assert_eq!(
        report::render_markdown(&back),
        report::render_markdown(&fixed_results())
    );
    let svg = std::fs::read_to_string(&paths.throughput_svg).unwrap();
    balanced_tags(&svg);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `compare` end to end on a tiny workload with Strata alone: it exits 0,
/// writes the report under `--out-dir`, and removes its temp directory.
#[test]
fn compare_with_strata_alone_writes_a_report_and_cleans_up() {
    let out_dir = std::env::temp_dir().join(format!("strata-bench-e2e-{}", std::process::id()));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_strata-bench"))
        .args([
            "compare",
            "--servers",
            "strata",
            "--strata",
            env!("CARGO_BIN_EXE_strata"),
        ])
        .args(["--hosts", "3", "--scrapes", "12", "--repetitions", "2"])
        .args([
            "--server-cpus",
            "0",
            "--client-cpus",
            "0-1",
            "--workload-name",
            "e2e",
        ])
        .arg("--out-dir")
        .arg(&out_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run strata-bench compare");
    let work_dir = std::env::temp_dir().join(format!("strata-compare-{}", child.id()));
    let output = child.wait_with_output().expect("wait for compare");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "compare failed:\n{stderr}");
    let name = std::fs::read_dir(&out_dir)
        .expect("out dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.ends_with("-e2e.md"))
        .expect("a markdown report");
    let md = std::fs::read_to_string(out_dir.join(&name)).expect("read report");
    assert!(md.contains("| strata | strata "), "{md}");
    assert!(md.contains("| `up` | "), "{md}");
    assert!(
        md.contains("| samples/s (higher is better) | n/a | n/a |"),
        "{md}"
    );
    assert!(
        !work_dir.exists(),
        "temp dir {} left behind",
        work_dir.display()
    );
    std::fs::remove_dir_all(&out_dir).expect("remove out dir");
}

/// A server that exits during start-up fails `compare` with its reason, and
/// the guard still removes the temp directory.
#[test]
fn compare_fails_cleanly_when_a_server_does_not_start() {
    let out_dir =
        std::env::temp_dir().join(format!("strata-bench-e2e-fail-{}", std::process::id()));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_strata-bench"))
        .args(["compare", "--servers", "strata", "--strata", "/bin/false"])
        .args(["--hosts", "1", "--scrapes", "2", "--client-cpus", "0-1"])
        .arg("--out-dir")
        .arg(&out_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run strata-bench compare");
    let work_dir = std::env::temp_dir().join(format!("strata-compare-{}", child.id()));
    let output = child.wait_with_output().expect("wait for compare");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("exited during start-up"), "{stderr}");
    assert!(
        !work_dir.exists(),
        "temp dir {} left behind",
        work_dir.display()
    );
    assert!(!out_dir.exists(), "no report expected");
}
