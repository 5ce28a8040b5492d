//! The search's side of the vectors: `vectors/scan.bin`, every current passage's vector in one
//! file laid out for a scan, opened by mapping it (no parse, no copy, no conversion: a search
//! on a 100k-document library starts scanning at once).
//!
//! Values are int8, each vector with its own scale (its largest component maps to 127): a
//! quarter of f32's bytes, so the scan — bound by memory bandwidth, not arithmetic — runs about
//! four times as fast, and the rounding moves a cosine by about 10⁻³ (SciFact nDCG@10: README).
//! The file is derived: written whole and atomically from `vectors.bin` and the layout when an
//! update's embedding ends (and by any update that finds it missing). A search reads only this
//! file, so it always sees one consistent state: the last finished embedding, never a layout
//! checkpointed halfway through one.
//!
//! ```text
//! header   magic "rlscan2\n", then u32 each: dim, documents, passages, sentences, bytes of names, bytes of model id
//! docs     per document: name offset, name length, first passage, passages, first sentence, sentences (u32 each), text digest (16)
//! spans    per unit (every passage, then every sentence): start, end (u32 each) — its byte range in the document's text
//! scales   per unit: f32
//! names    the model id, then every document id (in order), UTF-8
//! vectors  per unit: `dim` int8 values, starting at a multiple of 64
//! ```
//!
//! Passages come first so the scan for the nearest reads one run of them; sentences are
//! read only for the candidates a fusion already has ([`Vectors::best_sentence`]).

use std::ops::Range;
use std::path::Path;

use memmap2::Mmap;

use super::{DocPassages, Key, ModelInfo};

const MAGIC: &[u8; 8] = b"rlscan2\n";
const HEADER: usize = 32;
const DOC: usize = 40;
/// Below this many passages a second thread costs more than it saves.
const PARALLEL_FROM: usize = 40_000;

/// The file's bytes: mapped, or (when the file could not be written) held in memory.
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// Where each section starts.
#[derive(Debug, Clone, Copy)]
struct Sections {
    dim: usize,
    docs: usize,
    passages: usize,
    sentences: usize,
    names: usize,
    at_docs: usize,
    at_passages: usize,
    at_scales: usize,
    at_names: usize,
    model_len: usize,
    at_vectors: usize,
    len: usize,
}

impl Sections {
    fn new(
        dim: usize,
        docs: usize,
        passages: usize,
        sentences: usize,
        names: usize,
        model_len: usize,
    ) -> Sections {
        let units = passages + sentences;
        let at_docs = HEADER;
        let at_passages = at_docs + docs * DOC;
        let at_scales = at_passages + units * 8;
        let at_names = at_scales + units * 4;
        let at_vectors = (at_names + names).div_ceil(64) * 64;
        Sections {
            dim,
            docs,
            passages,
            sentences,
            names,
            at_docs,
            at_passages,
            at_scales,
            at_names,
            model_len,
            at_vectors,
            len: at_vectors + units * dim,
        }
    }

    fn read(b: &[u8]) -> Option<Sections> {
        if b.len() < HEADER || &b[..8] != MAGIC {
            return None;
        }
        let u = |i: usize| u32_at(b, 8 + 4 * i) as usize;
        let (dim, docs, passages, sentences, names, model_len) =
            (u(0), u(1), u(2), u(3), u(4), u(5));
        if dim == 0 || model_len > names {
            return None;
        }
        let s = Sections::new(dim, docs, passages, sentences, names, model_len);
        (s.len == b.len()).then_some(s)
    }

    /// The header's counts, in the order [`Sections::read`] takes them.
    fn header(&self) -> [usize; 6] {
        [
            self.dim,
            self.docs,
            self.passages,
            self.sentences,
            self.names,
            self.model_len,
        ]
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Writes the scan file for `layout`, taking each passage's vector from `vector(record)` (f32,
/// unit length). Atomic: a reader sees the old file or the new one.
pub fn write(
    dir: &Path,
    model: &ModelInfo,
    layout: &[DocPassages],
    mut vector: impl FnMut(u32) -> Option<Vec<f32>>,
) -> Result<(), super::VectorError> {
    let bytes = build(model, layout, &mut vector)
        .ok_or_else(|| super::io(&dir.join("vectors.bin"))(truncated()))?;
    Ok(crate::store::atomic_write(&dir.join("scan.bin"), &bytes)?)
}

/// Whether the vectors folder `dir` has a scan file a search can read, made for `model`.
pub fn fits(dir: &Path, model: &ModelInfo) -> bool {
    Vectors::open_mapped(&dir.join("scan.bin")).is_some_and(|v| v.model == *model)
}

fn truncated() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "the layout names a vector the file does not have",
    )
}

