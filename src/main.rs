//! The `strata` binary: flags, then the server.

use std::process::ExitCode;

use clap::Parser;
use strata::config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    strata::logging::init(log::LevelFilter::Info);
    let result = match cli.command {
        None | Some(Command::Serve) => strata::runtime::run(cli.server),
        Some(Command::Restore { from, data_dir }) => {
            strata::storage::snapshot::restore(&from, &data_dir).map(|()| {
                println!("restored {} into {}", from.display(), data_dir.display());
            })
        }
        Some(Command::CheckHost(args)) => return strata::check_host::run(&args, &cli.server),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("strata: {error}");
            ExitCode::FAILURE
        }
    }
}
