//! Queries → ranked hits with snippets.
//!
//! A search reads top to bottom, each step a function of the last one's output:
//! [`query`] parses the user's text into clauses (forgiving: a natural sentence is never a
//! syntax error) → [`plan`] analyses them into Tantivy clauses, filters and weighted words →
//! [`rank`] runs the first stage (BM25 over weighted fields) and the second (BM25F with the
//! nearest documents' words from [`near`], coordination, proximity) → [`expand`] adds
//! relevance feedback to short queries and ranks again → [`snippet`] builds the hits.
//! [`mod@similar`] is more-like-this. The index and its side data come in as one
//! [`Snapshot`]; nothing here opens files.

pub mod docs;
pub mod expand;
pub mod meaning;
pub mod near;
pub mod plan;
pub mod query;
pub mod rank;
pub mod ranking;
pub mod similar;
pub mod skim;
pub mod snippet;
pub mod unmatched;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use thiserror::Error;

use crate::library::{Library, Snapshot};
pub use ranking::Ranking;
pub use similar::similar;
pub use snippet::{lead, match_ranges};

/// Default number of hits.
pub const DEFAULT_LIMIT: usize = 10;

#[derive(Debug, Error)]
pub enum SearchError {
    #[error("cannot understand the query {query:?}")]
    BadQuery {
        query: String,
        source: query::QueryError,
    },
    #[error("search failed")]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Open(#[from] crate::index::IndexError),
}

/// How a search ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// By words only.
    #[default]
    Lexical,
    /// Words and meaning fused (needs a query vector and the library's passage vectors).
    Hybrid,
    /// Meaning only, still filtered by the query's operators.
    Meaning,
}

/// Filters and limits of one search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Lexical, hybrid or meaning ranking.
    pub mode: Mode,
    /// The query's vector, from the model the library's passages were embedded with.
    pub query_vector: Option<QueryVector>,
    /// Hits ranked, counting those skipped by `offset`.
    pub limit: usize,
    /// Ranked hits skipped (a later page): no snippet is made for them.
    pub offset: usize,
    pub section: Option<String>,
    pub kind: Option<String>,
    pub host: Option<String>,
    /// Only documents with every one of these tags.
    pub tags: Vec<String>,
}

/// A query's vector, given or still being computed: a search from the command line loads the
/// model and embeds the query on one core while the lexical ranking runs on the other, and
/// waits for the vector only when it fuses.
#[derive(Debug, Clone)]
pub struct QueryVector(Arc<OnceLock<Option<Vec<f32>>>>);

/// Gives a pending [`QueryVector`] its value; dropped without one (an error, a panic), the
/// vector is "none" and the search stays lexical rather than wait forever.
pub struct QueryVectorSetter(Arc<OnceLock<Option<Vec<f32>>>>);

impl QueryVector {
    pub fn ready(v: Vec<f32>) -> QueryVector {
        QueryVector(Arc::new(OnceLock::from(Some(v))))
    }

    pub fn pending() -> (QueryVector, QueryVectorSetter) {
        let cell = Arc::new(OnceLock::new());
        (QueryVector(cell.clone()), QueryVectorSetter(cell))
    }

    /// The vector, once it is there (`None`: it could not be made).
    pub fn wait(&self) -> Option<&[f32]> {
        self.0.wait().as_deref()
    }
}

impl QueryVectorSetter {
    pub fn set(self, v: Option<Vec<f32>>) {
        let _ = self.0.set(v);
    }
}

impl Drop for QueryVectorSetter {
    fn drop(&mut self) {
        let _ = self.0.set(None);
    }
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
    /// The list's tags for the document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// For a hit in an earlier version (`search --all-versions`): its number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// What a search found, and notes for the user on how the query was read.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub notes: Vec<String>,
}

/// Reads a query without running it: the one way it can fail is a field that does not exist.
pub fn check(query: &str) -> Result<Vec<String>, SearchError> {
    parse(query).map(|p| p.notes)
}

fn parse(text: &str) -> Result<query::ParsedQuery, SearchError> {
    query::parse(text).map_err(|source| SearchError::BadQuery {
        query: text.to_string(),
        source,
    })
}

/// Runs a query against the library with the default ranking.
pub fn search(snap: &Snapshot, query: &str, opts: &SearchOptions) -> Result<Results, SearchError> {
    search_with(snap, query, opts, &Ranking::default())
}