fn build(
    model: &ModelInfo,
    layout: &[DocPassages],
    vector: &mut impl FnMut(u32) -> Option<Vec<f32>>,
) -> Option<Vec<u8>> {
    let passages: usize = layout.iter().map(|d| d.passages.len()).sum();
    let sentences: usize = layout.iter().map(|d| d.sentences.len()).sum();
    let names = model.id.len() + layout.iter().map(|d| d.id.len()).sum::<usize>();
    let s = Sections::new(
        model.dim,
        layout.len(),
        passages,
        sentences,
        names,
        model.id.len(),
    );
    let mut out = vec![0u8; s.len];
    out[..8].copy_from_slice(MAGIC);
    for (i, v) in s.header().into_iter().enumerate() {
        put(&mut out, 8 + 4 * i, v as u32);
    }
    out[s.at_names..s.at_names + model.id.len()].copy_from_slice(model.id.as_bytes());
    let (mut name_at, mut p, mut sentence) = (model.id.len(), 0usize, passages);
    for (i, d) in layout.iter().enumerate() {
        let at = s.at_docs + i * DOC;
        put(&mut out, at, name_at as u32);
        put(&mut out, at + 4, d.id.len() as u32);
        put(&mut out, at + 8, p as u32);
        put(&mut out, at + 12, d.passages.len() as u32);
        put(&mut out, at + 16, sentence as u32);
        put(&mut out, at + 20, d.sentences.len() as u32);
        out[at + 24..at + 40].copy_from_slice(&d.text_key);
        out[s.at_names + name_at..s.at_names + name_at + d.id.len()]
            .copy_from_slice(d.id.as_bytes());
        name_at += d.id.len();
        for placed in &d.passages {
            put_unit(&mut out, &s, p, placed, model.dim, vector)?;
            p += 1;
        }
        for placed in &d.sentences {
            put_unit(&mut out, &s, sentence, placed, model.dim, vector)?;
            sentence += 1;
        }
    }
    Some(out)
}

/// Writes unit `u`'s span, scale and int8 vector.
fn put_unit(
    out: &mut [u8],
    s: &Sections,
    u: usize,
    placed: &super::Placed,
    dim: usize,
    vector: &mut impl FnMut(u32) -> Option<Vec<f32>>,
) -> Option<()> {
    put(out, s.at_passages + u * 8, placed.start);
    put(out, s.at_passages + u * 8 + 4, placed.end);
    let v = vector(placed.record)?;
    if v.len() != dim {
        return None;
    }
    let (scale, q) = quantize(&v);
    out[s.at_scales + u * 4..s.at_scales + u * 4 + 4].copy_from_slice(&scale.to_le_bytes());
    let at = s.at_vectors + u * dim;
    for (o, x) in out[at..at + dim].iter_mut().zip(q) {
        *o = x as u8;
    }
    Some(())
}

/// Writes `v` at byte `at`, little-endian.
fn put(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A vector as int8 values and the scale that maps them back (`value ≈ scale · int`).
fn quantize(v: &[f32]) -> (f32, Vec<i8>) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (0.0, vec![0; v.len()]);
    }
    let scale = max / 127.0;
    (
        scale,
        v.iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
            .collect(),
    )
}

/// Every current passage's vector, for search.
pub struct Vectors {
    pub model: ModelInfo,
    bytes: Bytes,
    s: Sections,
    /// Documents in id order (as updates write them), so an id is found by bisection.
    sorted: bool,
}

/// A document's best passage for a query.
#[derive(Debug, Clone)]
pub struct Nearest {
    /// The document's number in the file ([`Vectors::id`], [`Vectors::text_key`]).
    pub doc: usize,
    pub score: f32,
    pub passage: Range<usize>,
}

impl Vectors {
    /// The library's vectors, or `None` when it has none. Without a scan file of this format
    /// (a library embedded by an older version, until its next update writes one), the
    /// vectors are made in memory from `vectors.bin` and the layout. Only an update writes
    /// the file: a search that wrote it could race an update and leave an older state behind.
    pub fn open(library: &Path) -> Option<Vectors> {
        let dir = super::dir(library);
        if let Some(v) = Vectors::open_mapped(&dir.join("scan.bin")) {
            return Some(v);
        }
        let model = super::model_of(library)?;
        let mut layout: Vec<DocPassages> = super::layout(library).into_values().collect();
        layout.sort_by(|a, b| a.id.cmp(&b.id));
        let records = super::Records::open(&dir, model.dim)?;
        let bytes = build(&model, &layout, &mut |r| records.get(r))?;
        Vectors::from_bytes(Bytes::Owned(bytes))
    }

