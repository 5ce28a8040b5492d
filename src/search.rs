//! Queries → ranked hits with snippets. BM25 over title, link text, section and body (title and
//! link text weigh most); all words must match by default, falling back to any word when that
//! finds nothing; a phrase/proximity clause lifts documents where the words stand together.

use std::ops::Range;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Searcher, TantivyDocument, Term};
use thiserror::Error;

use crate::index::LibraryIndex;

/// Default number of hits.
pub const DEFAULT_LIMIT: usize = 10;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 220;
/// Snippets look at this much of a body at most, so that long PDFs stay fast.
const SNIPPET_SCAN_BYTES: usize = 400_000;

#[derive(Debug, Error)]
pub enum SearchError {
    #[error("cannot understand the query {query:?}: {reason}")]
    BadQuery { query: String, reason: String },
    #[error("search failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// Filters and limits of one search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    pub limit: usize,
    pub section: Option<String>,
    pub kind: Option<String>,
    pub host: Option<String>,
}

/// One ranked result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub rank: usize,
    pub id: String,
    pub url: String,
    pub title: String,
    pub section: String,
    pub kind: String,
    pub host: String,
    pub score: f32,
    pub snippet: String,
    /// Byte ranges of `snippet` that matched the query.
    #[serde(skip)]
    pub highlights: Vec<Range<usize>>,
}

/// Runs a query against the library.
pub fn search(
    lib: &LibraryIndex,
    query: &str,
    opts: &SearchOptions,
) -> Result<Vec<Hit>, SearchError> {
    let reader = lib.index.reader()?;
    let searcher = reader.searcher();
    let parser = |conjunction: bool| {
        let f = lib.fields;
        let mut p =
            QueryParser::for_index(&lib.index, vec![f.title, f.link_text, f.section, f.body]);
        p.set_field_boost(f.title, 3.0);
        p.set_field_boost(f.link_text, 2.5);
        p.set_field_boost(f.section, 1.5);
        if conjunction {
            p.set_conjunction_by_default();
        }
        p
    };
    let strict = build_query(lib, &parser(true), query, opts)?;
    let mut hits = run(lib, &searcher, &*strict, opts.limit)?;
    if hits.is_empty() && !has_operators(query) {
        let loose = build_query(lib, &parser(false), query, opts)?;
        hits = run(lib, &searcher, &*loose, opts.limit)?;
    }
    Ok(hits)
}

fn has_operators(q: &str) -> bool {
    q.contains(['"', ':', '(', '+', '-', '*'])
        || q.split_whitespace().any(|w| w == "OR" || w == "AND")
}

