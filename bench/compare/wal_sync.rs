//! `strata-bench wal-sync`: what durability costs at ingest. Strata with `--wal.sync=always`
//! (fdatasync before every acknowledgement, group-committed), `batch` and `none`, against
//! VictoriaMetrics (which acknowledges before anything reaches the disk), on one workload, in
//! one run. Configurations take turns round after round, so slow phases of a shared machine
//! hit them all; the report gives every round and the median. Servers are pinned like
//! `compare` does (server CPUs apart from the client's).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::host_metrics;
use super::server_process::{ServerKind, ServerProcess};
use crate::error::BenchError;
use crate::gen::{self, GenArgs};
use crate::ingest::{self, IngestArgs};

/// Flags of `wal-sync`.
#[derive(Args, Debug)]
pub struct WalSyncArgs {
    /// Hosts in the workload, 137 series each.
    #[arg(long, default_value_t = 1000)]
    pub hosts: u64,
    /// Scrape rounds (10 s apart).
    #[arg(long, default_value_t = 30)]
    pub scrapes: u64,
    /// Rounds: every configuration ingests the whole workload once per round.
    #[arg(long, default_value_t = 3)]
    pub rounds: u64,
    /// Concurrent remote_write connections. Prometheus runs up to 50 remote_write shards per
    /// queue (`max_shards`), vmagent 2 × CPUs queues (`-remoteWrite.queues`); group commit
    /// needs several requests in flight to share an fdatasync.
    #[arg(long, default_value_t = 16)]
    pub connections: u64,
    /// `--wal.batch-interval` of the `batch` configuration.
    #[arg(long, default_value = "100ms")]
    pub batch_interval: String,
    /// Strata binary [default: `strata` next to this executable].
    #[arg(long)]
    pub strata: Option<PathBuf>,
    /// VictoriaMetrics binary.
    #[arg(long, default_value = "/usr/bin/victoria-metrics")]
    pub victoria_metrics: PathBuf,
    /// CPUs for the servers (taskset list).
    #[arg(long, default_value = "0")]
    pub server_cpus: String,
    /// CPUs for this client (taskset list); keep them apart from the servers'.
    #[arg(long, default_value = "1")]
    pub client_cpus: String,
    /// Directory of the report.
    #[arg(long, default_value = "bench/results")]
    pub out_dir: PathBuf,
}

/// One server set-up under test.
#[derive(Debug, Clone)]
struct Config {
    name: String,
    kind: ServerKind,
    flags: Vec<String>,
}

/// One ingest of the whole workload.
#[derive(Debug, Clone, Serialize)]
struct Measurement {
    samples_per_second: f64,
    server_us_per_sample: Option<f64>,
    p50_ms: f64,
    p99_ms: f64,
    failed_requests: u64,
    /// Strata only: fdatasyncs of WAL segments during the run (from `/metrics`).
    wal_fsyncs: Option<u64>,
}

/// All rounds of one configuration.
#[derive(Debug, Clone, Serialize)]
struct ConfigResult {
    name: String,
    flags: Vec<String>,
    rounds: Vec<Measurement>,
}

/// What the report and its JSON hold.
#[derive(Debug, Serialize)]
struct WalSyncResults {
    date: String,
    command: String,
    hosts: u64,
    series: u64,
    samples: u64,
    requests: u64,
    connections: u64,
    server_cpus: String,
    client_cpus: String,
    load_average_at_end: String,
    configs: Vec<ConfigResult>,
}

/// Time out a single request after this long.
const TIMEOUT: Duration = Duration::from_secs(120);

fn configs(args: &WalSyncArgs) -> Vec<Config> {
    let strata = |mode: &str, extra: &[String]| {
        let mut flags = vec![format!("--wal.sync={mode}")];
        flags.extend_from_slice(extra);
        Config {
            name: format!("strata --wal.sync={mode}"),
            kind: ServerKind::Strata,
            flags,
        }
    };
    vec![
        Config {
            name: "victoriametrics".to_string(),
            kind: ServerKind::VictoriaMetrics,
            flags: Vec::new(),
        },
        strata("always", &[]),
        strata(
            "batch",
            &[format!("--wal.batch-interval={}", args.batch_interval)],
        ),
        strata("none", &[]),
    ]
}

fn binary(args: &WalSyncArgs, kind: ServerKind) -> Result<PathBuf, BenchError> {
    super::server_process::server_binary(kind, args.strata.as_deref(), &args.victoria_metrics)
}

