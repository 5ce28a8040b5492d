//! Queries → ranked hits with snippets. BM25 over title, link text, section and body (title and
//! link text weigh most); all words must match by default, falling back to any word when that
//! finds nothing; a phrase/proximity clause lifts documents where the words stand together.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, QueryParser, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Searcher, TantivyDocument, Term};
use thiserror::Error;

use crate::index::LibraryIndex;

/// Default number of hits.
pub const DEFAULT_LIMIT: usize = 10;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 220;
/// Snippets are cut from a window this wide around the best place in the body, found by a
/// plain substring scan: tokenising whole bodies (papers run to 100 KB) costs milliseconds.
const SNIPPET_WINDOW_BYTES: usize = 1_500;

#[derive(Debug, Error)]
pub enum SearchError {
    #[error("cannot understand the query {query:?}: {reason}")]
    BadQuery { query: String, reason: String },
    #[error("search failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Open(#[from] crate::index::IndexError),
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

/// `similar` builds its more-like-this query from this much of a body.
const SIMILAR_SCAN_BYTES: usize = 100_000;

/// Checks a query's syntax and filters without running it.
pub fn check(query: &str, opts: &SearchOptions) -> Result<(), SearchError> {
    build_query(&LibraryIndex::in_ram(), query, opts).map(drop)
}

/// Runs a query against the library.
pub fn search(
    lib: &LibraryIndex,
    query: &str,
    opts: &SearchOptions,
) -> Result<Vec<Hit>, SearchError> {
    let searcher = lib.searcher()?;
    let first = build_query(lib, query, opts)?;
    if has_operators(query) || query.split_whitespace().count() < 2 {
        return run(lib, &searcher, &*first, &*first, query, opts.limit);
    }
    // Relevance feedback: documents like the best hit rank above documents that merely share
    // a word with the query ("scaling laws" → the Chinchilla paper, which never says "laws").
    // The feedback documents: the best that hold the words together (a sloppy phrase), else
    // the best hit. Documents that merely share one word make poor feedback.
    let phrase = phrase_query(lib, query)?;
    let mut top = searcher.search(
        &*phrase,
        &TopDocs::with_limit(FEEDBACK_DOCS).order_by_score(),
    )?;
    if top.is_empty() {
        top = searcher.search(&*first, &TopDocs::with_limit(1).order_by_score())?;
    }
    if top.is_empty() {
        return run(lib, &searcher, &*first, &*first, query, opts.limit);
    }
    let addrs: Vec<_> = top.iter().map(|(_, a)| *a).collect();
    let Some(like) = feedback(lib, &searcher, &addrs, query)? else {
        return run(lib, &searcher, &*first, &*first, query, opts.limit);
    };
    let expanded = BooleanQuery::new(vec![
        (Occur::Must, first.box_clone()),
        (
            Occur::Should,
            Box::new(BoostQuery::new(like, FEEDBACK_WEIGHT)),
        ),
    ]);
    // Snippets show the user's own words, not the expansion's.
    run(lib, &searcher, &expanded, &*first, query, opts.limit)
}

/// How much the expansion counts against the user's own words. RM3 weighs the two equally;
/// ours has phrase and title boosts on the user's side, so the expansion gets a boost too.
const FEEDBACK_WEIGHT: f32 = 2.0;

/// Feedback reads at most this much of a body whose lowercase form has other byte offsets.
const FEEDBACK_SCAN_BYTES: usize = 20_000;
/// How many top hits feed the expansion (RM3 uses about 10 on large collections; a reading
/// list is small, so fewer).
const FEEDBACK_DOCS: usize = 3;

/// Local context analysis (Xu & Croft): the words that stand near the query's words in the
/// feedback documents, weighted by how often they do and how rare they are in the library.
fn feedback(
    lib: &LibraryIndex,
    searcher: &Searcher,
    addrs: &[tantivy::DocAddress],
    query: &str,
) -> Result<Option<Box<dyn Query>>, SearchError> {
    let num_docs = searcher.num_docs();
    if num_docs < 3 {
        return Ok(None);
    }
    let f = lib.fields;
    let mut analyzer = lib.index.tokenizer_for_field(f.body)?;
    let stems = |analyzer: &mut tantivy::tokenizer::TextAnalyzer, text: &str| {
        let mut out = vec![];
        let mut stream = analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        out
    };
    let query_stems: HashSet<String> = stems(&mut analyzer, query).into_iter().collect();
    let stop: HashSet<String> = STOP_WORDS
        .iter()
        .flat_map(|w| stems(&mut analyzer, w))
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let needles = needles(query);
    for addr in addrs {
        let doc: TantivyDocument = searcher.doc(*addr)?;
        let body = &field_text(&doc, f.body);
        // Only the text around the query's words is tokenised: bodies run to 100 KB.
        let mut tokens = vec![];
        for range in passages(body, &needles) {
            tokens.extend(stems(&mut analyzer, &body[range]));
            tokens.push(String::new()); // a break between passages
        }
        // Passages: where every query word occurs within a few tokens of each other.
        for (i, t) in tokens.iter().enumerate() {
            if !query_stems.contains(t) {
                continue;
            }
            let near = &tokens[i.saturating_sub(4)..(i + 5).min(tokens.len())];
            if !query_stems.iter().all(|q| near.contains(q)) {
                continue;
            }
            for w in
                &tokens[i.saturating_sub(FEEDBACK_WINDOW)..(i + FEEDBACK_WINDOW).min(tokens.len())]
            {
                if w.len() >= 3
                    && !query_stems.contains(w)
                    && !stop.contains(w)
                    && !w.chars().all(|c| c.is_ascii_digit())
                {
                    *counts.entry(w.clone()).or_default() += 1;
                }
            }
        }
    }
    let mut scored = vec![];
    for (w, c) in counts {
        let df = searcher.doc_freq(&Term::from_field_text(f.body, &w))?;
        if df < 2 || c < 2 {
            continue; // a word in one document only cannot lead anywhere else
        }
        let idf = ((num_docs as f32 + 1.0) / (df as f32 + 0.5)).ln();
        scored.push((c as f32 * idf, w));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.truncate(FEEDBACK_TERMS);
    let Some(best) = scored.first().map(|s| s.0) else {
        return Ok(None);
    };
    let clauses: Vec<(Occur, Box<dyn Query>)> = scored
        .into_iter()
        .map(|(score, w)| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(f.body, &w),
                IndexRecordOption::WithFreqs,
            ));
            (
                Occur::Should,
                Box::new(BoostQuery::new(q, score / best)) as Box<dyn Query>,
            )
        })
        .collect();
    Ok(Some(Box::new(BooleanQuery::new(clauses))))
}

