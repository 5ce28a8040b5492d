//! How the nearest documents are computed, and kept up to date without recomputing them all.
//!
//! A document's signature is its [`SIGNATURE`] most distinctive words, weighted by tf-idf
//! over the body and title; two documents are as near as the cosine of their signatures.
//! The idf comes from **term statistics taken once** (document count and each word's
//! document frequency) and kept, with every signature and every document's neighbours, in
//! `rl-neighbours.state` beside the index. An update then touches only what it changed: the
//! signatures of new and changed documents (from their stored text, with the index's own
//! analyzer), the neighbours of those documents, of documents whose lists held a changed or
//! removed one, and of documents whose shared words crossed [`MAX_SHARED`]; every other
//! document only meets the new signatures. The result is the same, bit for bit, as
//! recomputing every document over the same statistics (a test compares them). The
//! statistics themselves are taken afresh — and everything recomputed — when the library's
//! size has moved by more than [`STALE`] since, or on `update --reindex`.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Read, Write};
use std::path::Path;

use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Searcher, TERMINATED, TantivyDocument};

use super::{KEEP, NeighboursError};
use crate::index::{IndexError, LibraryIndex, LiveDoc as Live};

/// A document is compared by its most distinctive words, this many (tf-idf).
const SIGNATURE: usize = 40;
/// Words in more signatures than this link too many documents to tell them apart (and
/// would make the comparison quadratic); they are skipped when neighbours are gathered.
const MAX_SHARED: usize = 2_000;
/// Share of the library that may be added, changed or removed before the term statistics
/// are taken afresh.
const STALE: f64 = 0.05;
const STATE: &str = "rl-neighbours.state";
const MAGIC: &[u8; 6] = b"rlns1\n";

/// A document's signature: its most distinctive words (hashed) with tf-idf weights.
type Signature = Vec<(u64, f32)>;
/// Every document's neighbours (position, similarity), nearest first.
type NearLists = Vec<Vec<(u32, f32)>>;

/// Term statistics: how many documents, and in how many of them each word occurs, by field.
#[derive(Debug, Clone, PartialEq)]
struct Stats {
    docs: f32,
    body: HashMap<u64, u32>,
    title: HashMap<u64, u32>,
}

/// One document as the state keeps it.
#[derive(Debug, Clone, PartialEq)]
struct Doc {
    id: String,
    /// The index's hash of what the entry was built from: a different one is a change.
    hash: String,
    sig: Signature,
    /// Neighbours, nearest first, by position in the state's documents.
    near: Vec<(u32, f32)>,
}

/// The statistics, and every live document in the order the index gives them.
#[derive(Debug, Clone, PartialEq)]
struct State {
    stats: Stats,
    docs: Vec<Doc>,
}

