//! Each document's nearest documents in the library, for document expansion: the ranking
//! credits a document, a little, with the words of the documents most like it, so a page
//! that says "COX-2 inhibitors" is still found for "celecoxib" when its close neighbours say
//! both (cluster-based document expansion: Kurland & Lee 2004; Tao et al. 2006).
//!
//! Computed after an update from the index itself — no stored text is read — and kept in one
//! file inside the index folder, tagged with the index commit it was built for. A missing or
//! damaged file only turns the expansion off until the next update rebuilds it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Searcher, TERMINATED, Term};

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
const MAGIC: &[u8; 6] = b"rlnb1\n";

/// The nearest documents of every document: ids, and for each id up to [`KEEP`] neighbours
/// (their positions in the id list) with their cosine similarity, most similar first.
pub struct Neighbours {
    /// The index commit these were computed for.
    pub opstamp: u64,
    /// Every id, sorted, as one string with offsets (no allocation per id when loading).
    text: String,
    offsets: Vec<(u32, u8)>,
    near: Vec<(u32, f32)>,
}

impl Neighbours {
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    fn id(&self, i: usize) -> &str {
        let (at, len) = self.offsets[i];
        &self.text[at as usize..at as usize + len as usize]
    }

    /// The neighbours of document `id`: (neighbour id, similarity), most similar first.
    pub fn of(&self, id: &str) -> impl Iterator<Item = (&str, f32)> {
        let found = self
            .offsets
            .binary_search_by(|&(at, len)| {
                self.text[at as usize..at as usize + len as usize].cmp(id)
            })
            .ok();
        let row = found.map_or(&[][..], |i| &self.near[i * KEEP..(i + 1) * KEEP]);
        row.iter()
            .take_while(|(n, _)| *n != u32::MAX)
            .map(|&(n, s)| (self.id(n as usize), s))
    }

    /// Reads the file in `dir`; `None` when it is absent or not one of ours.
    pub fn load(dir: &Path) -> Option<Neighbours> {
        let bytes = std::fs::read(dir.join(FILE)).ok()?;
        Self::decode(&bytes)
    }

    fn decode(bytes: &[u8]) -> Option<Neighbours> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let opstamp = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
        let n = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
        let mut text = String::new();
        let mut offsets = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.take(1)?[0];
            let id = std::str::from_utf8(r.take(len as usize)?).ok()?;
            offsets.push((text.len() as u32, len));
            text.push_str(id);
        }
        let raw = r.take(n * KEEP * 8)?;
        let near = raw
            .chunks_exact(8)
            .map(|c| {
                let n = u32::from_le_bytes(c[..4].try_into().unwrap());
                let s = f32::from_le_bytes(c[4..].try_into().unwrap());
                (n, s)
            })
            .collect::<Vec<_>>();
        if near.iter().any(|&(i, _)| i != u32::MAX && i as usize >= n) {
            return None;
        }
        Some(Neighbours {
            opstamp,
            text,
            offsets,
            near,
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(18 + self.text.len() + self.len() * (1 + KEEP * 8));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.opstamp.to_le_bytes());
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        for i in 0..self.len() {
            let id = self.id(i);
            out.push(id.len() as u8);
            out.extend_from_slice(id.as_bytes());
        }
        for &(n, s) in &self.near {
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }
}

/// Recomputes the file in `dir` unless it already matches the index's latest commit.
/// Returns whether it was written.
pub fn refresh(lib: &LibraryIndex, dir: &Path) -> Result<bool, IndexError> {
    lib.reload()?;
    let opstamp = lib.opstamp()?;
    if Neighbours::load(dir).is_some_and(|n| n.opstamp == opstamp) {
        return Ok(false);
    }
    let near = compute(lib, opstamp)?;
    crate::store::atomic_write(&dir.join(FILE), &near.encode())
        .map_err(|e| lib.io_error(std::io::Error::other(e.to_string())))?;
    lib.forget_neighbours();
    Ok(true)
}

