//! `strata-bench import-rss`: how much a big streaming import grows Strata's resident set.
//!
//! Per import format, a fresh Strata: read `VmRSS` after start, import a small warm-up body
//! that registers every series (so index growth is not what is measured), read `VmRSS` again,
//! then stream `--body-mib` of generated lines with chunked transfer encoding while a thread
//! samples `VmRSS`, and read it once more after the flush interval has passed. The goal
//! (issue 6) is a peak less than 64 MiB above the RSS before the big import.

mod body_generator;
mod chunked_upload;
mod rss_sampler;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::compare::server_process::{ServerKind, ServerProcess};
use crate::duration_arg::parse_duration;
use crate::error::BenchError;
pub use body_generator::{BodyGenerator, ImportFormat};
use chunked_upload::{upload, Upload};
use rss_sampler::{status_bytes, RssSampler};

const MIB: u64 = 1 << 20;
/// Distance between a series' samples in the generated bodies.
const STEP_MS: i64 = 1000;
/// The big import starts this long ago: inside the default 31 d retention, and a 1 GiB body
/// over 1000 series spans well under a day of steps.
const START_AGO_MS: i64 = 20 * 86_400_000;
/// The warm-up body's samples lie this far before the big import's.
const WARM_UP_BEFORE_MS: i64 = 86_400_000;

/// Flags of `import-rss`.
#[derive(Args, Debug)]
pub struct ImportRssArgs {
    /// The strata binary [default: the `strata` next to `strata-bench`].
    #[arg(long)]
    pub strata: Option<PathBuf>,
    /// Formats to import, comma-separated: json, prometheus, csv, influx.
    #[arg(
        long,
        default_value = "json,prometheus,csv,influx",
        value_delimiter = ','
    )]
    pub formats: Vec<String>,
    /// Size of each big import body, MiB.
    #[arg(long, default_value_t = 1024)]
    pub body_mib: u64,
    /// Size of the warm-up body that registers the series first, MiB.
    #[arg(long, default_value_t = 4)]
    pub warm_up_mib: u64,
    /// Distinct series the bodies cycle over.
    #[arg(long, default_value_t = 1000)]
    pub series: u64,
    /// CPUs for Strata (taskset list) [default: every CPU].
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// Extra flags for strata, e.g. `--strata-arg=--shards=1`; repeat for several.
    #[arg(long = "strata-arg", allow_hyphen_values = true)]
    pub strata_args: Vec<String>,
    /// How often RSS is sampled during the import.
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    pub sample_period: Duration,
    /// Wait after the import before the last RSS reading (past the 2 s flush interval).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub settle: Duration,
    /// Exit non-zero when any format grows RSS by this many MiB or more.
    #[arg(long, default_value_t = 64)]
    pub max_growth_mib: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// Import into this running server (`host:port`) instead of starting one per format
    /// (e.g. one under heaptrack); needs `--server-pid`.
    #[arg(long, requires = "server_pid")]
    pub target: Option<String>,
    /// PID of the `--target` server, whose RSS is read.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// What one format's import did to the server's memory.
#[derive(Debug, Serialize)]
pub struct FormatResult {
    /// Format name.
    pub format: &'static str,
    /// Body bytes of the big import.
    pub body_bytes: u64,
    /// Samples in it (all accepted, checked against the server's count).
    pub samples: u64,
    /// Seconds the import took.
    pub seconds: f64,
    /// `VmRSS` right after start, bytes.
    pub rss_start_bytes: u64,
    /// `VmRSS` after the warm-up import, just before the big one, bytes.
    pub rss_before_bytes: u64,
    /// Highest `VmRSS` sampled during the big import, bytes.
    pub rss_peak_bytes: u64,
    /// `VmRSS` `--settle` after the import, bytes.
    pub rss_after_bytes: u64,
    /// The kernel's `VmHWM` at the end (peak over the process' life), bytes.
    pub hwm_bytes: u64,
    /// RSS samples taken during the import.
    pub rss_samples: u64,
}

impl FormatResult {
    /// Peak during the import minus the RSS before it, bytes (0 if it shrank).
    pub fn growth_bytes(&self) -> u64 {
        self.rss_peak_bytes.saturating_sub(self.rss_before_bytes)
    }
}

