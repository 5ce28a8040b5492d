//! Versions over time: a refresh that finds new content keeps the old one; `history`, `read
//! --version/--at`, `diff`, `--keep-versions`, `--prune`; a page that fails keeps its last
//! version; a kill mid-update never loses a version.

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Env, Reply, Server};

const KITES: &str = "Kites fly high above the hills in the spring wind, tethered by a single line.";
const STRINGS: &str =
    "A good kite line is light and strong, and it is wound on a reel after each flight.";
const ZEPPELIN: &str =
    "A zeppelin once passed over the kite festival and everybody stopped to watch it.";

fn article(paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<html><head><title>On Kites</title></head><body><article>{body}</article></body></html>"
    )
}

/// `/page` (two contents by `v`), `/flip` (A or B by parity), `/n` (new text each time),
/// `/gone` (200 at first, then 404).
fn site(v: Arc<AtomicUsize>) -> Server {
    Server::start(move |req| {
        let n = v.load(Ordering::SeqCst);
        match req.path.as_str() {
            "/page" if n == 0 => Reply::html(&article(&[KITES, STRINGS])),
            "/page" => Reply::html(&article(&[KITES, ZEPPELIN, STRINGS])),
            "/flip" => Reply::html(&article(&[
                KITES,
                if n.is_multiple_of(2) {
                    "The flip page says apples, in a sentence long enough to keep."
                } else {
                    "The flip page says bananas, in a sentence long enough to keep."
                },
            ])),
            "/n" => Reply::html(&article(&[
                KITES,
                &format!(
                    "This is edition number {n} of the page, and it differs from every other edition."
                ),
            ])),
            "/gone" if n == 0 => Reply::html(&article(&[
                KITES,
                "The gone page talks about quokkas while it still exists.",
            ])),
            "/gone" => Reply::status(404),
            _ => Reply::status(404),
        }
    })
}

fn list(env: &Env, server: &Server, paths: &[&str]) -> String {
    let body: String = paths
        .iter()
        .map(|p| format!("- [{p}]({})\n", server.url(p)))
        .collect();
    env.write("list.md", &body).to_str().unwrap().to_string()
}

fn update(env: &Env, list: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["update", "--list", list];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    assert!(run.code() == 0 || run.code() == 1, "{}", run.stderr());
    run
}

fn raw_files(env: &Env) -> usize {
    std::fs::read_dir(env.library().join("raw"))
        .unwrap()
        .count()
}

