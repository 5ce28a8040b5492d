//! Search by meaning through the binary, with a tiny model the tests write themselves (random
//! weights, a vocabulary of the fixture's words): embedding at update, only what changed
//! embedded again, hybrid and meaning search with the query's operators, another model's
//! vectors never mixed in, the hint when there is no model, and `model pull` from a local
//! server that answers like the hub.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Env, Reply, Run, Server};

const PAGES: &[(&str, &str, &str)] = &[
    (
        "kv",
        "Caching keys",
        "the kv cache keeps keys and values of earlier tokens so decoding reuses them",
    ),
    (
        "quokka",
        "Island animals",
        "the quokka is a small marsupial living on islands and smiling at visitors",
    ),
    (
        "bread",
        "Baking",
        "sourdough bread rises slowly with flour water salt and a lively starter",
    ),
];

fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = PAGES
        .iter()
        .flat_map(|(_, t, b)| {
            format!("{t} {b}")
                .split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .collect();
    words.extend(["changed", "completely", "different", "text", "now"].map(String::from));
    words
}

fn tiny_model(dir: &Path) {
    let words = vocabulary();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    rl_search::embed::tiny::write(dir, &refs).unwrap();
}

/// The fixture site; `/bread` says something else once `version` is not 0.
fn site(version: Arc<AtomicUsize>) -> Server {
    Server::start(move |req| {
        let name = req.path.trim_start_matches('/');
        let Some((_, title, body)) = PAGES.iter().find(|(n, _, _)| *n == name) else {
            return Reply::status(404);
        };
        let body = if name == "bread" && version.load(Ordering::SeqCst) > 0 {
            "now completely different text changed".to_string()
        } else {
            body.to_string()
        };
        Reply::html(&format!(
            "<html><head><title>{title}</title></head><body><article><p>{body}.</p></article></body></html>"
        ))
    })
}

fn list(env: &Env, site: &Server) -> String {
    let mut md = "# Reading\n\n".to_string();
    for (n, t, _) in PAGES {
        md.push_str(&format!("- [{t}]({})\n", site.url(&format!("/{n}"))));
    }
    env.write("list.md", &md).display().to_string()
}

fn run_with(env: &Env, vars: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut cmd = env.command(env.dir.path(), args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    Run(cmd.output().unwrap())
}

#[test]
fn update_embeds_each_passage_once_and_only_what_changed() {
    let env = Env::new();
    let model = env.path("model");
    tiny_model(&model);
    let version = Arc::new(AtomicUsize::new(0));
    let site = site(version.clone());
    let list = list(&env, &site);
    let m = model.to_str().unwrap();
    let first = env.run(&["--model", m, "update", "--list", &list]);
    first.expect_code(0);
    assert!(
        first
            .stdout()
            .contains("meaning: 3 passages and 3 sentences of 3 documents, 3 embedded now"),
        "{}",
        first.stdout()
    );
    let again = env.run(&["--model", m, "update"]);
    assert!(
        again.stdout().contains("0 embedded now"),
        "{}",
        again.stdout()
    );
    // One page changes: only its passage is embedded.
    version.store(1, Ordering::SeqCst);
    let changed = env.run(&["--model", m, "update", "--force"]);
    assert!(
        changed.stdout().contains("1 changed"),
        "{}",
        changed.stdout()
    );
    assert!(
        changed.stdout().contains("1 embedded now"),
        "{}",
        changed.stdout()
    );
    // Re-indexing from the stored text needs no embedding.
    let reindex = env.run(&["--model", m, "update", "--reindex"]);
    assert!(
        reindex.stdout().contains("0 embedded now"),
        "{}",
        reindex.stdout()
    );
    // Searches read the scan file; without it (a library from an older version) they still
    // search by meaning, and the next update writes it again without embedding anything.
    let scan = env.library().join("vectors/scan.bin");
    assert!(scan.exists());
    let before = env.run(&[
        "--model", m, "search", "--mode", "meaning", "kv cache", "--json",
    ]);
    before.expect_code(0);
    std::fs::remove_file(&scan).unwrap();
    let without = env.run(&[
        "--model", m, "search", "--mode", "meaning", "kv cache", "--json",
    ]);
    without.expect_code(0);
    assert_eq!(without.stdout(), before.stdout());
    assert!(!scan.exists(), "a search never writes the scan file");
    let again = env.run(&["--model", m, "update"]);
    assert!(
        again.stdout().contains("0 embedded now"),
        "{}",
        again.stdout()
    );
    assert!(scan.exists());
    // A damaged one is the same as none.
    let whole = std::fs::read(&scan).unwrap();
    std::fs::write(&scan, &whole[..whole.len() - 1]).unwrap();
    let damaged = env.run(&[
        "--model", m, "search", "--mode", "meaning", "kv cache", "--json",
    ]);
    assert_eq!(damaged.stdout(), before.stdout());
    env.run(&["--model", m, "update"]).expect_code(0);
    assert_eq!(std::fs::read(&scan).unwrap(), whole, "written again");

    // A library embedded by the version before sentences (layout without them, a scan file
    // of the old format) is searched by its passages, and the next update adds its sentences
    // without embedding its passages again (here each page is one sentence: nothing at all).
    let layout = env.library().join("vectors/layout.bin");
    std::fs::write(
        &layout,
        layout_without_sentences(&std::fs::read(&layout).unwrap()),
    )
    .unwrap();
    std::fs::write(&scan, b"rlscan1\n").unwrap();
    let old = env.run(&[
        "--model", m, "search", "--mode", "meaning", "kv cache", "--json",
    ]);
    old.expect_code(0);
    assert_eq!(old.json_lines().len(), 3, "{}", old.stdout());
    let upgraded = env.run(&["--model", m, "update"]);
    assert!(
        upgraded
            .stdout()
            .contains("3 passages and 3 sentences of 3 documents, 0 embedded now"),
        "{}",
        upgraded.stdout()
    );
    assert_eq!(
        std::fs::read(&scan).unwrap(),
        whole,
        "the same scan file as before"
    );
}

/// `layout.bin` as the first format wrote it: no sentence list after each document's passages.
fn layout_without_sentences(v2: &[u8]) -> Vec<u8> {
    assert_eq!(&v2[..8], b"rllay02\n");
    let u32_at = |at: usize| u32::from_le_bytes(v2[at..at + 4].try_into().unwrap()) as usize;
    let mut out = b"rllay01\n".to_vec();
    out.extend_from_slice(&v2[8..12]);
    let mut at = 12;
    for _ in 0..u32_at(8) {
        let id = u16::from_le_bytes([v2[at], v2[at + 1]]) as usize;
        let passages = u32_at(at + 2 + id + 16);
        let end = at + 2 + id + 16 + 4 + 12 * passages;
        out.extend_from_slice(&v2[at..end]);
        at = end + 4 + 12 * u32_at(end);
    }
    assert_eq!(at, v2.len());
    out
}

#[test]
fn meaning_search_keeps_the_query_operators() {
    let env = Env::new();
    let model = env.path("model");
    tiny_model(&model);
    let site = site(Arc::new(AtomicUsize::new(0)));
    let list = list(&env, &site);
    let m = model.to_str().unwrap();
    env.run(&["--model", m, "update", "--list", &list])
        .expect_code(0);
    let ids = |r: &Run| -> Vec<String> {
        r.json_lines()
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_string())
            .collect()
    };
    // The tiny model's vectors mean nothing, but the same text gets the same vector: a page's
    // own passage, as it was embedded (title, then text), is nearest to itself.
    let q = "Island animals. the quokka is a small marsupial living on islands and smiling at visitors.";
    let meaning = env.run(&["--model", m, "search", "--mode", "meaning", "--json", q]);
    meaning.expect_code(0);
    let titles = ids(&meaning);
    assert_eq!(titles.len(), 3, "meaning ranks every document: {titles:?}");
    assert_eq!(titles[0], "Island animals", "{titles:?}");
    // Hybrid is the default with vectors and a model: a page that both words and meaning
    // find leads. (A word match alone no longer always does: the lexical share is 0.4, and
    // this model's meaning is noise that can outweigh it.)
    let hybrid = env.run(&["--model", m, "search", "--json", q]);
    assert_eq!(ids(&hybrid)[0], "Island animals", "{:?}", ids(&hybrid));
    let word = ids(&env.run(&["--model", m, "search", "--json", "quokka"]));
    assert_eq!(word.len(), 3, "meaning adds the other pages: {word:?}");
    assert!(word.contains(&"Island animals".to_string()), "{word:?}");
    // Operators filter the fused list: an excluded word, a kind that no page has.
    let excluded = env.run(&[
        "--model",
        m,
        "search",
        "--mode",
        "meaning",
        "--json",
        &format!("{q} -quokka"),
    ]);
    assert!(
        !ids(&excluded).contains(&"Island animals".to_string()),
        "{:?}",
        ids(&excluded)
    );
    let kind = env.run(&[
        "--model", m, "search", "--mode", "meaning", "--kind", "pdf", q,
    ]);
    kind.expect_code(1);
    // Lexical on request: only the pages that hold the words.
    let lexical = env.run(&[
        "--model", m, "search", "--mode", "lexical", "--json", "quokka",
    ]);
    assert_eq!(ids(&lexical), ["Island animals"]);
}

#[test]
fn without_a_model_search_is_lexical_and_says_how_once() {
    let env = Env::new();
    let site = site(Arc::new(AtomicUsize::new(0)));
    let list = list(&env, &site);
    env.run(&["update", "--list", &list]).expect_code(0);
    let first = env.run(&["search", "quokka"]);
    first.expect_code(0);
    assert!(
        first.stderr().contains("rl-search model pull"),
        "{}",
        first.stderr()
    );
    let second = env.run(&["search", "quokka"]);
    assert!(
        !second.stderr().contains("model pull"),
        "said once: {}",
        second.stderr()
    );
    let asked = env.run(&["search", "--mode", "hybrid", "quokka"]);
    asked.expect_code(2);
    assert!(
        asked.stderr().contains("--mode hybrid is not possible"),
        "{}",
        asked.stderr()
    );
    assert_eq!(
        asked.stderr().trim().lines().count(),
        1,
        "{}",
        asked.stderr()
    );
}

#[test]
fn another_models_vectors_are_never_mixed_in() {
    let env = Env::new();
    let (a, b) = (env.path("model-a"), env.path("model-b"));
    tiny_model(&a);
    tiny_model(&b);
    let site = site(Arc::new(AtomicUsize::new(0)));
    let list = list(&env, &site);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    env.run(&["--model", a, "update", "--list", &list])
        .expect_code(0);
    let other = env.run(&["--model", b, "update"]);
    other.expect_code(0);
    assert!(
        other.stderr().contains("update --embed"),
        "{}",
        other.stderr()
    );
    // A model folder that is not one: the search still answers, by its words, and says why.
    let broken = env.run(&[
        "--model",
        &env.path("nowhere").display().to_string(),
        "search",
        "quokka",
    ]);
    broken.expect_code(0);
    assert!(
        broken.stderr().contains("config.json is missing"),
        "{}",
        broken.stderr()
    );
    // Another model than the vectors': by words, with a note (once), unless meaning is asked.
    let words = env.run(&["--model", b, "search", "quokka"]);
    words.expect_code(0);
    assert!(
        words.stdout().contains("Island animals"),
        "{}",
        words.stdout()
    );
    assert!(
        words.stderr().contains("update --embed"),
        "{}",
        words.stderr()
    );
    let refused = env.run(&["--model", b, "search", "--mode", "meaning", "quokka"]);
    refused.expect_code(2);
    assert!(
        refused.stderr().contains("update --embed"),
        "{}",
        refused.stderr()
    );
    let replaced = env.run(&["--model", b, "update", "--embed"]);
    assert!(
        replaced.stdout().contains("3 embedded now"),
        "{}",
        replaced.stdout()
    );
    env.run(&["--model", b, "search", "--mode", "meaning", "quokka"])
        .expect_code(0);
}

/// A local server that answers like the hub: the file list with sha256s, and the files,
/// ranges honoured. Counts the range requests.
fn hub(files: Vec<(String, Vec<u8>)>, wrong_sha: bool, ranges: Arc<AtomicUsize>) -> Server {
    use sha2::Digest;
    let tree: Vec<serde_json::Value> = files
        .iter()
        .map(|(p, bytes)| {
            let sha = if wrong_sha {
                "0".repeat(64)
            } else {
                format!("{:x}", sha2::Sha256::digest(bytes))
            };
            if p.ends_with(".safetensors") {
                serde_json::json!({"type": "file", "path": p, "size": bytes.len(), "lfs": {"oid": sha, "size": bytes.len()}})
            } else {
                serde_json::json!({"type": "file", "path": p, "size": bytes.len()})
            }
        })
        .collect();
    let tree = serde_json::to_vec(&tree).unwrap();
    Server::start(move |req| {
        if req
            .path
            .starts_with("/api/models/sentence-transformers/all-MiniLM-L6-v2/tree/main")
        {
            return Reply::new(200, "application/json", tree.clone());
        }
        let Some(file) = req
            .path
            .strip_prefix("/sentence-transformers/all-MiniLM-L6-v2/resolve/main/")
        else {
            return Reply::status(404);
        };
        let Some((_, bytes)) = files.iter().find(|(p, _)| p == file) else {
            return Reply::status(404);
        };
        if let Some(from) = req
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        {
            ranges.fetch_add(1, Ordering::SeqCst);
            return Reply::new(206, "application/octet-stream", bytes[from..].to_vec())
                .with_header(
                    "content-range",
                    &format!("bytes {from}-{}/{}", bytes.len() - 1, bytes.len()),
                );
        }
        Reply::new(200, "application/octet-stream", bytes.clone())
    })
}

#[test]
fn model_pull_downloads_resumes_checks_and_is_used_by_default() {
    let env = Env::new();
    let made = env.path("made");
    tiny_model(&made);
    let files: Vec<(String, Vec<u8>)> = [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read(made.join(f)).unwrap()))
    .collect();
    let cache = env.path("cache");
    let dest = cache.join("rl-search/models/all-MiniLM-L6-v2");
    // An earlier pull stopped halfway through the weights.
    let weights = &files[2].1;
    std::fs::create_dir_all(dest.join(".partial")).unwrap();
    std::fs::write(
        dest.join(".partial/model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();

    // A hub whose checksum does not match: nothing is put in place.
    let bad = hub(files.clone(), true, Arc::new(AtomicUsize::new(0)));
    let vars = |hub: &Server| {
        vec![
            ("XDG_CACHE_HOME", cache.clone()),
            ("RL_SEARCH_HUB", std::path::PathBuf::from(hub.url(""))),
        ]
    };
    let v = vars(&bad);
    let refs: Vec<(&str, &Path)> = v.iter().map(|(k, p)| (*k, p.as_path())).collect();
    let failed = run_with(&env, &refs, &["model", "pull"]);
    failed.expect_code(2);
    assert!(failed.stderr().contains("sha256"), "{}", failed.stderr());
    assert!(!dest.join("model.safetensors").exists());

    std::fs::write(
        dest.join(".partial/model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    let ranges = Arc::new(AtomicUsize::new(0));
    let good = hub(files.clone(), false, ranges.clone());
    let v = vars(&good);
    let refs: Vec<(&str, &Path)> = v.iter().map(|(k, p)| (*k, p.as_path())).collect();
    let pulled = run_with(&env, &refs, &["model", "pull"]);
    pulled.expect_code(0);
    assert_eq!(
        ranges.load(Ordering::SeqCst),
        1,
        "the partial file was continued"
    );
    assert_eq!(
        &std::fs::read(dest.join("model.safetensors")).unwrap(),
        weights
    );
    let listed = run_with(&env, &refs, &["model", "list"]);
    assert!(
        listed.stdout().contains("all-MiniLM-L6-v2"),
        "{}",
        listed.stdout()
    );

    // The pulled model is the default: update embeds with it, search uses it.
    let site = site(Arc::new(AtomicUsize::new(0)));
    let list = list(&env, &site);
    let up = run_with(&env, &refs, &["update", "--list", &list]);
    assert!(up.stdout().contains("3 embedded now"), "{}", up.stdout());
    run_with(&env, &refs, &["search", "--mode", "meaning", "quokka"]).expect_code(0);
}