fn build_query(
    lib: &LibraryIndex,
    parser: &QueryParser,
    query: &str,
    opts: &SearchOptions,
) -> Result<Box<dyn Query>, SearchError> {
    let bad = |e: tantivy::query::QueryParserError| SearchError::BadQuery {
        query: query.to_string(),
        reason: e.to_string(),
    };
    let user = parser.parse_query(query).map_err(bad)?;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, user)];

    // Words together beat words apart: a sloppy phrase over title and body as a bonus.
    let words: Vec<&str> = query.split_whitespace().collect();
    if words.len() > 1 && !has_operators(query) {
        let phrase = words.join(" ");
        let boost_q =
            format!("title:\"{phrase}\"~2^4 body:\"{phrase}\"~3^4 link_text:\"{phrase}\"~2^3");
        if let Ok(q) = parser.parse_query(&boost_q) {
            clauses.push((Occur::Should, q));
        }
    }
    let f = lib.fields;
    if let Some(section) = &opts.section {
        let q = parser
            .parse_query(&format!("section:\"{}\"", section.replace('"', " ")))
            .map_err(bad)?;
        clauses.push((Occur::Must, q));
    }
    for (field, value) in [(f.kind, &opts.kind), (f.host, &opts.host)] {
        if let Some(v) = value {
            let v = v.trim().trim_start_matches("www.").to_ascii_lowercase();
            let term = Term::from_field_text(field, &v);
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

fn run(
    lib: &LibraryIndex,
    searcher: &Searcher,
    query: &dyn Query,
    limit: usize,
) -> Result<Vec<Hit>, SearchError> {
    let f = lib.fields;
    let top = searcher.search(query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
    let mut snippets = SnippetGenerator::create(searcher, query, f.body)?;
    snippets.set_max_num_chars(SNIPPET_CHARS);
    let mut hits = Vec::with_capacity(top.len());
    for (i, (score, addr)) in top.into_iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let get = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let body = get(f.body);
        let scan = &body[..floor_char_boundary(&body, SNIPPET_SCAN_BYTES)];
        let snippet = snippets.snippet(scan);
        let (text, highlights) = if snippet.is_empty() {
            (lead(&body, SNIPPET_CHARS), vec![])
        } else {
            (
                snippet.fragment().to_string(),
                snippet.highlighted().to_vec(),
            )
        };
        let (text, highlights) = flatten(&text, &highlights);
        hits.push(Hit {
            rank: i + 1,
            id: get(f.id),
            url: get(f.url),
            title: get(f.title),
            section: get(f.section),
            kind: get(f.kind),
            host: get(f.host),
            score,
            snippet: text,
            highlights,
        });
    }
    Ok(hits)
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// The first `n` characters of a body, on one line.
fn lead(body: &str, n: usize) -> String {
    body.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(n)
        .collect()
}

/// Newlines and runs of spaces become one space, keeping highlight ranges aligned.
fn flatten(s: &str, ranges: &[Range<usize>]) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(s.len());
    let mut map = vec![0usize; s.len() + 1];
    let mut prev_space = true;
    for (i, c) in s.char_indices() {
        map[i] = out.len();
        if c.is_whitespace() {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
    map[s.len()] = out.len();
    let ranges = ranges.iter().map(|r| map[r.start]..map[r.end]).collect();
    (out.trim_end().to_string(), ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDoc;

    fn lib_with(docs: &[(&str, &str, &str, &str)]) -> (tempfile::TempDir, LibraryIndex) {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryIndex::open_or_create(dir.path()).unwrap();
        let mut w = lib.writer().unwrap();
        for (id, title, section, body) in docs {
            w.upsert(&IndexDoc {
                id: id.to_string(),
                title: title.to_string(),
                section: section.to_string(),
                body: body.to_string(),
                kind: "page".into(),
                host: "example.org".into(),
                ..Default::default()
            })
            .unwrap();
        }
        w.finish().unwrap();
        (dir, lib)
    }

    fn opts() -> SearchOptions {
        SearchOptions {
            limit: 10,
            ..Default::default()
        }
    }

    #[test]
    fn title_and_phrase_rank_first() {
        let (_d, lib) = lib_with(&[
            (
                "a",
                "Cooking",
                "Misc",
                "scaling a recipe for a big crowd is hard, and scaling it twice harder; the laws of any kitchen are strict laws",
            ),
            (
                "b",
                "Scaling Laws for Neural Language Models",
                "Papers",
                "we study scaling laws",
            ),
            ("c", "Other", "Misc", "the scaling laws of kitchens"),
        ]);
        let hits = search(&lib, "scaling laws", &opts()).unwrap();
        assert_eq!(hits[0].id, "b");
        assert_eq!(hits[1].id, "c", "phrase beats scattered words");
        assert!(hits[0].snippet.contains("scaling"));
        assert!(!hits[0].highlights.is_empty());
    }

    #[test]
    fn stemming_filters_and_fallback() {
        let (_d, lib) = lib_with(&[
            ("a", "Embeddings", "Background", "what are embeddings"),
            (
                "b",
                "Deploying models",
                "Deployment",
                "serving embedding models in production",
            ),
        ]);
        assert_eq!(search(&lib, "embedding", &opts()).unwrap().len(), 2);
        let mut o = opts();
        o.section = Some("deployment".into());
        let hits = search(&lib, "embedding", &o).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "b");
        // No document has both words: fall back to any word.
        assert_eq!(
            search(&lib, "embeddings kubernetes", &opts())
                .unwrap()
                .len(),
            2
        );
        assert!(search(&lib, "zebra", &opts()).unwrap().is_empty());
    }

    #[test]
    fn bad_syntax_is_one_line_error() {
        let (_d, lib) = lib_with(&[("a", "T", "S", "b")]);
        let err = search(&lib, "nosuchfield:x", &opts())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nosuchfield"), "{err}");
        assert!(!err.contains('\n'));
    }
}