fn term_key(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Brings the state in `dir` up to date with the index and returns every live document's
/// neighbours (by position) with its row. `fresh`: take new statistics, recompute all.
pub(super) fn update(
    lib: &LibraryIndex,
    searcher: &Searcher,
    dir: &Path,
    fresh: bool,
) -> Result<(NearLists, Vec<u32>), NeighboursError> {
    let live = lib.live_docs(searcher)?;
    let old = if fresh { None } else { load(dir) };
    let state = match old {
        Some(old) if !stale(&old, &live) => incremental(lib, searcher, old, &live)?,
        _ => {
            let stats = statistics(lib, searcher)?;
            full(lib, searcher, stats, &live)?
        }
    };
    save(dir, &state).map_err(|source| NeighboursError::State {
        path: dir.display().to_string(),
        source,
    })?;
    Ok(as_rows(state, &live))
}

/// Whether so much changed that the statistics should be taken afresh.
fn stale(old: &State, live: &[Live]) -> bool {
    let known: HashMap<&str, &str> = old
        .docs
        .iter()
        .map(|d| (d.id.as_str(), d.hash.as_str()))
        .collect();
    let differ = live
        .iter()
        .filter(|l| known.get(l.id.as_str()) != Some(&l.hash.as_str()))
        .count();
    let live_ids: HashSet<&str> = live.iter().map(|l| l.id.as_str()).collect();
    let removed = old
        .docs
        .iter()
        .filter(|d| !live_ids.contains(d.id.as_str()))
        .count();
    let n = old.stats.docs.max(1.0) as f64;
    (differ + removed) as f64 > STALE * n || (live.len() as f64 - n).abs() > STALE * n
}

/// Neighbour lists by position in `live` (the state's order), and each one's row.
fn as_rows(state: State, live: &[Live]) -> (NearLists, Vec<u32>) {
    (
        state.docs.into_iter().map(|d| d.near).collect(),
        live.iter().map(|l| l.row).collect(),
    )
}

/// Fresh statistics from the index's term dictionaries.
fn statistics(lib: &LibraryIndex, searcher: &Searcher) -> Result<Stats, IndexError> {
    let f = lib.fields;
    let mut stats = Stats {
        docs: searcher.num_docs() as f32,
        body: HashMap::new(),
        title: HashMap::new(),
    };
    for seg in searcher.segment_readers() {
        for (field, map) in [(f.body, &mut stats.body), (f.title, &mut stats.title)] {
            let inv = seg
                .inverted_index(field)
                .map_err(|e| lib.tantivy_error(e))?;
            let mut terms = inv.terms().stream().map_err(|e| lib.io_error(e))?;
            while terms.advance() {
                *map.entry(term_key(terms.key())).or_default() += terms.value().doc_freq;
            }
        }
    }
    Ok(stats)
}

/// The idf weight of a word with `df` under `stats`; `None` for a word that links nothing
/// (one document) or tells nothing (most documents).
fn weight_of(stats: &Stats, df: Option<&u32>) -> Option<f32> {
    let df = *df? as f32;
    (df >= 2.0 && df <= stats.docs / 2.0).then(|| crate::analysis::idf(stats.docs, df))
}

/// Every live document's signature from the index's postings, by position in `live`.
fn signatures(
    lib: &LibraryIndex,
    searcher: &Searcher,
    stats: &Stats,
    live: &[Live],
) -> Result<Vec<Signature>, IndexError> {
    let f = lib.fields;
    let io = |e: std::io::Error| lib.io_error(e);
    let rows: usize = searcher
        .segment_readers()
        .iter()
        .map(|s| s.max_doc() as usize)
        .sum();
    let mut at = vec![u32::MAX; rows];
    for (i, l) in live.iter().enumerate() {
        at[l.row as usize] = i as u32;
    }
    let mut sigs: Vec<Signature> = vec![vec![]; live.len()];
    for (pass, (field, dfs)) in [(f.body, &stats.body), (f.title, &stats.title)]
        .into_iter()
        .enumerate()
    {
        let mut base = 0u32;
        for seg in searcher.segment_readers() {
            let alive = seg.alive_bitset();
            let inv = seg
                .inverted_index(field)
                .map_err(|e| lib.tantivy_error(e))?;
            let mut terms = inv.terms().stream().map_err(io)?;
            while terms.advance() {
                let t = term_key(terms.key());
                let Some(idf) = weight_of(stats, dfs.get(&t)) else {
                    continue;
                };
                let info = terms.value().clone();
                let mut postings = inv
                    .read_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)
                    .map_err(io)?;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let i = at[(base + doc) as usize];
                    if i != u32::MAX && alive.is_none_or(|a| a.is_alive(doc)) {
                        let w = (1.0 + (postings.term_freq() as f32).ln()) * idf;
                        keep_best(&mut sigs[i as usize], t, w, pass > 0);
                    }
                    doc = postings.advance();
                }
            }
            base += seg.max_doc();
        }
    }
    for s in &mut sigs {
        normalise(s);
    }
    Ok(sigs)
}

/// One document's signature from its stored body and title, analysed as the index analysed
/// them, words visited in the term dictionary's order: the same as [`signatures`] gives.
fn signature_of(lib: &LibraryIndex, doc: &TantivyDocument, stats: &Stats) -> Signature {
    let f = lib.fields;
    let mut analyzer = lib
        .index
        .tokenizers()
        .get(crate::analysis::TOKENIZER)
        .expect("the index registers its analyzer");
    let mut sig = vec![];
    for (pass, (field, dfs)) in [(f.body, &stats.body), (f.title, &stats.title)]
        .into_iter()
        .enumerate()
    {
        let mut tf: HashMap<String, u32> = HashMap::new();
        for v in doc.get_all(field) {
            let Some(text) = tantivy::schema::Value::as_str(&v) else {
                continue;
            };
            let mut stream = analyzer.token_stream(text);
            while let Some(tok) = stream.next() {
                *tf.entry(tok.text.clone()).or_default() += 1;
            }
        }
        let mut words: Vec<(String, u32)> = tf.into_iter().collect();
        words.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (word, n) in words {
            let t = term_key(word.as_bytes());
            if let Some(idf) = weight_of(stats, dfs.get(&t)) {
                let w = (1.0 + (n as f32).ln()) * idf;
                keep_best(&mut sig, t, w, pass > 0);
            }
        }
    }
    normalise(&mut sig);
    sig
}

