//! `strata-bench index`: the index figures of issue 4 for Strata and VictoriaMetrics in one run.
//! For each server: the rate at which it registers new series (every series' only sample sent
//! once, over several connections), its resident set after that ingest and per series, the
//! start-up time after a clean stop (spawn until `/health` answers and a query for a known series
//! returns it), its resident set right after that start, and the median / p99 latency of two
//! lookups through `/api/v1/series` and `/api/v1/query` (answer sizes checked).

mod series_set;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use crate::compare::host_metrics;
use crate::compare::server_process::{ServerKind, ServerProcess};
use crate::error::BenchError;
use crate::http_client::HttpConnection;
use series_set::Lookup;

/// Flags of `index`.
#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Series to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub series: usize,
    /// A small run (100k series) whatever `--series` says.
    #[arg(long)]
    pub quick: bool,
    /// Series per remote_write request.
    #[arg(long, default_value_t = 1000)]
    pub per_request: usize,
    /// Concurrent remote_write connections.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Runs of every lookup (median and p99 over them).
    #[arg(long, default_value_t = 50)]
    pub lookups: usize,
    /// Strata's shard count.
    #[arg(long, default_value_t = 2)]
    pub shards: usize,
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

/// Median and p99 of one lookup on one endpoint, ms.
#[derive(Debug, Clone, Serialize)]
struct Latency {
    lookup: String,
    endpoint: String,
    p50_ms: f64,
    p99_ms: f64,
    series: usize,
}

/// The figures of one server.
#[derive(Debug, Clone, Serialize)]
struct ServerResult {
    server: String,
    flags: Vec<String>,
    ingest_seconds: f64,
    new_series_per_second: f64,
    failed_requests: usize,
    rss_after_ingest_bytes: u64,
    peak_rss_bytes: u64,
    startup_seconds: f64,
    rss_after_startup_bytes: u64,
    latencies: Vec<Latency>,
}

/// What the report and its JSON hold.
#[derive(Debug, Serialize)]
struct IndexResults {
    date: String,
    command: String,
    series: usize,
    connections: usize,
    server_cpus: String,
    client_cpus: String,
    load_average_at_end: String,
    servers: Vec<ServerResult>,
}

/// How a report row reads its figure from a server's results.
type Figure<'a> = Box<dyn Fn(&ServerResult) -> f64 + 'a>;

const TIMEOUT: Duration = Duration::from_secs(120);

fn binary(args: &IndexArgs, kind: ServerKind) -> Result<PathBuf, BenchError> {
    crate::compare::server_process::server_binary(
        kind,
        args.strata.as_deref(),
        &args.victoria_metrics,
    )
}

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Sends every request once over `connections` connections; the seconds taken and failures.
fn send_all(target: &str, requests: &[Vec<u8>], connections: usize) -> (f64, usize) {
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let headers = [
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections.max(1) {
            scope.spawn(|| {
                let mut conn = HttpConnection::connect(target, TIMEOUT).ok();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = requests.get(index) else {
                        return;
                    };
                    let ok = conn
                        .as_mut()
                        .and_then(|c| c.post("/api/v1/write", &headers, body).ok())
                        .is_some_and(|r| (200..300).contains(&r.status));
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                        conn = HttpConnection::connect(target, TIMEOUT).ok();
                    }
                }
            });
        }
    });
    (
        started.elapsed().as_secs_f64(),
        failed.load(Ordering::Relaxed),
    )
}

/// Series in a `/api/v1/series` or `/api/v1/query` answer.
fn answer_size(body: &str) -> Option<usize> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let data = &json["data"];
    data.as_array()
        .or_else(|| data["result"].as_array())
        .map(Vec::len)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn time_lookups(
    server: &ServerProcess,
    lookups: &[Lookup],
    runs: usize,
    ts_ms: i64,
) -> Result<Vec<Latency>, BenchError> {
    let mut out = Vec::new();
    let seconds = ts_ms / 1000;
    for lookup in lookups {
        let selector = crate::query::query_set::url_encode(&lookup.selector);
        for (endpoint, path) in [
            (
                "/api/v1/series",
                format!(
                    "/api/v1/series?match[]={selector}&start={}&end={}",
                    seconds - 600,
                    seconds + 600
                ),
            ),
            (
                "/api/v1/query",
                format!("/api/v1/query?query={selector}&time={seconds}"),
            ),
        ] {
            let mut conn = HttpConnection::connect(&server.target, TIMEOUT)
                .map_err(|e| BenchError::Failed(format!("connect: {e}")))?;
            let mut times = Vec::with_capacity(runs);
            let mut size = 0;
            for _ in 0..runs.max(1) {
                let started = Instant::now();
                let (response, body) = conn
                    .get(&path)
                    .map_err(|e| BenchError::Failed(format!("GET {path}: {e}")))?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                let body = String::from_utf8_lossy(&body);
                size = answer_size(&body).unwrap_or(usize::MAX);
                if response.status != 200 || size != lookup.expected {
                    return Err(BenchError::Failed(format!(
                        "{} {path}: status {}, {size} series, want {}: {}",
                        server.kind.name(),
                        response.status,
                        lookup.expected,
                        body.chars().take(300).collect::<String>()
                    )));
                }
            }
            times.sort_by(f64::total_cmp);
            out.push(Latency {
                lookup: lookup.name.to_string(),
                endpoint: endpoint.to_string(),
                p50_ms: percentile(&times, 0.5),
                p99_ms: percentile(&times, 0.99),
                series: size,
            });
        }
    }
    Ok(out)
}

