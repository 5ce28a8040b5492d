//! Ranking: read clauses → one Tantivy query (BM25 per field, weighted), then a re-ranking of
//! the best candidates by BM25F with the words borrowed from their nearest documents
//! ([`super::near`]), coordination (how much of the query a document holds) and proximity
//! (query words standing close together), read from the index's postings, never from bodies.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::postings::Postings;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur as TOccur, PhraseQuery, Query,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

use super::query::{Clause, Item, Occur, ParsedQuery};
use super::{SearchError, SearchOptions};
use crate::index::{Fields, LibraryIndex};
use crate::neighbours::Neighbours;

/// The ranking's parameters. The defaults were chosen on SciFact's train claims (see the
/// README's ranking table and `cargo bench --bench relevance`); the bench varies them.
#[derive(Debug, Clone)]
pub struct Ranking {
    /// BM25 weight of each field (0 leaves the field out of free-text matching).
    pub title: f32,
    pub link_text: f32,
    pub section: f32,
    pub author: f32,
    pub body: f32,
    /// Second stage (BM25F) weight of title and link text each, against the body's 1.
    pub rr_title: f32,
    /// Second stage weight of section and author.
    pub rr_other: f32,
    /// Share of the first stage's score kept in the final score.
    pub mix: f32,
    /// BM25F term-frequency saturation.
    pub k1: f32,
    /// BM25F length normalisation of the body, section and author fields.
    pub b: f32,
    /// BM25F length normalisation of the title and link text.
    pub b_title: f32,
    /// Weight of the proximity score (0: off).
    pub proximity: f32,
    /// Words further apart than this (in tokens) do not count as near.
    pub proximity_window: u32,
    /// Exponent of the coordination factor (0: off).
    pub coordination: f32,
    /// How many of the first-stage hits are re-ranked.
    pub depth: usize,
    /// Drop stop words from free text (unless the query is nothing else).
    pub stop_words: bool,
    /// Also drop the longer list of function words the feedback ignores.
    pub more_stop_words: bool,
    /// Relevance feedback runs only for queries of at most this many content words.
    pub feedback_max_words: usize,
    /// Weight of the expansion against the user's words.
    pub feedback_weight: f32,
    /// RM3 feedback: documents read (0: off), words kept, and their share of the query.
    pub rm3_docs: usize,
    pub rm3_terms: usize,
    pub rm3_weight: f32,
    /// RM3 runs for queries of at least this many content words.
    pub rm3_min_words: usize,
    /// Document expansion: each candidate borrows the words of this many of its nearest
    /// documents (0: off; at most `neighbours::KEEP`) ...
    pub near: usize,
    /// ... at this weight against its own words, times each neighbour's similarity.
    pub near_weight: f32,
}

impl Default for Ranking {
    fn default() -> Self {
        Ranking {
            title: 0.25,
            link_text: 0.25,
            section: 0.25,
            author: 0.5,
            body: 1.0,
            rr_title: 1.0,
            rr_other: 0.25,
            mix: 0.0,
            k1: 3.0,
            b: 0.75,
            b_title: 0.75,
            proximity: 0.3,
            proximity_window: 8,
            coordination: 0.5,
            depth: 100,
            stop_words: true,
            more_stop_words: false,
            feedback_max_words: 3,
            feedback_weight: 1.0,
            rm3_docs: 0,
            rm3_terms: 10,
            rm3_weight: 0.3,
            rm3_min_words: 4,
            near: 5,
            near_weight: 0.3,
        }
    }
}

