//! The meaning stage of a hybrid search: the library's passages nearest the query vector (a
//! document's passage score is its best passage's cosine) join the lexical ranking's best as
//! candidates, and every candidate is scored by its best passage and its best sentence — a
//! passage's vector blends its sentences, while a query usually restates one of them. The
//! fusion is a convex mix of the three scores, each min-max normalised over the candidates
//! (the lexical top and the passage top [`Ranking::fusion_depth`](super::Ranking)), a
//! document missing from the lexical list scoring its minimum; keyword queries have shares of
//! their own. Chosen on SciFact train over reciprocal-rank fusion, re-scoring the lexical list
//! only, and every sentence in the scan (README). A document found by meaning alone joins only
//! if it satisfies the query's filters, phrases, required and excluded words
//! ([`super::plan::Plan::constraints`]).

use std::collections::HashMap;
use std::ops::Range;

use tantivy::query::{EnableScoring, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Term};

use super::plan::Plan;
use super::{Mode, Ranking, SearchError};
use crate::library::Snapshot;
use crate::vectors::{Key, Vectors};

/// Where a document's best passage is, in the text it was cut from (named by its digest).
#[derive(Debug, Clone)]
pub struct BestPassage {
    pub range: Range<usize>,
    pub text_key: Key,
}

/// The fused ranking, and each document's best passage.
pub struct Fused {
    pub ranked: Vec<(f32, DocAddress)>,
    pub passages: HashMap<DocAddress, BestPassage>,
}

pub fn fuse(
    plan: &Plan,
    snap: &Snapshot,
    vectors: &Vectors,
    lexical: Vec<(f32, DocAddress)>,
    query: &[f32],
    mode: Mode,
    r: &Ranking,
) -> Result<Fused, SearchError> {
    let searcher = &snap.searcher;
    let f = snap.index.fields;
    let lexical_docs: HashMap<DocAddress, f32> = lexical.iter().map(|&(s, a)| (a, s)).collect();
    let constraints = match plan.constraints() {
        Some(q) => Some(q.weight(EnableScoring::disabled_from_searcher(searcher))?),
        None => None,
    };
    let mut dense: Vec<(f32, DocAddress)> = vec![];
    let mut passages = HashMap::new();
    // Each candidate's number in the vectors, for its sentences.
    let mut numbers: HashMap<DocAddress, usize> = HashMap::new();
    for n in vectors.nearest(query, r.fusion_depth.max(1)) {
        let id = TermQuery::new(
            Term::from_field_text(f.id, vectors.id(n.doc)),
            IndexRecordOption::Basic,
        );
        let Some(&(_, addr)) = searcher
            .search(
                &id,
                &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
            )?
            .first()
        else {
            continue; // vectors of a document no longer indexed
        };
        if !lexical_docs.contains_key(&addr)
            && let Some(w) = &constraints
        {
            let mut scorer = w.scorer(searcher.segment_reader(addr.segment_ord), 1.0)?;
            // A new scorer stands on its first match, which may already be past this one.
            let at = match scorer.doc() {
                d if d < addr.doc_id => scorer.seek(addr.doc_id),
                d => d,
            };
            if at != addr.doc_id {
                continue;
            }
        }
        dense.push((n.score, addr));
        numbers.insert(addr, n.doc);
        passages.insert(
            addr,
            BestPassage {
                range: n.passage,
                text_key: vectors.text_key(n.doc),
            },
        );
    }
    if !vectors.has_sentences() || r.sentence_weight <= 0.0 {
        let ranked = match mode {
            Mode::Meaning => dense,
            _ => mix(&[(&lexical, 1.0 - r.dense_weight), (&dense, r.dense_weight)]),
        };
        return Ok(Fused { ranked, passages });
    }
    let lexical = match mode {
        Mode::Meaning => vec![],
        _ => lexical,
    };
    let (dense, sentences) = candidate_scores(snap, vectors, query, &lexical, numbers)?;
    let (wp, ws) = if plan.terms.len() <= r.short_words {
        (r.short_passage_weight, r.short_sentence_weight)
    } else {
        (r.passage_weight, r.sentence_weight)
    };
    let lists: Vec<(&[(f32, DocAddress)], f32)> = match mode {
        // Meaning alone: the same shares of the two meaning scores.
        Mode::Meaning => vec![(&dense, wp / (wp + ws)), (&sentences, ws / (wp + ws))],
        _ => vec![(&lexical, 1.0 - wp - ws), (&dense, wp), (&sentences, ws)],
    };
    Ok(Fused {
        ranked: mix(&lists),
        passages,
    })
}

type Scores = Vec<(f32, DocAddress)>;