/// Polls a query for the known series until it answers with it; the time it took.
fn wait_known_series(server: &ServerProcess, selector: &str, ts_ms: i64) -> Result<(), BenchError> {
    let path = format!(
        "/api/v1/query?query={}&time={}",
        crate::query::query_set::url_encode(selector),
        ts_ms / 1000
    );
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok((200, body)) = server.get(&path, TIMEOUT) {
            if answer_size(&body) == Some(1) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(BenchError::Failed(format!(
                "{}: {selector} not answered after restart",
                server.kind.name()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn measure(
    args: &IndexArgs,
    kind: ServerKind,
    flags: &[String],
    n: usize,
    requests: &[Vec<u8>],
    ts_ms: i64,
    work_dir: PathBuf,
) -> Result<ServerResult, BenchError> {
    let binary = binary(args, kind)?;
    let mut first =
        ServerProcess::start(kind, &binary, &args.server_cpus, work_dir.clone(), flags)?;
    eprintln!("index: {}: sending {n} new series", kind.name());
    let (ingest_seconds, failed_requests) = send_all(&first.target, requests, args.connections);
    let known = series_set::known_series_selector(n);
    wait_known_series(&first, &known, ts_ms)?;
    let rss_after_ingest_bytes = rss_bytes(first.pid());
    let peak_rss_bytes = host_metrics::peak_rss_bytes(first.pid());
    eprintln!("index: {}: timing lookups", kind.name());
    let latencies = time_lookups(&first, &series_set::lookups(n), args.lookups, ts_ms)?;
    first.stop()?;
    // `first` keeps the directory until the end (dropping it removes the directory).
    let started = Instant::now();
    let second = ServerProcess::start(kind, &binary, &args.server_cpus, work_dir, flags)?;
    wait_known_series(&second, &known, ts_ms)?;
    let startup_seconds = started.elapsed().as_secs_f64();
    let rss_after_startup_bytes = rss_bytes(second.pid());
    drop(second);
    drop(first);
    let result = ServerResult {
        server: kind.name().to_string(),
        flags: flags.to_vec(),
        ingest_seconds,
        new_series_per_second: n as f64 / ingest_seconds,
        failed_requests,
        rss_after_ingest_bytes,
        peak_rss_bytes,
        startup_seconds,
        rss_after_startup_bytes,
        latencies,
    };
    eprintln!(
        "index: {}: {:.0} new series/s, RSS {:.0} MiB, start-up {:.2} s",
        result.server,
        result.new_series_per_second,
        result.rss_after_ingest_bytes as f64 / 1048576.0,
        result.startup_seconds
    );
    Ok(result)
}

fn ratio(strata: f64, vm: f64) -> String {
    if vm > 0.0 && strata.is_finite() {
        format!("{:.2}×", strata / vm)
    } else {
        "–".to_string()
    }
}

fn render(results: &IndexResults) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Index: {} series, Strata vs VictoriaMetrics — {}\n",
        results.series, results.date
    );
    let _ = writeln!(out, "Command: `{}`\n", results.command);
    let cores = results.server_cpus.split(',').count().max(1);
    let _ = writeln!(
        out,
        "Each series (5 labels: name among 100, host among 10k, job, pod, zone) gets one sample, \
         sent once over {} connections; servers on CPUs {} ({cores} core(s)), client on CPUs {}. \
         Start-up: spawn after a clean stop until `/health` answers and an instant query returns \
         the last series written. Lookups are timed on one keep-alive connection and each answer's \
         size is checked. Strata runs with its default `--wal.sync=always` (acknowledged \
         writes are on disk); VictoriaMetrics acknowledges before its data reaches the disk. \
         Load average at the end: {}.\n",
        results.connections, results.server_cpus, results.client_cpus, results.load_average_at_end
    );
    let [strata, vm] = [ServerKind::Strata, ServerKind::VictoriaMetrics]
        .map(|kind| results.servers.iter().find(|s| s.server == kind.name()));
    let mib = |b: u64| b as f64 / 1048576.0;
    let rows: Vec<(&str, Figure<'_>)> = vec![
        (
            "new series / s",
            Box::new(|s: &ServerResult| s.new_series_per_second),
        ),
        (
            "new series / s per server core",
            Box::new(move |s: &ServerResult| s.new_series_per_second / cores as f64),
        ),
        (
            "RSS after ingest, MiB",
            Box::new(move |s: &ServerResult| mib(s.rss_after_ingest_bytes)),
        ),
        (
            "RSS per series, bytes",
            Box::new(move |s: &ServerResult| {
                s.rss_after_ingest_bytes as f64 / results.series as f64
            }),
        ),
        (
            "peak RSS, MiB",
            Box::new(move |s: &ServerResult| mib(s.peak_rss_bytes)),
        ),
        (
            "start-up after clean stop, s",
            Box::new(|s: &ServerResult| s.startup_seconds),
        ),
        (
            "RSS right after start-up, MiB",
            Box::new(move |s: &ServerResult| mib(s.rss_after_startup_bytes)),
        ),
    ];
    let _ = writeln!(out, "| figure | Strata | VictoriaMetrics | Strata / VM |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let cell = |s: Option<&ServerResult>, f: &dyn Fn(&ServerResult) -> f64| s.map_or(f64::NAN, f);
    for (name, figure) in &rows {
        let (a, b) = (cell(strata, figure.as_ref()), cell(vm, figure.as_ref()));
        let _ = writeln!(out, "| {name} | {a:.2} | {b:.2} | {} |", ratio(a, b));
    }
    if let (Some(strata), Some(vm)) = (strata, vm) {
        for (s, v) in strata.latencies.iter().zip(&vm.latencies) {
            for (what, a, b) in [("median", s.p50_ms, v.p50_ms), ("p99", s.p99_ms, v.p99_ms)] {
                let _ = writeln!(
                    out,
                    "| {} via `{}` ({} series), {what} ms | {a:.2} | {b:.2} | {} |",
                    s.lookup,
                    s.endpoint,
                    s.series,
                    ratio(a, b)
                );
            }
        }
    }
    let failed: usize = results.servers.iter().map(|s| s.failed_requests).sum();
    let _ = writeln!(
        out,
        "\nFailed requests: {failed}. Selectors: {}. Server flags: {}.",
        series_set::lookups(0)
            .iter()
            .map(|l| format!("`{}`", l.selector))
            .collect::<Vec<_>>()
            .join(", "),
        results
            .servers
            .iter()
            .map(|s| format!("{} `{}`", s.server, s.flags.join(" ")))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// Runs `index`.
pub fn run(args: &IndexArgs) -> Result<(), BenchError> {
    let n = if args.quick { 100_000 } else { args.series };
    if n == 0 || args.per_request == 0 {
        return Err(BenchError::InvalidArgs(
            "--series and --per-request must be positive".into(),
        ));
    }
    let kinds = [ServerKind::Strata, ServerKind::VictoriaMetrics];
    for kind in kinds {
        binary(args, kind)?;
    }
    crate::compare::pin_client(&args.client_cpus)?;
    let work = std::env::temp_dir().join(format!("strata-index-{}", std::process::id()));
    // A whole second: the instant queries at `ts_ms / 1000` see the sample.
    let ts_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
        / 1000
        * 1000
        - 60_000;
    eprintln!("index: encoding {n} series");
    let requests = series_set::encode_requests(n, args.per_request, ts_ms);
    let mut servers = Vec::new();
    for (index, kind) in kinds.into_iter().enumerate() {
        let flags = match kind {
            ServerKind::Strata => vec![format!("--shards={}", args.shards)],
            _ => Vec::new(),
        };
        let dir = work.join(format!("{index}-{}", kind.name()));
        servers.push(measure(args, kind, &flags, n, &requests, ts_ms, dir)?);
    }
    let _ = std::fs::remove_dir_all(&work);
    let command: Vec<String> = std::env::args().collect();
    let results = IndexResults {
        date: host_metrics::today(),
        command: format!(
            "strata-bench {}",
            command.get(1..).unwrap_or_default().join(" ")
        ),
        series: n,
        connections: args.connections,
        server_cpus: args.server_cpus.clone(),
        client_cpus: args.client_cpus.clone(),
        load_average_at_end: host_metrics::load_average(),
        servers,
    };
    let markdown = render(&results);
    println!("{markdown}");
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| BenchError::io("create", &args.out_dir.display().to_string(), e))?;
    let base = args
        .out_dir
        .join(format!("{}-index-{}k-series", results.date, n / 1000));
    let md_path = base.with_extension("md");
    std::fs::write(&md_path, markdown)
        .map_err(|e| BenchError::io("write", &md_path.display().to_string(), e))?;
    let json = serde_json::to_vec_pretty(&results)
        .map_err(|e| BenchError::Failed(format!("serialize results: {e}")))?;
    let json_path = base.with_extension("json");
    std::fs::write(&json_path, json)
        .map_err(|e| BenchError::io("write", &json_path.display().to_string(), e))?;
    eprintln!("index: wrote {}", md_path.display());
    Ok(())
}