/// A document's signature: its most distinctive words (hashed) with tf-idf weights.
type Signature = Vec<(u64, f32)>;

fn term_key(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Nearest neighbours by the cosine of tf-idf signatures over the body and title.
pub fn compute(lib: &LibraryIndex, opstamp: u64) -> Result<Neighbours, IndexError> {
    let searcher = lib.searcher()?;
    let (ids, sigs) = signatures(lib, &searcher)?;
    // Order by id, so the file can be searched by id.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
    let mut rank = vec![0u32; ids.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    // Inverted lists over the signatures: (word, document, weight), grouped by word.
    let mut lists: Vec<(u64, u32, f32)> = sigs
        .iter()
        .enumerate()
        .flat_map(|(d, s)| s.iter().map(move |&(t, w)| (t, d as u32, w)))
        .collect();
    lists.sort_unstable_by_key(|&(t, d, _)| (t, d));
    let runs = |t: u64| {
        let start = lists.partition_point(|x| x.0 < t);
        let end = lists.partition_point(|x| x.0 <= t);
        &lists[start..end]
    };
    let mut near = vec![(u32::MAX, 0f32); ids.len() * KEEP];
    let mut acc = vec![0f32; ids.len()];
    let mut touched: Vec<u32> = vec![];
    for (d, sig) in sigs.iter().enumerate() {
        for &(t, w) in sig {
            let run = runs(t);
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
        let mut best: Vec<(f32, u32)> = touched.iter().map(|&o| (acc[o as usize], o)).collect();
        for &o in &touched {
            acc[o as usize] = 0.0;
        }
        touched.clear();
        best.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let row = rank[d] as usize * KEEP;
        for (k, &(s, o)) in best.iter().take(KEEP).enumerate() {
            near[row + k] = (rank[o as usize], s);
        }
    }
    let mut text = String::new();
    let mut offsets = Vec::with_capacity(ids.len());
    for &i in &order {
        offsets.push((text.len() as u32, ids[i].len() as u8));
        text.push_str(&ids[i]);
    }
    Ok(Neighbours {
        opstamp,
        text,
        offsets,
        near,
    })
}

/// Every live document's id and signature, read from the postings of the body and title.
fn signatures(
    lib: &LibraryIndex,
    searcher: &Searcher,
) -> Result<(Vec<String>, Vec<Signature>), IndexError> {
    let f = lib.fields;
    let io = |e: std::io::Error| lib.io_error(e);
    let num_docs = searcher.num_docs() as f32;
    let mut ids: Vec<String> = vec![];
    let mut sigs: Vec<Signature> = vec![];
    let many_segments = searcher.segment_readers().len() > 1;
    for seg in searcher.segment_readers() {
        // Segment document → library document.
        let mut global = vec![u32::MAX; seg.max_doc() as usize];
        let Some(id_column) = seg
            .fast_fields()
            .str("id")
            .map_err(|e| lib.tantivy_error(e))?
        else {
            continue;
        };
        let mut id = String::new();
        for doc in seg.doc_ids_alive() {
            let Some(ord) = id_column.term_ords(doc).next() else {
                continue;
            };
            id.clear();
            id_column.ord_to_str(ord, &mut id).map_err(io)?;
            if id.is_empty() || id.len() > u8::MAX as usize {
                continue;
            }
            global[doc as usize] = ids.len() as u32;
            ids.push(id.clone());
            sigs.push(Vec::with_capacity(SIGNATURE));
        }
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
                let idf = crate::search::rank::idf(num_docs, df);
                let t = term_key(key);
                let mut postings = inv
                    .read_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)
                    .map_err(io)?;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let g = global[doc as usize];
                    if g != u32::MAX && alive.is_none_or(|a| a.is_alive(doc)) {
                        let w = (1.0 + (postings.term_freq() as f32).ln()) * idf;
                        keep_best(&mut sigs[g as usize], t, w, pass > 0);
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
    Ok((ids, sigs))
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
