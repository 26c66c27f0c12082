//! The `compare` report: a markdown file with tables and ratios, three SVG
//! charts beside it (throughput over time, ingest latency percentiles, query
//! latency) and the results as JSON.
//!
//! Rendering is pure (`render_markdown`, `throughput_chart`, `latency_chart`);
//! `write_report` only puts the strings into files. Self-contained on purpose:
//! `tests/bench_report.rs` includes this directory by path.

pub mod results;
pub mod svg_chart;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use results::{CompareResults, Percentiles, ServerResult};
use svg_chart::{Line, LineChart};

/// Server names the ratios are computed between.
pub const STRATA: &str = "strata";
/// VictoriaMetrics' name in results.
pub const VICTORIA_METRICS: &str = "victoriametrics";
/// Prometheus' name in results.
pub const PROMETHEUS: &str = "prometheus";

/// Where `write_report` put its files.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    /// The markdown report.
    pub markdown: PathBuf,
    /// Samples/s over time per server.
    pub throughput_svg: PathBuf,
    /// Ingest latency percentiles per server.
    pub latency_svg: PathBuf,
    /// Median latency per query per server.
    pub query_latency_svg: PathBuf,
    /// The results themselves as JSON, to compare later runs or re-render.
    pub results_json: PathBuf,
}

/// The file-name stem `<date>-<workload>`.
pub fn stem(results: &CompareResults) -> String {
    format!("{}-{}", results.date, results.workload_name)
}

/// Writes `<dir>/<date>-<workload>.md`, its three charts and the results as JSON.
pub fn write_report(results: &CompareResults, dir: &Path) -> std::io::Result<ReportPaths> {
    std::fs::create_dir_all(dir)?;
    let stem = stem(results);
    let paths = ReportPaths {
        markdown: dir.join(format!("{stem}.md")),
        throughput_svg: dir.join(format!("{stem}-throughput.svg")),
        latency_svg: dir.join(format!("{stem}-latency.svg")),
        query_latency_svg: dir.join(format!("{stem}-queries.svg")),
        results_json: dir.join(format!("{stem}.json")),
    };
    let json = serde_json::to_vec_pretty(results).map_err(std::io::Error::other)?;
    std::fs::write(&paths.results_json, json)?;
    std::fs::write(
        &paths.query_latency_svg,
        query_latency_chart(results).to_svg(),
    )?;
    std::fs::write(&paths.throughput_svg, throughput_chart(results).to_svg())?;
    std::fs::write(&paths.latency_svg, latency_chart(results).to_svg())?;
    std::fs::write(&paths.markdown, render_markdown(results))?;
    Ok(paths)
}

/// Accepted samples in each second of each server's ingest run.
pub fn throughput_chart(results: &CompareResults) -> LineChart {
    let lines = results
        .servers
        .iter()
        .map(|server| Line {
            name: server.name.clone(),
            points: server
                .ingest
                .samples_per_interval
                .iter()
                .enumerate()
                .map(|(second, &samples)| ((second + 1) as f64, samples as f64))
                .collect(),
        })
        .collect();
    LineChart {
        title: format!("Ingest throughput, {}", results.workload_name),
        x_label: "second of the run".to_string(),
        y_label: "samples/s".to_string(),
        x_categories: Vec::new(),
        log_y: false,
        lines,
    }
}

/// The percentiles shown in the latency chart, in x order.
pub const LATENCY_CHART_PERCENTILES: [&str; 4] = ["p50", "p90", "p99", "max"];

/// Ingest request latency p50, p90, p99 and max per server (log scale).
pub fn latency_chart(results: &CompareResults) -> LineChart {
    let lines = results
        .servers
        .iter()
        .map(|server| {
            let l = &server.ingest.latency_ms;
            Line {
                name: server.name.clone(),
                points: [l.p50, l.p90, l.p99, l.max]
                    .into_iter()
                    .enumerate()
                    .map(|(index, ms)| (index as f64, ms))
                    .collect(),
            }
        })
        .collect();
    LineChart {
        title: format!("Ingest request latency, {}", results.workload_name),
        x_label: "percentile".to_string(),
        y_label: "ms (log scale)".to_string(),
        x_categories: LATENCY_CHART_PERCENTILES.map(String::from).to_vec(),
        log_y: true,
        lines,
    }
}

