//! A document's versions as the commands see them: `history` lists them, `read --version` and
//! `--at` pick one, `diff` compares two. Version 1 is the oldest; the record is the current one.

use anyhow::{Result, bail};

use crate::store::{DocRecord, Store, Version};

/// Every version, oldest first, the current one last.
pub fn all(rec: &DocRecord, store: &Store) -> Vec<Version> {
    let mut v = rec.versions.clone();
    let words = rec
        .text_file
        .as_deref()
        .and_then(|f| store.read_text(f).ok())
        .map_or(0, |t| t.split_whitespace().count());
    v.push(rec.as_version(words));
    v
}

/// The version numbered `n`, or an error that says which ones there are.
pub fn numbered(rec: &DocRecord, store: &Store, n: u32) -> Result<Version> {
    let all = all(rec, store);
    match all.iter().find(|v| v.version == n) {
        Some(v) => Ok(v.clone()),
        None => bail!(
            "{} has no version {n}; it has {} (see `rl-search history {}`)",
            rec.url,
            ranges(&all),
            rec.id
        ),
    }
}

/// The version that was current at `date` (RFC 3339, or a day: `2026-11-30` means its end).
pub fn at(rec: &DocRecord, store: &Store, date: &str) -> Result<Version> {
    let d = date.trim();
    let when = if d.len() == 10 && humantime::parse_rfc3339_weak(&format!("{d}T00:00:00")).is_ok() {
        format!("{d}T23:59:59Z")
    } else if humantime::parse_rfc3339_weak(d.trim_end_matches('Z')).is_ok() {
        // Normalised to the stored form (seconds, Z) so that strings compare as times.
        humantime::format_rfc3339_seconds(
            humantime::parse_rfc3339_weak(d.trim_end_matches('Z')).expect("checked"),
        )
        .to_string()
    } else {
        bail!("--at {date:?} is not a date: give 2026-11-30 or 2026-11-30T12:00:00Z");
    };
    let all = all(rec, store);
    all.iter()
        .rev()
        .find(|v| v.fetched_at.as_deref().is_some_and(|f| f <= when.as_str()))
        .cloned()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} had no stored version at {date}: the oldest is from {}",
                rec.url,
                all.first()
                    .and_then(|v| v.fetched_at.clone())
                    .unwrap_or_else(|| "(unknown)".into())
            )
        })
}

/// `1-3, 5`: the version numbers there are.
fn ranges(all: &[Version]) -> String {
    let nums: Vec<String> = all.iter().map(|v| v.version.to_string()).collect();
    match nums.as_slice() {
        [] => "no versions".into(),
        [one] => format!("only version {one}"),
        _ => format!("versions {}", nums.join(", ")),
    }
}

/// A version's text.
pub fn text(store: &Store, rec: &DocRecord, v: &Version) -> Result<String> {
    let Some(f) = &v.text_file else {
        bail!("{} version {} has no stored text", rec.url, v.version);
    };
    Ok(store.read_text(f)?)
}

pub use crate::changes::{paragraph_lines, word_changes};

/// The newest kept version older than `to` (`to` itself when there is none).
pub fn before(all: &[Version], to: u32) -> u32 {
    all.iter()
        .rev()
        .map(|v| v.version)
        .find(|&n| n < to)
        .unwrap_or(to)
}