#[test]
fn a_changed_page_keeps_its_old_version() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let env = Env::new();
    let l = list(&env, &server, &["/page"]);
    let url = server.url("/page");
    update(&env, &l, &[]);
    let one = env.run(&["history", &url, "--json"]).json_lines();
    assert_eq!(one.len(), 1);
    // Unchanged content adds nothing.
    std::thread::sleep(Duration::from_millis(1100));
    update(&env, &l, &["--force"]);
    assert_eq!(env.run(&["history", &url, "--json"]).json_lines().len(), 1);

    std::thread::sleep(Duration::from_millis(1100));
    v.store(1, Ordering::SeqCst);
    let run = update(&env, &l, &[]);
    assert!(run.stdout().contains("1 changed"), "{}", run.stdout());

    let h = env.run(&["history", &url, "--json"]).json_lines();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["version"], 1);
    assert_eq!(h[0]["current"], false);
    assert_eq!(h[1]["version"], 2);
    assert_eq!(h[1]["current"], true);
    assert_eq!(h[1]["added_words"], ZEPPELIN.split_whitespace().count());
    assert_eq!(h[1]["removed_words"], 0);
    for key in ["fetched_at", "http_status", "bytes", "words"] {
        assert!(!h[0][key].is_null(), "{key}");
    }
    let human = env.run(&["history", &url]).stdout();
    assert!(
        human.lines().nth(2).unwrap().starts_with("*   2"),
        "{human}"
    );

    // The old text, offline, saying which version it is.
    let old = env.run(&["read", &url, "--version", "1", "--no-pager"]);
    old.expect_code(0);
    assert!(old.stdout().contains("version 1 of 2"), "{}", old.stdout());
    assert!(old.stdout().contains(STRINGS));
    assert!(!old.stdout().contains("zeppelin"));
    let first_fetch = h[0]["fetched_at"].as_str().unwrap().to_string();
    let at = env.run(&["read", &url, "--at", &first_fetch, "--no-pager"]);
    assert!(at.stdout().contains("version 1 of 2"), "{}", at.stdout());
    let now = env.run(&["read", &url, "--at", "2999-01-01", "--no-pager"]);
    assert!(now.stdout().contains("zeppelin"));
    let before = env.run(&["read", &url, "--at", "2000-01-01"]);
    assert_ne!(before.code(), 0);
    assert!(
        before.stderr().contains("no stored version at 2000-01-01"),
        "{}",
        before.stderr()
    );
    let missing = env.run(&["read", &url, "--version", "7"]);
    assert!(
        missing.stderr().contains("has no version 7"),
        "{}",
        missing.stderr()
    );

    // What changed, as diff -u shows it; exit 1 as diff's.
    let diff = env.run(&["diff", &url]);
    assert_eq!(diff.code(), 1, "{}", diff.stderr());
    let out = diff.stdout();
    assert!(out.starts_with("--- "), "{out}");
    assert!(out.contains(&format!("+{ZEPPELIN}")), "{out}");
    assert!(
        !out.lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---")),
        "{out}"
    );
    let same = env.run(&["diff", &url, "--from", "2", "--to", "2"]);
    assert_eq!(same.code(), 0);
    assert!(same.stdout().is_empty());

    // Search finds the new word in the current version; --all-versions adds the earlier
    // version of a page whose old text matches, marked, right after its current version.
    let hits = env.run(&["search", "--json", "zeppelin"]).json_lines();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].get("version").is_none());
    let all = env
        .run(&["search", "--json", "--all-versions", "reel"])
        .json_lines();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[0].get("version").is_none());
    assert_eq!(all[1]["version"], 1);
    assert_eq!(all[1]["id"], all[0]["id"]);
    let human = env.run(&["search", "--all-versions", "reel"]).stdout();
    assert!(
        human.contains("earlier version 1: rl-search read"),
        "{human}"
    );
    assert_eq!(
        env.run(&["search", "--json", "--all-versions", "zeppelin"])
            .json_lines()
            .len(),
        1
    );

    // Export with every version: stable ids per version.
    let export = env.run(&["export", "--all-versions"]).json_lines();
    let ids: Vec<(String, u64, bool)> = export
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["version"].as_u64().unwrap(),
                d["current"].as_bool().unwrap(),
            )
        })
        .collect();
    let doc = all[0]["id"].as_str().unwrap();
    assert_eq!(
        ids,
        vec![
            (format!("{doc}-v1-0"), 1, false),
            (format!("{doc}-0"), 2, true)
        ]
    );
    assert!(export[0]["text"].as_str().unwrap().contains(STRINGS));
    assert!(!export[0]["text"].as_str().unwrap().contains("zeppelin"));
    let plain = env.run(&["export"]).json_lines();
    assert_eq!(plain.len(), 1);
    assert!(plain[0].get("version").is_none());
}

#[test]
fn a_page_that_flips_is_a_version_per_change_and_each_content_is_stored_once() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let env = Env::new();
    let l = list(&env, &server, &["/flip"]);
    let url = server.url("/flip");
    for n in 0..4 {
        v.store(n, Ordering::SeqCst);
        update(&env, &l, &[]);
    }
    let h = env.run(&["history", &url, "--json"]).json_lines();
    assert_eq!(h.len(), 4, "{h:?}");
    assert_eq!(raw_files(&env), 2, "A and B, each stored once");
    for (n, word) in [(1, "apples"), (2, "bananas"), (3, "apples"), (4, "bananas")] {
        let r = env.run(&["read", &url, "--version", &n.to_string(), "--no-pager"]);
        assert!(r.stdout().contains(word), "version {n}: {}", r.stdout());
    }
}

#[test]
fn keep_versions_bounds_the_history_and_frees_the_files() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let env = Env::new();
    let l = list(&env, &server, &["/n"]);
    let url = server.url("/n");
    for n in 0..4 {
        v.store(n, Ordering::SeqCst);
        update(&env, &l, &["--keep-versions", "2"]);
    }
    let h = env.run(&["history", &url, "--json"]).json_lines();
    let numbers: Vec<u64> = h.iter().map(|x| x["version"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![3, 4]);
    assert_eq!(raw_files(&env), 2);
    let old = env.run(&["read", &url, "--version", "3", "--no-pager"]);
    assert!(
        old.stdout().contains("edition number 2"),
        "{}",
        old.stdout()
    );
    let status = env.run(&["status"]).stdout();
    assert!(status.contains("1 earlier versions kept"), "{status}");
    // Without the bound, versions accumulate again from here.
    v.store(9, Ordering::SeqCst);
    update(&env, &l, &[]);
    assert_eq!(env.run(&["history", &url, "--json"]).json_lines().len(), 3);
}

