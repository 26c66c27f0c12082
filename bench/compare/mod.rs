//! `strata-bench compare`: Strata, VictoriaMetrics and Prometheus on the same
//! generated workload, one at a time, each pinned to the same server CPUs with
//! the client on others. Per server: ingest, force flush + merge where the
//! server has them, the dashboard queries, peak RSS, then stop and measure the
//! data directory. Writes `<out-dir>/<date>-<workload>.md` and its charts.

pub mod host_metrics;
pub mod server_process;
pub mod wal_sync;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::Args;

use crate::error::BenchError;
use crate::gen::{self, GenArgs};
use crate::ingest::{self, report::TargetReport, IngestArgs};
use crate::query::{self, query_set::QuerySpec, QueryOutcome};
use crate::report::results::{
    AnswerCheck, CompareResults, IngestSummary, Percentiles, ServerResult, WorkloadSummary,
};
use crate::report::{self, STRATA};
use server_process::{ServerKind, ServerProcess};

/// Flags of `compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Small workload and few repetitions: done in under 5 minutes on 2 cores.
    #[arg(long)]
    pub quick: bool,
    /// Hosts in the workload, 137 series each [default: 200 with --quick, else 1000].
    #[arg(long, conflicts_with = "series")]
    pub hosts: Option<u64>,
    /// Target active series (sets hosts).
    #[arg(long)]
    pub series: Option<u64>,
    /// Scrape rounds [default: 60 with --quick (10 minutes of data), else 120].
    #[arg(long)]
    pub scrapes: Option<u64>,
    /// Repetitions of each query [default: 5 with --quick, else 20].
    #[arg(long)]
    pub repetitions: Option<u64>,
    /// Servers to run, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "strata,victoriametrics,prometheus"
    )]
    pub servers: Vec<String>,
    /// Strata binary [default: `strata` next to this executable].
    #[arg(long)]
    pub strata: Option<PathBuf>,
    /// VictoriaMetrics binary.
    #[arg(long, default_value = "/usr/bin/victoria-metrics")]
    pub victoria_metrics: PathBuf,
    /// Prometheus binary.
    #[arg(long, default_value = "/usr/bin/prometheus")]
    pub prometheus: PathBuf,
    /// CPUs for the servers (taskset list).
    #[arg(long, default_value = "0")]
    pub server_cpus: String,
    /// CPUs for this client (taskset list); keep them apart from the servers'.
    #[arg(long, default_value = "1")]
    pub client_cpus: String,
    /// remote_write connections.
    #[arg(long, default_value_t = 4)]
    pub connections: u64,
    /// Directory of the report.
    #[arg(long, default_value = "bench/results")]
    pub out_dir: PathBuf,
    /// Name of the workload in the report's file name [default: from its size].
    #[arg(long)]
    pub workload_name: Option<String>,
}

/// Flags of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Results JSON written by `compare` (`<date>-<workload>.json`).
    pub results: PathBuf,
    /// Directory to write the markdown and charts to [default: beside the JSON].
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

/// Runs `report`: renders a `compare` run's markdown and charts again from its JSON.
pub fn rerender(args: &ReportArgs) -> Result<(), BenchError> {
    let name = args.results.display().to_string();
    let json = std::fs::read(&args.results).map_err(|e| BenchError::io("read", &name, e))?;
    let results: CompareResults =
        serde_json::from_slice(&json).map_err(|e| BenchError::Format {
            path: name.clone(),
            reason: e.to_string(),
        })?;
    let dir = match &args.out_dir {
        Some(dir) => dir.clone(),
        None => args
            .results
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let paths = report::write_report(&results, &dir)
        .map_err(|e| BenchError::io("write report to", &dir.display().to_string(), e))?;
    eprintln!("report: wrote {}", paths.markdown.display());
    Ok(())
}

/// Temp directory of one run, removed on drop (servers remove their own parts first).
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Generous per-request timeout for ingest, flushes and queries.
const TIMEOUT: Duration = Duration::from_secs(120);

fn binary(args: &CompareArgs, kind: ServerKind) -> Result<PathBuf, BenchError> {
    let peer = match kind {
        ServerKind::Prometheus => &args.prometheus,
        _ => &args.victoria_metrics,
    };
    server_process::server_binary(kind, args.strata.as_deref(), peer)
}

/// Pins this process (all its threads, and so the connection threads it starts later).
pub(crate) fn pin_client(cpus: &str) -> Result<(), BenchError> {
    let pid = std::process::id().to_string();
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| BenchError::io("run", "taskset", e))?;
    if !status.success() {
        return Err(BenchError::InvalidArgs(format!(
            "taskset could not pin the client to CPUs {cpus}"
        )));
    }
    Ok(())
}

