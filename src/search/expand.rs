//! Relevance feedback by local context analysis (Xu & Croft): the words that stand near the
//! query's words in the best hits, weighted by how often they do and how rare they are in the
//! library, join the query with a lower weight. It helps short topical queries ("scaling laws"
//! finds the Chinchilla paper, which never says "laws") and hurts long ones, which already say
//! what they mean: see `Ranking::feedback_max_words`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use tantivy::{DocAddress, Term};

use super::SearchError;
use super::docs::Docs;
use super::plan::QueryTerm;
use crate::analysis::{
    CONTEXT_STOP_WORDS, CachedAnalyzer, STOP_WORDS, analyze, idf, lower_for, needles,
};
use crate::index::{LibraryIndex, stored_str};

/// How many top hits feed the expansion (RM3 uses about 10 on large collections; a reading
/// list is small, so fewer).
pub const FEEDBACK_DOCS: usize = 3;
/// Feedback reads at most this much of a body whose lowercase form has other byte offsets.
const FEEDBACK_SCAN_BYTES: usize = 20_000;
/// Bytes either side of a query word that are read for its context.
const FEEDBACK_SPAN: usize = 160;
/// Occurrences of the query looked at per feedback document.
const FEEDBACK_PASSAGES: usize = 24;
/// Tokens either side of a query passage that count as its context.
const FEEDBACK_WINDOW: usize = 12;
/// Expansion terms kept.
const FEEDBACK_TERMS: usize = 6;

/// The expansion for `query` from the documents at `addrs`: words weighted relative to the
/// best one, times `weight`; empty when nothing qualifies.
pub fn feedback(
    lib: &LibraryIndex,
    docs: &mut Docs,
    addrs: &[DocAddress],
    query: &str,
    weight: f32,
) -> Result<Vec<QueryTerm>, SearchError> {
    let searcher = docs.searcher();
    let num_docs = searcher.num_docs();
    // When every document is a feedback document, their words say nothing about relevance.
    if num_docs <= FEEDBACK_DOCS as u64 {
        return Ok(vec![]);
    }
    let f = lib.fields;
    let mut analyzer = lib.index.tokenizer_for_field(f.body)?;
    let query_stems: HashSet<String> = analyze(&mut analyzer, query).into_iter().collect();
    let stop: HashSet<String> = CONTEXT_STOP_WORDS
        .iter()
        .flat_map(|w| analyze(&mut analyzer, w))
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let needles = needles(query);
    let mut context = CachedAnalyzer::new(analyzer);
    for addr in addrs {
        let doc = docs.get(*addr)?;
        let body = stored_str(&doc, f.body);
        // Only the text around the query's words is tokenised: bodies run to 100 KB.
        let mut tokens = vec![];
        for range in passages(body, &needles) {
            tokens.extend(context.analyze(&body[range]));
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
        scored.push((c as f32 * idf, (w, df)));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.0.cmp(&b.1.0)));
    scored.truncate(FEEDBACK_TERMS);
    let Some(best) = scored.first().map(|s| s.0) else {
        return Ok(vec![]);
    };
    Ok(scored
        .into_iter()
        .map(|(score, (stem, df))| QueryTerm {
            stem,
            count: weight * score / best,
            idf: idf(num_docs as f32, df as f32),
        })
        .collect())
}

/// Byte ranges of `body` around the first occurrences of the needles, merged where they
/// overlap; at most `FEEDBACK_PASSAGES` of them.
fn passages(body: &str, needles: &[String]) -> Vec<Range<usize>> {
    let Some(lower) = lower_for(body, needles) else {
        let end = body.floor_char_boundary(FEEDBACK_SCAN_BYTES);
        return std::iter::once(0..end).collect();
    };
    let Some(first) = needles.first() else {
        return vec![];
    };
    let mut ranges: Vec<Range<usize>> = lower
        .match_indices(String::as_str(first))
        .take(FEEDBACK_PASSAGES)
        .map(|(pos, _)| {
            let lo = body.floor_char_boundary(pos.saturating_sub(FEEDBACK_SPAN));
            let hi = body.floor_char_boundary(pos + FEEDBACK_SPAN);
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

/// RM3 reads at most this much of each feedback document.
const RM3_SCAN_BYTES: usize = 12_000;

/// RM3 (Lavrenko & Croft's relevance model, interpolated with the query as Anserini does):
/// the words of the best hits, each hit weighted by its share of the scores and each word by
/// its share of the hit's words; the `terms` most probable words join the query with weight
/// `lambda` against the user's `1 − lambda`.
pub fn rm3(
    lib: &LibraryIndex,
    docs: &mut Docs,
    ranked: &[(f32, DocAddress)],
    user: &[QueryTerm],
    terms: usize,
    lambda: f32,
) -> Result<Vec<QueryTerm>, SearchError> {
    let total: f32 = ranked.iter().map(|(s, _)| s.max(0.0)).sum();
    if ranked.is_empty() || total <= 0.0 || lambda <= 0.0 || lambda >= 1.0 {
        return Ok(vec![]);
    }
    let searcher = docs.searcher();
    let f = lib.fields;
    let mut analyzer = lib.index.tokenizer_for_field(f.body)?;
    let stop: HashSet<String> = CONTEXT_STOP_WORDS
        .iter()
        .chain(STOP_WORDS)
        .flat_map(|w| analyze(&mut analyzer, w))
        .collect();
    let mut context = CachedAnalyzer::new(analyzer);
    let mut model: HashMap<String, f32> = HashMap::new();
    for (score, addr) in ranked {
        let doc = docs.get(*addr)?;
        let body = stored_str(&doc, f.body);
        let text = &body[..body.floor_char_boundary(RM3_SCAN_BYTES)];
        let words = context.analyze(text);
        if words.is_empty() {
            continue;
        }
        let share = score.max(0.0) / total / words.len() as f32;
        for w in words {
            *model.entry(w).or_default() += share;
        }
    }
    let mut best: Vec<(f32, String)> = model
        .into_iter()
        .filter(|(w, _)| {
            w.len() >= 2
                && !stop.contains(w)
                && !w.chars().all(|c| c.is_ascii_digit())
                && !user.iter().any(|u| &u.stem == w)
        })
        .map(|(w, p)| (p, w))
        .collect();
    best.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    best.truncate(terms);
    let mass: f32 = best.iter().map(|b| b.0).sum();
    let query_mass: f32 = user.iter().map(|u| u.count).sum();
    if mass <= 0.0 {
        return Ok(vec![]);
    }
    let num_docs = searcher.num_docs() as f32;
    let mut out = vec![];
    for (p, stem) in best {
        let df = searcher.doc_freq(&Term::from_field_text(f.body, &stem))? as f32;
        out.push(QueryTerm {
            count: lambda / (1.0 - lambda) * query_mass * p / mass,
            idf: idf(num_docs, df),
            stem,
        });
    }
    Ok(out)
}
