//! Ranking probe (not a test): one query against a library with ranking parameters changed,
//! to see what a parameter does to a known case before sweeping it with benches/relevance.
//! `cargo run --release --example rank_probe -- LIBRARY "scaling laws" feedback_weight=1 k1=2`
//! With `RL_SEARCH_MODEL=DIR` the search is hybrid (`mode=meaning` for meaning alone), so the
//! fusion's parameters (`sentence_weight=0`, ...) can be probed too.

use rl_search::library::Library;
use rl_search::search::{self, Mode, QueryVector, Ranking, SearchOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [library, query, params @ ..] = args.as_slice() else {
        eprintln!("usage: rank_probe LIBRARY QUERY [KEY=VALUE]...");
        std::process::exit(2);
    };
    let mut r = Ranking::default();
    let mut mode = Mode::Hybrid;
    for p in params {
        let (k, v) = p.split_once('=').expect("KEY=VALUE");
        if k == "mode" {
            mode = if v == "meaning" {
                Mode::Meaning
            } else {
                Mode::Hybrid
            };
            continue;
        }
        r.set(k, v).unwrap_or_else(|e| panic!("{e}"));
    }
    let lib = Library::open_existing(&std::path::Path::new(library).join("tantivy"))
        .expect("open the index")
        .expect("a library with an index");
    let mut opts = SearchOptions {
        limit: 10,
        ..Default::default()
    };
    let snap = match std::env::var_os("RL_SEARCH_MODEL") {
        Some(dir) => {
            let m = rl_search::embed::Model::load(std::path::Path::new(&dir)).expect("model");
            let v = m.embed_queries(&[query]).expect("embed").remove(0);
            opts.mode = mode;
            opts.query_vector = Some(QueryVector::ready(v));
            lib.snapshot_with_vectors().expect("a searcher")
        }
        None => lib.snapshot().expect("a searcher"),
    };
    for h in search::search_with(&snap, query, &opts, &r)
        .expect("search")
        .hits
    {
        println!("{:2} {:7.2} {}", h.rank, h.score, h.title);
    }
}