fn gen_args(args: &CompareArgs, out: &Path) -> GenArgs {
    let default_hosts = if args.quick { 200 } else { 1000 };
    let default_scrapes = if args.quick { 60 } else { 120 };
    GenArgs {
        out: out.display().to_string(),
        seed: 1,
        hosts: args
            .hosts
            .or(args.series.is_none().then_some(default_hosts)),
        series: args.series,
        cpus: 8,
        interval: Duration::from_secs(10),
        jitter: Duration::from_millis(5),
        scrapes: Some(args.scrapes.unwrap_or(default_scrapes)),
        duration: None,
        start_ms: None,
        churn_fraction: 0.0,
        churn_every: 0,
        series_per_request: 500,
    }
}

fn short_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{}m", n / 1_000_000),
        n if n >= 1000 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

fn ingest_summary(target: &TargetReport) -> IngestSummary {
    let l = &target.latency_ms;
    IngestSummary {
        samples_accepted: target.samples_accepted,
        requests_failed: target.errors.values().sum(),
        elapsed_seconds: target.elapsed_seconds,
        samples_per_second: target.samples_per_second,
        server_us_per_sample: target.server_cpu.as_ref().and_then(|c| c.us_per_sample),
        latency_ms: Percentiles {
            count: l.count,
            p50: l.p50,
            p90: l.p90,
            p99: l.p99,
            max: l.max,
        },
        samples_per_interval: target.samples_per_interval.clone(),
    }
}

/// Asks the server to write buffered samples and merge parts, where it can.
fn flush_and_merge(server: &ServerProcess) -> Result<(), BenchError> {
    if server.kind == ServerKind::Prometheus {
        return Ok(());
    }
    for path in ["/internal/force_flush", "/internal/force_merge"] {
        let (status, body) = server.get(path, TIMEOUT)?;
        eprintln!(
            "compare: {} {path}: HTTP {status} {body:.80}",
            server.kind.name()
        );
    }
    // VictoriaMetrics merges in the background after force_merge returns; give it a moment.
    std::thread::sleep(Duration::from_secs(2));
    Ok(())
}

/// Everything measured on one server, plus its raw query answers.
struct ServerRun {
    result: ServerResult,
    outcomes: Vec<QueryOutcome>,
    /// A line for the report's notes, if this server has something to add.
    note: Option<String>,
}

fn run_server(
    args: &CompareArgs,
    kind: ServerKind,
    workload: &Path,
    set: &[QuerySpec],
    repetitions: u64,
    work_dir: &Path,
) -> Result<ServerRun, BenchError> {
    let binary = binary(args, kind)?;
    let version = server_process::version(kind, &binary);
    eprintln!(
        "compare: starting {} ({version}) on CPUs {}",
        kind.name(),
        args.server_cpus
    );
    let mut server = ServerProcess::start(
        kind,
        &binary,
        &args.server_cpus,
        work_dir.join(kind.name()),
        &[],
    )?;
    let version = server.reported_version().unwrap_or(version);
    let ingest = ingest_into(args, &server, workload)?;
    flush_and_merge(&server)?;
    eprintln!(
        "compare: {} queries × {repetitions} on {}",
        set.len(),
        kind.name()
    );
    let outcomes = query::run_set(&server.target, set, repetitions, TIMEOUT);
    let snapshot_bytes = match kind {
        ServerKind::Prometheus => prometheus_snapshot_bytes(&server),
        _ => None,
    };
    let peak_rss_bytes = host_metrics::peak_rss_bytes(server.pid());
    eprintln!("compare: stopping {} (pid {})", kind.name(), server.pid());
    server.stop()?;
    let disk_bytes = host_metrics::dir_bytes(&server.data_dir);
    let accepted = ingest.samples_accepted;
    let result = ServerResult {
        name: kind.name().to_string(),
        version,
        bytes_per_sample: (accepted > 0).then(|| disk_bytes as f64 / accepted as f64),
        ingest,
        disk_bytes,
        peak_rss_bytes,
        queries: Vec::new(),
    };
    Ok(ServerRun {
        result,
        outcomes,
        note: snapshot_bytes.map(|bytes| snapshot_note(bytes, accepted)),
    })
}

