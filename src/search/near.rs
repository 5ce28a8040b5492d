//! Document expansion at query time: a candidate is credited with the query words its
//! nearest documents hold, weighted by how alike they are (see [`crate::neighbours`]).
//! Everything is read from postings and field lengths, never from bodies.

use std::collections::HashMap;

use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use super::SearchError;
use super::plan::QueryTerm;
use crate::index::Fields;
use crate::neighbours::Neighbours;

/// For each candidate (in the given order) and each term: the frequency it borrows,
/// `weight × |d| × Σ sim(d, n) × tf(t, n) / |n|` over its first `k` neighbours, where
/// frequencies and lengths count the body and the title. `None` when the neighbours were
/// computed for other segments than the searcher's.
pub fn borrowed(
    searcher: &Searcher,
    fields: &Fields,
    near: &Neighbours,
    cands: &[DocAddress],
    terms: &[&QueryTerm],
    k: usize,
    weight: f32,
) -> Result<Option<Vec<Vec<f32>>>, SearchError> {
    if !near.fits(searcher) {
        return Ok(None);
    }
    let counted = [fields.body, fields.title];
    let lists: Vec<Vec<(DocAddress, f32)>> = cands.iter().map(|&a| near.of(a, k)).collect();
    // Every neighbour once.
    let mut at: HashMap<DocAddress, usize> = HashMap::new();
    let mut addrs: Vec<DocAddress> = vec![];
    for &(n, _) in lists.iter().flatten() {
        at.entry(n).or_insert_with(|| {
            addrs.push(n);
            addrs.len() - 1
        });
    }
    let (ntf, nlen) = counts(searcher, &addrs, terms, &counted)?;
    let (_, clen) = counts(searcher, cands, &[], &counted)?;
    Ok(Some(
        lists
            .iter()
            .zip(&clen)
            .map(|(list, &len)| {
                let mut out = vec![0f32; terms.len()];
                for (n, sim) in list {
                    let i = at[n];
                    let nl = nlen[i].max(1) as f32;
                    for (o, &tf) in out.iter_mut().zip(&ntf[i]) {
                        *o += sim * tf as f32 / nl;
                    }
                }
                for o in &mut out {
                    *o *= weight * len as f32;
                }
                out
            })
            .collect(),
    ))
}

/// Each document's frequency of each term and its length, both summed over `fields`.
fn counts(
    searcher: &Searcher,
    docs: &[DocAddress],
    terms: &[&QueryTerm],
    fields: &[Field],
) -> Result<(Vec<Vec<u32>>, Vec<u32>), SearchError> {
    let mut tf = vec![vec![0u32; terms.len()]; docs.len()];
    let mut len = vec![0u32; docs.len()];
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&i| docs[i]);
    for group in order.chunk_by(|&a, &b| docs[a].segment_ord == docs[b].segment_ord) {
        let seg = searcher.segment_reader(docs[group[0]].segment_ord);
        for &field in fields {
            let norms = seg.get_fieldnorms_reader(field)?;
            for &i in group {
                len[i] += norms.fieldnorm(docs[i].doc_id);
            }
            if terms.is_empty() {
                continue;
            }
            let inv = seg.inverted_index(field)?;
            for (ti, t) in terms.iter().enumerate() {
                let term = Term::from_field_text(field, &t.stem);
                let Some(mut p) = inv
                    .read_postings(&term, IndexRecordOption::WithFreqs)
                    .map_err(io)?
                else {
                    continue;
                };
                for &i in group {
                    let d = docs[i].doc_id;
                    if p.doc() < d && p.seek(d) == TERMINATED {
                        break;
                    }
                    if p.doc() == d {
                        tf[i][ti] += p.term_freq();
                    }
                }
            }
        }
    }
    Ok((tf, len))
}

fn io(e: std::io::Error) -> SearchError {
    SearchError::Index(e.into())
}