#[test]
fn a_page_that_fails_keeps_its_last_version_and_says_since_when() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let env = Env::new();
    let l = list(&env, &server, &["/gone"]);
    let url = server.url("/gone");
    update(&env, &l, &[]);
    v.store(1, Ordering::SeqCst);
    update(&env, &l, &[]);
    let status = env.run(&["status"]).stdout();
    assert!(status.contains("failing since"), "{status}");
    let history = env.run(&["history", &url]).stdout();
    assert!(history.contains("failing since"), "{history}");
    let json: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"]).stdout()).unwrap();
    assert!(json["documents"][0]["failing_since"].is_string());
    assert_eq!(
        env.run(&["search", "--json", "quokkas"]).json_lines().len(),
        1
    );
}

#[test]
fn prune_removes_documents_no_longer_listed() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let env = Env::new();
    let both = list(&env, &server, &["/page", "/flip"]);
    update(&env, &both, &[]);
    v.store(1, Ordering::SeqCst);
    update(&env, &both, &[]);
    let one = list(&env, &server, &["/page"]);
    update(&env, &one, &[]);
    let docs = || {
        std::fs::read_dir(env.library().join("docs"))
            .unwrap()
            .count()
    };
    assert_eq!(
        docs(),
        2,
        "versions of an unlisted document stay until --prune"
    );
    let run = update(&env, &one, &["--prune"]);
    assert!(
        run.stdout()
            .contains("pruned 1 documents no longer listed (2 versions)"),
        "{}",
        run.stdout()
    );
    assert_eq!(docs(), 1);
    let raw = raw_files(&env);
    assert_eq!(raw, 2, "the listed page's two versions remain");
}

/// A slow site of 20 pages whose content changes with `v`.
fn slow_site(v: Arc<AtomicUsize>) -> Server {
    Server::start(move |req| {
        let n = v.load(Ordering::SeqCst);
        let reply = Reply::html(&article(&[
            KITES,
            &format!(
                "Page {} in edition {n}, with enough words to be a paragraph of its own.",
                req.path
            ),
        ]));
        if n == 0 {
            reply
        } else {
            reply.delayed(Duration::from_millis(150))
        }
    })
}