/// Byte ranges of `body` around the first occurrences of the needles, merged where they
/// overlap; at most `FEEDBACK_PASSAGES` of them.
fn passages(body: &str, needles: &[String]) -> Vec<Range<usize>> {
    let lower = body.to_lowercase();
    if lower.len() != body.len() {
        let end = floor_char_boundary(body, FEEDBACK_SCAN_BYTES);
        return std::iter::once(0..end).collect();
    }
    let Some(first) = needles.first() else {
        return vec![];
    };
    let mut ranges: Vec<Range<usize>> = lower
        .match_indices(String::as_str(first))
        .take(FEEDBACK_PASSAGES)
        .map(|(pos, _)| {
            let lo = floor_char_boundary(body, pos.saturating_sub(FEEDBACK_SPAN));
            let hi = floor_char_boundary(body, pos + FEEDBACK_SPAN);
            lo..hi
        })
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = vec![];
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// Bytes either side of a query word that are read for its context.
const FEEDBACK_SPAN: usize = 160;
/// Occurrences of the query looked at per feedback document.
const FEEDBACK_PASSAGES: usize = 24;

/// Tokens either side of a query passage that count as its context.
const FEEDBACK_WINDOW: usize = 12;
/// Expansion terms kept.
const FEEDBACK_TERMS: usize = 6;

const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "have", "his", "how", "its", "may", "new", "now", "see", "way",
    "who", "did", "get", "use", "that", "with", "this", "from", "they", "will", "would", "there",
    "their", "what", "about", "which", "when", "make", "like", "time", "just", "know", "take",
    "into", "your", "some", "could", "them", "than", "then", "these", "other", "only", "also",
    "more", "most", "such", "been", "were", "each", "where", "does", "here", "very", "over",
];

