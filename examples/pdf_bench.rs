//! PDF text extraction over a folder of PDFs: pdf-extract, lopdf, and what rl-search keeps
//! (pdf-extract, falling back to lopdf when the output is empty or split into letters).
//!
//! ```sh
//! cargo run --release --example pdf_bench -- DIR_WITH_PDFS
//! ```

use std::time::{Duration, Instant};

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: pdf_bench DIR");
        std::process::exit(2)
    });
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            std::fs::read(p)
                .map(|b| b.starts_with(b"%PDF"))
                .unwrap_or(false)
        })
        .collect();
    paths.sort();
    println!(
        "{:<44} {:>8} {:>7} {:>8} {:>7} {:>8} {:>7} {:>6}",
        "file", "pdfx_w", "pdfx_ms", "lopdf_w", "lopdf_ms", "kept_w", "kept_ms", "pages"
    );
    let (mut total_pages, mut total_time) = (0usize, Duration::ZERO);
    for p in paths {
        let bytes = std::fs::read(&p).unwrap();
        let pages = lopdf::Document::load_mem(&bytes)
            .map(|d| d.get_pages().len())
            .unwrap_or(0);
        let t = Instant::now();
        let a = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&bytes))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let ta = t.elapsed();
        let t = Instant::now();
        let b = rl_search::extract::pdf::lopdf_text(&bytes).unwrap_or_default();
        let tb = t.elapsed();
        let t = Instant::now();
        let kept = rl_search::extract::pdf::extract(bytes.clone(), Duration::from_secs(120))
            .map(|d| d.text)
            .unwrap_or_default();
        let tk = t.elapsed();
        total_pages += pages;
        total_time += tk;
        let name: String = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .chars()
            .take(44)
            .collect();
        println!(
            "{name:<44} {:>8} {:>7} {:>8} {:>7} {:>8} {:>7} {pages:>6}",
            words(&a),
            ta.as_millis(),
            words(&b),
            tb.as_millis(),
            words(&kept),
            tk.as_millis()
        );
    }
    println!(
        "kept: {total_pages} pages in {:.2} s = {:.0} pages/s",
        total_time.as_secs_f64(),
        total_pages as f64 / total_time.as_secs_f64()
    );
}