    fn open_mapped(path: &Path) -> Option<Vectors> {
        let f = std::fs::File::open(path).ok()?;
        // SAFETY: the file is only ever replaced whole by a rename, never written in place,
        // so the mapped bytes do not change under the reader.
        let m = unsafe { Mmap::map(&f) }.ok()?;
        Vectors::from_bytes(Bytes::Mapped(m))
    }

    fn from_bytes(bytes: Bytes) -> Option<Vectors> {
        let s = Sections::read(&bytes)?;
        let names = bytes.get(s.at_names..s.at_vectors)?;
        let model_id = std::str::from_utf8(&names[..s.model_len]).ok()?.to_string();
        // Every document's names, passages and sentences must lie inside the file.
        let units = s.passages + s.sentences;
        let mut sorted = true;
        let mut last: &str = "";
        for i in 0..s.docs {
            let at = s.at_docs + i * DOC;
            let f = |k: usize| u32_at(&bytes, at + 4 * k) as usize;
            let (name, len) = (f(0), f(1));
            if name + len > names.len()
                || f(2) + f(3) > s.passages
                || (f(5) > 0 && (f(4) < s.passages || f(4) + f(5) > units))
            {
                return None;
            }
            let id = std::str::from_utf8(&names[name..name + len]).ok()?;
            sorted &= i == 0 || last < id;
            last = id;
        }
        Some(Vectors {
            model: ModelInfo {
                id: model_id,
                dim: s.dim,
            },
            bytes,
            s,
            sorted,
        })
    }

    /// The number of documents with vectors.
    pub fn documents(&self) -> usize {
        self.s.docs
    }

    /// The number of passages with vectors.
    pub fn passages(&self) -> usize {
        self.s.passages
    }

    fn doc_field(&self, doc: usize, field: usize) -> usize {
        u32_at(&self.bytes, self.s.at_docs + doc * DOC + 4 * field) as usize
    }

    /// The id of document number `doc`.
    pub fn id(&self, doc: usize) -> &str {
        let (at, len) = (self.doc_field(doc, 0), self.doc_field(doc, 1));
        let start = self.s.at_names + at;
        std::str::from_utf8(&self.bytes[start..start + len]).unwrap_or_default()
    }

    /// The digest of the text document `doc`'s passage ranges are in.
    pub fn text_key(&self, doc: usize) -> Key {
        let at = self.s.at_docs + doc * DOC + 24;
        self.bytes[at..at + 16].try_into().expect("16 bytes")
    }

    fn passage_range(&self, doc: usize) -> Range<usize> {
        let first = self.doc_field(doc, 2);
        first..first + self.doc_field(doc, 3)
    }

    fn span(&self, p: usize) -> Range<usize> {
        let at = self.s.at_passages + p * 8;
        u32_at(&self.bytes, at) as usize..u32_at(&self.bytes, at + 4) as usize
    }

    fn scale(&self, p: usize) -> f32 {
        f32::from_bits(u32_at(&self.bytes, self.s.at_scales + p * 4))
    }

    fn raw(&self, p: usize) -> &[u8] {
        let at = self.s.at_vectors + p * self.s.dim;
        &self.bytes[at..at + self.s.dim]
    }

    /// Passage `p`'s vector as f32.
    fn vector(&self, p: usize) -> Vec<f32> {
        let scale = self.scale(p);
        self.raw(p)
            .iter()
            .map(|&x| x as i8 as f32 * scale)
            .collect()
    }

