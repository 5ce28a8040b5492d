//! Where a hybrid search's time goes before it searches (not a test): loading the model's
//! configuration and tokenizer, its weights, and embedding one query, each timed over N runs
//! in one process (medians), and the page faults of the whole load.
//! `cargo run --release --example model_load -- MODEL_DIR [N]`

use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: model_load MODEL_DIR [N]");
        std::process::exit(2);
    };
    let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(10);
    let dir = std::path::Path::new(dir);
    let (mut tok, mut whole, mut query) = (vec![], vec![], vec![]);
    for _ in 0..n {
        let t = Instant::now();
        let _ = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).expect("tokenizer");
        tok.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let m = rl_search::embed::Model::load(dir).expect("model");
        whole.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = m
            .embed_queries(&["why does my model make things up"])
            .expect("embed");
        query.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "tokenizer.json parse {:.1} ms · whole load (config, tokenizer, weights) {:.1} ms · one query {:.1} ms (medians of {n})",
        median(tok),
        median(whole),
        median(query)
    );
}
