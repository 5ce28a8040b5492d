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
    let snap = match meaning(cfg, &store, args.mode, &query)? {
        Some((mode, vector)) => {
            opts.mode = mode;
            opts.query_vector = Some(vector);
            lib.snapshot_with_vectors()?
        }
        None => lib.snapshot()?,
    };
    let search::Results { mut hits, notes } = search::search(&snap, &query, &opts)?;
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

/// The mode and the query's vector, when the search uses meaning: the library has passage
/// vectors and the model that made them is at hand (`--model`, `RL_SEARCH_MODEL`, or the
/// default model in the cache). Without them the search is lexical, and says once per library
/// how to have meaning; `--mode hybrid|meaning` without them is an error.
fn meaning(
    cfg: &Config,
    store: &Store,
    asked: Option<SearchMode>,
    query: &str,
) -> Result<Option<(search::Mode, Vec<f32>)>> {
    let mode = match asked {
        Some(SearchMode::Lexical) => return Ok(None),
        Some(SearchMode::Meaning) => search::Mode::Meaning,
        Some(SearchMode::Hybrid) | None => search::Mode::Hybrid,
    };
    let have = crate::vectors::model_of(store.root());
    let why_not = match (&have, &cfg.model) {
        (Some(have), Some(dir)) => match crate::embed::Model::load(dir) {
            Ok(model) if model.id() == have.id => {
                let vector = model.embed_queries(&[query])?.remove(0);
                return Ok(Some((mode, vector)));
            }
            Ok(model) => format!(
                "the library's passages were embedded with {}, not {}: run `rl-search update --embed` to embed them with this model",
                have.id,
                model.id()
            ),
            // A model that cannot be loaded: the search still answers, by its words.
            Err(e) if asked.is_none() => {
                eprintln!("rl-search: warning: {e}; searching by words only");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        },
        (Some(have), None) => format!(
            "the library's passages were embedded with {}, but no model is given: pass --model DIR or set RL_SEARCH_MODEL",
            have.id
        ),
        (None, Some(_)) => {
            "the library has no passage vectors yet: run `rl-search update` to embed it".into()
        }
        (None, None) => "search by meaning too: `rl-search model pull`, then `rl-search update` (about 10 passages a second on 2 cores)".into(),
    };
    if asked.is_some() {
        anyhow::bail!(
            "--mode {} is not possible: {why_not}",
            if mode == search::Mode::Meaning {
                "meaning"
            } else {
                "hybrid"
            }
        );
    }
    // Said once per library: a marker beside the index.
    let marker = store.root().join(".meaning-hint");
    if !marker.exists() && std::fs::write(&marker, b"").is_ok() {
        eprintln!("rl-search: note: {why_not}");
    }
    Ok(None)
}

/// Loading a model copies 90 MB of weights into fresh memory, 4 KB page by page: 27,600 page
/// faults, a third of a hybrid search. glibc backs its large allocations with huge pages when
/// its `glibc.malloc.hugetlb` tunable is set, and tunables are read only when a process
/// starts — so a search that will load a model starts itself again once with the tunable set
/// (measured on SciFact: p50 154 → 119 ms; the new start costs about 2 ms). Nothing happens
/// when the user set `GLIBC_TUNABLES`, when no model would be loaded, or off Linux/glibc.
pub fn tune_allocator(cfg: &Config, args: &SearchArgs) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const MARK: &str = "RL_SEARCH_TUNED";
        if std::env::var_os("GLIBC_TUNABLES").is_some()
            || std::env::var_os(MARK).is_some()
            || cfg.model.is_none()
            || args.mode == Some(SearchMode::Lexical)
            || crate::vectors::model_of(&cfg.index_dir).is_none()
        {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        // exec only returns on failure; the search then runs here as it is.
        let _ = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
            .env(MARK, "1")
            .exec();
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (cfg, args);
}
