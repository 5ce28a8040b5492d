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
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
#[cfg(not(unix))]
use std::io::{Seek, SeekFrom};
use std::path::Path;
#[cfg(not(unix))]
use std::sync::Mutex;

use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use crate::index::{IndexError, LibraryIndex};

/// The file's name inside the index folder.
pub const FILE: &str = "rl-neighbours.bin";
/// Neighbours kept per document (the ranking may use fewer).
pub const KEEP: usize = 8;
/// A document is compared by its most distinctive words, this many (tf-idf).
const SIGNATURE: usize = 40;
/// Words in more signatures than this link too many documents to tell them apart (and
/// would make the comparison quadratic); they are skipped when neighbours are gathered.
const MAX_SHARED: usize = 2_000;
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
}

/// Recomputes the file in `dir` unless it already fits the index's segments (every commit
/// that adds or deletes a document changes them). Returns whether it was written.
pub fn refresh(lib: &LibraryIndex, dir: &Path) -> Result<bool, NeighboursError> {
    lib.reload()?;
    let searcher = lib.searcher()?;
    if Neighbours::open(dir).is_some_and(|n| n.fits(&searcher)) {
        return Ok(false);
    }
    let bytes = compute(lib, &searcher)?;
    crate::store::atomic_write(&dir.join(FILE), &bytes)?;
    Ok(true)
}

/// A document's signature: its most distinctive words (hashed) with tf-idf weights.
type Signature = Vec<(u64, f32)>;

fn term_key(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Nearest neighbours by the cosine of tf-idf signatures over the body and title; the
/// file's bytes.
fn compute(lib: &LibraryIndex, searcher: &Searcher) -> Result<Vec<u8>, IndexError> {
    let sigs = signatures(lib, searcher)?;
    // Inverted lists over the signatures: (word, row, weight), grouped by word.
    let mut lists: Vec<(u64, u32, f32)> = sigs
        .iter()
        .enumerate()
        .flat_map(|(d, s)| s.iter().map(move |&(t, w)| (t, d as u32, w)))
        .collect();
    lists.sort_unstable_by_key(|&(t, d, _)| (t, d));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = sigs.len().div_ceil(threads).max(1);
    let mut near = vec![(u32::MAX, 0f32); sigs.len() * KEEP];
    std::thread::scope(|scope| {
        for (i, out) in near.chunks_mut(chunk * KEEP).enumerate() {
            let (sigs, lists) = (&sigs, &lists);
            scope.spawn(move || nearest(sigs, lists, i * chunk, out));
        }
    });
    let segments = segment_keys(searcher);
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
    Ok(out)
}

/// Fills `out` with the KEEP nearest rows of rows `first..`, one row of KEEP after another.
fn nearest(sigs: &[Signature], lists: &[(u64, u32, f32)], first: usize, out: &mut [(u32, f32)]) {
    let run = |t: u64| {
        let start = lists.partition_point(|x| x.0 < t);
        let end = lists.partition_point(|x| x.0 <= t);
        &lists[start..end]
    };
    let mut acc = vec![0f32; sigs.len()];
    let mut touched: Vec<u32> = vec![];
    for (i, row) in out.chunks_mut(KEEP).enumerate() {
        let d = first + i;
        for &(t, w) in &sigs[d] {
            let run = run(t);
            if run.len() > MAX_SHARED {
                continue;
            }
            for &(_, o, v) in run {
                if o as usize == d {
                    continue;
                }
                if acc[o as usize] == 0.0 {
                    touched.push(o);
                }
                acc[o as usize] += w * v;
            }
        }
        // The KEEP most similar, by insertion into a short sorted row (sorting every
        // touched document cost more than the comparison itself).
        let mut best: [(f32, u32); KEEP] = [(0.0, u32::MAX); KEEP];
        for &o in &touched {
            let s = acc[o as usize];
            acc[o as usize] = 0.0;
            if s <= best[KEEP - 1].0 {
                continue;
            }
            let mut i = KEEP - 1;
            while i > 0 && s > best[i - 1].0 {
                best[i] = best[i - 1];
                i -= 1;
            }
            best[i] = (s, o);
        }
        touched.clear();
        for (slot, &(s, o)) in row.iter_mut().zip(&best) {
            if o != u32::MAX {
                *slot = (o, s);
            }
        }
    }
}

/// Every document's signature, one per row (segment after segment; deleted documents get
/// an empty one), read from the postings of the body and title.
fn signatures(lib: &LibraryIndex, searcher: &Searcher) -> Result<Vec<Signature>, IndexError> {
    let f = lib.fields;
    let io = |e: std::io::Error| lib.io_error(e);
    let num_docs = searcher.num_docs() as f32;
    let mut sigs: Vec<Signature> = vec![];
    let many_segments = searcher.segment_readers().len() > 1;
    for seg in searcher.segment_readers() {
        let base = sigs.len();
        sigs.resize(base + seg.max_doc() as usize, vec![]);
        let alive = seg.alive_bitset();
        for (pass, field) in [f.body, f.title].into_iter().enumerate() {
            let inv = seg
                .inverted_index(field)
                .map_err(|e| lib.tantivy_error(e))?;
            let mut terms = inv.terms().stream().map_err(io)?;
            while terms.advance() {
                let key = terms.key();
                let info = terms.value().clone();
                let df = if many_segments {
                    let Ok(text) = std::str::from_utf8(key) else {
                        continue;
                    };
                    searcher
                        .doc_freq(&Term::from_field_text(field, text))
                        .map_err(|e| lib.tantivy_error(e))? as f32
                } else {
                    info.doc_freq as f32
                };
                // A word of one document links nothing; one in most documents tells nothing.
                if df < 2.0 || df > num_docs / 2.0 {
                    continue;
                }
                let idf = crate::analysis::idf(num_docs, df);
                let t = term_key(key);
                let mut postings = inv
                    .read_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)
                    .map_err(io)?;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        let w = (1.0 + (postings.term_freq() as f32).ln()) * idf;
                        keep_best(&mut sigs[base + doc as usize], t, w, pass > 0);
                    }
                    doc = postings.advance();
                }
            }
        }
    }
    for s in &mut sigs {
        let norm = s.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-9);
        for (_, w) in s.iter_mut() {
            *w /= norm;
        }
    }
    Ok(sigs)
}

/// Adds word `t` with weight `w` to a signature that keeps the [`SIGNATURE`] heaviest words.
/// A word seen again (a title word also in the body) adds its weight.
fn keep_best(sig: &mut Signature, t: u64, w: f32, again: bool) {
    if again && let Some(e) = sig.iter_mut().find(|e| e.0 == t) {
        e.1 += w;
        return;
    }
    if sig.len() < SIGNATURE {
        sig.push((t, w));
        return;
    }
    let (i, min) = sig
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
        .map(|(i, e)| (i, e.1))
        .expect("a full signature");
    if w > min {
        sig[i] = (t, w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDoc;

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