/// Runs a query with the given ranking parameters (the relevance bench varies them).
pub fn search_with(
    snap: &Snapshot,
    text: &str,
    opts: &SearchOptions,
    r: &Ranking,
) -> Result<Results, SearchError> {
    let (lib, searcher) = (snap.index, &snap.searcher);
    let mut parsed = parse(text)?;
    let plan = plan::Plan::new(snap, &parsed, opts, r)?;
    if plan.clauses.is_empty() && plan.filters.is_empty() {
        // Nothing the index holds: emoji, punctuation. Without this the first stage would
        // read it as "everything but the exclusions" and list the whole library.
        parsed.notes.push(format!(
            "{text:?} has no words to search for: emoji and punctuation are not indexed"
        ));
        return Ok(Results {
            hits: vec![],
            notes: parsed.notes,
        });
    }
    let limit = opts.limit.max(1);
    // Meaning joins when the query has words (a query of operators only stays lexical).
    let meaning = match (&opts.query_vector, &snap.vectors) {
        (Some(q), Some(v)) if opts.mode != Mode::Lexical && !plan.terms.is_empty() => Some((q, v)),
        _ => None,
    };
    // The fusion takes the lexical ranking's top `fusion_depth`, whatever is shown.
    let keep = match meaning {
        Some(_) => limit.max(r.fusion_depth),
        None => limit,
    };
    let depth = keep.max(expand::FEEDBACK_DOCS).max(r.rm3_docs);
    let mut docs = docs::Docs::new(searcher);
    let mut ranked = rank::rank(&plan, snap, &[], depth, r)?;
    // Feedback for short queries only: measured, it does nothing for long ones.
    // One word has no context to share; it costs a body read for nothing.
    if plan.terms.len() >= 2 && plan.terms.len() <= r.feedback_max_words && !ranked.is_empty() {
        let addrs: Vec<_> = ranked
            .iter()
            .take(expand::FEEDBACK_DOCS)
            .map(|(_, a)| *a)
            .collect();
        let mut expansion = expand::feedback(
            lib,
            &mut docs,
            &addrs,
            &plan.positive_text,
            r.feedback_weight,
        )?;
        // Evidence drawn from the query never outweighs it: in a small library the query's
        // own words are common and a context word can be rarer than all of them.
        let mean_idf = plan.terms.iter().map(|t| t.idf).sum::<f32>() / plan.terms.len() as f32;
        for t in &mut expansion {
            t.idf = t.idf.min(mean_idf);
        }
        if !expansion.is_empty() {
            ranked = rank::rank(&plan, snap, &expansion, keep, r)?;
        }
    }
    if r.rm3_docs > 0 && plan.terms.len() >= r.rm3_min_words && !ranked.is_empty() {
        let top = &ranked[..ranked.len().min(r.rm3_docs)];
        let expansion = expand::rm3(lib, &mut docs, top, &plan.terms, r.rm3_terms, r.rm3_weight)?;
        if !expansion.is_empty() {
            ranked = rank::rank(&plan, snap, &expansion, keep, r)?;
        }
    }
    let mut passages = Default::default();
    if let Some((q, vectors)) = meaning
        && let Some(q) = q.wait()
    {
        ranked.truncate(keep);
        let fused = meaning::fuse(&plan, snap, vectors, ranked, q, opts.mode, r)?;
        ranked = fused.ranked;
        passages = fused.passages;
    }
    if ranked.is_empty() {
        parsed
            .notes
            .extend(unmatched::notes(searcher, &plan.named)?);
    }
    ranked.truncate(limit);
    let shown = &ranked[opts.offset.min(ranked.len())..];
    // Snippets show the user's own words, not the expansion's.
    let marks = snippet::words_query(lib, &plan.positive_text)?;
    let mut hits = snippet::hits(
        lib,
        &mut docs,
        shown,
        &*marks,
        &plan.positive_text,
        &passages,
    )?;
    for h in &mut hits {
        h.rank += opts.offset;
    }
    Ok(Results {
        hits,
        notes: parsed.notes,
    })
}

