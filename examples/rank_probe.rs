//! Ranking probe (not a test): one query against a library with ranking parameters changed,
//! to see what a parameter does to a known case before sweeping it with benches/relevance.
//! `cargo run --release --example rank_probe -- LIBRARY "scaling laws" feedback_weight=1 k1=2`

use rl_search::library::Library;
use rl_search::search::{self, Ranking, SearchOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [library, query, params @ ..] = args.as_slice() else {
        eprintln!("usage: rank_probe LIBRARY QUERY [KEY=VALUE]...");
        std::process::exit(2);
    };
    let mut r = Ranking::default();
    for p in params {
        let (k, v) = p.split_once('=').expect("KEY=VALUE");
        r.set(k, v).unwrap_or_else(|e| panic!("{e}"));
    }
    let lib = Library::open_existing(&std::path::Path::new(library).join("tantivy"))
        .expect("open the index")
        .expect("a library with an index");
    let opts = SearchOptions {
        limit: 10,
        ..Default::default()
    };
    for h in search::search_with(&lib.snapshot().expect("a searcher"), query, &opts, &r)
        .expect("search")
        .hits
    {
        println!("{:2} {:7.2} {}", h.rank, h.score, h.title);
    }
}