/// Sends the whole workload to `server` and summarizes the run.
fn ingest_into(
    args: &CompareArgs,
    server: &ServerProcess,
    workload: &Path,
) -> Result<IngestSummary, BenchError> {
    let ingest_args = IngestArgs::whole_workload(
        workload,
        server.target.clone(),
        server.pid(),
        args.connections,
        TIMEOUT,
    );
    let name = server.kind.name();
    eprintln!("compare: ingest into {name}");
    let report = ingest::run_report(&ingest_args)?;
    let target = report
        .targets
        .first()
        .ok_or_else(|| BenchError::Failed("ingest returned no target report".to_string()))?;
    let ingest = ingest_summary(target);
    eprintln!(
        "compare: {name} accepted {} samples at {:.0}/s, {} failed requests",
        ingest.samples_accepted, ingest.samples_per_second, ingest.requests_failed
    );
    Ok(ingest)
}

fn snapshot_note(bytes: u64, accepted: u64) -> String {
    format!(
        "Prometheus' admin snapshot (its head written as one compacted block, taken before \
         stop and removed before measuring) is {bytes} bytes = {:.2} bytes/sample: what its \
         data costs once the head is compacted, which takes 2 h of data to happen by itself.",
        bytes as f64 / accepted.max(1) as f64
    )
}

/// Size of a fresh Prometheus snapshot (`/api/v1/admin/tsdb/snapshot`), which
/// is then deleted so it does not count in the data directory.
fn prometheus_snapshot_bytes(server: &ServerProcess) -> Option<u64> {
    let (status, body) = server.post("/api/v1/admin/tsdb/snapshot", TIMEOUT).ok()?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let name = json.pointer("/data/name")?.as_str()?;
    let snapshots = server.data_dir.join("snapshots");
    let bytes = host_metrics::dir_bytes(&snapshots.join(name));
    let _ = std::fs::remove_dir_all(&snapshots);
    eprintln!("compare: prometheus snapshot {name}: HTTP {status}, {bytes} bytes");
    Some(bytes)
}

fn notes() -> Vec<String> {
    [
        "Disk bytes: apparent size of every file in the server's data directory after a clean \
         stop (SIGTERM), divided by accepted samples; measured the same way for every server.",
        "Strata and VictoriaMetrics get /internal/force_flush and /internal/force_merge before the \
         queries. Prometheus has neither: after its stop the directory holds the WAL (compressed) \
         and the head chunks it writes on shutdown, which is its on-disk state for recent data \
         (no 2h block is cut within this run).",
        "Server µs CPU/sample: the server's user+system time (/proc/<pid>/stat) during ingest over \
         accepted samples. Peak RSS: VmHWM from /proc/<pid>/status just before stop.",
        "VictoriaMetrics runs with -search.latencyOffset=0s and -search.disableCache; its answers \
         are compared with Prometheus' too, but its differences never fail the run.",
        "Queries that Strata answers with HTTP 400 \"not implemented\" are listed as unsupported.",
    ]
    .map(String::from)
    .to_vec()
}

