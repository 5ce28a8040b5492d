//! The index brought in line with the stored text: one writer, one commit.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use crate::index::{IndexDoc, LibraryIndex};
use crate::resolve;
use crate::store::{Manifest, State, Store};

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
        let (Some(hash), Some(file), State::Ok) = (&rec.text_sha256, &rec.text_file, rec.state)
        else {
            continue;
        };
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
