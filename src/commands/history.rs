//! `rl-search history ID_OR_URL`: a document's versions, oldest first, with what each changed.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::{Exit, versions};
use crate::cli::HistoryArgs;
use crate::config::Config;
use crate::output::Style;
use crate::store::Store;

pub fn command(cfg: &Config, args: &HistoryArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let (rec, _) = super::target::find(&store, &args.target)?;
    if rec.text_file.is_none() && rec.versions.is_empty() {
        let why = rec
            .last_error
            .as_deref()
            .unwrap_or("it has not been fetched yet; run `rl-search update`");
        anyhow::bail!("{} has no stored version: {why}", rec.url);
    }
    let all = versions::all(&rec, &store);
    let current = rec.current_version();
    let style = Style { color: cfg.color };
    let mut out = std::io::stdout().lock();
    let mut previous: Option<String> = None;
    if !args.json {
        writeln!(
            out,
            "{}",
            style.dim(&format!(
                "{:>5}  {:<20}  {:>6}  {:>9}  {:>7}  change (words)",
                "ver", "fetched", "status", "bytes", "words"
            ))
        )?;
    }
    for v in &all {
        let text = versions::text(&store, &rec, v).unwrap_or_default();
        let (added, removed) = match &previous {
            Some(p) => versions::word_changes(p, &text),
            None => (v.words, 0),
        };
        previous = Some(text);
        let is_current = v.version == current;
        if args.json {
            let line = json!({
                "version": v.version, "fetched_at": v.fetched_at, "http_status": v.http_status,
                "bytes": v.bytes, "words": v.words, "added_words": added,
                "removed_words": removed, "current": is_current, "title": v.title,
            });
            writeln!(out, "{line}")?;
            continue;
        }
        let mark = if is_current { "*" } else { " " };
        let change = format!("+{added} −{removed}");
        writeln!(
            out,
            "{mark} {:>3}  {:<20}  {:>6}  {:>9}  {:>7}  {}{}",
            v.version,
            v.fetched_at.as_deref().unwrap_or("(unknown date)"),
            v.http_status.map_or(String::new(), |s| s.to_string()),
            v.bytes,
            v.words,
            if is_current {
                style.bold(&change)
            } else {
                change
            },
            if is_current { "  (current)" } else { "" }
        )?;
    }
    if !args.json
        && let Some(since) = &rec.failing_since
    {
        let why = rec.last_error.as_deref().unwrap_or("");
        writeln!(
            out,
            "{}",
            style.red(&format!(
                "failing since {since}: {} — the last good version stays searchable",
                crate::output::clean(why)
            ))
        )?;
    }
    Ok(Exit::Success)
}
