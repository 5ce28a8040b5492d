//! `rl-search status`: every listed link with its state, and totals.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::Exit;
use crate::cli::StatusArgs;
use crate::config::Config;
use crate::output::{self, Style};
use crate::store::{DocRecord, State, Store};

/// The library's links and totals, as `status --json` (and the web reader's API) give them.
pub fn status_json(store: &Store, docs: &[DocRecord]) -> serde_json::Value {
    let library = store.root();
    let count = |s: State| docs.iter().filter(|d| d.state == s).count();
    let list: Vec<_> = docs
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "url": d.url, "title": d.title, "link_text": d.link_text,
                "section": d.section, "kind": d.kind, "state": d.state,
                "http_status": d.http_status, "bytes": d.bytes, "text_chars": d.text_chars,
                "fetched_at": d.fetched_at, "checked_at": d.checked_at,
                "last_error": d.last_error, "note": d.note, "thin": d.thin,
                "versions": d.versions.len() + 1, "failing_since": d.failing_since,
            })
        })
        .collect();
    json!({
        "library": library.display().to_string(),
        "documents": list,
        "totals": {"total": docs.len(), "ok": count(State::Ok), "failed": count(State::Failed),
                    "pending": count(State::Pending),
                    "with_errors": docs.iter().filter(|d| d.last_error.is_some()).count(),
                    "earlier_versions": docs.iter().map(|d| d.versions.len()).sum::<usize>(),
                    "earlier_versions_bytes": earlier_bytes(store, docs)},
    })
}

/// Disk space of the documents' earlier versions.
fn earlier_bytes(store: &Store, docs: &[DocRecord]) -> u64 {
    docs.iter()
        .filter(|d| !d.versions.is_empty())
        .map(|d| store.version_bytes(d))
        .sum()
}

pub fn command(cfg: &Config, args: &StatusArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let docs = super::target::documents(&store)?;
    let count = |s: State| docs.iter().filter(|d| d.state == s).count();
    let (ok, failed, pending) = (
        count(State::Ok),
        count(State::Failed),
        count(State::Pending),
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let v = status_json(&store, &docs);
        writeln!(out, "{v}")?;
        return Ok(Exit::Success);
    }
    if docs.is_empty() {
        writeln!(
            out,
            "The library at {} is empty: run `rl-search update` to fetch the reading list.",
            cfg.index_dir.display()
        )?;
        return Ok(Exit::Success);
    }
    output::status_table(&mut out, &docs, Style { color: cfg.color })?;
    writeln!(
        out,
        "\n{} links: {ok} ok, {failed} failed, {pending} pending · library {}",
        docs.len(),
        cfg.index_dir.display()
    )?;
    let earlier: usize = docs.iter().map(|d| d.versions.len()).sum();
    if earlier > 0 {
        writeln!(
            out,
            "{earlier} earlier versions kept, {:.1} MB (`rl-search history ID`; bound them with `update --keep-versions N`)",
            earlier_bytes(&store, &docs) as f64 / 1e6
        )?;
    }
    Ok(Exit::Success)
}