/// Earlier versions of the library's documents (`search --all-versions`): indexed in memory
/// for this one search — versions are asked for rarely, and the main index's statistics stay
/// those of the current texts — and ranked with the same code.
pub fn search_earlier_versions(
    store: &crate::store::Store,
    text: &str,
    opts: &SearchOptions,
) -> Result<Vec<Hit>, SearchError> {
    let lib = Library::in_ram();
    let mut writer = lib.index.writer()?;
    let mut any = false;
    for rec in store.records() {
        for v in &rec.versions {
            let Some(body) = v.text_file.as_deref().and_then(|f| store.read_text(f).ok()) else {
                continue;
            };
            writer.upsert(&crate::index::IndexDoc {
                id: format!("{}@v{}", rec.id, v.version),
                url: rec.url.clone(),
                host: crate::resolve::host_of(&rec.url),
                kind: rec.kind.clone(),
                title: v.title.clone(),
                link_text: rec.link_text.clone(),
                section: rec.section.clone(),
                author: rec.author.clone().unwrap_or_default(),
                body,
                hash: v.text_sha256.clone().unwrap_or_default(),
                tags: rec.tags.clone(),
            })?;
            any = true;
        }
    }
    if !any {
        return Ok(vec![]);
    }
    writer.finish()?;
    lib.reload()?;
    let mut hits = search(&lib.snapshot()?, text, opts)?.hits;
    for h in &mut hits {
        if let Some((id, v)) = h.id.split_once("@v") {
            h.version = v.parse().ok();
            h.id = id.to_string();
        }
    }
    Ok(hits)
}

