//! Lookups every command shares: which document a user means (a rank, an id, a prefix, a
//! URL), the listed documents as status shows them, and when a link was last checked.

use anyhow::{Context, Result, bail};

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