/// Every candidate's best passage and best sentence cosines (a candidate without vectors is
/// left out; one without sentences has no sentence score). Both are scored for every
/// candidate, not only for the list that found it: a lexical candidate just outside the
/// passage top 100 is not as far from the query as the list's last one (SciFact train 0.7542
/// → 0.7559 with the shares chosen again, README). `numbers` has the dense list's numbers in
/// the vectors; the lexical list's are found by their ids.
fn candidate_scores(
    snap: &Snapshot,
    vectors: &Vectors,
    query: &[f32],
    lexical: &[(f32, DocAddress)],
    mut numbers: HashMap<DocAddress, usize>,
) -> Result<(Scores, Scores), SearchError> {
    let missing: Vec<DocAddress> = lexical
        .iter()
        .map(|x| x.1)
        .filter(|a| !numbers.contains_key(a))
        .collect();
    for (addr, id) in missing.iter().zip(ids(&snap.searcher, &missing)?) {
        if let Some(n) = id.and_then(|id| vectors.find(&id)) {
            numbers.insert(*addr, n);
        }
    }
    let mut passages = Vec::with_capacity(numbers.len());
    let mut sentences = Vec::with_capacity(numbers.len());
    for (addr, n) in numbers {
        if let Some(s) = vectors.best_passage(n, query) {
            passages.push((s, addr));
        }
        if let Some(s) = vectors.best_sentence(n, query) {
            sentences.push((s, addr));
        }
    }
    Ok((passages, sentences))
}

/// The ids of `docs`, from the id column (no stored document is read).
fn ids(
    searcher: &tantivy::Searcher,
    docs: &[DocAddress],
) -> Result<Vec<Option<String>>, SearchError> {
    let mut out = vec![None; docs.len()];
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&i| docs[i]);
    for group in order.chunk_by(|&a, &b| docs[a].segment_ord == docs[b].segment_ord) {
        let seg = searcher.segment_reader(docs[group[0]].segment_ord);
        let Some(col) = seg.fast_fields().str("id")? else {
            continue;
        };
        for &i in group {
            if let Some(ord) = col.term_ords(docs[i].doc_id).next() {
                let mut id = String::new();
                if col
                    .ord_to_str(ord, &mut id)
                    .map_err(|e| SearchError::Index(e.into()))?
                {
                    out[i] = Some(id);
                }
            }
        }
    }
    Ok(out)
}

/// A convex mix over the union of the lists (each with its weight), best first. Each list's
/// scores are min-max normalised to [0, 1] over the list (a fixed floor for the cosines —
/// Bruch et al. 2023's "theoretical minimum" — lowered SciFact train: README).
fn mix(lists: &[(&[(f32, DocAddress)], f32)]) -> Vec<(f32, DocAddress)> {
    let norm = |list: &[(f32, DocAddress)]| -> HashMap<DocAddress, f32> {
        let lo = list.iter().map(|x| x.0).fold(f32::INFINITY, f32::min);
        let hi = list.iter().map(|x| x.0).fold(f32::NEG_INFINITY, f32::max);
        // One document, or all alike: each is as good as the list's best.
        if hi - lo <= f32::EPSILON * hi.abs().max(1.0) {
            return list.iter().map(|&(_, a)| (a, 1.0)).collect();
        }
        list.iter()
            .map(|&(s, a)| (a, ((s - lo) / (hi - lo)).max(0.0)))
            .collect()
    };
    let normed: Vec<(HashMap<DocAddress, f32>, f32)> =
        lists.iter().map(|&(l, w)| (norm(l), w)).collect();
    let mut all: Vec<DocAddress> = lists
        .iter()
        .flat_map(|(l, _)| l.iter().map(|x| x.1))
        .collect();
    all.sort();
    all.dedup();
    let mut out: Vec<(f32, DocAddress)> = all
        .into_iter()
        .map(|a| {
            let s = normed
                .iter()
                .map(|(n, w)| w * n.get(&a).copied().unwrap_or(0.0))
                .sum();
            (s, a)
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_weighs_both_lists_and_keeps_documents_of_either() {
        let a = |d| DocAddress::new(0, d);
        let lexical = [(10.0, a(1)), (6.0, a(2)), (2.0, a(3))];
        let dense = [(0.9, a(4)), (0.8, a(2)), (0.1, a(1))];
        let two =
            |l: &[(f32, DocAddress)], d: &[(f32, DocAddress)], w: f32| mix(&[(l, 1.0 - w), (d, w)]);
        let fused = two(&lexical, &dense, 0.3);
        let order: Vec<u32> = fused.iter().map(|x| x.1.doc_id).collect();
        // 1: 0.7·1 + 0.3·0 = 0.70; 2: 0.7·0.5 + 0.3·0.875 = 0.61; 4: 0.3; 3: 0.
        assert_eq!(order, [1, 2, 4, 3]);
        assert_eq!(two(&lexical, &dense, 1.0)[0].1, a(4), "meaning alone");
        assert_eq!(two(&lexical, &[], 0.3)[0].1, a(1));
        // A query that one document matches by its words: that document leads the mix.
        let one = two(&[(3.0, a(7))], &dense, 0.3);
        assert_eq!(one[0].1, a(7), "{one:?}");
        // A third list (the sentences) moves a document its best sentence matches.
        let sentences = [(0.9, a(3)), (0.2, a(1)), (0.1, a(2)), (0.0, a(4))];
        let three = mix(&[(&lexical, 0.5), (&dense, 0.2), (&sentences, 0.3)]);
        let order: Vec<u32> = three.iter().map(|x| x.1.doc_id).collect();
        // 1: 0.5 + 0 + 0.3·0.22 = 0.57; 2: 0.25 + 0.175 + 0.03 = 0.46; 3: 0 + 0 + 0.3 = 0.3;
        // 4: 0.2.
        assert_eq!(order, [1, 2, 3, 4]);
    }
}
