//! Search and reading on a small corpus where the right answers are known.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::{Env, Reply, Server};

/// (path, title, author, section, paragraphs)
const CORPUS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "/vectors",
        "What are embeddings",
        "Vicki Boykis",
        "Background",
        "Embeddings turn words into vectors of numbers so that similar words sit close together. Word2vec learns them by predicting neighbouring words. Cosine similarity compares two embedding vectors.",
    ),
    (
        "/scaling",
        "Scaling laws for neural language models",
        "Jared Kaplan",
        "Papers",
        "We study empirical scaling laws for language model loss. The loss follows a power law in model size, dataset size and compute. Larger models are more sample efficient.",
    ),
    (
        "/chinchilla",
        "Training compute-optimal language models",
        "Jordan Hoffmann",
        "Papers",
        "For a fixed compute budget, model size and the number of training tokens should scale together. Chinchilla, a smaller model trained on more tokens, beats much larger models with the same compute.",
    ),
    (
        "/k8s",
        "Scaling Kubernetes to 7,500 nodes",
        "Eric Sigler",
        "Deployment",
        "We run large Kubernetes clusters for research. Networking, the API servers and etcd needed care as the node count grew. Monitoring with Prometheus hit limits too.",
    ),
    (
        "/prompting",
        "Prompt engineering",
        "Lilian Weng",
        "Algos",
        "Prompt engineering is the craft of steering a language model with instructions and examples rather than by updating weights. Few-shot prompts and chain-of-thought prompts are common techniques.",
    ),
    (
        "/gzip",
        "The case for gzip classifiers",
        "Sebastian Ruder",
        "Algos",
        "A text classifier built from gzip compression and nearest neighbours rivals neural networks on some benchmarks. Compression distance measures how much two texts share.",
    ),
    (
        "/chatbots",
        "Why chatbots are not the future",
        "Amelia Wattenberger",
        "UX",
        "A chat box hides what a tool can do. Good interfaces offer affordances and direct manipulation instead of making people guess the right words to type.",
    ),
];

fn corpus_env() -> (Env, Server) {
    let server = Server::start(|req| match CORPUS.iter().find(|c| c.0 == req.path) {
        Some((_, title, author, _, body)) => Reply::html(&format!(
            "<html><head><title>{title}</title><meta name=\"author\" content=\"{author}\"></head><body><nav><a href=\"/\">Home</a></nav><article><p>{body}</p><p>In short: {body}</p></article><footer>Footer text here</footer></body></html>"
        )),
        None => Reply::status(404),
    });
    let env = Env::new();
    let mut md = String::from("# Corpus\n");
    let mut section = "";
    for (path, title, _, sec, _) in CORPUS {
        if *sec != section {
            md += &format!("\n## {sec}\n\n");
            section = sec;
        }
        md += &format!("- [{title}]({})\n", server.url(path));
    }
    let list = env.write("corpus.md", &md);
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    (env, server)
}

