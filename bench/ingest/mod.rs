//! `strata-bench ingest`: sends a workload file's pre-encoded requests to one
//! or more remote_write targets over persistent HTTP/1.1 connections and
//! reports accepted samples/s, latency percentiles, errors and client CPU.
//!
//! Each target gets the whole workload. Connections of a target take requests
//! from one shared counter, so requests go out in file (= scrape time) order.
//! Every run ends by itself: at the end of the workload, after
//! `--max-requests`, or at `--max-seconds`.

mod connection_worker;
mod live_counters;
mod pacer;
pub mod report;
mod server_cpu;
mod target_run;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use crate::cpu_time::CpuTime;
use crate::duration_arg::parse_duration;
use crate::error::BenchError;
use crate::workload_file::{self, Workload};
use connection_worker::TargetJob;
use live_counters::LiveCounters;
use pacer::Pacer;
use report::IngestReport;
use target_run::TargetRun;

/// Version of the JSON report's shape.
const REPORT_VERSION: u32 = 1;

/// Flags of `ingest`.
#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Workload file written by `gen`.
    #[arg(long, short)]
    pub file: String,
    /// Server to load, `host:port`; repeat for several (each gets the whole workload).
    #[arg(long = "target", required = true)]
    pub targets: Vec<String>,
    /// Persistent connections per target.
    #[arg(long, default_value_t = 4)]
    pub connections: u64,
    /// Pace at this many samples/s per target (default: as fast as possible).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Stop starting requests after this many seconds per target.
    #[arg(long)]
    pub max_seconds: Option<f64>,
    /// Send at most this many requests per target (default: the whole file).
    #[arg(long)]
    pub max_requests: Option<u64>,
    /// Connect, read and write timeout per request.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// URL path of the write endpoint.
    #[arg(long, default_value = "/api/v1/write")]
    pub path: String,
    /// Load all targets at the same time instead of one after another.
    #[arg(long)]
    pub parallel_targets: bool,
    /// PID of the server behind the i-th `--target`, to report its CPU time per sample
    /// (same machine only; repeat in target order).
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json_out: Option<String>,
}

impl IngestArgs {
    /// The whole workload `file`, unthrottled, to one server's remote_write path over
    /// `connections`, with that server's CPU time measured.
    pub fn whole_workload(
        file: &std::path::Path,
        target: String,
        server_pid: u32,
        connections: u64,
        timeout: Duration,
    ) -> IngestArgs {
        IngestArgs {
            file: file.display().to_string(),
            targets: vec![target],
            connections,
            rate: None,
            max_seconds: None,
            max_requests: None,
            timeout,
            path: "/api/v1/write".to_string(),
            parallel_targets: false,
            server_pids: vec![server_pid],
            json_out: None,
        }
    }
}

fn check(args: &IngestArgs) -> Result<(), BenchError> {
    let invalid = |reason: &str| Err(BenchError::InvalidArgs(reason.to_string()));
    if args.connections == 0 {
        return invalid("--connections must be positive");
    }
    if args
        .rate
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        return invalid("--rate must be a positive number of samples/s");
    }
    if args
        .max_seconds
        .is_some_and(|s| !(s > 0.0 && s.is_finite()))
    {
        return invalid("--max-seconds must be positive");
    }
    if args.timeout.is_zero() {
        return invalid("--timeout must be positive");
    }
    if args.server_pids.len() > args.targets.len() {
        return invalid("more --server-pid than --target");
    }
    if !args.path.starts_with('/') {
        return invalid("--path must start with /");
    }
    Ok(())
}

fn load(path: &str) -> Result<Workload, BenchError> {
    let bytes = std::fs::read(path).map_err(|e| BenchError::io("read", path, e))?;
    workload_file::parse(bytes).map_err(|reason| BenchError::Format {
        path: path.to_string(),
        reason,
    })
}

fn job(args: &IngestArgs, workload: &Arc<Workload>, target: &str) -> TargetJob {
    let start = Instant::now();
    let frames = workload.frames.len() as u64;
    TargetJob {
        workload: Arc::clone(workload),
        target: target.to_string(),
        path: args.path.clone(),
        max_requests: args.max_requests.map_or(frames, |max| max.min(frames)),
        deadline: args.max_seconds.map(|s| start + Duration::from_secs_f64(s)),
        timeout: args.timeout,
        pacer: Pacer::new(start, args.rate, workload.frames.iter().map(|f| f.samples)),
        live: LiveCounters::default(),
    }
}

/// Runs `ingest` and prints (and optionally writes) the report.
pub fn run(args: &IngestArgs) -> Result<(), BenchError> {
    let report = run_report(args)?;
    report::print_human(&report);
    if let Some(path) = &args.json_out {
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| BenchError::io("encode", path, e.into()))?;
        std::fs::write(path, json).map_err(|e| BenchError::io("write", path, e))?;
    }
    Ok(())
}

/// Runs `ingest` and returns its report (`compare` uses this directly).
pub fn run_report(args: &IngestArgs) -> Result<IngestReport, BenchError> {
    check(args)?;
    let workload = Arc::new(load(&args.file)?);
    let cpu_before = CpuTime::process();
    let spawn = |(index, target): (usize, &String)| {
        let server_pid = args.server_pids.get(index).copied();
        TargetRun::start(job(args, &workload, target), args.connections, server_pid)
            .map_err(|e| BenchError::io("spawn connection threads for", target, e))
    };
    let mut reports = Vec::new();
    if args.parallel_targets {
        let mut runs = args
            .targets
            .iter()
            .enumerate()
            .map(spawn)
            .collect::<Result<Vec<_>, _>>()?;
        target_run::monitor(&mut runs);
        reports.extend(runs.into_iter().map(TargetRun::finish));
    } else {
        for indexed_target in args.targets.iter().enumerate() {
            let mut runs = [spawn(indexed_target)?];
            target_run::monitor(&mut runs);
            let [run] = runs;
            reports.push(run.finish());
        }
    }
    let report = IngestReport {
        report_version: REPORT_VERSION,
        workload_file: args.file.clone(),
        workload: workload.header.clone(),
        connections: args.connections,
        rate_samples_per_second: args.rate,
        parallel_targets: args.parallel_targets,
        client_cpu_seconds: CpuTime::process().since(&cpu_before).total().as_secs_f64(),
        targets: reports,
    };
    Ok(report)
}