/// Median latency of every query per server (log scale; unanswered queries
/// leave a gap). x positions are query numbers `q1…`, listed under the chart.
pub fn query_latency_chart(results: &CompareResults) -> LineChart {
    let lines = results
        .servers
        .iter()
        .map(|server| Line {
            name: server.name.clone(),
            points: server
                .queries
                .iter()
                .enumerate()
                .map(|(index, q)| {
                    let answered = q.status == results::QueryStatus::Ok;
                    (
                        index as f64,
                        if answered { q.latency_ms.p50 } else { f64::NAN },
                    )
                })
                .collect(),
        })
        .collect();
    let queries = results.servers.first().map_or(0, |s| s.queries.len());
    LineChart {
        title: format!("Query latency p50, {}", results.workload_name),
        x_label: "query".to_string(),
        y_label: "ms (log scale)".to_string(),
        x_categories: (1..=queries).map(|n| format!("q{n}")).collect(),
        log_y: true,
        lines,
    }
}

/// `a / b` as `1.23×`, or `n/a` when either is missing or b is zero.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 && a.is_finite() && b.is_finite() => {
            format!("{:.2}×", a / b)
        }
        _ => "n/a".to_string(),
    }
}

fn optional(value: Option<f64>, decimals: usize) -> String {
    value
        .filter(|v| v.is_finite())
        .map_or("n/a".to_string(), |v| format!("{v:.decimals$}"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// The ingest metrics compared between servers: (name, value getter).
type Metric = (&'static str, fn(&ServerResult) -> Option<f64>);

/// Metrics of the ratio table; for every one, lower is better except samples/s.
pub const RATIO_METRICS: [Metric; 6] = [
    ("samples/s (higher is better)", |s| {
        Some(s.ingest.samples_per_second)
    }),
    ("server µs CPU/sample", |s| s.ingest.server_us_per_sample),
    ("ingest p50 latency", |s| Some(s.ingest.latency_ms.p50)),
    ("ingest p99 latency", |s| Some(s.ingest.latency_ms.p99)),
    ("bytes/sample on disk", |s| s.bytes_per_sample),
    ("peak RSS", |s| Some(s.peak_rss_bytes as f64)),
];

fn server<'a>(results: &'a CompareResults, name: &str) -> Option<&'a ServerResult> {
    results.servers.iter().find(|s| s.name == name)
}

/// The whole markdown report.
pub fn render_markdown(results: &CompareResults) -> String {
    let mut md = String::new();
    let stem = stem(results);
    let w = &results.workload;
    let _ = writeln!(md, "# Strata vs VictoriaMetrics vs Prometheus: {stem}\n");
    let _ = writeln!(
        md,
        "Workload: {} hosts, {} series, {} samples in {} requests ({} scrapes every {}s). \
         Servers pinned to CPU {}, client to CPU {}; one server at a time. \
         {} repetitions per query.\n",
        w.hosts,
        w.series,
        w.samples,
        w.requests,
        w.scrapes,
        w.scrape_interval_seconds,
        results.server_cpus,
        results.client_cpus,
        results.query_repetitions
    );
    write_ingest_table(&mut md, results);
    write_ratio_table(&mut md, results);
    let _ = writeln!(
        md,
        "![throughput]({stem}-throughput.svg)\n\n![latency]({stem}-latency.svg)\n"
    );
    write_query_tables(&mut md, results);
    if !results.notes.is_empty() {
        md.push_str("## Notes\n\n");
        for note in &results.notes {
            let _ = writeln!(md, "- {note}");
        }
        md.push('\n');
    }
    md
}

fn write_ingest_table(md: &mut String, results: &CompareResults) {
    md.push_str("## Ingest, disk and memory\n\n");
    md.push_str(
        "| server | version | samples accepted | failed requests | samples/s | server µs CPU/sample \
         | p50 ms | p99 ms | disk bytes | bytes/sample | peak RSS MiB |\n",
    );
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for s in &results.servers {
        let i = &s.ingest;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.0} | {} | {:.2} | {:.2} | {} | {} | {:.1} |",
            s.name,
            s.version,
            i.samples_accepted,
            i.requests_failed,
            i.samples_per_second,
            optional(i.server_us_per_sample, 2),
            i.latency_ms.p50,
            i.latency_ms.p99,
            s.disk_bytes,
            optional(s.bytes_per_sample, 2),
            mib(s.peak_rss_bytes)
        );
    }
    md.push('\n');
}

