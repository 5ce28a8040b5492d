//! `rl-search changes [--since 7d|DATE] [--json]`: what the last update (or every update since
//! a time) found — new pages, changed ones with their words and biggest new paragraph, pages
//! failing since when, recovered, no longer listed — newest first, with ids `read` and `diff`
//! take.

use std::io::Write;
use std::time::SystemTime;

use anyhow::Result;

use super::Exit;
use crate::changes::{self, Event, Kind, Update};
use crate::cli::ChangesArgs;
use crate::config::Config;
use crate::output::{Style, clean};
use crate::store::Store;

/// Updates to show, newest first: those since `since`, or the last one.
pub fn select(mut updates: Vec<Update>, since: Option<SystemTime>) -> Vec<Update> {
    match since {
        Some(t) => updates.retain(|u| humantime::parse_rfc3339_weak(&u.at).is_ok_and(|at| at >= t)),
        None => {
            let last = updates.pop();
            updates = last.into_iter().collect();
        }
    }
    updates.reverse();
    for u in &mut updates {
        u.events.sort_by_key(|e| e.kind);
    }
    updates
}

/// One line for an update's counts: "1 changed, 2 failing of 36 links (38 requests)".
pub fn headline(u: &Update) -> String {
    let mut what = changes::tally(&u.events);
    if what.is_empty() {
        what = "nothing changed".into();
    }
    let still = u.failing.saturating_sub(u.count(Kind::Failing));
    if still > 0 {
        what += &format!("; {still} still failing");
    }
    format!(
        "{what} ({} links checked, {} requests)",
        u.links, u.requests
    )
}

/// The words of an event after its kind and id: title, versions, words, reason.
pub fn describe(e: &Event) -> String {
    let mut s = clean(e.name());
    match e.kind {
        Kind::Changed => {
            if let (Some(a), Some(r)) = (e.words_added, e.words_removed) {
                s += &format!(" — +{a} −{r} words");
            }
        }
        Kind::Failing => {
            if let Some(r) = &e.reason {
                let r = r.strip_prefix(&format!("{}: ", e.url)).unwrap_or(r);
                s += &format!(" — {}", clean(r));
            }
        }
        Kind::Recovered => {
            if let Some(since) = &e.since {
                s += &format!(" — failing since {}", short_time(since));
            }
        }
        Kind::New | Kind::Removed => {}
    }
    s
}

/// `2026-12-02T06:40:05Z` → `2026-12-02 06:40 UTC`.
pub fn short_time(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => at.to_string(),
    }
}

pub fn command(cfg: &Config, args: &ChangesArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let all = changes::read(store.root());
    if all.is_empty() {
        eprintln!(
            "rl-search: no update has been logged in {} yet; run `rl-search update`",
            cfg.index_dir.display()
        );
        return Ok(Exit::NoHits);
    }
    let updates = select(all, args.since);
    let mut out = std::io::stdout().lock();
    if args.json {
        for u in &updates {
            for e in &u.events {
                let mut v = serde_json::to_value(e)?;
                v["at"] = serde_json::Value::String(u.at.clone());
                writeln!(out, "{v}")?;
            }
        }
        out.flush()?;
        return Ok(Exit::Success);
    }
    let style = Style { color: cfg.color };
    if updates.is_empty() {
        writeln!(out, "no update since then")?;
    }
    for u in &updates {
        writeln!(out, "{}  {}", style.bold(&short_time(&u.at)), headline(u))?;
        for e in &u.events {
            let kind = format!("{:<9}", e.kind.as_str());
            let kind = match e.kind {
                Kind::Failing | Kind::Removed => style.red(&kind),
                Kind::New | Kind::Recovered => style.green(&kind),
                Kind::Changed => style.cyan(&kind),
            };
            writeln!(out, "  {kind}  {}  {}", e.id, describe(e))?;
            if let Some(summary) = &e.summary {
                writeln!(
                    out,
                    "  {:9}  {:8}  {}",
                    "",
                    "",
                    style.dim(&format!("+ {}", clean(summary)))
                )?;
            }
            if e.kind == Kind::Changed {
                let diff = match (e.from_version, e.version) {
                    (Some(f), Some(t)) => format!("rl-search diff {} --from {f} --to {t}", e.id),
                    _ => format!("rl-search diff {}", e.id),
                };
                writeln!(out, "  {:9}  {:8}  {}", "", "", style.dim(&diff))?;
            }
        }
    }
    if args.since.is_none() && updates.iter().all(|u| u.events.is_empty()) {
        writeln!(
            out,
            "{}",
            style.dim("earlier updates: rl-search changes --since 30d")
        )?;
    }
    out.flush()?;
    Ok(Exit::Success)
}
