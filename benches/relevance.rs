//! Relevance benchmark (not a test): ranking quality on a BEIR-format collection, next to a
//! plain BM25 computed in the same run.
//!
//! The library is built the way a user's is: every document becomes an HTML page served from
//! 127.0.0.1, a Markdown list links them all (link text = title), and the same code as
//! `rl-search update --list` fetches, extracts and indexes them. Each query then runs through
//! the library's search, and nDCG@10, Recall@100 and MRR@10 are computed as trec_eval does.
//!
//! ```text
//! cargo bench --bench relevance -- DIR [--split test|train] [--library PATH]
//!     [--style claims|short] [--grid KEY=V1,V2,...]...
//! ```
//! DIR holds `corpus.jsonl` (or `.jsonl.gz`), `queries.jsonl` and `qrels/SPLIT.tsv`.
//! `--library PATH` keeps the built library there and reuses it on the next run.
//! `--style short` replaces each query by its three rarest words (a keyword query).
//! `--model DIR --mode hybrid|meaning|lexical` ranks with the model's vectors (the library
//! must have been embedded with it: `rl-search --index PATH --model DIR update`, or run.py's
//! kept library); `passage_weight`, `sentence_weight`, their keyword-query counterparts
//! `short_passage_weight`, `short_sentence_weight` (up to `short_words` words), `dense_weight`
//! (passages only) and `fusion_depth` are the fusion's grid parameters. `--export DIR` (with
//! `--model`) writes, instead of ranking, what a model of the fusion outside Rust needs: per
//! query its vector, the lexical top 100 and every document's best-passage cosine; per
//! document its mean vector and nearest documents.
//! `--grid` varies a `Ranking` parameter (title, link_text, section, author, body, k1, b,
//! b_title, rr_title, rr_other, mix, proximity,
//! window, coordination, depth, stop_words, feedback_max_words, feedback_weight, rm3_docs,
//! rm3_terms, rm3_weight, rm3_min_words); several
//! grids run every combination.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rl_search::commands::update::{self, UpdateSettings};
use rl_search::config::Config;
use rl_search::search::{self, QueryVector, Ranking, SearchOptions};

/// Query id → text.
type Queries = HashMap<String, String>;
/// Query id → document id → grade.
type Qrels = HashMap<String, HashMap<String, u32>>;

struct Doc {
    id: String,
    title: String,
    text: String,
}

fn read_lines(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    BufReader::new(reader).lines().map(Result::unwrap).collect()
}