/// Documents like the one with `id` (more-like-this over its title and the start of its body),
/// itself excluded. `None` when the id is not indexed.
pub fn similar(
    lib: &LibraryIndex,
    id: &str,
    limit: usize,
) -> Result<Option<Vec<Hit>>, SearchError> {
    let searcher = lib.searcher()?;
    let f = lib.fields;
    let id_term = Term::from_field_text(f.id, id);
    let me = TermQuery::new(id_term.clone(), IndexRecordOption::Basic);
    let Some((_, addr)) = searcher
        .search(&me, &TopDocs::with_limit(1).order_by_score())?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let doc: TantivyDocument = searcher.doc(addr)?;
    let text = |field| field_text(&doc, field);
    let body = text(f.body);
    let body = body[..floor_char_boundary(&body, SIMILAR_SCAN_BYTES)].to_string();
    let num_docs = searcher.num_docs();
    let like = tantivy::query::MoreLikeThisQuery::builder()
        .with_min_doc_frequency(2.min(num_docs))
        .with_max_doc_frequency((num_docs / 2).max(2))
        .with_min_term_frequency(2)
        .with_max_query_terms(30)
        .with_min_word_length(3)
        .with_stop_words(STOP_WORDS.iter().map(|s| s.to_string()).collect())
        .with_document_fields(vec![
            (
                f.title,
                vec![tantivy::schema::OwnedValue::Str(text(f.title))],
            ),
            (f.body, vec![tantivy::schema::OwnedValue::Str(body)]),
        ]);
    let query = BooleanQuery::new(vec![
        (Occur::Should, Box::new(like) as Box<dyn Query>),
        (Occur::MustNot, Box::new(me)),
    ]);
    run(lib, &searcher, &query, &query, "", limit).map(Some)
}

/// Byte ranges of `text` whose words match a word of `query` after stemming ("laws" marks
/// "law" and "Laws"); operators, fields and excluded words are ignored. For highlighting.
pub fn match_ranges(text: &str, query: &str) -> Vec<Range<usize>> {
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};
    let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build();
    let mut wanted = HashSet::new();
    for w in query.split_whitespace() {
        if w.starts_with('-') || w == "OR" || w == "AND" {
            continue;
        }
        let w = w.rsplit(':').next().unwrap_or(w);
        let mut stream = analyzer.token_stream(w);
        while let Some(t) = stream.next() {
            wanted.insert(t.text.clone());
        }
    }
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

/// Query words that need more than the query parser gives.
#[derive(Debug, PartialEq)]
enum Special {
    /// `word~` or `word~2`: within that many edits.
    Fuzzy(String, u8),
    /// `word*`: any word starting so (the parser only supports prefixes of phrases).
    Prefix(String),
}

/// Splits fuzzy and prefix words out of a query, outside quoted phrases.
fn split_special(query: &str) -> (String, Vec<Special>) {
    let mut rest = vec![];
    let mut special = vec![];
    let mut in_quotes = false;
    for w in query.split_whitespace() {
        let quotes = w.matches('"').count();
        let plain = |s: &str| !s.is_empty() && s.chars().all(char::is_alphanumeric);
        if !in_quotes && quotes == 0 {
            if let Some((word, d)) = w.split_once('~')
                && plain(word)
                && (d.is_empty() || d.parse::<u8>().is_ok_and(|d| d <= 2))
            {
                special.push(Special::Fuzzy(word.to_string(), d.parse().unwrap_or(1)));
                continue;
            }
            if let Some(word) = w.strip_suffix('*')
                && plain(word)
            {
                special.push(Special::Prefix(word.to_lowercase()));
                continue;
            }
        }
        if quotes % 2 == 1 {
            in_quotes = !in_quotes;
        }
        rest.push(w);
    }
    (rest.join(" "), special)
}

