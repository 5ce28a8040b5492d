//! `rl-search status`: every listed link with its state, and totals.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::Exit;
use crate::cli::StatusArgs;
use crate::config::Config;
use crate::output::{self, Style};
use crate::store::{DocRecord, State, Store};

/// The listed links in list order, with pending records for links never fetched.
pub fn documents(store: &Store) -> Result<Vec<DocRecord>> {
    let Some(manifest) = store.load_manifest()? else {
        return Ok(vec![]);
    };
    let checked = store.load_checked();
    let mut docs = vec![];
    for e in &manifest.entries {
        let rec = store.load_record(&e.id)?.unwrap_or_else(|| DocRecord {
            id: e.id.clone(),
            url: e.url.clone(),
            link_text: e.link_text.clone(),
            section: e.section.clone(),
            ..Default::default()
        });
        let mut rec = rec;
        rec.checked_at =
            crate::commands::update::last_checked(&rec, checked.get(&e.id)).map(str::to_string);
        docs.push(rec);
    }
    Ok(docs)
}

pub fn command(cfg: &Config, args: &StatusArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let docs = documents(&store)?;
    let count = |s: State| docs.iter().filter(|d| d.state == s).count();
    let (ok, failed, pending) = (
        count(State::Ok),
        count(State::Failed),
        count(State::Pending),
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let list: Vec<_> = docs
            .iter()
            .map(|d| {
                json!({
                    "id": d.id, "url": d.url, "title": d.title, "link_text": d.link_text,
                    "section": d.section, "kind": d.kind, "state": d.state,
                    "http_status": d.http_status, "bytes": d.bytes, "text_chars": d.text_chars,
                    "fetched_at": d.fetched_at, "checked_at": d.checked_at,
                    "last_error": d.last_error, "note": d.note, "thin": d.thin,
                })
            })
            .collect();
        let v = json!({
            "library": cfg.index_dir.display().to_string(),
            "documents": list,
            "totals": {"total": docs.len(), "ok": ok, "failed": failed, "pending": pending,
                        "with_errors": docs.iter().filter(|d| d.last_error.is_some()).count()},
        });
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
    Ok(Exit::Success)
}
