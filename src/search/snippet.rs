//! Hits for people: each ranked document with its fields and a snippet cut from the part of
//! the body where the query's words stand together, matched words marked.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher, Term};

use super::docs::Docs;
use super::meaning::BestPassage;
use super::{Hit, SearchError};
use crate::analysis::{analyze, lower_for, needles};
use crate::index::{LibraryIndex, stored_str, stored_text};

/// Longest snippet, in characters.
pub const SNIPPET_CHARS: usize = 220;
/// Snippets are cut from a window this wide around the best place in the body, found by a
/// plain substring scan: tokenising whole bodies (papers run to 100 KB) costs milliseconds.
pub(super) const SNIPPET_WINDOW_BYTES: usize = 1_500;
/// Where the scan finds none of the query's words (they matched only as stems, or only in
/// the title), the snippet generator tokenises this much of the body's start to look for
/// them: stemming 60 KB for each such hit was two thirds of a seed-library search.
const UNPLACED_SCAN_BYTES: usize = SNIPPET_WINDOW_BYTES * 4;

/// The body terms of `text` as one query: what snippets mark.
pub fn words_query(lib: &LibraryIndex, text: &str) -> Result<Box<dyn Query>, SearchError> {
    let mut analyzer = lib.index.tokenizer_for_field(lib.fields.body)?;
    let mut seen = HashSet::new();
    let clauses = analyze(&mut analyzer, text)
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .map(|s| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(lib.fields.body, &s),
                IndexRecordOption::WithFreqs,
            ));
            (Occur::Should, q)
        })
        .collect();
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// The ranked documents as hits, with snippets that mark `snippet_query`'s terms, placed where
/// the words of `user_text` occur.
pub fn hits(
    lib: &LibraryIndex,
    docs: &mut Docs,
    ranked: &[(f32, DocAddress)],
    snippet_query: &dyn Query,
    user_text: &str,
    passages: &HashMap<DocAddress, BestPassage>,
) -> Result<Vec<Hit>, SearchError> {
    let needles = needles(user_text);
    let f = lib.fields;
    let snippets = generator(docs.searcher(), snippet_query, f.body)?;
    let mut hits = Vec::with_capacity(ranked.len());
    for (i, &(score, addr)) in ranked.iter().enumerate() {
        let doc = docs.get(addr)?;
        let get = |field| stored_text(&doc, field);
        let body = stored_str(&doc, f.body);
        // A hit found by meaning shows its best passage (when the text is still the one
        // the passage was cut from); otherwise the place where the query's words gather.
        let scan = passages
            .get(&addr)
            .filter(|p| {
                crate::vectors::key(stored_str(&doc, f.hash)) == p.text_key
                    && p.range.end <= body.len()
                    && body.is_char_boundary(p.range.start)
                    && body.is_char_boundary(p.range.end)
            })
            .map(|p| &body[p.range.clone()])
            .unwrap_or_else(|| snippet_window(body, &needles));
        let snippet = snippets.snippet(scan);
        let (text, highlights) = if snippet.is_empty() {
            (lead(body, SNIPPET_CHARS), vec![])
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
            tags: doc
                .get_all(f.tag)
                .filter_map(|v| tantivy::schema::Value::as_str(&v).map(str::to_string))
                .collect(),
            version: None,
        });
    }
    Ok(hits)
}

/// A snippet generator for `query`'s terms in `field`, as tantivy's `SnippetGenerator::create`
/// makes one (each term scored 1 / (1 + its document frequency)), with the analyzer that
/// stems only words that can match ([`super::skim`]).
fn generator(
    searcher: &Searcher,
    query: &dyn Query,
    field: tantivy::schema::Field,
) -> Result<SnippetGenerator, SearchError> {
    let mut terms: BTreeSet<Term> = BTreeSet::new();
    query.query_terms(&mut |term, _| {
        if term.field() == field {
            terms.insert(term.clone());
        }
    });
    let mut scored: BTreeMap<String, f32> = BTreeMap::new();
    for term in terms {
        let Some(text) = term.value().as_str().map(str::to_string) else {
            continue;
        };
        let df = searcher.doc_freq(&term)?;
        if df > 0 {
            scored.insert(text, 1.0 / (1.0 + df as f32));
        }
    }
    let analyzer = super::skim::analyzer(scored.keys().map(String::as_str));
    Ok(SnippetGenerator::new(
        scored,
        analyzer,
        field,
        SNIPPET_CHARS,
    ))
}

/// The part of `body` where most different needles occur close together (the start of the
/// body when none occurs).
pub(super) fn snippet_window<'a>(body: &'a str, needles: &[String]) -> &'a str {
    let cut = |from: usize, to: usize| {
        let from = body.floor_char_boundary(from);
        let to = body.floor_char_boundary(to);
        &body[from..to]
    };
    if needles.is_empty() {
        return cut(0, SNIPPET_WINDOW_BYTES);
    }
    let Some(lower) = lower_for(body, needles) else {
        // Lowercasing changed byte offsets (rare scripts): fall back to a bounded prefix.
        return cut(0, UNPLACED_SCAN_BYTES);
    };
    let mut best = (0usize, usize::MAX);
    let mut seen = 0;
    for (n, needle) in needles.iter().enumerate() {
        for (pos, _) in lower.match_indices(String::as_str(needle)).take(20) {
            seen += 1;
            let lo = pos.saturating_sub(SNIPPET_WINDOW_BYTES / 4);
            let hi = (pos + SNIPPET_WINDOW_BYTES / 4).min(lower.len());
            let near = &lower[lower.floor_char_boundary(lo)..lower.floor_char_boundary(hi)];
            let distinct = needles
                .iter()
                .filter(|m| near.contains(String::as_str(m)))
                .count()
                * 4
                + usize::from(n == 0);
            if distinct > best.0 || (distinct == best.0 && pos < best.1) {
                best = (distinct, pos);
            }
        }
    }
    if seen == 0 {
        return cut(0, UNPLACED_SCAN_BYTES);
    }
    let start = best.1.saturating_sub(SNIPPET_WINDOW_BYTES / 2);
    cut(start, start + SNIPPET_WINDOW_BYTES)
}

/// The first `n` characters of a body, on one line.
pub fn lead(body: &str, n: usize) -> String {
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

/// Byte ranges of `text` whose words match a word of `query` after stemming ("laws" marks
/// "law" and "Laws"); excluded words and field filters are ignored. For highlighting; uses
/// the tokenizer the index is built with.
pub fn match_ranges(text: &str, query: &str) -> Vec<Range<usize>> {
    let Ok(parsed) = super::query::parse(query) else {
        return vec![];
    };
    let Some(mut analyzer) =
        tantivy::tokenizer::TokenizerManager::default().get(crate::analysis::TOKENIZER)
    else {
        return vec![];
    };
    let wanted: HashSet<String> = analyze(&mut analyzer, &parsed.positive_text())
        .into_iter()
        .collect();
    let mut ranges = vec![];
    if wanted.is_empty() {
        return ranges;
    }
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        if wanted.contains(&t.text) {
            ranges.push(t.offset_from..t.offset_to);
        }
    }
    ranges
}
