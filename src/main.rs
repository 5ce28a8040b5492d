//! Glue only: parse, run, map to an exit code, print the error chain once.

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::Parser;
use rl_search::cli::Cli;
use rl_search::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            // A closed pipe (`rl-search x | head`) is the reader's choice, not our failure.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
            let mut msg = chain[0].clone();
            for cause in &chain[1..] {
                if !msg.contains(cause.as_str()) {
                    msg.push_str(": ");
                    msg.push_str(cause);
                }
            }
            eprintln!("rl-search: {msg}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}
