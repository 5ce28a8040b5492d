//! More like this: documents nearest a document's meaning — the mean of its passages' vectors
//! against every passage — when the library has vectors; otherwise documents that share its
//! distinctive words (more-like-this). No model is needed: the vectors are stored.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, MoreLikeThisQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, OwnedValue};
use tantivy::{TantivyDocument, Term};

use super::snippet::{hits, words_query};
use super::{Hit, SearchError};
use crate::analysis::CONTEXT_STOP_WORDS;
use crate::index::stored_text;
use crate::library::Snapshot;

/// `similar` builds its more-like-this query from this much of a body.
const SIMILAR_SCAN_BYTES: usize = 100_000;

/// Documents like the one with `id` (more-like-this over its title and the start of its body),
/// itself excluded. `None` when the id is not indexed.
pub fn similar(snap: &Snapshot, id: &str, limit: usize) -> Result<Option<Vec<Hit>>, SearchError> {
    let (lib, searcher) = (snap.index, &snap.searcher);
    let f = lib.fields;
    let me = TermQuery::new(Term::from_field_text(f.id, id), IndexRecordOption::Basic);
    let Some((_, addr)) = searcher
        .search(&me, &TopDocs::with_limit(1).order_by_score())?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let doc: TantivyDocument = searcher.doc(addr)?;
    let title = stored_text(&doc, f.title);
    if let Some(vectors) = &snap.vectors
        && let Some(v) = vectors.document_vector(id)
    {
        let mut ranked = vec![];
        let mut passages = std::collections::HashMap::new();
        for n in vectors.nearest(&v, limit.max(1) + 1) {
            let other = vectors.id(n.doc);
            if other == id {
                continue;
            }
            let q = TermQuery::new(Term::from_field_text(f.id, other), IndexRecordOption::Basic);
            if let Some(&(_, a)) = searcher
                .search(&q, &TopDocs::with_limit(1).order_by_score())?
                .first()
            {
                ranked.push((n.score, a));
                passages.insert(
                    a,
                    super::meaning::BestPassage {
                        range: n.passage,
                        text_key: vectors.text_key(n.doc),
                    },
                );
            }
        }
        ranked.truncate(limit.max(1));
        let marks = words_query(lib, &title)?;
        return hits(
            lib,
            &mut super::docs::Docs::new(searcher),
            &ranked,
            &*marks,
            &title,
            &passages,
        )
        .map(Some);
    }
    let body = stored_text(&doc, f.body);
    let body = body[..body.floor_char_boundary(SIMILAR_SCAN_BYTES)].to_string();
    let num_docs = searcher.num_docs();
    let like = MoreLikeThisQuery::builder()
        .with_min_doc_frequency(2.min(num_docs))
        .with_max_doc_frequency((num_docs / 2).max(2))
        .with_min_term_frequency(2)
        .with_max_query_terms(30)
        .with_min_word_length(3)
        .with_stop_words(CONTEXT_STOP_WORDS.iter().map(|s| s.to_string()).collect())
        .with_document_fields(vec![
            (f.title, vec![OwnedValue::Str(title.clone())]),
            (f.body, vec![OwnedValue::Str(body)]),
        ]);
    let query = BooleanQuery::new(vec![
        (Occur::Should, Box::new(like) as Box<dyn Query>),
        (Occur::MustNot, Box::new(me)),
    ]);
    let ranked = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
    // Snippets mark the words the two documents share in their titles.
    let marks = words_query(lib, &title)?;
    hits(
        lib,
        &mut super::docs::Docs::new(searcher),
        &ranked,
        &*marks,
        &title,
        &Default::default(),
    )
    .map(Some)
}
