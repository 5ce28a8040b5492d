//! The command layer: the only place where the pipeline's stages meet.

pub mod extract;
pub mod read;
pub mod search;
pub mod status;
pub mod update;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// Exit codes, as grep's: 0 success / hits, 1 nothing found or some links failed, 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Partial = 1,
    Error = 2,
}

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<Exit> {
    let cfg = Config::resolve(&cli);
    match cli.command {
        Some(Command::Update(args)) => update::command(&cfg, &args),
        Some(Command::Search(args)) => search::command(&cfg, &args),
        Some(Command::Read(args)) => read::command(&cfg, &args),
        Some(Command::Status(args)) => status::command(&cfg, &args),
        Some(Command::Extract(args)) => extract::command(&cfg, &args),
        None if cli.search.query.is_empty() => {
            anyhow::bail!(
                "nothing to do: give a query (rl-search \"scaling laws\") or a command (rl-search --help)"
            )
        }
        None => search::command(&cfg, &cli.search),
    }
}
