//! `strata-bench`: the benchmark harness. `gen` writes a deterministic
//! remote_write workload file; `ingest` sends it to one or more servers and
//! reports what they accepted, how fast, and at what latency.

#![deny(unsafe_code)]

mod cpu_time;
mod duration_arg;
mod error;
mod gen;
mod http_client;
mod ingest;
mod prng;
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

/// One subcommand per harness step; `query` and `compare` will join them.
#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a workload file of pre-encoded remote_write requests.
    Gen(gen::GenArgs),
    /// Send a workload file to remote_write targets and report throughput and latency.
    Ingest(ingest::IngestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Gen(args) => gen::run(args),
        Command::Ingest(args) => ingest::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
