//! `rl-search similar ID`: documents like this one.

use anyhow::{Result, bail};

use super::Exit;
use crate::cli::SimilarArgs;
use crate::config::Config;
use crate::library::Library;
use crate::store::Store;

pub fn command(cfg: &Config, args: &SimilarArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let (rec, _) = super::target::find(&store, &args.target)?;
    let Some(lib) = Library::open_existing(&store.tantivy_dir())? else {
        bail!(
            "the library at {} has no index yet; run `rl-search update`",
            cfg.index_dir.display()
        );
    };
    let Some(hits) = crate::search::similar(&lib.snapshot_with_vectors()?, &rec.id, args.limit)?
    else {
        bail!(
            "{} ({}) is not indexed: {}",
            rec.id,
            rec.url,
            rec.last_error
                .as_deref()
                .unwrap_or("run `rl-search update`")
        );
    };
    super::print_hits(
        cfg,
        &hits,
        args.json,
        &format!("no documents are like {} ({})", rec.id, rec.title),
    )
}
