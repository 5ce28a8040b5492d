//! `rl-search QUERY` / `rl-search search QUERY`: ranked hits, for people or as JSON lines.
//! An empty library is filled first, so a new user's first search just works.

use std::io::Write;

use anyhow::Result;

use super::Exit;
use crate::cli::SearchArgs;
use crate::config::Config;
use crate::library::Library;
use crate::search::{self, SearchOptions};
use crate::store::{LastSearch, Store};

pub fn command(cfg: &Config, args: &SearchArgs) -> Result<Exit> {
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        anyhow::bail!("the query is empty: give some words to search for");
    }
    let opts = SearchOptions {
        limit: args.limit,
        section: args.section.clone(),
        kind: args.kind.clone(),
        host: args.host.clone(),
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
    let search::Results { mut hits, notes } = search::search(&lib.snapshot()?, &query, &opts)?;
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