/// Runs `compare`.
pub fn run(args: &CompareArgs) -> Result<(), BenchError> {
    let kinds = args
        .servers
        .iter()
        .map(|name| ServerKind::parse(name).map_err(BenchError::InvalidArgs))
        .collect::<Result<Vec<_>, _>>()?;
    let repetitions = args.repetitions.unwrap_or(if args.quick { 5 } else { 20 });
    if repetitions == 0 {
        return Err(BenchError::InvalidArgs(
            "--repetitions must be positive".into(),
        ));
    }
    for kind in &kinds {
        binary(args, *kind)?;
    }
    pin_client(&args.client_cpus)?;
    let work = WorkDir(std::env::temp_dir().join(format!("strata-compare-{}", std::process::id())));
    std::fs::create_dir_all(&work.0)
        .map_err(|e| BenchError::io("create", &work.0.display().to_string(), e))?;
    let workload = work.0.join("workload.bin");
    eprintln!("compare: generating the workload");
    gen::run(&gen_args(args, &workload))?;
    let set = query::set_for_workload(&workload.display().to_string())?;
    let header = crate::workload_file::parse(
        std::fs::read(&workload).map_err(|e| BenchError::io("read", "workload", e))?,
    )
    .map_err(|reason| BenchError::Format {
        path: workload.display().to_string(),
        reason,
    })?
    .header;
    let mut runs = Vec::new();
    for kind in &kinds {
        runs.push((
            *kind,
            run_server(args, *kind, &workload, &set, repetitions, &work.0)?,
        ));
    }
    let results = assemble(args, &header, repetitions, runs);
    let paths = report::write_report(&results, &args.out_dir)
        .map_err(|e| BenchError::io("write report to", &args.out_dir.display().to_string(), e))?;
    println!("{}", report::render_markdown(&results));
    eprintln!(
        "compare: wrote {} (charts and {} beside it)",
        paths.markdown.display(),
        paths.results_json.display()
    );
    let differing: Vec<&str> = results
        .servers
        .iter()
        .filter(|s| s.name == STRATA)
        .flat_map(|s| s.queries.iter())
        .filter(|q| matches!(q.answer, AnswerCheck::Different(_)))
        .map(|q| q.name.as_str())
        .collect();
    if !differing.is_empty() {
        return Err(BenchError::Failed(format!(
            "Strata's answers differ from Prometheus' for: {}",
            differing.join(", ")
        )));
    }
    Ok(())
}

/// Compares every server's answers with Prometheus' and builds the results.
fn assemble(
    args: &CompareArgs,
    header: &crate::workload_header::WorkloadHeader,
    repetitions: u64,
    mut runs: Vec<(ServerKind, ServerRun)>,
) -> CompareResults {
    let reference = runs
        .iter()
        .position(|(kind, _)| *kind == ServerKind::Prometheus);
    if let Some(index) = reference {
        let mut reference_outcomes = std::mem::take(&mut runs[index].1.outcomes);
        for (position, (_, run)) in runs.iter_mut().enumerate() {
            if position != index {
                query::check_answers(&reference_outcomes, &mut run.outcomes);
            }
        }
        query::mark_reference(&mut reference_outcomes);
        runs[index].1.outcomes = reference_outcomes;
    }
    let mut notes = notes();
    notes.push(format!(
        "Shared 2-vCPU VM: other work may run at the same time, so expect run-to-run noise \
         (samples/s varied by up to ±30% between runs). Load average at the end: {}.",
        host_metrics::load_average()
    ));
    notes.extend(runs.iter().filter_map(|(_, run)| run.note.clone()));
    let servers = runs
        .into_iter()
        .map(|(_, mut run)| {
            run.result.queries = run.outcomes.into_iter().map(|o| o.result).collect();
            run.result
        })
        .collect();
    let totals = &header.totals;
    let prefix = if args.quick { "quick-" } else { "" };
    CompareResults {
        date: host_metrics::today(),
        workload_name: args
            .workload_name
            .clone()
            .unwrap_or_else(|| format!("{prefix}{}-series", short_count(totals.series))),
        workload: WorkloadSummary {
            hosts: header.hosts,
            series: totals.series,
            samples: totals.samples,
            requests: totals.requests,
            scrapes: header.scrapes,
            scrape_interval_seconds: header.scrape_interval_ms as f64 / 1000.0,
        },
        server_cpus: args.server_cpus.clone(),
        client_cpus: args.client_cpus.clone(),
        query_repetitions: repetitions,
        notes,
        servers,
    }
}
