//! The nearest-passage scan at scale (not a test): a synthetic library of `--docs` documents
//! with `--passages` passages each (random unit vectors of `--dim` values, written through
//! the same store and scan file as `update`), then `--queries` searches for each document's
//! best passage, top 100, timed one by one. Prints the scan file's size, the time to open it,
//! and the scan's p50 and p90.
//!
//! `cargo bench --bench vector_scan -- [--docs 100000] [--passages 3] [--dim 384] [--queries 50]`

use std::time::Instant;

use rl_search::vectors::{self, DocPassages, ModelInfo, Placed, VectorStore, Vectors};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let docs = arg(&args, "--docs", 100_000);
    let per = arg(&args, "--passages", 3);
    let dim = arg(&args, "--dim", 384);
    let queries = arg(&args, "--queries", 50);
    let mut seed = 42u64;
    let mut unit = move || {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect::<Vec<f32>>()
    };
    let lib = tempfile::tempdir().expect("a temporary folder");
    let model = ModelInfo {
        id: "bench@1".into(),
        dim,
    };
    let t = Instant::now();
    let mut store = VectorStore::open(lib.path(), &model, false).expect("the store");
    let mut layout = Vec::with_capacity(docs);
    for d in 0..docs {
        let passages = (0..per)
            .map(|p| Placed {
                record: store.push(vectors::key(&format!("{d}/{p}")), &unit()),
                start: p as u32 * 1000,
                end: p as u32 * 1000 + 999,
            })
            .collect();
        layout.push(DocPassages {
            id: format!("doc{d:07}"),
            text_key: vectors::key(&d.to_string()),
            passages,
            sentences: vec![],
        });
    }
    store.finish(&model, &layout).expect("written");
    eprintln!("built in {:.1} s", t.elapsed().as_secs_f64());
    let size = std::fs::metadata(vectors::dir(lib.path()).join("scan.bin"))
        .expect("scan.bin")
        .len();
    let mut opens = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let v = Vectors::open(lib.path()).expect("the vectors");
        opens.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(v);
    }
    opens.sort_by(f64::total_cmp);
    let v = Vectors::open(lib.path()).expect("the vectors");
    let mut times = vec![];
    for _ in 0..queries {
        let q = unit();
        let t = Instant::now();
        let near = v.nearest(&q, 100);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(near.len(), 100.min(docs));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{docs} documents × {per} passages ({} vectors of {dim}): scan file {:.0} MB, opened in {:.2} ms; nearest 100: p50 {:.1} ms, p90 {:.1} ms ({queries} queries)",
        docs * per,
        size as f64 / 1e6,
        opens[opens.len() / 2],
        times[times.len() / 2],
        times[times.len() * 9 / 10],
    );
}