/// Runs `import-rss`.
pub fn run(args: &ImportRssArgs) -> Result<(), BenchError> {
    let formats = args
        .formats
        .iter()
        .map(|f| ImportFormat::parse(f.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(BenchError::InvalidArgs)?;
    if args.body_mib == 0 || args.series == 0 {
        return Err(BenchError::InvalidArgs(
            "--body-mib and --series must be positive".into(),
        ));
    }
    let binary = match &args.strata {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| BenchError::io("locate", "current executable", e))?
            .with_file_name("strata"),
    };
    let cpus = match &args.server_cpus {
        Some(cpus) => cpus.clone(),
        None => format!(
            "0-{}",
            std::thread::available_parallelism().map_or(0, |n| n.get() - 1)
        ),
    };
    let work = std::env::temp_dir().join(format!("strata-import-rss-{}", std::process::id()));
    let mut results = Vec::new();
    for format in formats {
        let (server, target, pid) = match (&args.target, args.server_pid) {
            (Some(target), Some(pid)) => (None, target.clone(), pid),
            _ => {
                let server = ServerProcess::start(
                    ServerKind::Strata,
                    &binary,
                    &cpus,
                    work.join(format.name()),
                    &args.strata_args,
                )?;
                let (target, pid) = (server.target.clone(), server.pid());
                (Some(server), target, pid)
            }
        };
        let result = measure(args, format, &target, pid)?;
        eprintln!(
            "import-rss: {} {} MiB in {:.1} s, RSS {} → peak {} MiB (+{} MiB)",
            format.name(),
            result.body_bytes / MIB,
            result.seconds,
            result.rss_before_bytes / MIB,
            result.rss_peak_bytes / MIB,
            result.growth_bytes() / MIB
        );
        results.push(result);
        drop(server);
    }
    let _ = std::fs::remove_dir_all(&work);
    print!("{}", markdown_table(&results));
    if let Some(path) = &args.json_out {
        let json = serde_json::to_vec_pretty(&results).unwrap_or_default();
        std::fs::write(path, json)
            .map_err(|e| BenchError::io("write", &path.display().to_string(), e))?;
    }
    let over: Vec<&str> = results
        .iter()
        .filter(|r| r.growth_bytes() >= args.max_growth_mib * MIB)
        .map(|r| r.format)
        .collect();
    if !over.is_empty() {
        return Err(BenchError::Failed(format!(
            "RSS grew by {} MiB or more during the import of: {}",
            args.max_growth_mib,
            over.join(", ")
        )));
    }
    Ok(())
}

fn measure(
    args: &ImportRssArgs,
    format: ImportFormat,
    target: &str,
    pid: u32,
) -> Result<FormatResult, BenchError> {
    let rss = |what: &str| {
        status_bytes(pid, what)
            .ok_or_else(|| BenchError::Failed(format!("cannot read {what} of strata (pid {pid})")))
    };
    let rss_start_bytes = rss("VmRSS")?;
    let start_ms = now_ms() - START_AGO_MS;
    let timeout = Duration::from_secs(600);
    if args.warm_up_mib > 0 {
        let mut warm_up =
            BodyGenerator::new(format, args.series, start_ms - WARM_UP_BEFORE_MS, STEP_MS);
        let done = upload(
            target,
            format.path(),
            &mut warm_up,
            args.warm_up_mib * MIB,
            timeout,
        )
        .map_err(|e| BenchError::Failed(format!("warm-up import: {e}")))?;
        check_accepted(format, &done)?;
        std::thread::sleep(args.settle);
    }
    let rss_before_bytes = rss("VmRSS")?;
    let sampler = RssSampler::start(pid, args.sample_period);
    let mut generator = BodyGenerator::new(format, args.series, start_ms, STEP_MS);
    let done = upload(
        target,
        format.path(),
        &mut generator,
        args.body_mib * MIB,
        timeout,
    );
    let (rss_peak_bytes, rss_samples) = sampler.finish();
    let done = done.map_err(|e| BenchError::Failed(format!("{} import: {e}", format.name())))?;
    check_accepted(format, &done)?;
    if generator.last_timestamp_ms() > now_ms() {
        return Err(BenchError::InvalidArgs(
            "the body reaches into the future: use more --series or a smaller --body-mib".into(),
        ));
    }
    std::thread::sleep(args.settle);
    Ok(FormatResult {
        format: format.name(),
        body_bytes: done.body_bytes,
        samples: done.samples,
        seconds: done.elapsed.as_secs_f64(),
        rss_start_bytes,
        rss_before_bytes,
        rss_peak_bytes,
        rss_after_bytes: rss("VmRSS")?,
        hwm_bytes: rss("VmHWM")?,
        rss_samples,
    })
}

/// The import answered 204 and stored every sample the body held.
fn check_accepted(format: ImportFormat, done: &Upload) -> Result<(), BenchError> {
    let imported = done
        .header("x-strata-samples-imported")
        .and_then(|v| v.parse::<u64>().ok());
    if done.status != 204 || imported != Some(done.samples) {
        return Err(BenchError::Failed(format!(
            "{} import: status {}, {imported:?} of {} samples imported, skipped {:?}: {} {:?}",
            format.name(),
            done.status,
            done.samples,
            done.header("x-strata-lines-skipped"),
            done.body,
            done.header("x-strata-first-error"),
        )));
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The results as a markdown table (MiB with one decimal).
pub fn markdown_table(results: &[FormatResult]) -> String {
    let mib = |bytes: u64| format!("{:.1}", bytes as f64 / MIB as f64);
    let mut out = String::from(
        "| format | body MiB | samples | seconds | MiB/s | RSS after start | RSS before import | peak RSS during | growth | RSS after | VmHWM |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | **{}** | {} | {} |\n",
            r.format,
            mib(r.body_bytes),
            r.samples,
            r.seconds,
            r.body_bytes as f64 / MIB as f64 / r.seconds.max(1e-9),
            mib(r.rss_start_bytes),
            mib(r.rss_before_bytes),
            mib(r.rss_peak_bytes),
            mib(r.growth_bytes()),
            mib(r.rss_after_bytes),
            mib(r.hwm_bytes),
        ));
    }
    out
}