fn load(dir: &Path, split: &str) -> (Vec<Doc>, Queries, Qrels) {
    let corpus = ["corpus.jsonl", "corpus.jsonl.gz"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{}: no corpus.jsonl(.gz)", dir.display()));
    let docs = read_lines(&corpus)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Doc {
                id: v["_id"].as_str().unwrap().to_string(),
                title: v["title"].as_str().unwrap_or("").to_string(),
                text: v["text"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect();
    let queries = read_lines(&dir.join("queries.jsonl"))
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["_id"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for l in read_lines(&dir.join("qrels").join(format!("{split}.tsv")))
        .iter()
        .skip(1)
    {
        let mut parts = l.split('\t');
        let (Some(q), Some(d), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        qrels
            .entry(q.to_string())
            .or_default()
            .insert(d.to_string(), s.trim().parse().unwrap_or(0));
    }
    (docs, queries, qrels)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Builds the library through `update --list`, as a user would.
fn build(docs: &[Doc], library: &Path) {
    let pages: HashMap<String, String> = docs
        .iter()
        .map(|d| {
            let t = escape(&d.title);
            let html = format!(
                "<!doctype html><html lang=en><head><meta charset=utf-8><title>{t}</title></head><body><nav><a href=/>Corpus</a></nav><main><article><h1>{t}</h1><p>{}</p></article></main><footer>Document {}</footer></body></html>",
                escape(&d.text),
                d.id
            );
            (format!("/doc/{}.html", d.id), html)
        })
        .collect();
    let server = common::Server::start(move |req| match pages.get(&req.path) {
        Some(html) => common::Reply::html(html),
        None => common::Reply::status(404),
    });
    std::fs::create_dir_all(library).unwrap();
    let list = library.with_extension("md");
    let mut md = String::from("# Corpus\n\n");
    for d in docs {
        let title = if d.title.is_empty() { &d.id } else { &d.title };
        md += &format!(
            "- [{}]({})\n",
            title.replace(['[', ']'], " "),
            server.url(&format!("/doc/{}.html", d.id))
        );
    }
    std::fs::write(&list, md).unwrap();
    let cfg = Config {
        index_dir: library.to_path_buf(),
        color: false,
        stdout_tty: false,
        stderr_tty: false,
        model: None,
    };
    let settings = UpdateSettings {
        lists: vec![list.display().to_string()],
        ..Default::default()
    };
    let t = Instant::now();
    let report = update::run(&cfg, &settings).expect("update");
    eprintln!(
        "built the library: {} documents, {} failed, {:.1} s",
        report.new + report.changed + report.unchanged,
        report.failed.len(),
        t.elapsed().as_secs_f64()
    );
}

#[derive(Default, Clone, Copy)]
struct Scores {
    ndcg10: f64,
    recall100: f64,
    mrr10: f64,
}

/// nDCG@10 of one query's ranking.
fn ndcg10(ranked: &[String], rel: &HashMap<String, u32>) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, d)| f64::from(*rel.get(d).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u32> = rel.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| f64::from(*g) / ((i + 2) as f64).log2())
        .sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

fn evaluate(
    runs: &HashMap<String, Vec<String>>,
    qrels: &HashMap<String, HashMap<String, u32>>,
) -> Scores {
    let n = qrels.len() as f64;
    let mut s = Scores::default();
    for (q, rel) in qrels {
        let ranked = runs.get(q).map(Vec::as_slice).unwrap_or(&[]);
        s.ndcg10 += ndcg10(ranked, rel) / n;
        let relevant: HashSet<&String> = rel
            .iter()
            .filter(|(_, g)| **g > 0)
            .map(|(d, _)| d)
            .collect();
        if !relevant.is_empty() {
            let found = ranked
                .iter()
                .take(100)
                .filter(|d| relevant.contains(d))
                .count();
            s.recall100 += found as f64 / rel.len() as f64 / n;
        }
        if let Some(i) = ranked.iter().take(10).position(|d| relevant.contains(d)) {
            s.mrr10 += 1.0 / (i + 1) as f64 / n;
        }
    }
    s
}

const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect()
}

/// Plain BM25 (Lucene's formula, k1 0.9, b 0.4), title + text as one field, no stemming.
fn bm25(docs: &[Doc], queries: &[(String, String)]) -> HashMap<String, Vec<String>> {
    let (k1, b) = (0.9f64, 0.4f64);
    let mut postings: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
    let mut lens = vec![];
    for (i, d) in docs.iter().enumerate() {
        let mut tf: HashMap<String, f64> = HashMap::new();
        let ws = words(&format!("{} {}", d.title, d.text));
        lens.push(ws.len() as f64);
        for w in ws {
            *tf.entry(w).or_default() += 1.0;
        }
        for (w, f) in tf {
            postings.entry(w).or_default().push((i, f));
        }
    }
    let n = docs.len() as f64;
    let avg = lens.iter().sum::<f64>() / n;
    let mut runs = HashMap::new();
    for (qid, text) in queries {
        let mut scores: HashMap<usize, f64> = HashMap::new();
        for w in words(text) {
            let Some(p) = postings.get(&w) else { continue };
            let df = p.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(i, f) in p {
                *scores.entry(i).or_default() +=
                    idf * f * (k1 + 1.0) / (f + k1 * (1.0 - b + b * lens[i] / avg));
            }
        }
        let mut ranked: Vec<(usize, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| docs[a.0].id.cmp(&docs[b.0].id))
        });
        runs.insert(
            qid.clone(),
            ranked
                .iter()
                .take(100)
                .map(|(i, _)| docs[*i].id.clone())
                .collect(),
        );
    }
    runs
}

/// The three rarest words of a query, in their order: a keyword query.
fn shorten(text: &str, df: &HashMap<String, usize>) -> String {
    let ws: Vec<String> = words(text);
    let mut ranked: Vec<(usize, usize)> = ws
        .iter()
        .enumerate()
        .filter(|(_, w)| df.get(*w).copied().unwrap_or(0) > 0)
        .map(|(i, w)| (df[w], i))
        .collect();
    ranked.sort_unstable();
    let mut keep: Vec<usize> = ranked.iter().take(3).map(|(_, i)| *i).collect();
    keep.sort_unstable();
    keep.iter()
        .map(|&i| ws[i].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line per query, worst loss against BM25 first: nDCG@10 of both, the query, the judged
/// documents and each ranking's top 5 (for reading where the ranking goes wrong).
fn write_dump(
    path: &Path,
    qs: &[(String, String)],
    qrels: &Qrels,
    runs: &HashMap<String, Vec<String>>,
    base: &HashMap<String, Vec<String>>,
) {
    let empty = vec![];
    let mut rows: Vec<(f64, String)> = qs
        .iter()
        .filter_map(|(q, text)| {
            let rel = qrels.get(q)?;
            let ours = runs.get(q).unwrap_or(&empty);
            let theirs = base.get(q).unwrap_or(&empty);
            let (a, b) = (ndcg10(ours, rel), ndcg10(theirs, rel));
            let top = |r: &[String]| r.iter().take(5).cloned().collect::<Vec<_>>().join(",");
            let judged: Vec<&String> = rel.keys().collect();
            Some((
                a - b,
                format!(
                    "{q}\t{a:.3}\t{b:.3}\t{text}\t{judged:?}\t{}\t{}",
                    top(ours),
                    top(theirs)
                ),
            ))
        })
        .collect();
    rows.sort_by(|x, y| x.0.total_cmp(&y.0));
    let text: Vec<String> = rows.into_iter().map(|(_, l)| l).collect();
    std::fs::write(path, text.join("\n") + "\n").expect("write the dump");
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut dir = None;
    let mut split = "test".to_string();
    let mut library: Option<PathBuf> = None;
    let mut style = "claims".to_string();
    let mut grids: Vec<(String, Vec<String>)> = vec![];
    let mut dump: Option<PathBuf> = None;
    let mut export: Option<PathBuf> = None;
    let mut model: Option<PathBuf> = None;
    let mut mode = search::Mode::Lexical;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--split" => split = it.next().expect("--split test|train").clone(),
            "--library" => library = Some(PathBuf::from(it.next().expect("--library PATH"))),
            "--style" => style = it.next().expect("--style claims|short").clone(),
            "--dump" => dump = Some(PathBuf::from(it.next().expect("--dump PATH"))),
            "--export" => export = Some(PathBuf::from(it.next().expect("--export DIR"))),
            "--model" => model = Some(PathBuf::from(it.next().expect("--model DIR"))),
            "--mode" => {
                mode = match it.next().map(String::as_str) {
                    Some("hybrid") => search::Mode::Hybrid,
                    Some("meaning") => search::Mode::Meaning,
                    Some("lexical") => search::Mode::Lexical,
                    _ => panic!("--mode hybrid|meaning|lexical"),
                }
            }
            "--grid" => {
                let g = it.next().expect("--grid KEY=V1,V2");
                let (k, vs) = g.split_once('=').expect("--grid KEY=V1,V2");
                grids.push((k.to_string(), vs.split(',').map(str::to_string).collect()));
            }
            other if !other.starts_with('-') => dir = Some(PathBuf::from(other)),
            other => panic!("unknown flag {other}"),
        }
    }
    let Some(dir) = dir else {
        eprintln!(
            "usage: cargo bench --bench relevance -- BEIR_DIR [--split test|train] [--library PATH] [--style claims|short] [--grid KEY=V1,V2]..."
        );
        std::process::exit(2);
    };
    let (docs, queries, qrels) = load(&dir, &split);
    let _tmp;
    let library = match library {
        Some(l) => l,
        None => {
            _tmp = tempfile::tempdir().unwrap();
            _tmp.path().join("library")
        }
    };
    if !library.join("tantivy").join("meta.json").exists() {
        build(&docs, &library);
    }
    let mut df: HashMap<String, usize> = HashMap::new();
    for d in &docs {
        for w in words(&format!("{} {}", d.title, d.text))
            .into_iter()
            .collect::<HashSet<_>>()
        {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut qs: Vec<(String, String)> = qrels
        .keys()
        .filter_map(|q| queries.get(q).map(|t| (q.clone(), t.clone())))
        .collect();
    qs.sort();
    if style == "short" {
        for q in &mut qs {
            q.1 = shorten(&q.1, &df);
        }
    }
    let base_runs = bm25(&docs, &qs);
    let base = evaluate(&base_runs, &qrels);
    println!(
        "{} {split} ({} queries, {} style), plain BM25: nDCG@10 {:.4}  Recall@100 {:.4}  MRR@10 {:.4}",
        dir.display(),
        qs.len(),
        style,
        base.ndcg10,
        base.recall100,
        base.mrr10
    );
    let lib = rl_search::library::Library::open_existing(&library.join("tantivy"))
        .expect("open the index")
        .expect("an index");
    // A library built before neighbours existed gets them as its next update would.
    let t = Instant::now();
    if rl_search::neighbours::refresh(&lib.index, &library.join("tantivy")).expect("neighbours") {
        eprintln!(
            "computed the neighbours in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let mut configs: Vec<Vec<(String, String)>> = vec![vec![]];
    for (k, vs) in &grids {
        configs = configs
            .into_iter()
            .flat_map(|c| {
                vs.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    let opts = SearchOptions {
        limit: 100,
        ..Default::default()
    };
    // The queries' vectors, once for every configuration.
    let vectors: HashMap<String, Vec<f32>> = match (&model, mode) {
        (Some(dir), search::Mode::Hybrid | search::Mode::Meaning) => {
            let m = rl_search::embed::Model::load(dir).expect("load the model");
            let t = Instant::now();
            let texts: Vec<&str> = qs.iter().map(|(_, t)| t.as_str()).collect();
            let vs = m.embed_queries(&texts).expect("embed the queries");
            eprintln!(
                "embedded {} queries in {:.1} s",
                texts.len(),
                t.elapsed().as_secs_f64()
            );
            qs.iter().map(|(q, _)| q.clone()).zip(vs).collect()
        }
        _ => HashMap::new(),
    };
    let snap = if vectors.is_empty() {
        lib.snapshot().expect("a searcher")
    } else {
        let s = lib.snapshot_with_vectors().expect("a searcher");
        assert!(s.vectors.is_some(), "the library has no passage vectors");
        s
    };
    if let Some(out) = &export {
        write_export(out, &snap, &qs, &vectors);
        return;
    }
    for config in configs {
        let mut r = Ranking::default();
        for (k, v) in &config {
            r.set(k, v).unwrap_or_else(|e| panic!("{e}"));
        }
        let t = Instant::now();
        let mut runs = HashMap::new();
        let mut rejected = 0;
        for (qid, text) in &qs {
            let opts = SearchOptions {
                mode,
                query_vector: vectors.get(qid).cloned().map(QueryVector::ready),
                ..opts.clone()
            };
            match search::search_with(&snap, text, &opts, &r) {
                Ok(res) => {
                    let ids = res
                        .hits
                        .iter()
                        .filter_map(|h| {
                            h.url
                                .rsplit('/')
                                .next()
                                .and_then(|f| f.strip_suffix(".html"))
                                .map(str::to_string)
                        })
                        .collect();
                    runs.insert(qid.clone(), ids);
                }
                Err(_) => rejected += 1,
            }
        }
        let per_query = t.elapsed().as_secs_f64() * 1000.0 / qs.len() as f64;
        let s = evaluate(&runs, &qrels);
        if let Some(path) = dump.take() {
            write_dump(&path, &qs, &qrels, &runs, &base_runs);
        }
        let name: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "nDCG@10 {:.4}  Recall@100 {:.4}  MRR@10 {:.4}  ratio {:.3}  rejected {rejected}  {per_query:.1} ms/query  {}",
            s.ndcg10,
            s.recall100,
            s.mrr10,
            s.ndcg10 / base.ndcg10,
            if name.is_empty() {
                "defaults".into()
            } else {
                name.join(" ")
            }
        );
    }
}

/// Everything a model of the fusion needs, for experiments outside Rust: per query its
/// vector, the lexical top 100 with scores and every document's best-passage cosine; per
/// document its SciFact id, its mean vector and its 8 nearest documents by words.
fn write_export(
    out: &Path,
    snap: &rl_search::library::Snapshot,
    qs: &[(String, String)],
    vectors: &HashMap<String, Vec<f32>>,
) {
    use std::io::Write;
    std::fs::create_dir_all(out).unwrap();
    let v = snap.vectors.as_ref().expect("vectors");
    let f = snap.index.fields;
    let searcher = &snap.searcher;
    let sci = |url: &str| {
        url.rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".html"))
            .unwrap_or("")
            .to_string()
    };
    // Documents, in the vectors' order.
    let mut id_to_sci: HashMap<String, String> = HashMap::new();
    let mut addr_of: HashMap<String, tantivy::DocAddress> = HashMap::new();
    for (so, seg) in searcher.segment_readers().iter().enumerate() {
        for d in seg.doc_ids_alive() {
            let a = tantivy::DocAddress::new(so as u32, d);
            let doc: tantivy::TantivyDocument = searcher.doc(a).unwrap();
            let id = rl_search::index::stored_str(&doc, f.id).to_string();
            id_to_sci.insert(id.clone(), sci(rl_search::index::stored_str(&doc, f.url)));
            addr_of.insert(id, a);
        }
    }
    let mut addr_to_sci: HashMap<tantivy::DocAddress, String> = HashMap::new();
    for (id, a) in &addr_of {
        addr_to_sci.insert(*a, id_to_sci[id].clone());
    }
    let mut docs = std::fs::File::create(out.join("docs.jsonl")).unwrap();
    let mut mat = std::fs::File::create(out.join("docvec.f32")).unwrap();
    for d in 0..v.documents() {
        let id = v.id(d);
        let near: Vec<(String, f32)> = snap
            .neighbours
            .as_ref()
            .map(|n| {
                n.of(addr_of[id], 8)
                    .into_iter()
                    .map(|(a, s)| (addr_to_sci[&a].clone(), s))
                    .collect()
            })
            .unwrap_or_default();
        writeln!(
            docs,
            "{}",
            serde_json::json!({"id": id_to_sci[id], "near": near})
        )
        .unwrap();
        for x in v.document_vector(id).unwrap() {
            mat.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    let mut qf = std::fs::File::create(out.join("queries.jsonl")).unwrap();
    let mut cos = std::fs::File::create(out.join("cos.f32")).unwrap();
    let mut qvec = std::fs::File::create(out.join("qvec.f32")).unwrap();
    let r = Ranking::default();
    for (qid, text) in qs {
        let opts = SearchOptions {
            limit: 100,
            ..Default::default()
        };
        let lexical: Vec<(String, f32)> = match search::search_with(snap, text, &opts, &r) {
            Ok(res) => res.hits.iter().map(|h| (sci(&h.url), h.score)).collect(),
            Err(_) => vec![],
        };
        let q = &vectors[qid];
        for x in q {
            qvec.write_all(&x.to_le_bytes()).unwrap();
        }
        let mut all = vec![0f32; v.documents()];
        for n in v.nearest(q, v.documents()) {
            all[n.doc] = n.score;
        }
        for x in all {
            cos.write_all(&x.to_le_bytes()).unwrap();
        }
        writeln!(qf, "{}", serde_json::json!({"id": qid, "lexical": lexical})).unwrap();
    }
}
