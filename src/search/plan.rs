//! A read query made ready to run: its clauses as Tantivy queries (words over the weighted
//! fields, phrases, prefixes, fuzzy words, fielded values), its filters (kind, host, section,
//! exclusions), and the free-text words — analysed as the index has them, stop words out,
//! each with its idf — that the second stage, the feedback and the snippets work with.

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur as TOccur, PhraseQuery, Query, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use super::query::{Clause, Item, Occur, ParsedQuery};
use super::ranking::Ranking;
use super::{SearchError, SearchOptions};
use crate::analysis::{CONTEXT_STOP_WORDS, STOP_WORDS, analyze, idf};
use crate::index::{Fields, LibraryIndex};
use crate::library::Snapshot;

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
    pub clauses: Vec<(TOccur, Box<dyn Query>)>,
    /// What only narrows: kind, host and section filters.
    pub filters: Vec<Box<dyn Query>>,
    /// The filters that select (not the exclusions), as the user named them: what to check
    /// when a search finds nothing ([`super::unmatched`]).
    pub named: Vec<NamedFilter>,
    pub terms: Vec<QueryTerm>,
    /// The words that rank (for snippets, highlighting, feedback).
    pub positive_text: String,
    pub fields: Fields,
    /// Free words are all that ranks (no phrase, prefix, fuzzy or field clause): the second
    /// stage may replace the first stage's scores.
    pub rerank: bool,
}

/// A filter as the user gave it: `--kind paper`, `host:arxiv.org`, `--section Algos`.
pub struct NamedFilter {
    /// kind, host, tag or section.
    pub what: &'static str,
    pub value: String,
    /// The untokenised field whose values can be listed (`None`: the section, a text field).
    pub field: Option<Field>,
    pub query: Box<dyn Query>,
}

impl Plan {
    /// What every hit must satisfy — the filters, required and excluded clauses — as one
    /// query; `None` when the query requires nothing (free words only). A document found by
    /// meaning alone joins the results only if it matches this.
    pub fn constraints(&self) -> Option<Box<dyn Query>> {
        let mut all: Vec<(TOccur, Box<dyn Query>)> = self
            .clauses
            .iter()
            .filter(|(o, _)| *o != TOccur::Should)
            .map(|(o, q)| (*o, q.box_clone()))
            .collect();
        all.extend(self.filters.iter().map(|q| (TOccur::Must, q.box_clone())));
        if all.is_empty() {
            return None;
        }
        if !all.iter().any(|(o, _)| *o == TOccur::Must) {
            all.push((TOccur::Must, Box::new(tantivy::query::AllQuery)));
        }
        Some(Box::new(BooleanQuery::new(all)))
    }

    pub fn new(
        snap: &Snapshot,
        parsed: &ParsedQuery,
        opts: &SearchOptions,
        r: &Ranking,
    ) -> Result<Plan, SearchError> {
        let (lib, searcher) = (snap.index, &snap.searcher);
        let f = lib.fields;
        let mut analyzer = lib.index.tokenizer_for_field(f.body)?;
        let more: &[&str] = if r.more_stop_words {
            CONTEXT_STOP_WORDS
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
        let mut named: Vec<NamedFilter> = vec![];
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
                    if let (Some(field), Some(what), Item::Words(v) | Item::Phrase(v)) =
                        (value_field(&f, c.field), c.field, &c.item)
                        && c.occur != Occur::MustNot
                    {
                        named.push(NamedFilter {
                            what,
                            value: v.clone(),
                            field: Some(field),
                            query: q.box_clone(),
                        });
                    }
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
        let mut narrow = |what, value: &str, field, q: Box<dyn Query>| {
            named.push(NamedFilter {
                what,
                value: value.to_string(),
                field,
                query: q.box_clone(),
            });
            filters.push(q);
        };
        if let Some(section) = &opts.section {
            let words = analyze(&mut analyzer, section);
            if let Some(q) = phrase_in(f.section, &words) {
                narrow("section", section, None, q);
            }
        }
        for (what, field, value) in [("kind", f.kind, &opts.kind), ("host", f.host, &opts.host)] {
            if let Some(v) = value {
                narrow(what, v, Some(field), exact(field, v));
            }
        }
        for t in &opts.tags {
            narrow("tag", t, Some(f.tag), exact(f.tag, t));
        }
        Ok(Plan {
            clauses,
            filters,
            named,
            terms,
            positive_text: parsed.positive_text(),
            fields: f,
            rerank,
        })
    }
}

fn occur(o: Occur) -> TOccur {
    match o {
        Occur::Should => TOccur::Should,
        Occur::Must => TOccur::Must,
        Occur::MustNot => TOccur::MustNot,
    }
}

pub(super) fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
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

/// The untokenised field a `kind:`, `host:` or `tag:` clause names (matched whole, not by
/// its words).
fn value_field(f: &Fields, name: Option<&str>) -> Option<Field> {
    match name? {
        "kind" => Some(f.kind),
        "host" => Some(f.host),
        "tag" => Some(f.tag),
        _ => None,
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
    if let Some(field) = value_field(&f, c.field) {
        let v = match &c.item {
            Item::Words(w) | Item::Phrase(w) | Item::Prefix(w) | Item::Fuzzy(w, _) => w,
        };
        return Ok(Some(exact(field, v)));
    }
    let text_fields: Vec<Field> = match c.field {
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