#[test]
fn a_kill_mid_update_never_loses_a_version() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = slow_site(v.clone());
    let env = Env::new();
    let paths: Vec<String> = (0..20).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let l = list(&env, &server, &refs);
    update(&env, &l, &[]);
    v.store(1, Ordering::SeqCst);
    let before = server.requests().len();
    let mut child = env
        .command(env.dir.path(), &["update", "--list", &l, "--per-host", "2"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.requests().len() < before + 6 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the update already ended"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // Every record, updated or not, reads in every version it lists.
    let check = |expect_all_two: bool| {
        let mut two = 0;
        for p in &paths {
            let url = server.url(p);
            let h = env.run(&["history", &url, "--json"]).json_lines();
            for version in &h {
                let n = version["version"].to_string();
                let r = env.run(&["read", &url, "--version", &n, "--no-pager"]);
                r.expect_code(0);
                let edition = if version["version"] == 1 {
                    "edition 0"
                } else {
                    "edition 1"
                };
                assert!(r.stdout().contains(edition), "{url} v{n}: {}", r.stdout());
            }
            if h.len() == 2 {
                two += 1;
            } else {
                assert_eq!(h.len(), 1);
            }
        }
        if expect_all_two {
            assert_eq!(two, paths.len());
        }
        two
    };
    let two = check(false);
    assert!(
        two < paths.len(),
        "the kill came after every page was updated"
    );
    // The next run finishes the job: every page has both versions.
    update(&env, &l, &[]);
    check(true);
}

#[test]
fn the_web_reader_lists_versions_and_shows_what_changed() {
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let env = Env::new();
    let l = list(&env, &server, &["/page"]);
    update(&env, &l, &[]);
    v.store(1, Ordering::SeqCst);
    update(&env, &l, &[]);
    let id = env.run(&["search", "--json", "kites"]).json_lines()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reader = common::reader::Reader::start(&env);
    let doc = reader.get(&format!("/doc/{id}")).text();
    assert!(doc.contains("Versions</strong> (2)"), "{doc}");
    assert!(doc.contains(&format!("/doc/{id}?version=1")));
    let old = reader.get(&format!("/doc/{id}?version=1")).text();
    assert!(old.contains("Version 1 of 2"), "{old}");
    assert!(!old.contains("zeppelin"));
    assert!(old.contains(&format!("/doc/{id}/raw?version=1")), "{old}");
    let raw = reader.get(&format!("/doc/{id}/raw?version=1")).text();
    assert!(raw.contains(STRINGS) && !raw.contains("zeppelin"), "{raw}");
    assert!(
        reader
            .get(&format!("/doc/{id}/raw"))
            .text()
            .contains("zeppelin")
    );
    let diff = reader.get(&format!("/doc/{id}/diff")).text();
    assert!(diff.contains(&format!("<ins>{ZEPPELIN}</ins>")), "{diff}");
    assert_eq!(reader.get(&format!("/doc/{id}?version=9")).status, 404);
}

/// Issue 21: `changes` says what the last update found — the changed page with its added
/// words and paragraph, the page failing since when, a link no longer listed — and nothing
/// about the pages that stayed the same; `--json` gives ids `diff` takes.
#[test]
fn changes_lists_what_the_last_update_found() {
    let env = Env::new();
    let v = Arc::new(AtomicUsize::new(0));
    let server = site(v.clone());
    let l = list(&env, &server, &["/page", "/gone", "/flip"]);
    update(&env, &l, &[]);
    let first = env.run(&["changes", "--json"]);
    let kinds: Vec<String> = first
        .json_lines()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["new", "new", "new"], "{}", first.stdout());

    v.store(1, Ordering::SeqCst);
    // /flip changes too, but it leaves the list.
    let l = list(&env, &server, &["/page", "/gone"]);
    let run = update(&env, &l, &["--retries", "0"]);
    assert!(
        run.stdout().contains("1 changed, 1 failing, 1 removed")
            && run.stdout().contains("rl-search changes"),
        "{}",
        run.stdout()
    );
    let events = env.run(&["changes", "--json"]).json_lines();
    assert_eq!(events.len(), 3, "{events:?}");
    let changed = &events[0];
    assert_eq!(changed["kind"], "changed");
    assert_eq!(changed["url"], server.url("/page"));
    assert_eq!(changed["words_added"], ZEPPELIN.split_whitespace().count());
    assert_eq!(changed["words_removed"], 0);
    assert_eq!(changed["summary"], ZEPPELIN);
    assert_eq!(events[1]["kind"], "failing");
    assert_eq!(events[1]["url"], server.url("/gone"));
    assert!(events[1]["since"].as_str().is_some_and(|s| s.len() == 20));
    assert_eq!(events[2]["kind"], "removed");
    assert_eq!(events[2]["url"], server.url("/flip"));
    let id = changed["id"].as_str().unwrap();
    let diff = env.run(&["diff", id]);
    assert!(diff.stdout().contains("zeppelin"), "{}", diff.stdout());

    let text = env.run(&["changes"]).expect_code(0).stdout();
    assert!(text.contains("1 changed, 1 failing, 1 removed"), "{text}");
    assert!(
        text.contains(&format!("rl-search diff {id} --from 1 --to 2")),
        "{text}"
    );
    assert!(text.contains("404"), "{text}");

    // Nothing new: the last update changed nothing, the failing page is still counted, and
    // the earlier changes stay reachable.
    update(&env, &l, &["--retries", "0"]);
    let quiet = env.run(&["changes"]).stdout();
    assert!(
        quiet.contains("nothing changed; 1 still failing"),
        "{quiet}"
    );
    assert!(env.run(&["changes", "--json"]).json_lines().is_empty());
    let week = env
        .run(&["changes", "--since", "7d", "--json"])
        .json_lines();
    assert_eq!(week.len(), 6, "{week:?}");
    let bad = env.run(&["changes", "--since", "whenever"]);
    assert_eq!(bad.code(), 2);
    assert!(bad.stderr().contains("--since"), "{}", bad.stderr());
}