    /// The number of the document `id`, if it has vectors.
    pub fn find(&self, id: &str) -> Option<usize> {
        if !self.sorted {
            return (0..self.s.docs).find(|&d| self.id(d) == id);
        }
        let (mut lo, mut hi) = (0, self.s.docs);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Whether the documents' sentences have vectors (a library embedded before sentences
    /// were has passages only, until its next update).
    pub fn has_sentences(&self) -> bool {
        self.s.sentences > 0
    }

    /// The cosine of document `doc`'s sentence nearest `q` (`None`: it has no sentences).
    pub fn best_sentence(&self, doc: usize, q: &[f32]) -> Option<f32> {
        if q.len() != self.s.dim || doc >= self.s.docs {
            return None;
        }
        let first = self.doc_field(doc, 4);
        self.best_unit(q, first..first + self.doc_field(doc, 5))
    }

    /// The cosine of document `doc`'s passage nearest `q`, as [`Vectors::nearest`] scores it
    /// (`None`: it has no passages).
    pub fn best_passage(&self, doc: usize, q: &[f32]) -> Option<f32> {
        if q.len() != self.s.dim || doc >= self.s.docs {
            return None;
        }
        self.best_unit(q, self.passage_range(doc))
    }

    fn best_unit(&self, q: &[f32], units: Range<usize>) -> Option<f32> {
        units
            .map(|u| self.scale(u) * dot(q, self.raw(u)))
            .max_by(f32::total_cmp)
    }

    /// A document's own vector: the normalised mean of its passages' (`None`: not embedded).
    pub fn document_vector(&self, id: &str) -> Option<Vec<f32>> {
        let d = self.find(id)?;
        let mut sum = vec![0f32; self.s.dim];
        for p in self.passage_range(d) {
            for (s, x) in sum.iter_mut().zip(self.vector(p)) {
                *s += x;
            }
        }
        let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
        (norm > 0.0).then(|| sum.iter().map(|x| x / norm).collect())
    }

    /// Each document's best passage for the query vector `q`, best first, at most `k`; ties
    /// by document order.
    pub fn nearest(&self, q: &[f32], k: usize) -> Vec<Nearest> {
        if q.len() != self.s.dim || k == 0 {
            return vec![];
        }
        let docs = self.s.docs;
        // (score, doc, passage) of each document's best passage.
        let mut best: Vec<(f32, u32, u32)> = if self.s.passages >= PARALLEL_FROM {
            let mid = docs / 2;
            std::thread::scope(|s| {
                let first = s.spawn(|| self.best_of(q, 0..mid));
                let mut second = self.best_of(q, mid..docs);
                let mut all = first.join().unwrap_or_default();
                all.append(&mut second);
                all
            })
        } else {
            self.best_of(q, 0..docs)
        };
        let order =
            |a: &(f32, u32, u32), b: &(f32, u32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if best.len() > k {
            best.select_nth_unstable_by(k - 1, order);
            best.truncate(k);
        }
        best.sort_by(order);
        best.into_iter()
            .map(|(score, doc, p)| Nearest {
                doc: doc as usize,
                score,
                passage: self.span(p as usize),
            })
            .collect()
    }

    fn best_of(&self, q: &[f32], docs: Range<usize>) -> Vec<(f32, u32, u32)> {
        let mut out = Vec::with_capacity(docs.len());
        let passages = self.passage_range_of(&docs);
        let base = passages.start;
        let scores = scores(q, self, passages);
        for d in docs {
            let mut top: Option<(f32, usize)> = None;
            for p in self.passage_range(d) {
                let s = self.scale(p) * scores[p - base];
                if top.is_none_or(|(t, _)| s > t) {
                    top = Some((s, p));
                }
            }
            if let Some((s, p)) = top {
                out.push((s, d as u32, p as u32));
            }
        }
        out
    }

    /// The passages of a run of documents (they are stored in document order).
    fn passage_range_of(&self, docs: &Range<usize>) -> Range<usize> {
        if docs.is_empty() {
            return 0..0;
        }
        self.passage_range(docs.start).start..self.passage_range(docs.end - 1).end
    }
}

/// The unscaled dot product of `q` with each passage in `passages`.
fn scores(q: &[f32], v: &Vectors, passages: Range<usize>) -> Vec<f32> {
    let dim = v.s.dim;
    let block =
        &v.bytes[v.s.at_vectors + passages.start * dim..v.s.at_vectors + passages.end * dim];
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { scores_avx2(q, block, dim) };
    }
    scores_plain(q, block, dim)
}

/// The same loop compiled for AVX2, chosen at run time (the binary targets plain x86-64).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scores_avx2(q: &[f32], block: &[u8], dim: usize) -> Vec<f32> {
    scores_plain(q, block, dim)
}

#[inline(always)]
fn scores_plain(q: &[f32], block: &[u8], dim: usize) -> Vec<f32> {
    block.chunks_exact(dim).map(|x| dot(q, x)).collect()
}