impl Ranking {
    /// Sets a parameter by name (for benchmarks and tuning tools).
    pub fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        let f = || {
            v.parse::<f32>()
                .map_err(|_| format!("{key}={v}: not a number"))
        };
        let u = || {
            v.parse::<usize>()
                .map_err(|_| format!("{key}={v}: not a count"))
        };
        let b = || Ok::<bool, String>(v == "true" || v == "1");
        match key {
            "title" => self.title = f()?,
            "link_text" => self.link_text = f()?,
            "section" => self.section = f()?,
            "author" => self.author = f()?,
            "body" => self.body = f()?,
            "rr_title" => self.rr_title = f()?,
            "rr_other" => self.rr_other = f()?,
            "mix" => self.mix = f()?,
            "k1" => self.k1 = f()?,
            "b" => self.b = f()?,
            "b_title" => self.b_title = f()?,
            "proximity" => self.proximity = f()?,
            "window" => self.proximity_window = u()? as u32,
            "coordination" => self.coordination = f()?,
            "depth" => self.depth = u()?,
            "stop_words" => self.stop_words = b()?,
            "more_stop_words" => self.more_stop_words = b()?,
            "feedback_max_words" => self.feedback_max_words = u()?,
            "feedback_weight" => self.feedback_weight = f()?,
            "rm3_docs" => self.rm3_docs = u()?,
            "rm3_terms" => self.rm3_terms = u()?,
            "rm3_weight" => self.rm3_weight = f()?,
            "rm3_min_words" => self.rm3_min_words = u()?,
            "near" => self.near = u()?,
            "near_weight" => self.near_weight = f()?,
            _ => return Err(format!("unknown ranking parameter {key}")),
        }
        Ok(())
    }
}

/// Lucene's English stop words (the list Anserini's BM25 runs use).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// A free-text word of the query, as indexed.
#[derive(Debug, Clone)]
pub struct QueryTerm {
    pub stem: String,
    /// How often the query says it.
    pub count: f32,
    pub idf: f32,
}

/// A query made ready to run: the Tantivy clauses, and the free-text terms the re-ranking
/// and feedback work with.
pub struct Plan {
    /// What ranks: the words, phrases, required and excluded clauses.
    clauses: Vec<(TOccur, Box<dyn Query>)>,
    /// What only narrows: kind, host and section filters.
    filters: Vec<Box<dyn Query>>,
    pub terms: Vec<QueryTerm>,
    /// The words that rank (for snippets, highlighting, feedback).
    pub positive_text: String,
    fields: Fields,
    /// Free words are all that ranks (no phrase, prefix, fuzzy or field clause): the second
    /// stage may replace the first stage's scores.
    rerank: bool,
    /// Each document's nearest documents, for document expansion (None: not computed).
    near: Option<Arc<Neighbours>>,
}

impl Plan {
    pub fn new(
        lib: &LibraryIndex,
        searcher: &Searcher,
        parsed: &ParsedQuery,
        opts: &SearchOptions,
        r: &Ranking,
    ) -> Result<Plan, SearchError> {
        let f = lib.fields;
        let mut analyzer = lib.index.tokenizer_for_field(f.body)?;
        let more: &[&str] = if r.more_stop_words {
            super::expand::CONTEXT_STOP_WORDS
        } else {
            &[]
        };
        let stop: Vec<String> = STOP_WORDS
            .iter()
            .chain(more)
            .flat_map(|w| analyze(&mut analyzer, w))
            .collect();
        let mut clauses: Vec<(TOccur, Box<dyn Query>)> = vec![];
        let mut filters: Vec<Box<dyn Query>> = vec![];
        let mut free: Vec<String> = vec![];
        let mut rerank = true;
        for c in &parsed.clauses {
            match (&c.item, c.field, c.occur) {
                (Item::Words(w), None, Occur::Should) => free.extend(analyze(&mut analyzer, w)),
                _ => {
                    let filter =
                        c.occur == Occur::MustNot || matches!(c.field, Some("kind" | "host"));
                    // `+word`: required, and it ranks like any other word.
                    let required = match (&c.item, c.field, c.occur) {
                        (Item::Words(w), None, Occur::Must) => {
                            free.extend(analyze(&mut analyzer, w));
                            true
                        }
                        _ => false,
                    };
                    rerank &= filter || required;
                    let Some(q) = clause_query(lib, &mut analyzer, c, r)? else {
                        continue;
                    };
                    if filter && c.occur != Occur::MustNot {
                        filters.push(q);
                    } else {
                        clauses.push((occur(c.occur), q));
                    }
                }
            }
        }
        // Stop words carry almost no evidence but, in short fields, a lot of BM25 score.
        if r.stop_words && free.iter().any(|t| !stop.contains(t)) {
            free.retain(|t| !stop.contains(t));
        }
        let num_docs = searcher.num_docs().max(1) as f32;
        let mut terms: Vec<QueryTerm> = vec![];
        for stem in free {
            if let Some(t) = terms.iter_mut().find(|t| t.stem == stem) {
                t.count += 1.0;
                continue;
            }
            let df = searcher.doc_freq(&Term::from_field_text(f.body, &stem))? as f32;
            let idf = idf(num_docs, df);
            terms.push(QueryTerm {
                stem,
                count: 1.0,
                idf,
            });
        }
        for t in &terms {
            let q = term_in_fields(&f, &t.stem, r);
            clauses.push((TOccur::Should, boosted(q, t.count)));
        }
        if let Some(section) = &opts.section {
            let words = analyze(&mut analyzer, section);
            if let Some(q) = phrase_in(f.section, &words) {
                filters.push(q);
            }
        }
        for (field, value) in [(f.kind, &opts.kind), (f.host, &opts.host)] {
            if let Some(v) = value {
                filters.push(exact(field, v));
            }
        }
        Ok(Plan {
            clauses,
            filters,
            terms,
            positive_text: parsed.positive_text(),
            fields: f,
            rerank,
            near: lib.neighbours(),
        })
    }