/// Sum of a counter over its label sets in a Prometheus text exposition.
fn counter(metrics: &str, name: &str) -> Option<u64> {
    let mut found = false;
    let mut total = 0;
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            continue;
        }
        if let Some(value) = rest.rsplit(' ').next().and_then(|v| v.parse::<u64>().ok()) {
            found = true;
            total += value;
        }
    }
    found.then_some(total)
}

fn measure(
    args: &WalSyncArgs,
    config: &Config,
    workload: &Path,
    work_dir: &Path,
) -> Result<Measurement, BenchError> {
    let binary = binary(args, config.kind)?;
    let mut server = ServerProcess::start(
        config.kind,
        &binary,
        &args.server_cpus,
        work_dir.to_path_buf(),
        &config.flags,
    )?;
    let ingest_args = IngestArgs::whole_workload(
        workload,
        server.target.clone(),
        server.pid(),
        args.connections,
        TIMEOUT,
    );
    let report = ingest::run_report(&ingest_args)?;
    let target = report
        .targets
        .first()
        .ok_or_else(|| BenchError::Failed("ingest returned no target report".to_string()))?;
    let wal_fsyncs = match config.kind {
        ServerKind::Strata => server
            .get("/metrics", TIMEOUT)
            .ok()
            .and_then(|(_, text)| counter(&text, "strata_wal_fsyncs_total")),
        _ => None,
    };
    server.stop()?;
    let measurement = Measurement {
        samples_per_second: target.samples_per_second,
        server_us_per_sample: target.server_cpu.as_ref().and_then(|c| c.us_per_sample),
        p50_ms: target.latency_ms.p50,
        p99_ms: target.latency_ms.p99,
        failed_requests: target.errors.values().sum(),
        wal_fsyncs,
    };
    eprintln!(
        "wal-sync: {}: {:.0} samples/s, p99 {:.1} ms, {} failed{}",
        config.name,
        measurement.samples_per_second,
        measurement.p99_ms,
        measurement.failed_requests,
        wal_fsyncs.map_or(String::new(), |n| format!(", {n} WAL fdatasyncs"))
    );
    Ok(measurement)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn render(results: &WalSyncResults) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Ingest with each `--wal.sync` mode vs VictoriaMetrics — {}\n",
        results.date
    );
    let _ = writeln!(out, "Command: `{}`\n", results.command);
    let _ = writeln!(
        out,
        "Workload: {} hosts, {} series, {} samples in {} remote_write requests; {} concurrent \
         connections; servers on CPUs {}, client on CPUs {}. Each configuration ingested the \
         whole workload once per round into a fresh data dir, configurations taking turns; \
         load average at the end: {}.\n",
        results.hosts,
        results.series,
        results.samples,
        results.requests,
        results.connections,
        results.server_cpus,
        results.client_cpus,
        results.load_average_at_end
    );
    let vm = results
        .configs
        .iter()
        .find(|c| c.name == "victoriametrics")
        .map(|c| median(c.rounds.iter().map(|m| m.samples_per_second).collect()));
    let _ = writeln!(
        out,
        "| configuration | samples/s (median) | vs VictoriaMetrics | each round | server µs CPU/sample (median) | p50 / p99 ms (median) | requests per WAL fdatasync |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---:|---:|---:|");
    for config in &results.configs {
        let rate = median(config.rounds.iter().map(|m| m.samples_per_second).collect());
        let cpu = median(
            config
                .rounds
                .iter()
                .filter_map(|m| m.server_us_per_sample)
                .collect(),
        );
        let p50 = median(config.rounds.iter().map(|m| m.p50_ms).collect());
        let p99 = median(config.rounds.iter().map(|m| m.p99_ms).collect());
        let each: Vec<String> = config
            .rounds
            .iter()
            .map(|m| format!("{:.0}k", m.samples_per_second / 1000.0))
            .collect();
        let ratio = vm.map_or("".to_string(), |vm| format!("{:.2}×", rate / vm));
        let fsyncs = median(
            config
                .rounds
                .iter()
                .filter_map(|m| m.wal_fsyncs.map(|f| f as f64))
                .collect(),
        );
        let per_fsync = if fsyncs.is_finite() && fsyncs > 0.0 {
            format!("{:.1}", results.requests as f64 / fsyncs)
        } else {
            "–".to_string()
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {ratio} | {} | {cpu:.2} | {p50:.1} / {p99:.1} | {per_fsync} |",
            config.name,
            rate,
            each.join(", ")
        );
    }
    let failed: u64 = results
        .configs
        .iter()
        .flat_map(|c| c.rounds.iter())
        .map(|m| m.failed_requests)
        .sum();
    let _ = writeln!(
        out,
        "\nFailed requests over all runs: {failed}. `always` acknowledges a request only after \
         the fdatasync of the WAL write holding it (concurrent requests share one write and one \
         fdatasync: group commit); `batch` after the write, with an fdatasync every \
         `--wal.batch-interval`; `none` never fdatasyncs before acknowledging. VictoriaMetrics \
         acknowledges once the samples are in its in-memory buffers (about a second of them is \
         lost on a crash). WAL fdatasyncs: `strata_wal_fsyncs_total` read after the ingest, before \
         the stop (segment seals included)."
    );
    out
}