fn normalise(s: &mut Signature) {
    let norm = s.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-9);
    for (_, w) in s.iter_mut() {
        *w /= norm;
    }
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

/// Inverted lists over signatures: (word, position, weight), grouped by word.
struct Lists(Vec<(u64, u32, f32)>);

impl Lists {
    fn new(sigs: &[&Signature]) -> Lists {
        let mut lists: Vec<(u64, u32, f32)> = sigs
            .iter()
            .enumerate()
            .flat_map(|(d, s)| s.iter().map(move |&(t, w)| (t, d as u32, w)))
            .collect();
        lists.sort_unstable_by_key(|&(t, d, _)| (t, d));
        Lists(lists)
    }

    fn run(&self, t: u64) -> &[(u64, u32, f32)] {
        let start = self.0.partition_point(|x| x.0 < t);
        let end = self.0.partition_point(|x| x.0 <= t);
        &self.0[start..end]
    }
}

/// The KEEP nearest of document `d` among `sigs` (ids in `ids`), using `acc` and `touched`
/// as scratch (all zero / empty on entry and on return).
fn nearest_of(
    d: usize,
    sigs: &[&Signature],
    ids: &[&str],
    lists: &Lists,
    acc: &mut [f32],
    touched: &mut Vec<u32>,
) -> Vec<(u32, f32)> {
    for &(t, w) in sigs[d] {
        let run = lists.run(t);
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
    // The KEEP best by insertion into a short sorted row (sorting every touched document
    // cost more than the comparison itself).
    // Ids are read only to break an exact tie.
    let ahead = |a: (f32, u32), b: (f32, u32)| {
        a.0 > b.0 || (a.0 == b.0 && ids[a.1 as usize] < ids[b.1 as usize])
    };
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(KEEP + 1);
    for &o in touched.iter() {
        let s = acc[o as usize];
        acc[o as usize] = 0.0;
        if s <= 0.0 || (best.len() == KEEP && !ahead((s, o), best[KEEP - 1])) {
            continue;
        }
        let at = best.partition_point(|&b| ahead(b, (s, o)));
        best.insert(at, (s, o));
        best.truncate(KEEP);
    }
    touched.clear();
    best.into_iter().map(|(s, o)| (o, s)).collect()
}

/// The neighbours of the documents at `which` (positions in `sigs`), on every core.
fn nearest_all(
    sigs: &[&Signature],
    ids: &[&str],
    lists: &Lists,
    which: &[usize],
) -> Vec<Vec<(u32, f32)>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = which.len().div_ceil(threads).max(1);
    let mut out: Vec<Vec<(u32, f32)>> = vec![vec![]; which.len()];
    std::thread::scope(|scope| {
        for (part, slots) in which.chunks(chunk).zip(out.chunks_mut(chunk)) {
            scope.spawn(move || {
                let mut acc = vec![0f32; sigs.len()];
                let mut touched = vec![];
                for (&d, slot) in part.iter().zip(slots.iter_mut()) {
                    *slot = nearest_of(d, sigs, ids, lists, &mut acc, &mut touched);
                }
            });
        }
    });
    out
}

/// Everything from scratch over `stats`.
fn full(
    lib: &LibraryIndex,
    searcher: &Searcher,
    stats: Stats,
    live: &[Live],
) -> Result<State, IndexError> {
    let sigs = signatures(lib, searcher, &stats, live)?;
    let refs: Vec<&Signature> = sigs.iter().collect();
    let ids: Vec<&str> = live.iter().map(|l| l.id.as_str()).collect();
    let lists = Lists::new(&refs);
    let all: Vec<usize> = (0..live.len()).collect();
    let near = nearest_all(&refs, &ids, &lists, &all);
    let docs = live
        .iter()
        .zip(sigs)
        .zip(near)
        .map(|((l, sig), near)| Doc {
            id: l.id.clone(),
            hash: l.hash.clone(),
            sig,
            near,
        })
        .collect();
    Ok(State { stats, docs })
}

