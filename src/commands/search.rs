//! `rl-search QUERY` / `rl-search search QUERY`: ranked hits, for people or as JSON lines.
//! An empty library is filled first, so a new user's first search just works.

use std::io::Write;

use anyhow::Result;

use super::Exit;
use crate::cli::{SearchArgs, SearchMode};
use crate::config::Config;
use crate::library::Library;
use crate::search::{self, SearchOptions};
use crate::store::{LastSearch, Store};

pub fn command(cfg: &Config, args: &SearchArgs) -> Result<Exit> {
    let mut query = args.query.join(" ");
    if query.trim().is_empty() {
        // Filters alone list what they select: `search --tag rlhf`.
        let filters: Vec<String> = args
            .tags
            .iter()
            .map(|t| format!("tag:\"{t}\""))
            .chain(args.kind.iter().map(|k| format!("kind:\"{k}\"")))
            .chain(args.host.iter().map(|h| format!("host:\"{h}\"")))
            .chain(args.section.iter().map(|s| format!("section:\"{s}\"")))
            .collect();
        if filters.is_empty() {
            anyhow::bail!(
                "the query is empty: give some words to search for (or a filter: --tag, --kind, --host, --section)"
            );
        }
        query = filters.join(" ");
    }
    let opts = SearchOptions {
        limit: args.limit,
        section: args.section.clone(),
        kind: args.kind.clone(),
        host: args.host.clone(),
        tags: args.tags.clone(),
        ..Default::default()
    };
    let store = Store::open(&cfg.index_dir, false)?;
    let lib = match Library::open_existing(&store.tantivy_dir())? {
        Some(lib) if lib.index.num_docs()? > 0 => lib,
        _ => {
            // A mistyped query is reported before an empty library sends us off downloading.
            search::check(&query)?;
            eprintln!(
                "rl-search: the library at {} is empty; running `rl-search update` first (this downloads the reading list)",
                cfg.index_dir.display()
            );
            let report = super::update::run(cfg, &super::update::UpdateSettings::default())?;
            let mut err = std::io::stderr();
            let _ = writeln!(
                err,
                "rl-search: fetched {} documents, {} failed (see `rl-search status`)",
                report.new + report.changed + report.unchanged,
                report.failed.len()
            );
            Library::new(crate::index::LibraryIndex::open_or_create(
                &store.tantivy_dir(),
            )?)
        }
    };
    let mut opts = opts;
    let meaning = meaning(cfg, &store, args.mode)?;
    // The model loads and embeds the query on one core while the words are ranked on the
    // other; the search waits for the vector only to fuse.
    let search::Results { mut hits, notes } = std::thread::scope(|s| -> Result<_> {
        let query = query.as_str();
        let worker = meaning.as_ref().map(|m| {
            let (vector, setter) = search::QueryVector::pending();
            opts.mode = m.mode;
            opts.query_vector = Some(vector);
            s.spawn(move || -> Result<()> {
                // Without a vector (an error, a model that cannot serve) the setter is
                // dropped unset and the search stays lexical.
                if let Some((vector, model)) = m.embed(query)? {
                    setter.set(Some(vector));
                    // Freed here, on this core, while the search goes on (the model's
                    // tables took 7 ms to free on the search's path).
                    drop(model);
                }
                Ok(())
            })
        });
        let snap = match worker {
            Some(_) => lib.snapshot_with_vectors()?,
            None => lib.snapshot()?,
        };
        let results = search::search(&snap, query, &opts)?;
        if let Some(w) = worker {
            w.join()
                .map_err(|_| anyhow::anyhow!("the model failed on the query"))??;
        }
        Ok(results)
    })?;
    if args.all_versions {
        let earlier = search::search_earlier_versions(&store, &query, &opts)?;
        hits = search::merge_hits(hits, earlier, opts.limit);
    }
    for note in notes {
        eprintln!("rl-search: note: {note}");
    }
    // Remembered so that `read 2` / `open 2` / `similar 2` mean this search's second hit; a
    // read-only library simply doesn't remember.
    let _ = store.save_last_search(&LastSearch {
        query: query.clone(),
        ids: hits.iter().map(|h| h.id.clone()).collect(),
    });
    super::print_hits(
        cfg,
        &hits,
        args.json,
        &format!("no documents match {query:?}"),
    )
}