fn top(env: &Env, args: &[&str]) -> Vec<String> {
    let mut a = vec!["search", "--json"];
    a.extend_from_slice(args);
    env.run(&a)
        .json_lines()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_right_document_comes_first() {
    let (env, _s) = corpus_env();
    // A paper's topic, a blog's subject, an author's name.
    assert_eq!(
        top(&env, &["scaling", "laws"])[0],
        "Scaling laws for neural language models"
    );
    assert_eq!(top(&env, &["word", "vectors"])[0], "What are embeddings");
    assert_eq!(
        top(&env, &["Wattenberger"])[0],
        "Why chatbots are not the future"
    );
    assert_eq!(
        top(&env, &["compression", "classifier"])[0],
        "The case for gzip classifiers"
    );
    // Related by context beats sharing one word: the compute-optimal paper outranks Kubernetes.
    let hits = top(&env, &["scaling", "laws"]);
    let pos = |t: &str| hits.iter().position(|h| h == t).unwrap_or(usize::MAX);
    assert!(
        pos("Training compute-optimal language models") < pos("Scaling Kubernetes to 7,500 nodes"),
        "{hits:?}"
    );
}

#[test]
fn query_language_and_filters() {
    let (env, _s) = corpus_env();
    assert_eq!(
        top(&env, &["\"chain-of-thought prompts\""]),
        ["Prompt engineering"]
    );
    assert!(!top(&env, &["language", "-prompt"]).contains(&"Prompt engineering".to_string()));
    let either = top(&env, &["kubernetes", "OR", "gzip"]);
    assert_eq!(either.len(), 2, "{either:?}");
    assert_eq!(
        top(&env, &["section:ux"]),
        ["Why chatbots are not the future"]
    );
    assert_eq!(top(&env, &["title:embeddings"]), ["What are embeddings"]);
    assert_eq!(
        top(&env, &["kind:page", "chinchilla"]),
        ["Training compute-optimal language models"]
    );
    assert_eq!(top(&env, &["embed*"])[0], "What are embeddings");
    assert!(top(&env, &["kubernetis"]).is_empty());
    assert_eq!(
        top(&env, &["kubernetis~"]),
        ["Scaling Kubernetes to 7,500 nodes"]
    );
    assert_eq!(
        top(&env, &["model", "--section", "papers", "--limit", "5"]).len(),
        2
    );
    assert_eq!(top(&env, &["model", "--kind", "pdf"]).len(), 0);
    assert!(top(&env, &["model", "--host", "127.0.0.1"]).len() >= 3);
    // Hyphens, apostrophes and stray brackets are words, not operators: any word may match.
    assert_eq!(
        top(&env, &["chain-of-thought", "(prompting"])[0],
        "Prompt engineering"
    );
    assert_eq!(
        top(&env, &["Kaplan's", "scaling-law", "paper)"])[0],
        "Scaling laws for neural language models"
    );
    let note = env.run(&["search", "\"gzip classifiers"]);
    note.expect_code(0);
    assert!(
        note.stderr().contains("unmatched quote"),
        "{}",
        note.stderr()
    );
    // Punctuation is never a syntax error; a field that does not exist is.
    let forgiven = env.run(&["search", "--json", "title:(unclosed"]);
    forgiven.expect_code(1);
    let bad = env.run(&["search", "nosuchfield:x"]);
    bad.expect_code(2);
    assert_eq!(bad.stderr().trim().lines().count(), 1);
    assert!(bad.stderr().contains("nosuchfield"), "{}", bad.stderr());
}

#[test]
fn snippets_mark_matches_without_colour_and_colour_with_it() {
    let (env, _s) = corpus_env();
    let plain = env.run(&["search", "cosine", "--color", "never"]).stdout();
    assert!(plain.contains("[Cosine]"), "{plain}");
    assert!(!plain.contains('\u{1b}'));
    let coloured = env.run(&["search", "cosine", "--color", "always"]).stdout();
    assert!(
        coloured.contains("\u{1b}[1;33mCosine\u{1b}[0m"),
        "{coloured:?}"
    );
    // NO_COLOR wins over auto (the harness sets it; stdout is a pipe anyway).
    assert!(!env.run(&["search", "cosine"]).stdout().contains('\u{1b}'));
    assert!(!plain.contains("Footer text") && !plain.contains("Home"));
}

#[test]
fn ranks_from_the_last_search_work_in_read_open_and_similar() {
    let (env, _s) = corpus_env();
    let hits = env.run(&["search", "compute", "--json"]).json_lines();
    let second = hits[1]["id"].as_str().unwrap().to_string();
    let read = env.run(&["read", "2"]);
    read.expect_code(0);
    assert!(
        read.stdout().contains(&format!("id {second}")),
        "{}",
        read.stdout()
    );
    assert!(
        read.stdout().contains("[compute]"),
        "the last query is highlighted"
    );
    let chinchilla = hits
        .iter()
        .find(|h| h["title"] == "Training compute-optimal language models")
        .expect("the compute-optimal paper matches 'compute'")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // By id: still highlighted, since the last search showed it; --query replaces the words.
    assert!(
        env.run(&["read", &chinchilla])
            .stdout()
            .contains("[compute]")
    );
    let read = env
        .run(&["read", &chinchilla, "--query", "tokens"])
        .stdout();
    assert!(
        read.contains("[tokens]") && !read.contains("[compute]"),
        "{read}"
    );
    let open = env
        .command(env.dir.path(), &["open", "1"])
        .env("BROWSER", "echo")
        .output()
        .unwrap();
    assert!(
        open.status.success(),
        "{}",
        String::from_utf8_lossy(&open.stderr)
    );
    env.run(&["read", "99"]).expect_code(2);

    let scaling_id = env.run(&["search", "title:laws", "--json"]).json_lines()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sim = env.run(&["similar", &scaling_id, "--json"]);
    sim.expect_code(0);
    let titles: Vec<String> = sim
        .json_lines()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !titles.contains(&"Scaling laws for neural language models".to_string()),
        "itself excluded"
    );
    assert_eq!(
        titles[0], "Training compute-optimal language models",
        "{titles:?}"
    );
}

