//! Document expansion at query time: a candidate is credited with the query words its
//! nearest documents hold, weighted by how alike they are (see [`crate::neighbours`]).
//! Everything is read from postings and field lengths, never from bodies.

use std::collections::HashMap;

use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use super::SearchError;
use super::rank::QueryTerm;
use crate::index::Fields;
use crate::neighbours::Neighbours;

/// For each candidate (in the given order) and each term: the frequency it borrows,
/// `weight × |d| × Σ sim(d, n) × tf(t, n) / |n|` over its first `k` neighbours, where
/// frequencies and lengths count the body and the title.
pub fn borrowed(
    searcher: &Searcher,
    fields: &Fields,
    near: &Neighbours,
    cands: &[DocAddress],
    terms: &[&QueryTerm],
    k: usize,
    weight: f32,
) -> Result<Vec<Vec<f32>>, SearchError> {
    let counted = [fields.body, fields.title];
    let ids = ids_of(searcher, cands)?;
    // Every neighbour once, wherever it is in the index.
    let mut wanted: Vec<&str> = vec![];
    let lists: Vec<Vec<(&str, f32)>> = ids
        .iter()
        .map(|id| {
            id.as_deref()
                .map(|id| near.of(id).take(k).collect())
                .unwrap_or_default()
        })
        .collect();
    for (n, _) in lists.iter().flatten() {
        if !wanted.contains(n) {
            wanted.push(n);
        }
    }
    let found = addresses(searcher, fields.id, &wanted)?;
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut addrs: Vec<DocAddress> = vec![];
    for (id, addr) in wanted.iter().zip(found) {
        if let Some(a) = addr {
            at.insert(id, addrs.len());
            addrs.push(a);
        }
    }
    let (ntf, nlen) = counts(searcher, &addrs, terms, &counted)?;
    let (_, clen) = counts(searcher, cands, &[], &counted)?;
    Ok(lists
        .iter()
        .zip(&clen)
        .map(|(list, &len)| {
            let mut out = vec![0f32; terms.len()];
            for (n, sim) in list {
                let Some(&i) = at.get(n) else { continue };
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
        .collect())
}

/// The id of each document (from the id fast field).
fn ids_of(searcher: &Searcher, docs: &[DocAddress]) -> Result<Vec<Option<String>>, SearchError> {
    let mut columns = HashMap::new();
    let mut out = vec![];
    for a in docs {
        let col = match columns.entry(a.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(
                searcher
                    .segment_reader(a.segment_ord)
                    .fast_fields()
                    .str("id")?,
            ),
        };
        let mut id = String::new();
        if let Some(col) = col
            && let Some(ord) = col.term_ords(a.doc_id).next()
        {
            col.ord_to_str(ord, &mut id).map_err(io)?;
        }
        out.push((!id.is_empty()).then_some(id));
    }
    Ok(out)
}

/// Where each id's live document is (None: not in the index any more).
fn addresses(
    searcher: &Searcher,
    id_field: Field,
    ids: &[&str],
) -> Result<Vec<Option<DocAddress>>, SearchError> {
    let mut out = vec![None; ids.len()];
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let inv = seg.inverted_index(id_field)?;
        let alive = seg.alive_bitset();
        for (i, id) in ids.iter().enumerate() {
            if out[i].is_some() {
                continue;
            }
            let term = Term::from_field_text(id_field, id);
            let Some(mut p) = inv
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(io)?
            else {
                continue;
            };
            let mut d = p.doc();
            while d != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(d)) {
                    out[i] = Some(DocAddress::new(ord as u32, d));
                    break;
                }
                d = p.advance();
            }
        }
    }
    Ok(out)
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
