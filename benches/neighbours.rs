//! Nearest documents after a small update (not a test). On a copy of a library made by
//! `cargo bench --bench library -- --docs 100000 --dir DIR`, measures:
//! - the whole computation (fresh term statistics, every document);
//! - an update that changes one document and adds another: the incremental path;
//! - a whole recomputation over the same statistics, and whether it gives the same lists.
//!
//! `cargo bench --bench neighbours -- --dir DIR` (the library is copied first, never changed).

use std::path::PathBuf;
use std::time::Instant;

use rl_search::index::{IndexDoc, LibraryIndex};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .expect("--dir LIBRARY (made by `cargo bench --bench library -- --docs 100000 --dir DIR`)");
    let work = tempfile::tempdir().expect("a temporary folder");
    let copy = work.path().join("tantivy");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(dir.join("tantivy"))
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    for f in ["rl-neighbours.bin", "rl-neighbours.state"] {
        let _ = std::fs::remove_file(copy.join(f));
    }
    let lib = LibraryIndex::open_or_create(&copy).expect("the index");
    let docs = lib.num_docs().expect("docs");
    let t = Instant::now();
    rl_search::neighbours::recompute(&lib, &copy).expect("whole");
    let whole = t.elapsed();

    // One document changed, one added.
    let searcher = lib.searcher().expect("searcher");
    let any = searcher.segment_readers()[0]
        .doc_ids_alive()
        .next()
        .expect("a document");
    let stored: tantivy::TantivyDocument = searcher
        .doc(tantivy::DocAddress::new(0, any))
        .expect("stored");
    let f = lib.fields;
    let id = rl_search::index::stored_text(&stored, f.id);
    let body = rl_search::index::stored_text(&stored, f.body);
    let mut w = lib.writer().expect("writer");
    for (id, body) in [
        (
            id.clone(),
            format!("{body} and a new closing paragraph about kubernetes and attention"),
        ),
        ("bench-new".to_string(), body.chars().take(4000).collect()),
    ] {
        w.upsert(&IndexDoc {
            hash: rl_search::store::sha256_hex(body.as_bytes()),
            id,
            body,
            title: "changed".into(),
            ..Default::default()
        })
        .expect("upsert");
    }
    w.finish().expect("commit");
    let t = Instant::now();
    rl_search::neighbours::refresh(&lib, &copy).expect("incremental");
    let incremental = t.elapsed();
    let t = Instant::now();
    let same = rl_search::neighbours::state::check_against_full(&lib, &copy).expect("check");
    let check = t.elapsed();
    println!("documents: {docs}");
    println!(
        "whole computation (fresh statistics): {:.2} s",
        whole.as_secs_f64()
    );
    println!(
        "one changed + one added document, incremental: {:.2} s",
        incremental.as_secs_f64()
    );
    println!(
        "whole recomputation over the same statistics: {:.2} s; identical lists: {same}",
        check.as_secs_f64()
    );
}