#[test]
fn export_completions_and_man_page() {
    let (env, _s) = corpus_env();
    let nd = env.run(&["export"]);
    nd.expect_code(0);
    let docs = nd.json_lines();
    assert_eq!(docs.len(), CORPUS.len());
    for key in ["id", "doc_id", "url", "title", "section", "kind", "text"] {
        assert!(docs[0].get(key).is_some(), "{key}");
    }
    let bulk = env
        .run(&[
            "export",
            "--format",
            "es-bulk",
            "--index-name",
            "papers",
            "--chunk-words",
            "20",
        ])
        .json_lines();
    assert!(bulk.len() > 2 * CORPUS.len(), "long documents are chunked");
    assert_eq!(bulk[0]["index"]["_index"], "papers");
    assert_eq!(bulk[0]["index"]["_id"], bulk[1]["id"]);
    assert!(
        bulk.iter().skip(1).step_by(2).all(|d| d["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count()
            <= 20)
    );

    let bash = env.run(&["completions", "bash"]);
    bash.expect_code(0);
    assert!(bash.stdout().contains("rl-search"));
    let man = env.run(&["man"]);
    man.expect_code(0);
    assert!(man.stdout().contains(".TH rl-search"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let (env, _s) = corpus_env();
    let mut child = env
        .command(env.dir.path(), &["export"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        status.code() == Some(0) || status.code().is_none(),
        "{status:?} {err}"
    );
}

/// The whole hit list as a person sees it (issue 14: compare outputs whole, with a diff).
#[test]
fn the_hit_list_reads_as_expected() {
    let (env, server) = corpus_env();
    let json = env.run(&["search", "--json", "gzip OR kubernetes", "-n", "2"]);
    let mut out = env
        .run(&["search", "gzip OR kubernetes", "-n", "2"])
        .stdout()
        .replace(&server.url(""), "http://SERVER");
    for hit in json.json_lines() {
        out = out.replace(hit["id"].as_str().unwrap(), "ID");
    }
    common::assert_same_lines(
        "\
1. The case for gzip classifiers
   page · 127.0.0.1 · Algos  id ID
   http://SERVER/gzip
   A text classifier built from [gzip] compression and nearest neighbours rivals neural networks on some benchmarks. Compression distance measures how much two texts share. In short: A text classifier built from [gzip]

2. Scaling Kubernetes to 7,500 nodes
   page · 127.0.0.1 · Deployment  id ID
   http://SERVER/k8s
   We run large [Kubernetes] clusters for research. Networking, the API servers and etcd needed care as the node count grew. Monitoring with Prometheus hit limits too. In short: We run large [Kubernetes] clusters for research
",
        &out,
    );
}

/// The status table and the read header as a person sees them, compared whole (issue 14).
#[test]
fn the_status_table_and_the_read_header_read_as_expected() {
    let (env, server) = corpus_env();
    let hits = env.run(&["search", "--json", "gzip"]).json_lines();
    let id = hits[0]["id"].as_str().unwrap().to_string();
    let normal = |s: String| {
        s.replace(&server.url(""), "http://SERVER")
            .replace(&id, "ID")
    };
    let read = normal(env.run(&["read", &id]).stdout());
    // The fetch time is the one thing that differs from run to run.
    let header: Vec<String> = read
        .lines()
        .take(3)
        .map(|l| match l.find(" · fetched ") {
            Some(i) => format!("{} · fetched DATE", &l[..i]),
            None => l.to_string(),
        })
        .collect();
    common::assert_same_lines(
        "\
The case for gzip classifiers
http://SERVER/gzip
id ID · page · section: Algos · by Sebastian Ruder · fetched DATE",
        &header.join("\n"),
    );
    let status = normal(env.run(&["status"]).stdout());
    let gzip: Vec<&str> = status
        .lines()
        .skip_while(|l| !l.starts_with("ID "))
        .take(2)
        .collect();
    common::assert_same_lines(
        "\
ID ok      page   The case for gzip classifiers
                  http://SERVER/gzip",
        &gzip.join("\n"),
    );
}

/// Pages about the same drug under two names, and an unrelated page with one query word.
const NEIGHBOURS: &[(&str, &str, &str)] = &[
    (
        "/cox",
        "Pain relief",
        "COX-2 inhibitors relieve arthritis pain; COX-2 inhibitors reduce inflammation in joints and spare the stomach lining, unlike older painkillers.",
    ),
    (
        "/celecoxib",
        "Celecoxib",
        "Celecoxib is a COX-2 inhibitor that relieves arthritis pain and inflammation in joints, sparing the stomach lining.",
    ),
    (
        "/coxibs",
        "Coxibs",
        "Celecoxib and other COX-2 inhibitors reduce inflammation and joint pain while the stomach lining is spared.",
    ),
    ("/garden", "Gardening", "Arthritis makes gardening hard."),
];

#[test]
fn a_page_borrows_the_words_of_its_nearest_pages_and_update_repairs_them() {
    let server = Server::start(|req| match NEIGHBOURS.iter().find(|c| c.0 == req.path) {
        Some((_, title, body)) => Reply::html(&format!(
            "<html><head><title>{title}</title></head><body><article><p>{body}</p></article></body></html>"
        )),
        None => Reply::status(404),
    });
    let env = Env::new();
    let md: String = NEIGHBOURS
        .iter()
        .map(|(path, title, _)| format!("- [{title}]({})\n", server.url(path)))
        .collect();
    let list = env.write("drugs.md", &md);
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let order = || top(&env, &["celecoxib", "arthritis"]);
    let pos = |hits: &[String], t: &str| hits.iter().position(|h| h == t).unwrap();
    let hits = order();
    assert!(
        pos(&hits, "Pain relief") < pos(&hits, "Gardening"),
        "the COX-2 page never says celecoxib, its neighbours do: {hits:?}"
    );
    // Without the neighbours (lost, or an update killed before writing them) search still
    // works, on each page's own words; the next update, even with nothing to fetch, puts
    // them back.
    let file = env.library().join("tantivy").join("rl-neighbours.bin");
    std::fs::remove_file(&file).unwrap();
    let hits = order();
    assert!(
        pos(&hits, "Gardening") < pos(&hits, "Pain relief"),
        "{hits:?}"
    );
    env.run(&["update"]).expect_code(0);
    assert!(file.exists());
    let hits = order();
    assert!(
        pos(&hits, "Pain relief") < pos(&hits, "Gardening"),
        "{hits:?}"
    );
}
