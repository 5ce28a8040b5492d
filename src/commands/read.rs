//! `rl-search read ID_OR_URL`: one document's stored text, offline, through the pager on a
//! terminal; `--raw` writes the bytes as downloaded.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::Exit;
use crate::cli::ReadArgs;
use crate::config::Config;
use crate::output::{self, Style};
use crate::resolve::Role;
use crate::store::{DocRecord, SourceRecord, Store};

/// The stored copy of a document's main source: the PDF of an arXiv paper, the page of a post.
pub fn main_source(rec: &DocRecord) -> Result<&SourceRecord> {
    let plan = crate::resolve::plan(&rec.url);
    let main_url = plan
        .sources
        .iter()
        .find(|s| s.role == Role::Main)
        .map(|s| s.url.as_str());
    rec.sources
        .iter()
        .find(|s| Some(s.url.as_str()) == main_url)
        .or(rec.sources.first())
        .with_context(|| format!("{} has no stored copy; run `rl-search update`", rec.url))
}

pub fn command(cfg: &Config, args: &ReadArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let (rec, last_query) = super::target::find(&store, &args.target)?;
    let query = args.query.clone().or(last_query);
    if args.raw {
        let src = main_source(&rec)?;
        let bytes = store.read_raw(&src.raw_file)?;
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        return Ok(Exit::Success);
    }
    let Some(file) = &rec.text_file else {
        let why = rec
            .last_error
            .as_deref()
            .unwrap_or("it has not been fetched yet");
        bail!("{} has no stored text: {why}", rec.url);
    };
    let text = store.read_text(file)?;
    let style = Style { color: cfg.color };
    let mut body = crate::terminal::strip_controls(&text);
    if cfg.stdout_tty {
        body = output::wrap(&body, textwrap::termwidth().min(100));
    }
    let ranges = query
        .as_deref()
        .map(|q| crate::search::match_ranges(&body, q))
        .unwrap_or_default();
    let first_match = ranges.first().map(|r| body[r.clone()].to_string());
    if !ranges.is_empty() {
        body = output::highlight_ranges(&body, &ranges, style);
    }
    let page = format!("{}\n{}\n", output::read_header(&rec, style), body);
    if cfg.stdout_tty && !args.no_pager {
        page_through(&page, first_match.as_deref())?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(page.as_bytes())?;
        out.flush()?;
    }
    Ok(Exit::Success)
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.^$|?*+()[]{}".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// Shows text through `$PAGER` (default `less`, opened at the first match when there is a
/// query); falls back to plain output without one.
fn page_through(text: &str, first_match: Option<&str>) -> Result<()> {
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less".into());
    let mut parts = pager.split_whitespace();
    let program = parts.next().unwrap_or("less");
    let mut cmd = Command::new(program);
    cmd.args(parts).stdin(Stdio::piped());
    if program.ends_with("less") {
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRX");
        }
        if let Some(word) = first_match {
            // Open at the first match; less searches case-insensitively with -i.
            cmd.arg("-i").arg(format!("+/{}", regex_escape(word)));
        }
    }
    match cmd.spawn() {
        Ok(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                // The reader may quit before the end: a broken pipe here is fine.
                let _ = stdin.write_all(text.as_bytes());
            }
            child.wait()?;
        }
        Err(_) => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}
