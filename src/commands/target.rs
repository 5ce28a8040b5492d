//! Lookups every command shares: which document a user means (a rank, an id, a prefix, a
//! URL), the listed documents as status shows them, and when a link was last checked.

use anyhow::{Context, Result, bail};

use crate::list::canonical;
use crate::store::{DocRecord, Store};

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

/// A document by id or any spelling of its link (no ranks): the web reader's `/doc/…`.
pub fn document(store: &Store, spelling: &str) -> Option<DocRecord> {
    find_document(store, spelling.trim()).ok()
}

/// Finds a document by id, unique id prefix, or any spelling of its link — as listed or as
/// fetched — that means the same page (see [`canonical::identity`]).
fn find_document(store: &Store, target: &str) -> Result<DocRecord> {
    if let Some(rec) = store.load_record(target)? {
        return Ok(rec);
    }
    let manifest = store.load_manifest()?;
    // Every record is read at most once, and only when the cheaper ways found nothing.
    let records = std::cell::OnceCell::new();
    let all = || records.get_or_init(|| store.records());
    if let Some(want) = canonical::identity(target) {
        let same = |url: &str| canonical::identity(url).as_deref() == Some(want.as_str());
        let mut ids: Vec<String> = manifest
            .iter()
            .flat_map(|m| &m.entries)
            .filter(|e| same(&e.url))
            .map(|e| e.id.clone())
            .collect();
        if ids.is_empty() {
            // Where the link led (a redirect, an arXiv PDF for its abstract page).
            ids = all()
                .iter()
                .filter(|r| same(&r.url) || r.sources.iter().any(|s| same(&s.final_url)))
                .map(|r| r.id.clone())
                .collect();
        }
        ids.dedup();
        match ids.as_slice() {
            [id] => {
                return store.load_record(id)?.with_context(|| {
                    format!("{target} is on the list but has not been fetched yet; run `rl-search update`")
                });
            }
            [] => {}
            many => bail!(
                "{target:?} names {} documents ({}); give an id",
                many.len(),
                many.join(", ")
            ),
        }
    }
    let records = all();
    let matches: Vec<&DocRecord> = records
        .iter()
        .filter(|r| target.len() >= 3 && r.id.starts_with(target))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("{}", not_found(target, records)),
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

/// One line for a document that is not there: what was asked, and up to three titles or
/// links that come closest.
fn not_found(target: &str, records: &[DocRecord]) -> String {
    let asked = target.to_lowercase();
    let mut scored: Vec<(f64, String)> = records
        .iter()
        .map(|r| {
            let by_url = strsim::normalized_levenshtein(&asked, &r.url.to_lowercase());
            let by_title = strsim::jaro_winkler(&asked, &r.title.to_lowercase());
            let shown = if r.title.is_empty() || by_url > by_title {
                r.url.clone()
            } else {
                r.title.clone()
            };
            // Titles are compared by their beginnings (Jaro-Winkler), links by edits; each
            // has its own bar, so an unrelated title does not come "close" to a URL.
            let score = (by_url - 0.6).max(by_title - 0.85);
            (
                score,
                format!("{} ({})", crate::output::clean(&shown), r.id),
            )
        })
        .filter(|(s, _)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let close: Vec<String> = scored.into_iter().take(3).map(|(_, s)| s).collect();
    if close.is_empty() {
        format!("no document {target:?} in the library; `rl-search status` lists ids and URLs")
    } else {
        format!(
            "no document {target:?} in the library; closest: {}",
            close.join("; ")
        )
    }
}

/// The listed links in list order, with pending records for links never fetched.
pub fn documents(store: &Store) -> Result<Vec<DocRecord>> {
    Ok(documents_in(store, 0..usize::MAX)?.1)
}

/// The number of listed links, and the records of those at positions `range` (a page of a
/// long list reads only its own records).
pub fn documents_in(
    store: &Store,
    range: std::ops::Range<usize>,
) -> Result<(usize, Vec<DocRecord>)> {
    let Some(manifest) = store.load_manifest()? else {
        return Ok((0, vec![]));
    };
    let checked = store.load_checked();
    let total = manifest.entries.len();
    let mut docs = vec![];
    let end = range.end.min(total);
    for e in &manifest.entries[range.start.min(end)..end] {
        let rec = store.load_record(&e.id)?.unwrap_or_else(|| DocRecord {
            id: e.id.clone(),
            url: e.url.clone(),
            link_text: e.link_text.clone(),
            section: e.section.clone(),
            ..Default::default()
        });
        let mut rec = rec;
        rec.checked_at = last_checked(&rec, checked.get(&e.id)).map(str::to_string);
        docs.push(rec);
    }
    Ok((total, docs))
}

/// When a link was last checked: the later of its record and the library's check log.
pub fn last_checked<'a>(rec: &'a DocRecord, checked: Option<&'a String>) -> Option<&'a str> {
    match (rec.checked_at.as_deref(), checked.map(String::as_str)) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (a, b) => a.or(b),
    }
}
