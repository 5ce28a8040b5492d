//! The command layer: the only place where the pipeline's stages meet.

pub mod add;
pub mod changes;
pub mod diff;
pub mod export;
pub mod extract;
pub mod history;
pub mod model;
pub mod open;
pub mod read;
pub mod search;
pub mod serve;
pub mod similar;
pub mod status;
pub mod target;
pub mod update;
pub mod versions;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// How a command ended. Exit codes as grep's (see [`Exit::code`]): what went right is 0, a
/// search that found nothing or an update where some links failed is 1, an error is 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// A search or `similar` found nothing.
    NoHits,
    /// An update indexed what it could, but some links failed.
    SomeFailed,
    Error,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::NoHits | Exit::SomeFailed => 1,
            Exit::Error => 2,
        }
    }
}

/// Prints hits for people or as JSON lines; says `when_none` on stderr when there are none.
/// Exit code as grep's: hits 0, none 1.
fn print_hits(
    cfg: &Config,
    hits: &[crate::search::Hit],
    json: bool,
    when_none: &str,
) -> Result<Exit> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        crate::output::hits_json(&mut out, hits)?;
    } else if hits.is_empty() {
        eprintln!("{when_none}");
    } else {
        let width = cfg.stdout_tty.then(textwrap::termwidth);
        crate::output::hits(
            &mut out,
            hits,
            crate::output::Style { color: cfg.color },
            width,
        )?;
    }
    out.flush()?;
    Ok(if hits.is_empty() {
        Exit::NoHits
    } else {
        Exit::Success
    })
}

/// Runs the command the user asked for; damaged records it met are reported once, after.
pub fn run(cli: Cli) -> Result<Exit> {
    let result = dispatch(cli);
    for repair in crate::store::take_repairs() {
        eprintln!("rl-search: warning: {}", crate::output::clean(&repair));
    }
    result
}

fn dispatch(cli: Cli) -> Result<Exit> {
    let cfg = Config::resolve(&cli);
    match cli.command {
        Some(Command::Update(args)) => update::command(&cfg, &args),
        Some(Command::Search(args)) => search::command(&cfg, &args),
        Some(Command::Read(args)) => read::command(&cfg, &args),
        Some(Command::Status(args)) => status::command(&cfg, &args),
        Some(Command::Extract(args)) => extract::command(&cfg, &args),
        Some(Command::Similar(args)) => similar::command(&cfg, &args),
        Some(Command::Open(args)) => open::command(&cfg, &args),
        Some(Command::Export(args)) => export::command(&cfg, &args),
        Some(Command::Serve(args)) => serve::command(&cfg, &args),
        Some(Command::History(args)) => history::command(&cfg, &args),
        Some(Command::Diff(args)) => diff::command(&cfg, &args),
        Some(Command::Changes(args)) => changes::command(&cfg, &args),
        Some(Command::Add(args)) => add::add(&cfg, &args),
        Some(Command::Remove(args)) => add::remove(&cfg, &args),
        Some(Command::Model(args)) => model::command(&cfg, &args),
        Some(Command::Completions { shell }) => {
            // Generated into memory first: clap_complete panics when it cannot write.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "rl-search", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(Exit::Success)
        }
        Some(Command::PdfWorker) => {
            crate::extract::pdf::worker_main()?;
            Ok(Exit::Success)
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(Exit::Success)
        }
        None if cli.search.query.is_empty() => {
            anyhow::bail!(
                "nothing to do: give a query (rl-search \"scaling laws\") or a command (rl-search --help)"
            )
        }
        None => search::command(&cfg, &cli.search),
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    /// Two outcomes share grep's code 1 but stay apart inside the program (issue 14).
    #[test]
    fn no_hits_and_some_failed_are_different_outcomes_with_one_code() {
        assert_ne!(Exit::NoHits, Exit::SomeFailed);
        assert_eq!(Exit::NoHits.code(), 1);
        assert_eq!(Exit::SomeFailed.code(), 1);
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Error.code(), 2);
    }
}