/// Current and earlier hits in one list: each document's earlier versions right after it
/// (newest first), then earlier versions of documents whose current text does not match;
/// ranks renumbered. Scores from the two indexes are not comparable (the in-memory one
/// has other word statistics), so the current ranking decides the order.
pub fn merge_hits(current: Vec<Hit>, mut earlier: Vec<Hit>, limit: usize) -> Vec<Hit> {
    earlier.sort_by_key(|h| std::cmp::Reverse(h.version));
    let mut out = vec![];
    for hit in current {
        let id = hit.id.clone();
        out.push(hit);
        let (mine, rest): (Vec<Hit>, Vec<Hit>) = earlier.into_iter().partition(|e| e.id == id);
        out.extend(mine);
        earlier = rest;
    }
    earlier.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.extend(earlier);
    out.truncate(limit);
    for (i, h) in out.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDoc;

    fn lib_with(docs: &[(&str, &str, &str, &str)]) -> (tempfile::TempDir, Library) {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::new(crate::index::LibraryIndex::open_or_create(dir.path()).unwrap());
        let mut w = lib.index.writer().unwrap();
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
        let hits = search(&lib.snapshot().unwrap(), "scaling laws", &opts())
            .unwrap()
            .hits;
        assert_eq!(hits[0].id, "b");
        assert_eq!(hits[1].id, "c", "phrase beats scattered words");
        assert!(hits[0].snippet.contains("scaling"));
        assert!(!hits[0].highlights.is_empty());
    }

    #[test]
    fn a_query_with_nothing_indexable_finds_nothing_and_says_why() {
        let (_d, lib) = lib_with(&[
            ("a", "Robots", "Misc", "robots 🤖 everywhere"),
            ("b", "Kitchens", "Misc", "the laws of kitchens"),
        ]);
        let snap = lib.snapshot().unwrap();
        for q in ["🤖", "🤖 …", "?!"] {
            let r = search(&snap, q, &opts()).unwrap();
            assert!(r.hits.is_empty(), "{q}: {:?}", r.hits.len());
            assert!(
                r.notes.iter().any(|n| n.contains("no words")),
                "{:?}",
                r.notes
            );
        }
        // Exclusions alone and filters alone still list what they select.
        let r = search(&snap, "-robots", &opts()).unwrap();
        assert_eq!(
            r.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        let kind = SearchOptions {
            kind: Some("page".into()),
            ..opts()
        };
        assert_eq!(search(&snap, "🤖", &kind).unwrap().hits.len(), 2);
    }

    #[test]
    fn a_filter_that_selects_nothing_is_named_with_the_values_there_are() {
        let (_d, lib) = lib_with(&[
            ("a", "Robots", "Misc", "robots everywhere"),
            ("b", "Kitchens", "Misc", "the laws of kitchens"),
        ]);
        let snap = lib.snapshot().unwrap();
        let with = |f: fn(&mut SearchOptions)| {
            let mut o = opts();
            f(&mut o);
            o
        };
        let cases = [
            (
                "robots",
                with(|o| o.kind = Some("papr".into())),
                r#"no document has kind "papr"; the library's kinds: page"#,
            ),
            // The same typed in the query.
            (
                "host:exmple.org robots",
                opts(),
                r#"no document has host "exmple.org"; the library's hosts: example.org"#,
            ),
            // A tag nobody has, as an option and in the query.
            (
                "robots",
                with(|o| o.tags = vec!["rlhf".into()]),
                r#"no document has tag "rlhf"; no document has any tag"#,
            ),
            (
                "tag:rlhf robots",
                opts(),
                r#"no document has tag "rlhf"; no document has any tag"#,
            ),
            // A value in any script, emoji too: matched whole, so named rather than dropped.
            (
                "kind:🤖 robots",
                opts(),
                r#"no document has kind "🤖"; the library's kinds: page"#,
            ),
            // A section is matched by its words: nothing to list.
            (
                "robots",
                with(|o| o.section = Some("Algos".into())),
                r#"no document's section has the words "Algos""#,
            ),
        ];
        for (q, o, note) in cases {
            let r = search(&snap, q, &o).unwrap();
            assert!(r.hits.is_empty(), "{q}");
            assert_eq!(r.notes, [note], "{q}");
        }
        // A filter that selects something, with words that match nothing there: no note.
        let page = SearchOptions {
            kind: Some("page".into()),
            ..opts()
        };
        let r = search(&snap, "zebras", &page).unwrap();
        assert!(r.hits.is_empty() && r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn a_page_is_found_by_the_words_of_its_nearest_pages() {
        let (dir, lib) = lib_with(&[
            (
                "cox",
                "Pain relief",
                "Drugs",
                "COX-2 inhibitors relieve arthritis pain; COX-2 inhibitors reduce inflammation in joints and spare the stomach lining, unlike older painkillers",
            ),
            (
                "cel1",
                "Celecoxib",
                "Drugs",
                "celecoxib is a COX-2 inhibitor that relieves arthritis pain and inflammation in joints, sparing the stomach lining",
            ),
            (
                "cel2",
                "Coxibs",
                "Drugs",
                "celecoxib and other COX-2 inhibitors reduce inflammation and joint pain while the stomach lining is spared",
            ),
            (
                "garden",
                "Gardening",
                "Misc",
                "arthritis makes gardening hard",
            ),
        ]);
        crate::neighbours::refresh(&lib.index, dir.path()).unwrap();
        let order = |r: &Ranking| -> Vec<String> {
            search_with(&lib.snapshot().unwrap(), "celecoxib arthritis", &opts(), r)
                .unwrap()
                .hits
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        let pos = |ids: &[String], id: &str| ids.iter().position(|i| i == id).unwrap();
        let without = order(&Ranking {
            near: 0,
            ..Ranking::default()
        });
        assert!(
            pos(&without, "garden") < pos(&without, "cox"),
            "on their own words alone the short page wins: {without:?}"
        );
        let with = order(&Ranking::default());
        assert!(
            pos(&with, "cox") < pos(&with, "garden"),
            "the COX-2 page borrows \"celecoxib\" from its neighbours: {with:?}"
        );
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
        assert_eq!(
            search(&lib.snapshot().unwrap(), "embedding", &opts())
                .unwrap()
                .hits
                .len(),
            2
        );
        let mut o = opts();
        o.section = Some("deployment".into());
        let hits = search(&lib.snapshot().unwrap(), "embedding", &o)
            .unwrap()
            .hits;
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "b");
        // No document has both words: any word matches.
        assert_eq!(
            search(&lib.snapshot().unwrap(), "embeddings kubernetes", &opts())
                .unwrap()
                .hits
                .len(),
            2
        );
        assert!(
            search(&lib.snapshot().unwrap(), "zebra", &opts())
                .unwrap()
                .hits
                .is_empty()
        );
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
        let ids: Vec<String> = search(&lib.snapshot().unwrap(), "scaling laws", &opts())
            .unwrap()
            .hits
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
        assert!(
            search(&lib.snapshot().unwrap(), "transfromers", &opts())
                .unwrap()
                .hits
                .is_empty()
        );
        let hits = search(&lib.snapshot().unwrap(), "transfromers~", &opts())
            .unwrap()
            .hits;
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "a");
        assert_eq!(
            search(&lib.snapshot().unwrap(), "vectr~1 words", &opts())
                .unwrap()
                .hits[0]
                .id,
            "a"
        );
    }

    #[test]
    fn snippets_come_from_the_part_that_matches() {
        let filler = "filler words about nothing in particular. ".repeat(2000);
        let body = format!("{filler}Here scaling laws appear together. {filler}scaling alone");
        let w = snippet::snippet_window(&body, &crate::analysis::needles("scaling laws"));
        assert!(w.contains("scaling laws appear"), "{w}");
        assert!(w.len() <= snippet::SNIPPET_WINDOW_BYTES);
    }

    #[test]
    fn bad_syntax_is_one_line_error() {
        let (_d, lib) = lib_with(&[("a", "T", "S", "b")]);
        let err = search(&lib.snapshot().unwrap(), "nosuchfield:x", &opts())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nosuchfield"), "{err}");
        assert!(!err.contains('\n'));
    }
}
