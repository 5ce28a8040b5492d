//! Embedding speed and agreement (not a test): cuts the library's documents into passages as
//! `update` does, embeds the first N with the model — timed, in batches as `update` runs them
//! — and, where the library already holds a vector for the same text (from an earlier
//! version of the code, say), reports how far the new vectors are from the stored ones.
//! `cargo run --release --example embed_bench -- LIBRARY MODEL_DIR [N]`

use std::path::Path;
use std::time::Instant;

use rl_search::index::{LibraryIndex, stored_str};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(lib), Some(model_dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: embed_bench LIBRARY MODEL_DIR [N]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(256);
    let lib = Path::new(lib);
    rl_search::embed::keep_freed_memory();
    let t = Instant::now();
    let model = rl_search::embed::Model::load(Path::new(model_dir))?;
    let load = t.elapsed().as_secs_f64() * 1000.0;
    let index = LibraryIndex::open_existing(&lib.join("tantivy"))?.expect("an index");
    let searcher = index.searcher()?;
    let f = index.fields;
    let mut texts = vec![];
    'all: for seg in searcher.segment_readers() {
        let store = seg.get_store_reader(64)?;
        for d in 0..seg.max_doc() {
            let doc: tantivy::TantivyDocument = store.get(d)?;
            let (title, body) = (stored_str(&doc, f.title), stored_str(&doc, f.body));
            for r in rl_search::passages::cut(body) {
                texts.push(rl_search::passages::embedding_text(title, &body[r]));
                if texts.len() == n {
                    break 'all;
                }
            }
        }
    }
    // The fast BERT tokenizer against the tokenizers crate, on every passage.
    let mut general = tokenizers::Tokenizer::from_file(Path::new(model_dir).join("tokenizer.json"))
        .map_err(anyhow::Error::msg)?;
    general.with_padding(None);
    general
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: model.config().max_tokens,
            ..Default::default()
        }))
        .map_err(anyhow::Error::msg)?;
    let differ = texts
        .iter()
        .filter(|t| {
            model.token_ids(t).ok()
                != general
                    .encode(t.as_str(), true)
                    .ok()
                    .map(|e| e.get_ids().to_vec())
        })
        .count();
    println!(
        "tokens differ from the tokenizers crate's on {differ} of {} passages",
        texts.len()
    );
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = Instant::now();
    let vectors = model.embed_passages(&refs)?;
    let secs = t.elapsed().as_secs_f64();
    let pieces: usize = refs.len(); // reported per passage, as the README's figures are
    println!(
        "{} passages in {secs:.1} s: {:.1} passages/s (model load {load:.0} ms)",
        pieces,
        pieces as f64 / secs
    );
    let mut times = vec![];
    for _ in 0..21 {
        let t = Instant::now();
        model.embed_queries(&["why does my model make things up"])?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    println!(
        "one query: {:.1} ms median of 21 ({first:.1} ms the first)",
        times[10]
    );
    let dir = rl_search::vectors::dir(lib);
    if let Some(records) = rl_search::vectors::Records::open(&dir, model.dim()) {
        let (mut compared, mut worst, mut sum) = (0, 1f32, 0f32);
        for (text, v) in texts.iter().zip(&vectors) {
            if let Some(old) = records
                .find(&rl_search::vectors::key(text))
                .and_then(|r| records.get(r))
            {
                let cos = rl_search::embed::dot(v, &old);
                worst = worst.min(cos);
                sum += cos;
                compared += 1;
            }
        }
        if compared > 0 {
            println!(
                "against the library's stored vectors ({compared}): cosine mean {:.6}, lowest {worst:.6}",
                sum / compared as f32
            );
        }
    }
    Ok(())
}