/// Runs `wal-sync`.
pub fn run(args: &WalSyncArgs) -> Result<(), BenchError> {
    if args.rounds == 0 || args.connections == 0 {
        return Err(BenchError::InvalidArgs(
            "--rounds and --connections must be positive".into(),
        ));
    }
    let configs = configs(args);
    for config in &configs {
        binary(args, config.kind)?;
    }
    super::pin_client(&args.client_cpus)?;
    let work = super::WorkDir(
        std::env::temp_dir().join(format!("strata-wal-sync-{}", std::process::id())),
    );
    std::fs::create_dir_all(&work.0)
        .map_err(|e| BenchError::io("create", &work.0.display().to_string(), e))?;
    let workload = work.0.join("workload.bin");
    eprintln!("wal-sync: generating the workload");
    gen::run(&GenArgs {
        out: workload.display().to_string(),
        seed: 1,
        hosts: Some(args.hosts),
        series: None,
        cpus: 8,
        interval: Duration::from_secs(10),
        jitter: Duration::from_millis(5),
        scrapes: Some(args.scrapes),
        duration: None,
        start_ms: None,
        churn_fraction: 0.0,
        churn_every: 0,
        series_per_request: 500,
    })?;
    let header = crate::workload_file::parse(
        std::fs::read(&workload).map_err(|e| BenchError::io("read", "workload", e))?,
    )
    .map_err(|reason| BenchError::Format {
        path: workload.display().to_string(),
        reason,
    })?
    .header;
    let mut results: Vec<ConfigResult> = configs
        .iter()
        .map(|c| ConfigResult {
            name: c.name.clone(),
            flags: c.flags.clone(),
            rounds: Vec::new(),
        })
        .collect();
    for round in 0..args.rounds {
        for (index, config) in configs.iter().enumerate() {
            eprintln!(
                "wal-sync: round {} of {}: {}",
                round + 1,
                args.rounds,
                config.name
            );
            let dir = work.0.join(format!("{index}-{round}"));
            let measurement = measure(args, config, &workload, &dir)?;
            results[index].rounds.push(measurement);
        }
    }
    let command: Vec<String> = std::env::args().collect();
    let results = WalSyncResults {
        date: host_metrics::today(),
        command: format!(
            "strata-bench {}",
            command.get(1..).unwrap_or_default().join(" ")
        ),
        hosts: header.hosts,
        series: header.totals.series,
        samples: header.totals.samples,
        requests: header.totals.requests,
        connections: args.connections,
        server_cpus: args.server_cpus.clone(),
        client_cpus: args.client_cpus.clone(),
        load_average_at_end: host_metrics::load_average(),
        configs: results,
    };
    let markdown = render(&results);
    println!("{markdown}");
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| BenchError::io("create", &args.out_dir.display().to_string(), e))?;
    let base = args.out_dir.join(format!("{}-wal-sync", results.date));
    let md_path = base.with_extension("md");
    std::fs::write(&md_path, markdown)
        .map_err(|e| BenchError::io("write", &md_path.display().to_string(), e))?;
    let json_path = base.with_extension("json");
    let json = serde_json::to_vec_pretty(&results)
        .map_err(|e| BenchError::Failed(format!("serialize results: {e}")))?;
    std::fs::write(&json_path, json)
        .map_err(|e| BenchError::io("write", &json_path.display().to_string(), e))?;
    eprintln!("wal-sync: wrote {}", md_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_sums_label_sets_and_ignores_longer_names() {
        let text = "# HELP x\nstrata_wal_fsyncs_total{shard=\"0\"} 5\nstrata_wal_fsyncs_total{shard=\"1\"} 7\nstrata_wal_fsyncs_total_other 100\n";
        assert_eq!(counter(text, "strata_wal_fsyncs_total"), Some(12));
        assert_eq!(counter(text, "missing"), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