    /// The first stage plus `expansion` (the feedback's words), re-ranked; at most `limit`.
    pub fn rank(
        &self,
        searcher: &Searcher,
        expansion: &[QueryTerm],
        limit: usize,
        r: &Ranking,
    ) -> Result<Vec<(f32, DocAddress)>, SearchError> {
        let mut clauses: Vec<(TOccur, Box<dyn Query>)> = self
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
                    Term::from_field_text(self.fields.body, &t.stem),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((TOccur::Should, boosted(Box::new(q), t.count)));
            }
        }
        let mut all: Vec<(TOccur, Box<dyn Query>)> =
            vec![(TOccur::Must, Box::new(BooleanQuery::new(clauses)))];
        all.extend(self.filters.iter().map(|q| (TOccur::Must, q.box_clone())));
        let query = BooleanQuery::new(all);
        // Candidates beyond `limit` only where a second stage re-orders them.
        let rerank = self.rerank && !self.terms.is_empty();
        let depth = if rerank { limit.max(r.depth) } else { limit }.max(1);
        let top = searcher.search(
            &query,
            &tantivy::collector::TopDocs::with_limit(depth).order_by_score(),
        )?;
        let mut ranked = if rerank {
            self.rerank(searcher, top, expansion, r)?
        } else {
            top
        };
        ranked.truncate(limit);
        Ok(ranked)
    }

    /// Re-scores candidates: BM25F × coordination^c + proximity. BM25F (Robertson & Zaragoza)
    /// adds a word's weighted, length-normalised frequencies over the fields before saturating
    /// them, so a word in both title and body is not counted as two independent words.
    /// Expansion words add their weighted BM25F but count neither for coordination nor for
    /// proximity: those measure the user's own words.
    fn rerank(
        &self,
        searcher: &Searcher,
        mut cands: Vec<(f32, DocAddress)>,
        expansion: &[QueryTerm],
        r: &Ranking,
    ) -> Result<Vec<(f32, DocAddress)>, SearchError> {
        let f = self.fields;
        let user = self.terms.len();
        let terms: Vec<&QueryTerm> = self.terms.iter().chain(expansion).collect();
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
        let borrowed = match &self.near {
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
                let prox = proximity(&self.terms, &positions[di], r.proximity_window);
                cand.0 = (1.0 - r.mix) * score * coord + r.proximity * prox + r.mix * cand.0;
            }
            start = end;
        }
        cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        Ok(cands)
    }
}

