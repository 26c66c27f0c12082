//! `strata-bench gen`: a deterministic node_exporter-like workload, pre-encoded
//! as remote_write requests in a workload file (see `workload_file`).
//!
//! Same flags (with an explicit `--start-ms`) → byte-identical file: all
//! randomness comes from `prng::Prng` streams derived from `--seed`, every
//! collection is a `Vec` walked in order, and nothing depends on the clock.

mod catalog;
mod fleet;
mod host;
mod request_batcher;
mod value_model;

use std::fs::File;
use std::io::BufWriter;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::duration_arg::parse_duration;
use crate::error::BenchError;
use crate::workload_file::WorkloadWriter;
use crate::workload_header::WorkloadHeader;
use fleet::{Fleet, FleetConfig};
use request_batcher::RequestBatcher;

/// Bumped whenever the same flags start producing different bytes on purpose.
pub const GENERATOR_VERSION: u32 = 1;

/// Hosts when neither `--hosts` nor `--series` is given.
const DEFAULT_HOSTS: u64 = 100;

/// Flags of `gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Workload file to write.
    #[arg(long, short)]
    pub out: String,
    /// PRNG seed: same seed and flags, same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Hosts scraped in every round [default: 100].
    #[arg(long, conflicts_with = "series")]
    pub hosts: Option<u64>,
    /// Target active series; sets hosts = ceil(series / series per host).
    #[arg(long)]
    pub series: Option<u64>,
    /// CPUs per host (8 node_cpu_seconds_total series each).
    #[arg(long, default_value_t = 8)]
    pub cpus: u32,
    /// Scrape interval.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Most random delay added to each scrape's timestamp.
    #[arg(long, default_value = "5ms", value_parser = parse_duration)]
    pub jitter: Duration,
    /// Scrape rounds [default: 6].
    #[arg(long, conflicts_with = "duration")]
    pub scrapes: Option<u64>,
    /// Time covered; scrapes = duration / interval.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// First round's timestamp, ms since the Unix epoch [default: the run ends
    /// at the current interval boundary, so the data is recent].
    #[arg(long, allow_hyphen_values = true)]
    pub start_ms: Option<i64>,
    /// Fraction of hosts replaced (new `instance` values) at each churn point.
    #[arg(long, default_value_t = 0.0)]
    pub churn_fraction: f64,
    /// Scrape rounds between churn points (0: no churn).
    #[arg(long, default_value_t = 0)]
    pub churn_every: u64,
    /// Most series per request (Prometheus: 500 by default; vmagent sends more).
    #[arg(long, default_value_t = 500)]
    pub series_per_request: u64,
}

/// How often a long `gen` reports its progress on stderr.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// Default scrape rounds: one minute at the default interval.
const DEFAULT_SCRAPES: u64 = 6;

fn plan(args: &GenArgs) -> Result<WorkloadHeader, BenchError> {
    let invalid = |reason: &str| Err(BenchError::InvalidArgs(reason.to_string()));
    let interval_ms = args.interval.as_millis() as u64;
    if interval_ms == 0 {
        return invalid("--interval must be at least 1ms");
    }
    if args.jitter >= args.interval {
        return invalid("--jitter must be shorter than --interval");
    }
    if !(0.0..=1.0).contains(&args.churn_fraction) {
        return invalid("--churn-fraction must be within [0, 1]");
    }
    if args.churn_fraction > 0.0 && args.churn_every == 0 {
        return invalid("--churn-fraction needs --churn-every");
    }
    if args.series_per_request == 0 || args.series_per_request > u64::from(u32::MAX) {
        return invalid("--series-per-request must be positive");
    }
    let series_per_host = catalog::series_per_host(args.cpus);
    let hosts = match (args.hosts, args.series) {
        (Some(hosts), _) => hosts,
        (None, Some(series)) => series.div_ceil(series_per_host),
        (None, None) => DEFAULT_HOSTS,
    };
    if hosts == 0 {
        return invalid("need at least one host");
    }
    let scrapes = match (args.scrapes, args.duration) {
        (Some(scrapes), _) => scrapes,
        (None, Some(duration)) => duration.as_millis() as u64 / interval_ms,
        (None, None) => DEFAULT_SCRAPES,
    };
    if scrapes == 0 {
        return invalid(
            "need at least one scrape (--scrapes, or --duration of one --interval or more)",
        );
    }
    let start_ms = args
        .start_ms
        .unwrap_or_else(|| default_start_ms(interval_ms, scrapes));
    Ok(WorkloadHeader {
        generator_version: GENERATOR_VERSION,
        seed: args.seed,
        hosts,
        cpus_per_host: args.cpus,
        series_per_host,
        scrape_interval_ms: interval_ms,
        jitter_ms: args.jitter.as_millis() as u64,
        scrapes,
        start_ms,
        churn_fraction: args.churn_fraction,
        churn_every_scrapes: args.churn_every,
        series_per_request: args.series_per_request,
        totals: Default::default(),
    })
}

/// The start that makes the last round end at the current interval boundary.
fn default_start_ms(interval_ms: u64, scrapes: u64) -> i64 {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let aligned = now_ms - now_ms.rem_euclid(interval_ms as i64);
    aligned - (scrapes.saturating_mul(interval_ms)) as i64
}

/// Runs `gen`: writes the workload file and prints its header as JSON on stdout.
pub fn run(args: &GenArgs) -> Result<(), BenchError> {
    let mut header = plan(args)?;
    let started = std::time::Instant::now();
    let file = File::create(&args.out).map_err(|e| BenchError::io("create", &args.out, e))?;
    let writer = WorkloadWriter::new(BufWriter::with_capacity(1 << 20, file))
        .map_err(|e| BenchError::io("write", &args.out, e))?;
    let mut batcher = RequestBatcher::new(writer, header.series_per_request as usize);
    let mut fleet = Fleet::new(FleetConfig {
        seed: header.seed,
        hosts: header.hosts,
        cpus: header.cpus_per_host,
        interval_ms: header.scrape_interval_ms,
        jitter_ms: header.jitter_ms,
        start_ms: header.start_ms,
        churn_fraction: header.churn_fraction,
        churn_every: header.churn_every_scrapes,
    });
    let mut last_progress = started;
    for round in 0..header.scrapes {
        fleet.round(round, &mut batcher);
        // Requests never span two rounds: each scrape round is sent as its own batch of requests.
        batcher.flush();
        if last_progress.elapsed() >= PROGRESS_INTERVAL {
            last_progress = std::time::Instant::now();
            eprintln!("gen: round {}/{}", round + 1, header.scrapes);
        }
    }
    header.totals.series = fleet.hosts_created() * header.series_per_host;
    let (out, header) = batcher
        .finish(header)
        .map_err(|e| BenchError::io("write", &args.out, e))?;
    out.into_inner()
        .map_err(|e| BenchError::io("flush", &args.out, e.into_error()))?
        .sync_all()
        .map_err(|e| BenchError::io("sync", &args.out, e))?;
    let json = serde_json::to_string_pretty(&header).unwrap_or_default();
    println!("{json}");
    eprintln!(
        "gen: {} series, {} samples in {} requests ({:.1} MiB) to {} in {:.1?}",
        header.totals.series,
        header.totals.samples,
        header.totals.requests,
        header.totals.compressed_bytes as f64 / (1 << 20) as f64,
        args.out,
        started.elapsed()
    );
    Ok(())
}
