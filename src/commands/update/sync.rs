//! The index brought in line with the stored text: one writer, one commit.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use crate::index::{IndexDoc, LibraryIndex};
use crate::resolve;
use crate::store::{self, DocRecord, Manifest, State, Store};

/// What the index entry of a record was built from: its text and every indexed field, so that
/// a link moved to another section or retitled is re-indexed too.
fn index_key(rec: &DocRecord, text_hash: &str) -> String {
    let fields = [
        text_hash,
        &rec.title,
        &rec.link_text,
        &rec.section,
        &rec.kind,
        rec.author.as_deref().unwrap_or(""),
        &rec.url,
        &rec.tags.join("\u{1}"),
    ];
    store::sha256_hex(fields.join("\u{0}").as_bytes())
}

/// How a record that duplicates another page's says so (and how its note is recognised).
const SAME_PAGE: &str = "the same page as";

/// What sync needs to remember of one record between its two passes: a few strings, not the
/// record (100k records held whole cost 136 MB).
struct Summary {
    id: String,
    /// Canonical final URL of the first source, for records that are indexable.
    page: Option<String>,
    link_text: String,
    /// The index key with the record's own link text (None: nothing to index).
    key: Option<String>,
    /// The record carries a same-page note from an earlier update.
    noted: bool,
}

fn summarize(rec: &DocRecord) -> Summary {
    let indexable = rec.state == State::Ok && rec.text_file.is_some();
    Summary {
        id: rec.id.clone(),
        page: rec
            .sources
            .first()
            .filter(|_| indexable)
            .map(|s| crate::list::canonical::key_of(&s.final_url)),
        link_text: rec.link_text.clone(),
        key: rec
            .text_sha256
            .as_deref()
            .filter(|_| indexable)
            .map(|h| index_key(rec, h)),
        noted: rec
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with(SAME_PAGE)),
    }
}

/// Records whose first source ended at the same URL (canonically) as an earlier record's:
/// id → the first record's id; and, for each first record with duplicates, every link text.
fn same_pages(records: &[Summary]) -> (HashMap<String, String>, HashMap<String, Vec<String>>) {
    let mut first: HashMap<&str, &Summary> = HashMap::new();
    let mut primary_of = HashMap::new();
    let mut texts: HashMap<String, Vec<String>> = HashMap::new();
    for rec in records {
        let Some(page) = &rec.page else { continue };
        match first.get(page.as_str()) {
            Some(p) => {
                primary_of.insert(rec.id.clone(), p.id.clone());
                let all = texts
                    .entry(p.id.clone())
                    .or_insert_with(|| vec![p.link_text.clone()]);
                for t in rec.link_text.split(" / ") {
                    if !t.is_empty() && !all.iter().any(|a| a == t) {
                        all.push(t.to_string());
                    }
                }
            }
            None => {
                first.insert(page, rec);
            }
        }
    }
    (primary_of, texts)
}

/// Brings the index in line with the stored text: upserts documents whose text differs from
/// what is indexed (new, changed, or left unindexed by a crash), removes links no longer listed.
/// One writer, one commit. Two passes over the records: the first summarises each (and finds
/// links to the same page), the second reads again only the records that must be (re)indexed.
pub(super) fn sync_index(
    store: &Store,
    manifest: &Manifest,
    rebuild: bool,
    threads: usize,
) -> Result<(usize, usize)> {
    let (lib, rebuilt) = LibraryIndex::open_for_update(&store.tantivy_dir())?;
    if rebuilt {
        eprintln!(
            "rl-search: the search index could not be opened; rebuilding it from the stored text"
        );
    }
    let indexed = if rebuild || rebuilt {
        HashMap::new()
    } else {
        lib.indexed_hashes()?
    };
    let mut summaries = Vec::with_capacity(manifest.entries.len());
    for entry in &manifest.entries {
        if let Some(rec) = store.load_record(&entry.id)? {
            summaries.push(summarize(&rec));
        }
    }
    // One document per page: links whose first source ended at the same URL after redirects
    // are indexed once, under the first of them, with every link text they were listed with.
    let (primary_of, merged_texts) = same_pages(&summaries);
    for s in &summaries {
        let note = primary_of
            .get(&s.id)
            .map(|p| format!("{SAME_PAGE} {p} (after redirects): indexed once, under {p}"));
        if (note.is_some() || s.noted)
            && let Some(mut rec) = store.load_record(&s.id)?
            && rec.note != note
        {
            rec.note = note;
            store.save_record(&rec, None)?;
        }
    }
    let listed: HashSet<&str> = manifest
        .entries
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| !primary_of.contains_key(*id))
        .collect();
    let mut writer = None;
    if rebuild || rebuilt {
        let mut w = lib.writer_with_threads(threads)?;
        w.clear()?;
        writer = Some(w);
    }
    let mut upserts = 0;
    let mut removed = 0;
    for s in &summaries {
        let Some(own_key) = &s.key else { continue };
        if primary_of.contains_key(&s.id) {
            continue;
        }
        let merged = merged_texts.get(&s.id);
        // Unchanged and unmerged: decided from the summary, the record is not read again.
        if merged.is_none() && indexed.get(&s.id) == Some(own_key) {
            continue;
        }
        let Some(mut rec) = store.load_record(&s.id)? else {
            continue;
        };
        if let Some(texts) = merged {
            rec.link_text = texts.join(" / ");
        }
        let (Some(text_hash), Some(file)) = (&rec.text_sha256, &rec.text_file) else {
            continue;
        };
        let hash = &index_key(&rec, text_hash);
        if indexed.get(&s.id) == Some(hash) {
            continue;
        }
        let body = store.read_text(file)?;
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(lib.writer_with_threads(threads)?),
        };
        w.upsert(&IndexDoc {
            id: rec.id.clone(),
            url: rec.url.clone(),
            host: resolve::host_of(&rec.url),
            kind: rec.kind.clone(),
            title: rec.title.clone(),
            link_text: rec.link_text.clone(),
            section: rec.section.clone(),
            author: rec.author.clone().unwrap_or_default(),
            body,
            hash: hash.clone(),
            tags: rec.tags.clone(),
        })?;
        upserts += 1;
    }
    let stale: Vec<&String> = indexed
        .keys()
        .filter(|id| !listed.contains(id.as_str()))
        .collect();
    for id in stale {
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(lib.writer_with_threads(threads)?),
        };
        w.delete(id);
        removed += 1;
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    // After the commit, so a crash before it leaves the old file, made for other segments,
    // which the next update replaces. Without it search still works, only less well.
    // A rebuild takes fresh term statistics and recomputes every document's neighbours;
    // an update recomputes only what its changes reach.
    let near = if rebuild {
        crate::neighbours::recompute(&lib, &store.tantivy_dir()).map(|()| true)
    } else {
        crate::neighbours::refresh(&lib, &store.tantivy_dir())
    };
    if let Err(e) = near.map_err(anyhow::Error::from) {
        eprintln!(
            "rl-search: warning: nearest documents not computed ({e:#}); search ranks without them"
        );
    }
    Ok((upserts, removed))
}
