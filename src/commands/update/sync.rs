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
    ];
    store::sha256_hex(fields.join("\u{0}").as_bytes())
}

/// Brings the index in line with the stored text: upserts documents whose text differs from
/// what is indexed (new, changed, or left unindexed by a crash), removes links no longer listed.
/// One writer, one commit.
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
    let listed: HashSet<&str> = manifest.entries.iter().map(|e| e.id.as_str()).collect();
    let mut writer = None;
    if rebuild || rebuilt {
        let mut w = lib.writer_with_threads(threads)?;
        w.clear()?;
        writer = Some(w);
    }
    let mut upserts = 0;
    let mut removed = 0;
    for entry in &manifest.entries {
        let Some(rec) = store.load_record(&entry.id)? else {
            continue;
        };
        let (Some(text_hash), Some(file), State::Ok) =
            (&rec.text_sha256, &rec.text_file, rec.state)
        else {
            continue;
        };
        let hash = &index_key(&rec, text_hash);
        if indexed.get(&entry.id) == Some(hash) {
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
    Ok((upserts, removed))
}