/// The state brought up to date with `live` by recomputing only what the changes reach.
fn incremental(
    lib: &LibraryIndex,
    searcher: &Searcher,
    old: State,
    live: &[Live],
) -> Result<State, IndexError> {
    let State {
        stats,
        docs: old_docs,
    } = old;
    let old_pos: HashMap<&str, u32> = old_docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i as u32))
        .collect();
    // Old positions of documents removed or changed: lists holding one are recomputed.
    let mut gone = vec![false; old_docs.len()];
    let mut kept = vec![false; old_docs.len()];
    // Word counts in signatures before and after, for the words that cross MAX_SHARED.
    let mut count_delta: HashMap<u64, i64> = HashMap::new();
    // Each live document: its old position when unchanged, else its new signature.
    let mut plan: Vec<Result<u32, Signature>> = Vec::with_capacity(live.len());
    for l in live {
        match old_pos.get(l.id.as_str()) {
            Some(&p) if old_docs[p as usize].hash == l.hash => {
                kept[p as usize] = true;
                plan.push(Ok(p));
            }
            found => {
                if let Some(&p) = found {
                    kept[p as usize] = true;
                    gone[p as usize] = true;
                    for &(t, _) in &old_docs[p as usize].sig {
                        *count_delta.entry(t).or_default() -= 1;
                    }
                }
                let stored: TantivyDocument = searcher
                    .doc(address_of(searcher, l.row))
                    .map_err(|e| lib.tantivy_error(e))?;
                let sig = signature_of(lib, &stored, &stats);
                for &(t, _) in &sig {
                    *count_delta.entry(t).or_default() += 1;
                }
                plan.push(Err(sig));
            }
        }
    }
    for (p, d) in old_docs.iter().enumerate() {
        if !kept[p] {
            gone[p] = true;
            for &(t, _) in &d.sig {
                *count_delta.entry(t).or_default() -= 1;
            }
        }
    }
    drop(old_pos);
    // Old position → new position, for the lists that stay.
    let mut moved = vec![u32::MAX; old_docs.len()];
    for (i, p) in plan.iter().enumerate() {
        if let Ok(p) = p {
            moved[*p as usize] = i as u32;
        }
    }
    let mut slots: Vec<Option<Doc>> = old_docs.into_iter().map(Some).collect();
    let mut fresh = vec![false; live.len()];
    let mut redo_flag = vec![false; live.len()];
    let mut docs: Vec<Doc> = Vec::with_capacity(live.len());
    for (i, (l, p)) in live.iter().zip(plan).enumerate() {
        match p {
            Ok(p) => {
                let mut d = slots[p as usize].take().expect("each old document once");
                redo_flag[i] = d.near.iter().any(|&(n, _)| gone[n as usize]);
                for (n, _) in d.near.iter_mut() {
                    *n = moved[*n as usize];
                }
                docs.push(d);
            }
            Err(sig) => {
                fresh[i] = true;
                redo_flag[i] = true;
                docs.push(Doc {
                    id: l.id.clone(),
                    hash: l.hash.clone(),
                    sig,
                    near: vec![],
                });
            }
        }
    }
    drop(slots);
    let refs: Vec<&Signature> = docs.iter().map(|d| &d.sig).collect();
    let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    let lists = Lists::new(&refs);
    // Words whose list crossed MAX_SHARED: every document with one is compared anew.
    let crossed: HashSet<u64> = count_delta
        .iter()
        .filter(|&(&t, &delta)| {
            let now = lists.run(t).len() as i64;
            delta != 0 && (now > MAX_SHARED as i64) != (now - delta > MAX_SHARED as i64)
        })
        .map(|(&t, _)| t)
        .collect();
    if !crossed.is_empty() {
        for (i, d) in docs.iter().enumerate() {
            if d.sig.iter().any(|(t, _)| crossed.contains(t)) {
                redo_flag[i] = true;
            }
        }
    }
    let redo: Vec<usize> = (0..docs.len()).filter(|&i| redo_flag[i]).collect();
    let recomputed = nearest_all(&refs, &ids, &lists, &redo);
    // Everyone else keeps its list and meets only the new signatures: the similarity is
    // summed in the document's own word order, as a whole recomputation sums it.
    let mut offers: HashMap<usize, Vec<(u32, f32)>> = HashMap::new();
    for n in (0..docs.len()).filter(|&i| fresh[i]) {
        let weights: HashMap<u64, f32> = refs[n].iter().copied().collect();
        let mut met: HashSet<u32> = HashSet::new();
        for &(t, _) in refs[n] {
            let run = lists.run(t);
            if run.len() > MAX_SHARED {
                continue;
            }
            for &(_, o, _) in run {
                if o as usize != n && !redo_flag[o as usize] {
                    met.insert(o);
                }
            }
        }
        for o in met {
            let mut s = 0f32;
            for &(t, w) in refs[o as usize] {
                if let Some(&v) = weights.get(&t)
                    && lists.run(t).len() <= MAX_SHARED
                {
                    s += w * v;
                }
            }
            if s > 0.0 {
                offers.entry(o as usize).or_default().push((n as u32, s));
            }
        }
    }
    drop(lists);
    let order = |a: &(u32, f32), b: &(u32, f32)| {
        b.1.total_cmp(&a.1)
            .then_with(|| ids[a.0 as usize].cmp(ids[b.0 as usize]))
    };
    let mut offered: Vec<(usize, Vec<(u32, f32)>)> = offers.into_iter().collect();
    for (o, extra) in &mut offered {
        let mut near = docs[*o].near.clone();
        near.append(extra);
        near.sort_by(order);
        near.truncate(KEEP);
        *extra = near;
    }
    drop(refs);
    drop(ids);
    for (i, near) in redo.into_iter().zip(recomputed) {
        docs[i].near = near;
    }
    for (o, near) in offered {
        docs[o].near = near;
    }
    Ok(State { stats, docs })
}

