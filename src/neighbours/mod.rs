//! Each document's nearest documents in the library, for document expansion: the ranking
//! credits a document, a little, with the words of the documents most like it, so a page
//! that says "COX-2 inhibitors" is still found for "celecoxib" when its close neighbours say
//! both (cluster-based document expansion: Kurland & Lee 2004; Tao et al. 2006).
//!
//! Computed after an update from the index itself — no stored text is read — and kept in one
//! file inside the index folder. The file names the index segments it was computed for and
//! addresses documents by their place in them, so a search reads only the rows it needs and
//! never looks an id up; when the segments differ (an update was interrupted between its
//! commit and this file) the expansion is off until the next update rewrites it.

use std::fs::File;
use std::io::Read;
#[cfg(not(unix))]
use std::io::{Seek, SeekFrom};
use std::path::Path;
#[cfg(not(unix))]
use std::sync::Mutex;

use tantivy::{DocAddress, Searcher};

use crate::index::{IndexError, LibraryIndex};

pub mod state;

/// The file's name inside the index folder.
pub const FILE: &str = "rl-neighbours.bin";
/// Neighbours kept per document (the ranking may use fewer).
pub const KEEP: usize = 8;
const MAGIC: &[u8; 6] = b"rlnb3\n";
/// Bytes of one document's row: KEEP × (neighbour's row, similarity).
const ROW: usize = KEEP * 8;

/// What identifies a segment's contents: its id, size and deletions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SegmentKey {
    id: String,
    max_doc: u32,
    deleted: u32,
}

fn segment_keys(searcher: &Searcher) -> Vec<SegmentKey> {
    searcher
        .segment_readers()
        .iter()
        .map(|s| SegmentKey {
            id: s.segment_id().uuid_string(),
            max_doc: s.max_doc(),
            deleted: s.num_deleted_docs(),
        })
        .collect()
}

/// An open neighbours file: its header in memory, rows read on demand.
pub struct Neighbours {
    segments: Vec<SegmentKey>,
    /// First row of each segment.
    bases: Vec<u32>,
    /// Where the rows start in the file.
    rows_at: u64,
    #[cfg(unix)]
    file: File,
    #[cfg(not(unix))]
    file: Mutex<File>,
}

impl Neighbours {
    /// Opens the file in `dir`; `None` when it is absent or not one of ours.
    pub fn open(dir: &Path) -> Option<Neighbours> {
        let mut file = File::open(dir.join(FILE)).ok()?;
        let mut fixed = [0u8; 6 + 4];
        file.read_exact(&mut fixed).ok()?;
        if &fixed[..6] != MAGIC {
            return None;
        }
        let count = u32::from_le_bytes(fixed[6..10].try_into().ok()?) as usize;
        if count > 10_000 {
            return None;
        }
        let mut raw = vec![0u8; count * 40];
        file.read_exact(&mut raw).ok()?;
        let mut segments = vec![];
        let mut bases = vec![];
        let mut rows = 0u32;
        for c in raw.chunks_exact(40) {
            let key = SegmentKey {
                id: std::str::from_utf8(&c[..32]).ok()?.to_string(),
                max_doc: u32::from_le_bytes(c[32..36].try_into().ok()?),
                deleted: u32::from_le_bytes(c[36..40].try_into().ok()?),
            };
            bases.push(rows);
            rows = rows.checked_add(key.max_doc)?;
            segments.push(key);
        }
        let rows_at = (fixed.len() + raw.len()) as u64;
        let len = file.metadata().ok()?.len();
        if len != rows_at + rows as u64 * ROW as u64 {
            return None;
        }
        Some(Neighbours {
            segments,
            bases,
            rows_at,
            #[cfg(unix)]
            file,
            #[cfg(not(unix))]
            file: Mutex::new(file),
        })
    }

    /// Whether the rows address `searcher`'s documents (same segments, same deletions).
    pub fn fits(&self, searcher: &Searcher) -> bool {
        self.segments == segment_keys(searcher)
    }

    /// The nearest documents of `doc` (at most `k`), most similar first. Only meaningful
    /// when [`Neighbours::fits`] the searcher the address comes from.
    pub fn of(&self, doc: DocAddress, k: usize) -> Vec<(DocAddress, f32)> {
        let Some(&base) = self.bases.get(doc.segment_ord as usize) else {
            return vec![];
        };
        let row = u64::from(base + doc.doc_id);
        let mut bytes = [0u8; ROW];
        if read_at(&self.file, &mut bytes, self.rows_at + row * ROW as u64).is_err() {
            return vec![];
        }
        bytes
            .chunks_exact(8)
            .take(k)
            .map_while(|c| {
                let n = u32::from_le_bytes(c[..4].try_into().unwrap());
                let s = f32::from_le_bytes(c[4..].try_into().unwrap());
                let seg = self.bases.partition_point(|&b| b <= n).checked_sub(1)?;
                let doc = n - self.bases[seg];
                (n != u32::MAX && doc < self.segments[seg].max_doc)
                    .then(|| (DocAddress::new(seg as u32, doc), s))
            })
            .collect()
    }
}

/// One positioned read (no seek, so searches on several threads share the file).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_at(file: &Mutex<File>, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(buf)
}

#[derive(Debug, thiserror::Error)]
pub enum NeighboursError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Write(#[from] crate::store::StoreError),
    #[error("cannot write the nearest documents' state in {path}: {source}")]
    State {
        path: String,
        source: std::io::Error,
    },
}