fn write_ratio_table(md: &mut String, results: &CompareResults) {
    let strata = server(results, STRATA);
    let vm = server(results, VICTORIA_METRICS);
    let prometheus = server(results, PROMETHEUS);
    md.push_str("## Ratios\n\n");
    md.push_str("| metric | Strata/VictoriaMetrics | Strata/Prometheus |\n|---|---:|---:|\n");
    for (name, get) in RATIO_METRICS {
        let value = |s: Option<&ServerResult>| s.and_then(get);
        let _ = writeln!(
            md,
            "| {name} | {} | {} |",
            ratio(value(strata), value(vm)),
            ratio(value(strata), value(prometheus))
        );
    }
    md.push('\n');
}

fn latency_cell(status_label: &str, latency: &Percentiles) -> String {
    if status_label == "ok" {
        format!("{:.2} / {:.2}", latency.p50, latency.p99)
    } else {
        status_label.to_string()
    }
}

fn write_query_tables(md: &mut String, results: &CompareResults) {
    let Some(first) = results.servers.first() else {
        return;
    };
    write_query_latency_table(md, results, first);
    write_query_ratio_table(md, results, first);
    write_answer_table(md, results, first);
}

/// A server's p50 and p99 of one query, when it answered it.
fn answered(server: Option<&ServerResult>, index: usize) -> Option<(f64, f64)> {
    let q = server?.queries.get(index)?;
    (q.status.label() == "ok").then_some((q.latency_ms.p50, q.latency_ms.p99))
}

/// Per-query latency ratios, and overall: the dashboard's total (sum over the queries every
/// server answered) and the geometric mean of the per-query ratios.
fn write_query_ratio_table(md: &mut String, results: &CompareResults, first: &ServerResult) {
    let strata = server(results, STRATA);
    let vm = server(results, VICTORIA_METRICS);
    let prometheus = server(results, PROMETHEUS);
    md.push_str("\n## Query latency ratios (lower is better for Strata)\n\n");
    md.push_str("| query | Strata/VictoriaMetrics p50 | p99 | Strata/Prometheus p50 | p99 |\n");
    md.push_str("|---|---:|---:|---:|---:|\n");
    // (sum of p50, sum of p99, sum of ln p50 ratio, count) per peer, over queries all three answered.
    let mut totals = [(0.0f64, 0.0f64, 0.0f64, 0usize); 3];
    for (index, query) in first.queries.iter().enumerate() {
        let (s, v, p) = (
            answered(strata, index),
            answered(vm, index),
            answered(prometheus, index),
        );
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} |",
            query.name,
            ratio(s.map(|x| x.0), v.map(|x| x.0)),
            ratio(s.map(|x| x.1), v.map(|x| x.1)),
            ratio(s.map(|x| x.0), p.map(|x| x.0)),
            ratio(s.map(|x| x.1), p.map(|x| x.1)),
        );
        if let (Some(s), Some(v), Some(p)) = (s, v, p) {
            for (total, x) in totals.iter_mut().zip([s, v, p]) {
                total.0 += x.0;
                total.1 += x.1;
                total.2 += (s.0 / x.0).ln();
                total.3 += 1;
            }
        }
    }
    let [s, v, p] = totals;
    let _ = writeln!(
        md,
        "| **all {} queries: sum of p50 / p99** | {} | {} | {} | {} |",
        s.3,
        ratio(Some(s.0), Some(v.0)),
        ratio(Some(s.1), Some(v.1)),
        ratio(Some(s.0), Some(p.0)),
        ratio(Some(s.1), Some(p.1)),
    );
    let geomean = |t: (f64, f64, f64, usize)| (t.3 > 0).then(|| (t.2 / t.3 as f64).exp());
    let _ = writeln!(
        md,
        "| **geometric mean of the per-query p50 ratios** | {} | | {} | |",
        ratio(geomean(v), Some(1.0)),
        ratio(geomean(p), Some(1.0)),
    );
    let _ = writeln!(
        md,
        "\nDashboard total p50 (ms): strata {:.2}, victoriametrics {:.2}, prometheus {:.2}.",
        s.0, v.0, p.0
    );
}