/// `q · x` for int8 `x`, written so the compiler vectorises it: sixteen independent sums
/// (floating-point addition is not reassociated otherwise), each a lane of the widest
/// registers the caller enables.
#[inline(always)]
fn dot(q: &[f32], x: &[u8]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0f32; LANES];
    let (qc, xc) = (q.chunks_exact(LANES), x.chunks_exact(LANES));
    let (qr, xr) = (qc.remainder(), xc.remainder());
    for (a, b) in qc.zip(xc) {
        for i in 0..LANES {
            acc[i] += a[i] * b[i] as i8 as f32;
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (a, b) in qr.iter().zip(xr) {
        s += a * *b as i8 as f32;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::{Placed, unit};

    #[test]
    fn int8_keeps_cosines_within_a_hundredth_and_the_scan_finds_best_passages() {
        // 300 documents of 1–3 pseudo-random passages and 0–4 sentences in 48 dimensions.
        let dim = 48;
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut records: Vec<Vec<f32>> = vec![];
        let mut layout = vec![];
        for d in 0..300 {
            let mut passages = vec![];
            for p in 0..(d % 3 + 1) {
                records.push(unit(&(0..dim).map(|_| rnd()).collect::<Vec<_>>()));
                passages.push(Placed {
                    record: records.len() as u32 - 1,
                    start: p * 10,
                    end: p * 10 + 9,
                });
            }
            let mut sentences = vec![];
            for p in 0..(d % 5) {
                records.push(unit(&(0..dim).map(|_| rnd()).collect::<Vec<_>>()));
                sentences.push(Placed {
                    record: records.len() as u32 - 1,
                    start: p * 5,
                    end: p * 5 + 4,
                });
            }
            layout.push(DocPassages {
                id: format!("doc{d:03}-é"),
                text_key: [d as u8; 16],
                passages,
                sentences,
            });
        }
        let model = ModelInfo {
            id: "tiny@1".into(),
            dim,
        };
        let bytes = build(&model, &layout, &mut |r| records.get(r as usize).cloned()).unwrap();
        let v = Vectors::from_bytes(Bytes::Owned(bytes.clone())).unwrap();
        assert_eq!((v.documents(), v.model.id.as_str()), (300, "tiny@1"));
        let q = unit(&(0..dim).map(|_| rnd()).collect::<Vec<_>>());
        let exact =
            |r: u32| -> f32 { records[r as usize].iter().zip(&q).map(|(a, b)| a * b).sum() };
        let mut want: Vec<(f32, usize, u32)> = layout
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let best = d
                    .passages
                    .iter()
                    .max_by(|a, b| exact(a.record).total_cmp(&exact(b.record)))
                    .unwrap();
                (exact(best.record), i, best.start)
            })
            .collect();
        want.sort_by(|a, b| b.0.total_cmp(&a.0));
        let got = v.nearest(&q, 10);
        assert_eq!(got.len(), 10);
        for (g, w) in got.iter().zip(&want) {
            assert!((g.score - w.0).abs() < 0.01, "{} vs {}", g.score, w.0);
        }
        // Each found document's passage is its best one (the top scores are well apart).
        assert_eq!(
            (got[0].doc, got[0].passage.start as u32),
            (want[0].1, want[0].2)
        );
        assert_eq!(v.id(got[0].doc), layout[want[0].1].id);
        assert_eq!(v.text_key(7), [7u8; 16]);
        // A document's best passage, asked for alone, scores as the scan found it.
        for g in &got {
            assert_eq!(v.best_passage(g.doc, &q), Some(g.score));
        }
        // Every document is found by its id, and its best sentence is the exact one's.
        assert!(v.has_sentences());
        for (i, d) in layout.iter().enumerate() {
            assert_eq!(v.find(&d.id), Some(i));
            let best = d
                .sentences
                .iter()
                .map(|s| exact(s.record))
                .max_by(f32::total_cmp);
            match (v.best_sentence(i, &q), best) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 0.01, "{g} vs {w}"),
                (g, w) => assert_eq!(g, w, "document {i}"),
            }
        }
        assert_eq!(v.find("doc999"), None);
        // A cut or damaged file is not read.
        assert!(Vectors::from_bytes(Bytes::Owned(bytes[..bytes.len() - 1].to_vec())).is_none());
        let mut bad = bytes.clone();
        bad[HEADER + 4..HEADER + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Vectors::from_bytes(Bytes::Owned(bad)).is_none());
        // A layout naming a vector that is not there writes nothing.
        assert!(build(&model, &layout, &mut |_| None).is_none());
    }
}