fn load(dir: &Path) -> Option<State> {
    let mut bytes = vec![];
    std::fs::File::open(dir.join(STATE))
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let mut r = Reader(&bytes);
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let docs_n = r.f32()?;
    let mut maps = vec![];
    for _ in 0..2 {
        let n = r.u32()? as usize;
        let mut m = HashMap::with_capacity(n.min(1 << 24));
        for _ in 0..n {
            m.insert(r.u64()?, r.u32()?);
        }
        maps.push(m);
    }
    let title = maps.pop()?;
    let body = maps.pop()?;
    let n = r.u32()? as usize;
    let mut docs = Vec::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let id = r.str()?;
        let hash = r.str()?;
        let k = r.u32()? as usize;
        let mut sig = Vec::with_capacity(k.min(SIGNATURE));
        for _ in 0..k {
            sig.push((r.u64()?, r.f32()?));
        }
        let k = r.u32()? as usize;
        let mut near = Vec::with_capacity(k.min(KEEP));
        for _ in 0..k {
            let p = r.u32()?;
            if p as usize >= n {
                return None;
            }
            near.push((p, r.f32()?));
        }
        docs.push(Doc {
            id,
            hash,
            sig,
            near,
        });
    }
    if !r.0.is_empty() {
        return None;
    }
    Some(State {
        stats: Stats {
            docs: docs_n,
            body,
            title,
        },
        docs,
    })
}