fn write_query_latency_table(md: &mut String, results: &CompareResults, first: &ServerResult) {
    let legend: Vec<String> = first
        .queries
        .iter()
        .enumerate()
        .map(|(index, q)| format!("q{} `{}`", index + 1, q.name))
        .collect();
    md.push_str("## Queries: latency p50 / p99 ms\n\n");
    let _ = writeln!(
        md,
        "![query latency]({}-queries.svg)\n\n{}\n",
        stem(results),
        legend.join(", ")
    );
    md.push_str("| query |");
    for s in &results.servers {
        let _ = write!(md, " {} |", s.name);
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(results.servers.len()));
    md.push('\n');
    for (index, query) in first.queries.iter().enumerate() {
        let _ = write!(md, "| `{}` |", query.name);
        for s in &results.servers {
            let cell = s.queries.get(index).map_or("n/a".to_string(), |q| {
                latency_cell(q.status.label(), &q.latency_ms)
            });
            let _ = write!(md, " {cell} |");
        }
        md.push('\n');
    }
}

fn write_answer_table(md: &mut String, results: &CompareResults, first: &ServerResult) {
    md.push_str("\n## Answers compared with Prometheus\n\n| query |");
    for s in &results.servers {
        let _ = write!(md, " {} |", s.name);
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(results.servers.len()));
    md.push('\n');
    let mut details = Vec::new();
    for (index, query) in first.queries.iter().enumerate() {
        let _ = write!(md, "| `{}` |", query.name);
        for s in &results.servers {
            let q = s.queries.get(index);
            let cell = q.map_or("n/a", |q| q.answer.label());
            let _ = write!(md, " {cell} |");
            if let Some(q) = q {
                let text = match (&q.status, &q.answer) {
                    (_, results::AnswerCheck::Different(why)) => Some(why),
                    (results::QueryStatus::Error(why), _) => Some(why),
                    _ => None,
                };
                if let Some(why) = text {
                    details.push(format!("{} `{}`: {}", s.name, query.name, why));
                }
            }
        }
        md.push('\n');
    }
    md.push('\n');
    for s in &results.servers {
        let unsupported: Vec<String> = s
            .queries
            .iter()
            .filter(|q| matches!(q.status, results::QueryStatus::Unsupported(_)))
            .map(|q| format!("`{}`", q.name))
            .collect();
        if !unsupported.is_empty() {
            let _ = writeln!(
                md,
                "Unsupported by {} (HTTP 400, not implemented yet): {}.\n",
                s.name,
                unsupported.join(", ")
            );
        }
    }
    if !details.is_empty() {
        md.push_str("Differences and errors:\n\n");
        for line in details {
            let _ = writeln!(md, "- {}", line.replace('\n', " "));
        }
        md.push('\n');
    }
}
