//! Glue only: parse, run, map to an exit code, print the error chain once.

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::Parser;
use rl_search::cli::Cli;
use rl_search::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // PDFs are extracted in child processes of this binary, which a timeout can stop.
    if let Ok(exe) = std::env::current_exe() {
        rl_search::extract::pdf::use_worker_process(exe);
    }
    match commands::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) => {
            // A closed pipe (`rl-search x | head`) is the reader's choice, not our failure.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Every error says its own part and leaves causes to its source: the chain, once.
            eprintln!("rl-search: {err:#}");
            ExitCode::from(Exit::Error.code())
        }
    }
}