fn save(dir: &Path, state: &State) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(64 + state.docs.len() * (SIGNATURE * 12 + KEEP * 8 + 64));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&state.stats.docs.to_le_bytes());
    for m in [&state.stats.body, &state.stats.title] {
        out.extend_from_slice(&(m.len() as u32).to_le_bytes());
        for (t, df) in m {
            out.extend_from_slice(&t.to_le_bytes());
            out.extend_from_slice(&df.to_le_bytes());
        }
    }
    out.extend_from_slice(&(state.docs.len() as u32).to_le_bytes());
    for d in &state.docs {
        for s in [&d.id, &d.hash] {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&(d.sig.len() as u32).to_le_bytes());
        for (t, w) in &d.sig {
            out.extend_from_slice(&t.to_le_bytes());
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&(d.near.len() as u32).to_le_bytes());
        for &(p, s) in &d.near {
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
    // Written aside and renamed: a kill leaves the old state or the new. Not synced: the
    // state is a cache, and one lost to a crash (empty or cut short) fails to load and is
    // recomputed whole.
    let path = dir.join(STATE);
    let tmp = dir.join(format!("{STATE}.{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&out)?;
    drop(f);
    std::fs::rename(&tmp, &path)
}

/// Reads little-endian values off a byte slice; `None` past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn f32(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

/// For tests and the bench: a whole recomputation over the statistics in the state file,
/// next to what the state holds — the two must be equal.
pub fn check_against_full(lib: &LibraryIndex, dir: &Path) -> Result<bool, NeighboursError> {
    let searcher = lib.searcher()?;
    let Some(kept) = load(dir) else {
        return Ok(false);
    };
    let live = lib.live_docs(&searcher)?;
    let whole = full(lib, &searcher, kept.stats.clone(), &live)?;
    Ok(whole == kept)
}

/// The address of the document at `row` (rows run segment after segment).
fn address_of(searcher: &Searcher, row: u32) -> tantivy::DocAddress {
    let mut base = 0;
    for (i, seg) in searcher.segment_readers().iter().enumerate() {
        if row < base + seg.max_doc() {
            return tantivy::DocAddress::new(i as u32, row - base);
        }
        base += seg.max_doc();
    }
    tantivy::DocAddress::new(0, row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDoc;

    /// Deterministic documents over a small vocabulary, so that many share words.
    fn text(seed: u64, words: usize) -> String {
        let vocab = [
            "kite", "reel", "line", "wind", "hill", "zebra", "stripe", "herd", "lion", "grass",
            "cache", "key", "value", "decode", "token", "flour", "bread", "yeast", "oven", "crust",
            "river", "boat", "paddle", "shore", "tide", "quokka", "island", "smile",
        ];
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..words)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Each document leans on a third of the vocabulary.
                let span = vocab.len() / 3;
                vocab[((seed as usize % 3) * span + (x as usize % (span + 4))) % vocab.len()]
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn put(w: &mut crate::index::Writer, id: &str, body: &str) {
        w.upsert(&IndexDoc {
            id: id.to_string(),
            title: body.split(' ').take(3).collect::<Vec<_>>().join(" "),
            body: body.to_string(),
            hash: crate::store::sha256_hex(body.as_bytes()),
            ..Default::default()
        })
        .unwrap();
    }

    /// Issue 21: an update that adds, changes and removes a few documents recomputes only
    /// what they reach, and ends exactly where a whole recomputation over the same term
    /// statistics ends; a large change takes the statistics afresh.
    #[test]
    fn incremental_neighbours_equal_a_whole_recomputation() {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryIndex::open_or_create(dir.path()).unwrap();
        let mut w = lib.writer().unwrap();
        for i in 0..100 {
            put(
                &mut w,
                &format!("d{i:03}"),
                &text(i, 30 + (i as usize % 20)),
            );
        }
        w.finish().unwrap();
        assert!(super::super::refresh(&lib, dir.path()).unwrap());
        assert_eq!(load(dir.path()).unwrap().stats.docs, 100.0);
        assert!(check_against_full(&lib, dir.path()).unwrap());
        let first = load(dir.path()).unwrap().stats;

        // One changed, one added, one removed: 3% of the library.
        let mut w = lib.writer().unwrap();
        put(&mut w, "d007", &text(1007, 40));
        put(&mut w, "d100", &text(1100, 35));
        w.delete("d042");
        w.finish().unwrap();
        assert!(super::super::refresh(&lib, dir.path()).unwrap());
        assert_eq!(
            load(dir.path()).unwrap().stats,
            first,
            "the statistics were kept: the update was incremental"
        );
        assert!(
            check_against_full(&lib, dir.path()).unwrap(),
            "incremental and whole recomputation differ"
        );
        let kept = load(dir.path()).unwrap();
        assert!(kept.docs.iter().all(|d| d.id != "d042"));
        let new = kept.docs.iter().position(|d| d.id == "d100").unwrap() as u32;
        assert!(
            kept.docs
                .iter()
                .any(|d| d.near.iter().any(|&(n, _)| n == new)),
            "the new document is someone's neighbour"
        );

        // A third of the library changes: fresh statistics, everything recomputed.
        let mut w = lib.writer().unwrap();
        for i in 0..34 {
            put(&mut w, &format!("d{i:03}"), &text(2000 + i, 25));
        }
        w.finish().unwrap();
        assert!(super::super::refresh(&lib, dir.path()).unwrap());
        assert_ne!(load(dir.path()).unwrap().stats, first, "fresh statistics");
        assert!(check_against_full(&lib, dir.path()).unwrap());
    }

    #[test]
    fn a_damaged_state_is_recomputed_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryIndex::open_or_create(dir.path()).unwrap();
        let mut w = lib.writer().unwrap();
        for i in 0..20 {
            put(&mut w, &format!("d{i:03}"), &text(i, 30));
        }
        w.finish().unwrap();
        super::super::refresh(&lib, dir.path()).unwrap();
        let path = dir.path().join(STATE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(load(dir.path()).is_none());
        let mut w = lib.writer().unwrap();
        put(&mut w, "d003", &text(303, 30));
        w.finish().unwrap();
        assert!(super::super::refresh(&lib, dir.path()).unwrap());
        assert!(check_against_full(&lib, dir.path()).unwrap());
    }
}