/// A search by meaning about to happen: the library has passage vectors and the model that
/// made them is named (`--model`, `RL_SEARCH_MODEL`, or the default model in the cache).
struct Meaning {
    mode: search::Mode,
    dir: std::path::PathBuf,
    /// The id of the model the library's vectors came from.
    have: String,
    /// The user asked for `--mode`: a model that cannot serve is an error, not a warning.
    asked: bool,
    /// Where the library remembers that it said how to have meaning.
    marker: std::path::PathBuf,
}

impl Meaning {
    /// The query's vector, and the model (for the caller to free when it suits); `None` when
    /// the model cannot be loaded and meaning was not asked for (the search still answers,
    /// by its words).
    fn embed(&self, query: &str) -> Result<Option<(Vec<f32>, crate::embed::Model)>> {
        match crate::embed::Model::load(&self.dir) {
            Ok(model) if model.id() == self.have => {
                let v = model.embed_queries(&[query])?.remove(0);
                Ok(Some((v, model)))
            }
            Ok(model) => {
                let why = format!(
                    "the library's passages were embedded with {}, not {}: run `rl-search update --embed` to embed them with this model",
                    self.have,
                    model.id()
                );
                if self.asked {
                    anyhow::bail!("--mode {} is not possible: {why}", mode_name(self.mode));
                }
                hint_once(&self.marker, &why);
                Ok(None)
            }
            Err(e) if !self.asked => {
                eprintln!("rl-search: warning: {e}; searching by words only");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether the search uses meaning, decided without loading the model. Without the vectors
/// or a model the search is lexical, and says once per library how to have meaning;
/// `--mode hybrid|meaning` without them is an error.
fn meaning(cfg: &Config, store: &Store, asked: Option<SearchMode>) -> Result<Option<Meaning>> {
    let mode = match asked {
        Some(SearchMode::Lexical) => return Ok(None),
        Some(SearchMode::Meaning) => search::Mode::Meaning,
        Some(SearchMode::Hybrid) | None => search::Mode::Hybrid,
    };
    let have = crate::vectors::model_of(store.root());
    let why_not = match (have, &cfg.model) {
        (Some(have), Some(dir)) => {
            return Ok(Some(Meaning {
                mode,
                dir: dir.clone(),
                have: have.id,
                asked: asked.is_some(),
                marker: store.root().join(".meaning-hint"),
            }));
        }
        (Some(have), None) => format!(
            "the library's passages were embedded with {}, but no model is given: pass --model DIR or set RL_SEARCH_MODEL",
            have.id
        ),
        (None, Some(_)) => {
            "the library has no passage vectors yet: run `rl-search update` to embed it".into()
        }
        (None, None) => "search by meaning too: `rl-search model pull`, then `rl-search update` (about 40 passages a second on 2 cores)".into(),
    };
    if asked.is_some() {
        anyhow::bail!("--mode {} is not possible: {why_not}", mode_name(mode));
    }
    hint_once(&store.root().join(".meaning-hint"), &why_not);
    Ok(None)
}

/// The `--mode` value that asks for `mode`.
fn mode_name(mode: search::Mode) -> &'static str {
    match mode {
        search::Mode::Meaning => "meaning",
        _ => "hybrid",
    }
}

/// Says `why` on stderr once per library: a marker beside the index remembers it was said.
fn hint_once(marker: &std::path::Path, why: &str) {
    if !marker.exists() && std::fs::write(marker, b"").is_ok() {
        eprintln!("rl-search: note: {why}");
    }
}
