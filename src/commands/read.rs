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
use crate::store::{self, DocRecord, Store};

/// Finds a document by id, unique id prefix, or URL (as listed or as fetched).
pub fn find(store: &Store, target: &str) -> Result<DocRecord> {
    let target = target.trim();
    if let Some(rec) = store.load_record(target)? {
        return Ok(rec);
    }
    if target.starts_with("http://") || target.starts_with("https://") {
        let normal = url::Url::parse(target)
            .map(|u| u.to_string())
            .unwrap_or(target.to_string());
        if let Some(rec) = store.load_record(&store::doc_id(&normal))? {
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

pub fn command(cfg: &Config, args: &ReadArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let rec = find(&store, &args.target)?;
    if args.raw {
        // The main source: the PDF of an arXiv paper, the page of a blog post.
        let plan = crate::resolve::plan(&rec.url);
        let main_url = plan
            .sources
            .iter()
            .find(|s| s.role == Role::Main)
            .map(|s| s.url.clone());
        let src = rec
            .sources
            .iter()
            .find(|s| Some(&s.url) == main_url.as_ref())
            .or(rec.sources.first())
            .with_context(|| format!("{} has no stored copy; run `rl-search update`", rec.url))?;
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
    let page = format!(
        "{}\n{}\n",
        output::read_header(&rec, Style { color: cfg.color }),
        crate::extract::text::strip_controls(&text)
    );
    if cfg.stdout_tty && !args.no_pager {
        page_through(&page)?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(page.as_bytes())?;
        out.flush()?;
    }
    Ok(Exit::Success)
}

/// Shows text through `$PAGER` (default `less -R`); falls back to plain output without one.
fn page_through(text: &str) -> Result<()> {
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less".into());
    let mut parts = pager.split_whitespace();
    let program = parts.next().unwrap_or("less");
    let mut cmd = Command::new(program);
    cmd.args(parts).stdin(Stdio::piped());
    if program.ends_with("less") && std::env::var_os("LESS").is_none() {
        cmd.env("LESS", "FRX");
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
