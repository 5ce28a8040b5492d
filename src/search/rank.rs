//! The two ranking stages. The first: one Tantivy query (BM25 per field, weighted) gives the
//! candidates. The second re-ranks the best of them by BM25F with the words borrowed from
//! their nearest documents ([`super::near`]), coordination (how much of the query a document
//! holds) and proximity (query words standing close together), read from the index's
//! postings, never from bodies.

use std::collections::HashMap;

use tantivy::postings::Postings;
use tantivy::query::{AllQuery, BooleanQuery, Occur as TOccur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

use super::SearchError;
use super::plan::{Plan, QueryTerm, boosted};
use super::ranking::Ranking;
use crate::library::Snapshot;

/// The first stage plus `expansion` (the feedback's words), re-ranked by the second; at most
/// `limit`.
pub fn rank(
    plan: &Plan,
    snap: &Snapshot,
    expansion: &[QueryTerm],
    limit: usize,
    r: &Ranking,
) -> Result<Vec<(f32, DocAddress)>, SearchError> {
    // Candidates beyond `limit` only where a second stage re-orders them.
    let rerank = plan.rerank && !plan.terms.is_empty();
    let depth = if rerank { limit.max(r.depth) } else { limit };
    let top = first_stage(plan, &snap.searcher, expansion, depth)?;
    let mut ranked = if rerank {
        second_stage(plan, snap, top, expansion, r)?
    } else {
        top
    };
    ranked.truncate(limit);
    Ok(ranked)
}

/// The first stage: the plan's clauses (and `expansion`'s words, which only re-weigh documents
/// that already match) as one Tantivy query, its filters required; the best `depth` by BM25.
fn first_stage(
    plan: &Plan,
    searcher: &Searcher,
    expansion: &[QueryTerm],
    depth: usize,
) -> Result<Vec<(f32, DocAddress)>, SearchError> {
    let mut clauses: Vec<(TOccur, Box<dyn Query>)> = plan
        .clauses
        .iter()
        .map(|(o, q)| (*o, q.box_clone()))
        .collect();
    if !clauses.iter().any(|(o, _)| *o != TOccur::MustNot) {
        // Only exclusions: everything else.
        clauses.push((TOccur::Must, Box::new(AllQuery)));
    }
    if !expansion.is_empty() {
        // The expansion ranks documents that hold the query; it never adds ones that don't.
        clauses = vec![(TOccur::Must, Box::new(BooleanQuery::new(clauses)))];
        for t in expansion {
            let q = TermQuery::new(
                Term::from_field_text(plan.fields.body, &t.stem),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((TOccur::Should, boosted(Box::new(q), t.count)));
        }
    }
    let mut all: Vec<(TOccur, Box<dyn Query>)> =
        vec![(TOccur::Must, Box::new(BooleanQuery::new(clauses)))];
    all.extend(plan.filters.iter().map(|q| (TOccur::Must, q.box_clone())));
    let query = BooleanQuery::new(all);
    Ok(searcher.search(
        &query,
        &tantivy::collector::TopDocs::with_limit(depth.max(1)).order_by_score(),
    )?)
}

/// Re-scores candidates: BM25F × coordination^c + proximity. BM25F (Robertson & Zaragoza)
/// adds a word's weighted, length-normalised frequencies over the fields before saturating
/// them, so a word in both title and body is not counted as two independent words.
/// Expansion words add their weighted BM25F but count neither for coordination nor for
/// proximity: those measure the user's own words.
fn second_stage(
    plan: &Plan,
    snap: &Snapshot,
    mut cands: Vec<(f32, DocAddress)>,
    expansion: &[QueryTerm],
    r: &Ranking,
) -> Result<Vec<(f32, DocAddress)>, SearchError> {
    let searcher = &snap.searcher;
    let f = plan.fields;
    let user = plan.terms.len();
    let terms: Vec<&QueryTerm> = plan.terms.iter().chain(expansion).collect();
    let fields = [
        (f.body, 1.0, r.b),
        (f.title, r.rr_title, r.b_title),
        (f.link_text, r.rr_title, r.b_title),
        (f.section, r.rr_other, r.b),
        (f.author, r.rr_other, r.b),
    ];
    let avg: Vec<f32> = fields
        .iter()
        .map(|(field, _, _)| average_length(searcher, *field))
        .collect::<Result<_, _>>()?;
    // Coordination weighs each word by idf × its weight in the query; the expansion's
    // words count too, since the expanded query is what the documents answer.
    let weight = |t: &QueryTerm| t.idf * t.count.min(1.0);
    let total_idf: f32 = terms.iter().map(|t| weight(t)).sum::<f32>().max(1e-6);
    cands.sort_by_key(|(_, a)| (a.segment_ord, a.doc_id));
    // Frequencies borrowed from each candidate's nearest documents.
    let borrowed = match &snap.neighbours {
        Some(near) if r.near > 0 && r.near_weight > 0.0 => {
            let addrs: Vec<DocAddress> = cands.iter().map(|c| c.1).collect();
            super::near::borrowed(searcher, &f, near, &addrs, &terms, r.near, r.near_weight)?
        }
        _ => None,
    };
    let mut start = 0;
    while start < cands.len() {
        let ord = cands[start].1.segment_ord;
        let end = start
            + cands[start..]
                .iter()
                .take_while(|c| c.1.segment_ord == ord)
                .count();
        let seg = searcher.segment_reader(ord);
        let docs: Vec<DocId> = cands[start..end].iter().map(|c| c.1.doc_id).collect();
        // positions[d][t]: where term t occurs in doc d's body; tf[d][t]: BM25F frequency.
        let mut positions = vec![vec![Vec::<u32>::new(); user]; docs.len()];
        let mut tf = vec![vec![0f32; terms.len()]; docs.len()];
        for (fi, &(field, weight, b)) in fields.iter().enumerate() {
            if weight <= 0.0 {
                continue;
            }
            let inv = seg.inverted_index(field)?;
            let norms = seg.get_fieldnorms_reader(field)?;
            let with_positions = fi == 0;
            let option = if with_positions {
                IndexRecordOption::WithFreqsAndPositions
            } else {
                IndexRecordOption::WithFreqs
            };
            for (ti, t) in terms.iter().enumerate() {
                let term = Term::from_field_text(field, &t.stem);
                let Some(mut p) = inv.read_postings(&term, option).map_err(io)? else {
                    continue;
                };
                for (di, &d) in docs.iter().enumerate() {
                    if p.doc() < d && p.seek(d) == TERMINATED {
                        break;
                    }
                    if p.doc() != d {
                        continue;
                    }
                    let len = norms.fieldnorm(d) as f32;
                    let norm = 1.0 - b + b * len / avg[fi].max(1.0);
                    tf[di][ti] += weight * p.term_freq() as f32 / norm;
                    if with_positions && ti < user {
                        p.positions(&mut positions[di][ti]);
                    }
                }
            }
        }
        if let Some(borrowed) = &borrowed {
            // Normalised by the candidate's own body length, as its own words are.
            let norms = seg.get_fieldnorms_reader(f.body)?;
            for (di, &d) in docs.iter().enumerate() {
                let len = norms.fieldnorm(d) as f32;
                let norm = 1.0 - r.b + r.b * len / avg[0].max(1.0);
                for (x, e) in tf[di].iter_mut().zip(&borrowed[start + di]) {
                    *x += e / norm;
                }
            }
        }
        for (di, cand) in cands[start..end].iter_mut().enumerate() {
            let mut score = 0.0;
            let mut have = 0.0;
            for (t, &x) in terms.iter().zip(&tf[di]) {
                if x > 0.0 {
                    score += t.count * t.idf * x * (r.k1 + 1.0) / (x + r.k1);
                    have += weight(t);
                }
            }
            let coord = (have / total_idf).powf(r.coordination);
            let prox = proximity(&plan.terms, &positions[di], r.proximity_window);
            cand.0 = (1.0 - r.mix) * score * coord + r.proximity * prox + r.mix * cand.0;
        }
        start = end;
    }
    cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(cands)
}
/// A field's average length in tokens over the library (as Tantivy's own BM25 computes it).
fn average_length(searcher: &Searcher, field: Field) -> Result<f32, SearchError> {
    let (mut tokens, mut docs) = (0u64, 0u64);
    for seg in searcher.segment_readers() {
        tokens += seg.inverted_index(field)?.total_num_tokens();
        docs += u64::from(seg.max_doc());
    }
    Ok(if docs == 0 {
        0.0
    } else {
        tokens as f32 / docs as f32
    })
}

/// Term-pair proximity (after Rasolofo & Savoy's BM25TP): every two different query words
/// within `window` tokens of each other add 1/distance² to their pair; each pair's sum is
/// saturated and weighted by the rarer-word idf of the two.
fn proximity(terms: &[QueryTerm], positions: &[Vec<u32>], window: u32) -> f32 {
    let mut all: Vec<(u32, usize)> = positions
        .iter()
        .enumerate()
        .flat_map(|(t, ps)| ps.iter().map(move |&p| (p, t)))
        .collect();
    if all.len() < 2 {
        return 0.0;
    }
    all.sort_unstable();
    let mut acc: HashMap<(usize, usize), f32> = HashMap::new();
    for (i, &(p, t)) in all.iter().enumerate() {
        for &(q, u) in &all[i + 1..] {
            let d = q - p;
            if d > window {
                break;
            }
            if u != t && d > 0 {
                *acc.entry((t.min(u), t.max(u))).or_default() += 1.0 / (d * d) as f32;
            }
        }
    }
    acc.into_iter()
        .map(|((a, b), s)| terms[a].idf.min(terms[b].idf) * s / (1.0 + s))
        .sum()
}

fn io(e: std::io::Error) -> SearchError {
    SearchError::Index(e.into())
}