/// Rewrites the file in `dir` unless it already fits the index's segments (every commit
/// that adds or deletes a document changes them): from the documents that changed since the
/// last time when it can (see [`state`]), from scratch otherwise. Returns whether it was
/// written.
pub fn refresh(lib: &LibraryIndex, dir: &Path) -> Result<bool, NeighboursError> {
    lib.reload()?;
    let searcher = lib.searcher()?;
    if Neighbours::open(dir).is_some_and(|n| n.fits(&searcher)) {
        return Ok(false);
    }
    let (lists, rows) = state::update(lib, &searcher, dir, false)?;
    crate::store::atomic_write(&dir.join(FILE), &file_bytes(&searcher, &lists, &rows))?;
    Ok(true)
}

/// Recomputes every document's neighbours from fresh term statistics (`update --reindex`).
pub fn recompute(lib: &LibraryIndex, dir: &Path) -> Result<(), NeighboursError> {
    lib.reload()?;
    let searcher = lib.searcher()?;
    let (lists, rows) = state::update(lib, &searcher, dir, true)?;
    crate::store::atomic_write(&dir.join(FILE), &file_bytes(&searcher, &lists, &rows))?;
    Ok(())
}

/// The file for `searcher`'s segments: each row's neighbours, as rows. `lists[i]` are the
/// neighbours of the document at row `rows[i]`, by their positions in `lists`.
fn file_bytes(searcher: &Searcher, lists: &[Vec<(u32, f32)>], rows: &[u32]) -> Vec<u8> {
    let segments = segment_keys(searcher);
    let total: usize = segments.iter().map(|s| s.max_doc as usize).sum();
    let mut near = vec![(u32::MAX, 0f32); total * KEEP];
    for (i, list) in lists.iter().enumerate() {
        let row = rows[i] as usize;
        for (slot, &(n, s)) in near[row * KEEP..(row + 1) * KEEP].iter_mut().zip(list) {
            *slot = (rows[n as usize], s);
        }
    }
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + segments.len() * 40 + near.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(segments.len() as u32).to_le_bytes());
    for k in &segments {
        let mut id = [b'0'; 32];
        let n = k.id.len().min(32);
        id[..n].copy_from_slice(&k.id.as_bytes()[..n]);
        out.extend_from_slice(&id);
        out.extend_from_slice(&k.max_doc.to_le_bytes());
        out.extend_from_slice(&k.deleted.to_le_bytes());
    }
    for &(n, s) in &near {
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDoc;
    use tantivy::Term;
    use tantivy::schema::IndexRecordOption;

    fn library(docs: &[(&str, &str)]) -> (tempfile::TempDir, LibraryIndex) {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryIndex::open_or_create(dir.path()).unwrap();
        let mut w = lib.writer().unwrap();
        for (id, body) in docs {
            w.upsert(&IndexDoc {
                id: id.to_string(),
                body: body.to_string(),
                ..Default::default()
            })
            .unwrap();
        }
        w.finish().unwrap();
        (dir, lib)
    }

    fn address(lib: &LibraryIndex, id: &str) -> DocAddress {
        let searcher = lib.searcher().unwrap();
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(lib.fields.id, id),
            IndexRecordOption::Basic,
        );
        searcher
            .search(
                &q,
                &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
            )
            .unwrap()[0]
            .1
    }

    const DOCS: &[(&str, &str)] = &[
        (
            "kv1",
            "the kv cache of a transformer stores keys and values for decoding",
        ),
        (
            "kv2",
            "paged kv cache: keys and values of the transformer, stored for decoding",
        ),
        (
            "bread",
            "sourdough bread needs flour, water, salt and a starter",
        ),
        ("cake", "a sponge cake needs flour, eggs, sugar and butter"),
        ("note", "keys to the shed are under the mat"),
    ];

    #[test]
    fn the_nearest_document_shares_the_most_distinctive_words() {
        let (dir, lib) = library(DOCS);
        assert!(refresh(&lib, dir.path()).unwrap(), "written the first time");
        let near = Neighbours::open(dir.path()).expect("a readable file");
        let searcher = lib.searcher().unwrap();
        assert!(near.fits(&searcher));
        let first = |id: &str| near.of(address(&lib, id), 1)[0].0;
        assert_eq!(first("kv1"), address(&lib, "kv2"));
        assert_eq!(first("bread"), address(&lib, "cake"));
        let sims: Vec<f32> = near
            .of(address(&lib, "kv1"), KEEP)
            .iter()
            .map(|n| n.1)
            .collect();
        assert!(
            sims.windows(2).all(|w| w[0] >= w[1]),
            "most similar first: {sims:?}"
        );
        assert!(sims.iter().all(|&s| s > 0.0 && s <= 1.0 + 1e-5));
    }

    #[test]
    fn a_current_file_is_kept_and_a_stale_or_damaged_one_rewritten() {
        let (dir, lib) = library(DOCS);
        assert!(refresh(&lib, dir.path()).unwrap());
        assert!(!refresh(&lib, dir.path()).unwrap(), "nothing changed");
        // A later commit (one document removed) makes the file stale.
        let mut w = lib.writer().unwrap();
        w.delete("note");
        w.finish().unwrap();
        lib.reload().unwrap();
        let stale = Neighbours::open(dir.path()).unwrap();
        assert!(!stale.fits(&lib.searcher().unwrap()), "rows no longer fit");
        assert!(refresh(&lib, dir.path()).unwrap());
        // Cut short (a crash while writing a copy by hand, a full disk): ignored, rewritten.
        let path = dir.path().join(FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        assert!(Neighbours::open(dir.path()).is_none());
        assert!(refresh(&lib, dir.path()).unwrap());
        std::fs::write(&path, b"not ours").unwrap();
        assert!(Neighbours::open(dir.path()).is_none());
    }
}
