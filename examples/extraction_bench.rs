//! Main-text extraction over a folder of pages, for measuring against a benchmark such as
//! scrapinghub's article-extraction-benchmark (181 pages, gzip-compressed HTML):
//!
//! ```sh
//! cargo run --release --example extraction_bench -- BENCH_DIR/html predictions.json
//! python3 BENCH_DIR/score.py predictions.json
//! ```
//!
//! Writes `{page_id: {"articleBody": text}}` and prints timing. Reads `*.html` and `*.html.gz`.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: extraction_bench HTML_DIR PREDICTIONS.json");
        std::process::exit(2);
    };
    let mut pred = BTreeMap::new();
    let mut bytes_total = 0usize;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let t = Instant::now();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let id = name
            .trim_end_matches(".gz")
            .trim_end_matches(".html")
            .to_string();
        let raw = std::fs::read(&path).unwrap();
        let bytes = if name.ends_with(".gz") {
            let mut s = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut s)
                .unwrap();
            s
        } else if name.ends_with(".html") {
            raw
        } else {
            continue;
        };
        bytes_total += bytes.len();
        let html = rl_search::extract::text::decode(&bytes, None, true);
        let doc = rl_search::extract::html::extract(&html);
        let body = if doc.thin { String::new() } else { doc.text };
        pred.insert(
            id,
            serde_json::json!({ "articleBody": body, "title": doc.title }),
        );
    }
    let secs = t.elapsed().as_secs_f64();
    std::fs::write(out, serde_json::to_vec_pretty(&pred).unwrap()).unwrap();
    eprintln!(
        "{} pages, {:.1} MB of HTML in {:.2} s ({:.1} MB/s, {:.1} ms/page)",
        pred.len(),
        bytes_total as f64 / 1e6,
        secs,
        bytes_total as f64 / 1e6 / secs,
        secs * 1000.0 / pred.len().max(1) as f64
    );
}