/// BM25's inverse document frequency (Lucene's, never negative).
pub fn idf(num_docs: f32, df: f32) -> f32 {
    (1.0 + (num_docs - df + 0.5) / (df + 0.5)).ln()
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

fn occur(o: Occur) -> TOccur {
    match o {
        Occur::Should => TOccur::Should,
        Occur::Must => TOccur::Must,
        Occur::MustNot => TOccur::MustNot,
    }
}

/// The tokens of `text` as the index has them (lower-cased, stemmed).
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if boost == 1.0 {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

/// One word in every text field, each field's BM25 weighted.
fn term_in_fields(f: &Fields, stem: &str, r: &Ranking) -> Box<dyn Query> {
    let clauses = [
        (f.title, r.title),
        (f.link_text, r.link_text),
        (f.section, r.section),
        (f.author, r.author),
        (f.body, r.body),
    ]
    .into_iter()
    .filter(|(_, w)| *w > 0.0)
    .map(|(field, w)| {
        let q = TermQuery::new(
            Term::from_field_text(field, stem),
            IndexRecordOption::WithFreqs,
        );
        (TOccur::Should, boosted(Box::new(q), w))
    })
    .collect();
    Box::new(BooleanQuery::new(clauses))
}

/// The words as a phrase (or one word) in one field.
fn phrase_in(field: Field, words: &[String]) -> Option<Box<dyn Query>> {
    let terms: Vec<Term> = words
        .iter()
        .map(|w| Term::from_field_text(field, w))
        .collect();
    match terms.len() {
        0 => None,
        1 => Some(Box::new(TermQuery::new(
            terms[0].clone(),
            IndexRecordOption::WithFreqs,
        ))),
        _ => Some(Box::new(PhraseQuery::new(terms))),
    }
}

/// An untokenised field's value (kind, host) as the index keeps it.
fn exact(field: Field, value: &str) -> Box<dyn Query> {
    let v = value.trim().trim_start_matches("www.").to_ascii_lowercase();
    Box::new(TermQuery::new(
        Term::from_field_text(field, &v),
        IndexRecordOption::Basic,
    ))
}

/// A clause other than free words: fielded, required, excluded, a phrase, a prefix, a fuzzy
/// word. `None` when it holds no indexable word.
fn clause_query(
    lib: &LibraryIndex,
    analyzer: &mut TextAnalyzer,
    c: &Clause,
    r: &Ranking,
) -> Result<Option<Box<dyn Query>>, SearchError> {
    let f = lib.fields;
    let text_fields: Vec<Field> = match c.field {
        Some("kind") | Some("host") => {
            let field = if c.field == Some("kind") {
                f.kind
            } else {
                f.host
            };
            let v = match &c.item {
                Item::Words(w) | Item::Phrase(w) | Item::Prefix(w) | Item::Fuzzy(w, _) => w,
            };
            return Ok(Some(exact(field, v)));
        }
        Some(name) => vec![lib.index.schema().get_field(name)?],
        None => vec![f.title, f.link_text, f.section, f.author, f.body],
    };
    let any = |qs: Vec<Box<dyn Query>>| -> Option<Box<dyn Query>> {
        (!qs.is_empty()).then(|| {
            Box::new(BooleanQuery::new(
                qs.into_iter().map(|q| (TOccur::Should, q)).collect(),
            )) as Box<dyn Query>
        })
    };
    let q = match &c.item {
        Item::Words(w) => {
            let words = analyze(analyzer, w);
            if words.is_empty() {
                return Ok(None);
            }
            if c.field.is_none() && c.occur != Occur::MustNot {
                // `+word` / `a AND b`: required, and scored as free text.
                let all = words
                    .iter()
                    .map(|s| (TOccur::Must, term_in_fields(&f, s, r)))
                    .collect();
                Some(Box::new(BooleanQuery::new(all)) as Box<dyn Query>)
            } else {
                // Every word, in any of the fields (a hyphenated word in one field, as a phrase).
                any(text_fields
                    .iter()
                    .filter_map(|&field| phrase_in(field, &words))
                    .collect())
            }
        }
        Item::Phrase(p) => {
            let words = analyze(analyzer, p);
            any(text_fields
                .iter()
                .filter_map(|&field| phrase_in(field, &words))
                .collect())
        }
        Item::Prefix(p) => {
            let pattern = format!("{}.*", regex_escape(p));
            let mut qs: Vec<Box<dyn Query>> = vec![];
            for &field in &text_fields {
                qs.push(Box::new(RegexQuery::from_pattern(&pattern, field)?));
            }
            any(qs)
        }
        Item::Fuzzy(w, distance) => {
            // Compared after stemming, so `transfromers~` finds "Transformers".
            let Some(stem) = analyze(analyzer, w).into_iter().next() else {
                return Ok(None);
            };
            any(text_fields
                .iter()
                .map(|&field| {
                    Box::new(FuzzyTermQuery::new(
                        Term::from_field_text(field, &stem),
                        *distance,
                        true,
                    )) as Box<dyn Query>
                })
                .collect())
        }
    };
    Ok(q)
}

/// Prefixes come from the query reader as letters and digits only; escape anyway.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = !c.is_alphanumeric();
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}
