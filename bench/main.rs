//! `strata-bench`: the benchmark harness. `gen` writes a deterministic
//! remote_write workload file; `ingest` sends it to one or more servers and
//! reports what they accepted, how fast, and at what latency; `query` times
//! the dashboard query set and checks answers against Prometheus; `compare`
//! runs Strata, VictoriaMetrics and Prometheus on the same workload and writes
//! a markdown report with SVG charts; `import-rss` measures how much a big
//! streaming import grows Strata's resident set.

#![deny(unsafe_code)]

mod compare;
mod cpu_time;
mod duration_arg;
mod error;
mod gen;
mod http_client;
mod import_rss;
mod index;
mod ingest;
mod prng;
mod query;
mod report;
mod workload_file;
mod workload_header;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command line of `strata-bench`.
#[derive(Parser, Debug)]
#[command(name = "strata-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One subcommand per harness step.
#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a workload file of pre-encoded remote_write requests.
    Gen(gen::GenArgs),
    /// Send a workload file to remote_write targets and report throughput and latency.
    Ingest(ingest::IngestArgs),
    /// Time the dashboard query set on targets and compare answers with a reference (Prometheus).
    Query(query::QueryArgs),
    /// Run Strata, VictoriaMetrics and Prometheus on one workload and write a report.
    Compare(compare::CompareArgs),
    /// Render a `compare` report (markdown and charts) again from its results JSON.
    Report(compare::ReportArgs),
    /// Ingest rate of Strata with --wal.sync=always, batch and none against VictoriaMetrics.
    WalSync(compare::wal_sync::WalSyncArgs),
    /// Stream big generated import bodies into Strata and measure how much its RSS grows.
    ImportRss(import_rss::ImportRssArgs),
    /// Index figures (new series/s, RSS per series, start-up, lookups) vs VictoriaMetrics.
    Index(index::IndexArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Gen(args) => gen::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Query(args) => query::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Report(args) => compare::rerender(args),
        Command::WalSync(args) => compare::wal_sync::run(args),
        Command::ImportRss(args) => import_rss::run(args),
        Command::Index(args) => index::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