/// Any indexed word (after stemming) that starts with `prefix`, in title, link text, author
/// or body.
fn prefix_query(lib: &LibraryIndex, prefix: &str) -> Result<Box<dyn Query>, SearchError> {
    let f = lib.fields;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![];
    for field in [f.title, f.link_text, f.author, f.body] {
        let q = tantivy::query::RegexQuery::from_pattern(&format!("{prefix}.*"), field)?;
        clauses.push((Occur::Should, Box::new(q)));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// A word within `distance` edits (a transposition counts as one), in title, link text,
/// author or body, compared after stemming (so `transfromers~` finds "Transformers").
fn fuzzy_query(
    lib: &LibraryIndex,
    word: &str,
    distance: u8,
) -> Result<Box<dyn Query>, SearchError> {
    let f = lib.fields;
    let mut analyzer = lib.index.tokenizer_for_field(f.body)?;
    let mut stream = analyzer.token_stream(word);
    let stem = match stream.next() {
        Some(t) => t.text.clone(),
        None => word.to_lowercase(),
    };
    let clauses: Vec<(Occur, Box<dyn Query>)> = [f.title, f.link_text, f.author, f.body]
        .into_iter()
        .map(|field| {
            let q: Box<dyn Query> = Box::new(FuzzyTermQuery::new(
                Term::from_field_text(field, &stem),
                distance,
                true,
            ));
            (Occur::Should, q)
        })
        .collect();
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// The query's words as a sloppy phrase in the title, link text or body.
fn phrase_query(lib: &LibraryIndex, query: &str) -> Result<Box<dyn Query>, SearchError> {
    let f = lib.fields;
    let parser = QueryParser::for_index(&lib.index, vec![f.title, f.link_text, f.body]);
    let phrase = query.split_whitespace().collect::<Vec<_>>().join(" ");
    let q = format!("title:\"{phrase}\"~2^4 body:\"{phrase}\"~3^4 link_text:\"{phrase}\"~2^3");
    parser.parse_query(&q).map_err(|e| SearchError::BadQuery {
        query: query.to_string(),
        reason: e.to_string(),
    })
}

fn has_operators(q: &str) -> bool {
    q.contains(['"', ':', '(', '+', '-', '*', '~', '^'])
        || q.split_whitespace().any(|w| w == "OR" || w == "AND")
}

/// The user's query: any word may match, all words together score more, and the words as a
/// (sloppy) phrase more still; plus the --section/--kind/--host filters.
fn build_query(
    lib: &LibraryIndex,
    query: &str,
    opts: &SearchOptions,
) -> Result<Box<dyn Query>, SearchError> {
    let f = lib.fields;
    let parser = |conjunction: bool| {
        let mut p = QueryParser::for_index(
            &lib.index,
            vec![f.title, f.link_text, f.section, f.author, f.body],
        );
        p.set_field_boost(f.title, 3.0);
        p.set_field_boost(f.author, 2.0);
        p.set_field_boost(f.link_text, 2.5);
        p.set_field_boost(f.section, 1.5);
        if conjunction {
            p.set_conjunction_by_default();
        }
        p
    };
    let bad = |e: tantivy::query::QueryParserError| SearchError::BadQuery {
        query: query.to_string(),
        reason: e.to_string(),
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![];
    let (rest, special) = split_special(query);
    for word in special {
        let q = match word {
            Special::Fuzzy(w, distance) => fuzzy_query(lib, &w, distance)?,
            Special::Prefix(p) => prefix_query(lib, &p)?,
        };
        clauses.push((Occur::Must, q));
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    if words.is_empty() {
        // Only fuzzy words: they are the query.
    } else if has_operators(query) || words.len() < 2 {
        clauses.push((Occur::Must, parser(true).parse_query(&rest).map_err(bad)?));
    } else {
        clauses.push((Occur::Must, parser(false).parse_query(query).map_err(bad)?));
        clauses.push((Occur::Should, parser(true).parse_query(query).map_err(bad)?));
        clauses.push((Occur::Should, phrase_query(lib, query)?));
    }
    if let Some(section) = &opts.section {
        let q = parser(false)
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

/// Ranks by `query` and builds snippets that highlight `snippet_query`'s terms, looking for
/// them near the places where the words of `user_query` occur.
fn run(
    lib: &LibraryIndex,
    searcher: &Searcher,
    query: &dyn Query,
    snippet_query: &dyn Query,
    user_query: &str,
    limit: usize,
) -> Result<Vec<Hit>, SearchError> {
    let needles = needles(user_query);
    let f = lib.fields;
    let top = searcher.search(query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
    let mut snippets = SnippetGenerator::create(searcher, snippet_query, f.body)?;
    snippets.set_max_num_chars(SNIPPET_CHARS);
    let mut hits = Vec::with_capacity(top.len());
    for (i, (score, addr)) in top.into_iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let get = |field| field_text(&doc, field);
        let body = get(f.body);
        let scan = snippet_window(&body, &needles);
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

/// What to look for in a body to place the snippet: the start of each query word (its first
/// three quarters, so "scaling" also finds "scaled"), lowercased; operators and fields dropped.
fn needles(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric() && c != ':' && c != '-')
        .filter(|w| !w.starts_with('-') && *w != "OR" && *w != "AND")
        .map(|w| w.rsplit(':').next().unwrap_or(w).to_lowercase())
        .filter(|w| w.chars().count() >= 3)
        .map(|w| {
            let keep = (w.chars().count() * 3 / 4).max(3);
            w.chars().take(keep).collect()
        })
        .collect()
}

/// The part of `body` where most different needles occur close together (the start of the
/// body when none occurs).
fn snippet_window<'a>(body: &'a str, needles: &[String]) -> &'a str {
    let cut = |from: usize, to: usize| {
        let from = floor_char_boundary(body, from);
        let to = floor_char_boundary(body, to);
        &body[from..to]
    };
    if needles.is_empty() {
        return cut(0, SNIPPET_WINDOW_BYTES);
    }
    let lower = body.to_lowercase();
    if lower.len() != body.len() {
        // Lowercasing changed byte offsets (rare scripts): fall back to a bounded prefix.
        return cut(0, SNIPPET_WINDOW_BYTES * 40);
    }
    let mut best = (0usize, usize::MAX);
    let mut seen = 0;
    for (n, needle) in needles.iter().enumerate() {
        for (pos, _) in lower.match_indices(String::as_str(needle)).take(20) {
            seen += 1;
            let lo = pos.saturating_sub(SNIPPET_WINDOW_BYTES / 4);
            let hi = (pos + SNIPPET_WINDOW_BYTES / 4).min(lower.len());
            let near = &lower[floor_char_boundary(&lower, lo)..floor_char_boundary(&lower, hi)];
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
        return cut(0, SNIPPET_WINDOW_BYTES * 40);
    }
    let start = best.1.saturating_sub(SNIPPET_WINDOW_BYTES / 2);
    cut(start, start + SNIPPET_WINDOW_BYTES)
}

/// A stored text field of a document ("" when absent).
fn field_text(doc: &TantivyDocument, field: tantivy::schema::Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
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
        // No document has both words: any word matches.
        assert_eq!(
            search(&lib, "embeddings kubernetes", &opts())
                .unwrap()
                .len(),
            2
        );
        assert!(search(&lib, "zebra", &opts()).unwrap().is_empty());
    }

    #[test]
    fn words_near_the_query_find_related_documents() {
        let (_d, lib) = lib_with(&[
            (
                "kaplan",
                "Scaling Laws",
                "Papers",
                "empirical scaling laws for the cross entropy loss, as Kaplan measured; the loss follows scaling laws of compute",
            ),
            (
                "survey",
                "A Survey",
                "Papers",
                "the Kaplan scaling laws and the Chinchilla scaling laws describe loss against compute",
            ),
            (
                "chinchilla",
                "Compute-Optimal Training",
                "Papers",
                "Chinchilla: scaling model size and tokens together minimises loss for a compute budget; Chinchilla beats Gopher",
            ),
            (
                "k8s",
                "Scaling Kubernetes",
                "Ops",
                "we grew our cluster to many nodes",
            ),
            ("other", "Cooking", "Misc", "a recipe for bread"),
        ]);
        let ids: Vec<String> = search(&lib, "scaling laws", &opts())
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        let pos = |id: &str| ids.iter().position(|x| x == id).unwrap();
        assert!(pos("chinchilla") < pos("k8s"), "{ids:?}");
        assert!(
            !ids.contains(&"other".to_string()),
            "documents without any query word stay out"
        );
    }

    #[test]
    fn typos_are_tolerated_with_a_tilde() {
        let (_d, lib) = lib_with(&[
            (
                "a",
                "Transformers from scratch",
                "Background",
                "vectors for words",
            ),
            ("b", "Other", "Misc", "nothing relevant here"),
        ]);
        assert!(search(&lib, "transfromers", &opts()).unwrap().is_empty());
        let hits = search(&lib, "transfromers~", &opts()).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "a");
        assert_eq!(search(&lib, "vectr~1 words", &opts()).unwrap()[0].id, "a");
        let (rest, sp) = split_special("\"a~ b\" c~2 title:x~ Trans* \"d*\"");
        assert_eq!(rest, "\"a~ b\" title:x~ \"d*\"");
        assert_eq!(
            sp,
            vec![
                Special::Fuzzy("c".into(), 2),
                Special::Prefix("trans".into())
            ]
        );
    }

    #[test]
    fn snippets_come_from_the_part_that_matches() {
        let filler = "filler words about nothing in particular. ".repeat(2000);
        let body = format!("{filler}Here scaling laws appear together. {filler}scaling alone");
        let w = snippet_window(&body, &needles("scaling laws"));
        assert!(w.contains("scaling laws appear"), "{w}");
        assert!(w.len() <= SNIPPET_WINDOW_BYTES);
        assert_eq!(
            needles("title:Transformers -bert \"word embeddings\""),
            ["transform", "wor", "embeddi"]
        );
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
