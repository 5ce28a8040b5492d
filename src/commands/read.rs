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

/// Finds a document by rank in the last search, id, unique id prefix, or URL. Returns the last
/// search's query too when the target was a rank, for highlighting.
pub fn find(store: &Store, target: &str) -> Result<(DocRecord, Option<String>)> {
    let target = target.trim();
    if target.len() <= 3
        && let Ok(rank) = target.parse::<usize>()
    {
        let last = store.load_last_search()?.with_context(|| {
            format!("{target:?} looks like a rank, but there is no previous search; search first or give an id")
        })?;
        let id = rank
            .checked_sub(1)
            .and_then(|i| last.ids.get(i))
            .with_context(|| {
                format!(
                    "the last search ({:?}) had {} hits, not {rank}",
                    last.query,
                    last.ids.len()
                )
            })?;
        let rec = store
            .load_record(id)?
            .with_context(|| format!("document {id} is no longer in the library"))?;
        return Ok((rec, Some(last.query)));
    }
    let rec = find_document(store, target)?;
    // A document the last search showed is read with that search's words highlighted.
    let query = store
        .load_last_search()?
        .filter(|last| last.ids.contains(&rec.id))
        .map(|last| last.query);
    Ok((rec, query))
}

/// Finds a document by id, unique id prefix, or URL (as listed or as fetched).
fn find_document(store: &Store, target: &str) -> Result<DocRecord> {
    if let Some(rec) = store.load_record(target)? {
        return Ok(rec);
    }
    if target.starts_with("http://") || target.starts_with("https://") {
        let normal = url::Url::parse(target)
            .map(|u| u.to_string())
            .unwrap_or(target.to_string());
        let listed = store
            .load_manifest()?
            .and_then(|m| m.entries.into_iter().find(|e| e.url == normal));
        if let Some(e) = listed
            && let Some(rec) = store.load_record(&e.id)?
        {
            return Ok(rec);
        }
    }
    let records = store.records();
    let matches: Vec<&DocRecord> = records
        .iter()
        .filter(|r| {
            (target.len() >= 3 && r.id.starts_with(target))
                || r.url.trim_end_matches('/') == target.trim_end_matches('/')
                || r.sources.iter().any(|s| s.final_url == target)
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("no document {target:?} in the library; `rl-search status` lists ids and URLs"),
        many => bail!(
            "{target:?} matches {} documents ({}); give more of the id",
            many.len(),
            many.iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

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
    let (rec, last_query) = find(&store, &args.target)?;
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
    let mut body = crate::extract::text::strip_controls(&text);
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
