//! `rl-search read ID_OR_URL`: one document's stored text, offline, through the pager on a
//! terminal; `--raw` writes the bytes as downloaded.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::Exit;
use crate::cli::ReadArgs;
use crate::config::Config;
use crate::extract::Heading;
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
    // An earlier version reads like the current one, with a line that says which it is.
    let chosen = match (args.version, &args.at) {
        (Some(n), _) => Some(super::versions::numbered(&rec, &store, n)?),
        (None, Some(date)) => Some(super::versions::at(&rec, &store, date)?),
        (None, None) => None,
    };
    let current = rec.current_version();
    let (rec, version_line) = match chosen {
        Some(v) if v.version != current => {
            let line = format!(
                "version {} of {}, fetched {} — the current version is {current}",
                v.version,
                current,
                v.fetched_at.as_deref().unwrap_or("(unknown)")
            );
            (rec.at_version(&v), Some(line))
        }
        Some(_) => (
            rec,
            Some(format!("version {current} of {current} (current)")),
        ),
        None => (rec, None),
    };
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
    let style = Style { color: cfg.color };
    if args.toc {
        let mut out = std::io::stdout().lock();
        out.write_all(toc(&rec)?.as_bytes())?;
        out.flush()?;
        return Ok(Exit::Success);
    }
    let mut text = store.read_text(file)?;
    if let Some(wanted) = &args.section {
        let at = section_start(&rec, &text, wanted)?;
        text.replace_range(..at, "");
    }
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
    let mut header = output::read_header(&rec, style);
    if let Some(line) = &version_line {
        header = header.replacen('─', &format!("{}\n─", style.bold(line)), 1);
    }
    let page = format!("{header}\n{body}\n");
    if cfg.stdout_tty && !args.no_pager {
        page_through(&page, first_match.as_deref())?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(page.as_bytes())?;
        out.flush()?;
    }
    Ok(Exit::Success)
}

fn no_outline(rec: &DocRecord) -> anyhow::Error {
    let why = if rec.extractor < crate::extract::VERSION {
        "its text was made by an older rl-search; run `rl-search update` to re-extract it"
    } else {
        "no section headings were found in its text"
    };
    anyhow::anyhow!("{} has no outline: {why}", rec.url)
}

/// The outline, one heading per line, indented by level.
fn toc(rec: &DocRecord) -> Result<String> {
    if rec.outline.is_empty() {
        return Err(no_outline(rec));
    }
    let mut s = String::new();
    for h in &rec.outline {
        let indent = "  ".repeat(usize::from(h.level.clamp(1, 6)) - 1);
        s += &format!("{indent}{}\n", crate::terminal::strip_controls(&h.line()));
    }
    Ok(s)
}

/// The byte offset in `text` where the section named `wanted` (its title, number, or both,
/// any case; else the first title that starts with it) begins.
fn section_start(rec: &DocRecord, text: &str, wanted: &str) -> Result<usize> {
    if rec.outline.is_empty() {
        return Err(no_outline(rec));
    }
    let w = wanted.trim().trim_end_matches('.').to_lowercase();
    let exact = |h: &&Heading| {
        h.title.to_lowercase() == w
            || h.number.as_deref() == Some(w.as_str())
            || h.line().to_lowercase() == w
    };
    let index = rec
        .outline
        .iter()
        .position(|h| exact(&h))
        .or_else(|| {
            rec.outline
                .iter()
                .position(|h| h.title.to_lowercase().starts_with(&w))
        })
        .with_context(|| {
            format!(
                "{} has no section {wanted:?}; `rl-search read {} --toc` lists its sections",
                rec.url, rec.id
            )
        })?;
    // The same heading can stand twice (two "Results"): find its own occurrence.
    let line = rec.outline[index].line();
    let nth = rec.outline[..index]
        .iter()
        .filter(|h| h.line() == line)
        .count();
    let mut offset = 0;
    let mut seen = 0;
    for l in text.split_inclusive('\n') {
        if l.trim() == line {
            if seen == nth {
                return Ok(offset);
            }
            seen += 1;
        }
        offset += l.len();
    }
    bail!(
        "{}: the section {line:?} is in the outline but not in the stored text; run `rl-search update --force`",
        rec.url
    )
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
