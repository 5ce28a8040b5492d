//! End-to-end: the real binary against a local HTTP server with fixtures we make.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{Env, Reply, Server, make_pdf};

const BOILERPLATE_PAGE: &str = r##"<!doctype html><html><head>
<title>Gradient Descent Explained | Some Blog</title>
<meta name="author" content="Ada Example">
</head><body>
<header><nav><a href="/">Home</a><a href="/archive">Archive</a><a href="/about">About me</a></nav></header>
<div class="cookie-consent">We value your privacy. Accept cookies to continue browsing.</div>
<article>
<h1>Gradient Descent Explained</h1>
<p>Gradient descent walks downhill on the loss surface, taking steps proportional to the negative gradient, and it is the workhorse of training neural networks.</p>
<p>The learning rate decides how far each step goes; too large and the optimiser diverges, too small and training crawls along for days.</p>
<p>Momentum keeps a running average of past gradients, which smooths the path through narrow ravines of the loss landscape.</p>
</article>
<aside class="related-posts"><h3>You may also like</h3><ul><li><a href="/p1">Ten tricks for pandas</a></li><li><a href="/p2">Why I left Vim</a></li></ul></aside>
<div id="comments"><p>Nice article! Subscribe to my channel for more content like this, please.</p></div>
<footer>Copyright 2024 Some Blog. Newsletter signup. Privacy policy. Terms of service.</footer>
<script>window.analytics = "tracking pixel";</script>
</body></html>"##;

/// A site with every case the end-to-end issue names.
fn fixture_server(version: Arc<AtomicUsize>) -> Server {
    let pdf = make_pdf(
        Some("Attention Mechanisms in Practice"),
        &[
            "Attention mechanisms let a transformer weigh tokens.",
            "Self-attention compares every token with every other token.",
        ],
    );
    Server::start(move |req| {
        let v = version.load(Ordering::SeqCst);
        match req.path.as_str() {
            "/blog/gradient-descent" => Reply::html(BOILERPLATE_PAGE).conditional(req),
            "/papers/attention.pdf" => Reply::new(200, "application/pdf", pdf.clone()).conditional(req),
            "/old-location" => Reply::redirect("/new-location"),
            "/new-location" => Reply::html(
                "<html><head><title>Moved Post</title></head><body><main><p>This post about tokenizers moved here, and its text explains byte pair encoding in enough detail to be indexed properly.</p></main></body></html>",
            )
            .conditional(req),
            "/changing" => {
                let word = if v == 0 { "zeppelin" } else { "submarine" };
                Reply::html(&format!(
                    "<html><head><title>Changing Page</title></head><body><article><p>This page talks about a {word} in a paragraph long enough to count as the main text of the page.</p></article></body></html>"
                ))
                .conditional(req)
            }
            "/flaky" => {
                if v == 0 {
                    Reply::html("<html><head><title>Flaky Page</title></head><body><article><p>The flaky page mentions quaternions in a sentence long enough for the extractor to keep it as text.</p></article></body></html>")
                } else {
                    Reply::status(404)
                }
            }
            _ => Reply::status(404),
        }
    })
}

fn list_for(server: &Server) -> String {
    format!(
        "# Test list\n\n## Optimisation\n\n- [Gradient descent]({})\n- [A redirect]({})\n\n## Papers\n\n- [Attention PDF]({})\n- [Missing]({})\n- [Changing]({})\n- [Flaky]({})\n- [mail me](mailto:someone@example.org)\n",
        server.url("/blog/gradient-descent"),
        server.url("/old-location"),
        server.url("/papers/attention.pdf"),
        server.url("/missing"),
        server.url("/changing"),
        server.url("/flaky"),
    )
}

#[test]
fn update_search_read_status_and_refresh() {
    let version = Arc::new(AtomicUsize::new(0));
    let server = fixture_server(version.clone());
    let env = Env::new();
    let list = env.write("list.md", &list_for(&server));
    let list = list.to_str().unwrap();

    // First update: everything but the 404 is indexed; exit 1 because one link failed.
    let run = env.run(&["update", "--list", list]);
    run.expect_code(1);
    let out = run.stdout();
    assert!(
        out.contains("5 new, 0 changed, 0 unchanged, 1 failed"),
        "{out}"
    );
    assert!(out.contains("/missing") && out.contains("404"), "{out}");
    assert!(
        run.stderr().contains("mailto:someone@example.org"),
        "skipped link is warned about"
    );

    // Boilerplate stays out of the index; the article is in.
    env.run(&["gradient", "descent"]).expect_code(0);
    env.run(&["search", "cookies", "privacy", "newsletter"])
        .expect_code(1);
    let hits = env.run(&["search", "momentum", "ravines", "--json"]);
    hits.expect_code(0);
    let hits = hits.json_lines();
    assert_eq!(hits.len(), 1);
    for key in [
        "rank", "id", "url", "title", "section", "kind", "score", "snippet",
    ] {
        assert!(hits[0].get(key).is_some(), "missing {key} in {}", hits[0]);
    }
    assert_eq!(hits[0]["title"], "Gradient Descent Explained");
    assert_eq!(hits[0]["section"], "Optimisation");
    assert_eq!(hits[0]["kind"], "page");
    assert!(
        hits[0]["snippet"].as_str().unwrap().contains("[Momentum]"),
        "{}",
        hits[0]
    );
    let id = hits[0]["id"].as_str().unwrap().to_string();

    // The PDF is text, with its metadata title; the redirect landed.
    let pdf_hits = env
        .run(&["search", "self-attention", "--json"])
        .json_lines();
    assert_eq!(pdf_hits[0]["title"], "Attention Mechanisms in Practice");
    assert_eq!(pdf_hits[0]["kind"], "pdf");
    let moved = env
        .run(&["search", "byte pair encoding", "--json"])
        .json_lines();
    assert_eq!(
        moved[0]["url"],
        server.url("/old-location"),
        "the list's URL stays the identity"
    );

    // read: header then text, offline; --raw gives the original bytes.
    let read = env.run(&["read", &id]);
    read.expect_code(0);
    let text = read.stdout();
    assert!(text.starts_with("Gradient Descent Explained\n"), "{text}");
    assert!(text.contains("section: Optimisation") && text.contains("fetched "));
    assert!(text.contains("The learning rate decides"));
    assert!(!text.contains("Subscribe to my channel"));
    let pdf_id = pdf_hits[0]["id"].as_str().unwrap();
    let raw = env.run(&["read", pdf_id, "--raw"]);
    assert!(raw.0.stdout.starts_with(b"%PDF-"));
    env.run(&["read", "nosuchid"]).expect_code(2);

    // status --json: per-link fields and totals.
    let status = env.run(&["status", "--json"]);
    status.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 6);
    let missing = docs
        .iter()
        .find(|d| d["url"].as_str().unwrap().ends_with("/missing"))
        .unwrap();
    assert_eq!(missing["state"], "failed");
    assert_eq!(missing["http_status"], 404);
    assert!(missing["last_error"].as_str().unwrap().contains("404"));
    for d in docs {
        for key in [
            "url",
            "title",
            "section",
            "kind",
            "state",
            "http_status",
            "bytes",
            "text_chars",
            "fetched_at",
            "last_error",
        ] {
            assert!(d.get(key).is_some(), "status lacks {key}: {d}");
        }
    }
    assert_eq!(v["totals"]["ok"], 5);

    // Second update: the server changed one page and lost another; the rest answer 304.
    version.store(1, Ordering::SeqCst);
    let before = server.hits("/papers/attention.pdf");
    let run = env.run(&["update"]); // remembers the list
    run.expect_code(1);
    let out = run.stdout();
    assert!(
        out.contains("0 new, 1 changed, 3 unchanged, 2 failed"),
        "{out}"
    );
    assert!(out.contains("kept the copy from before"), "{out}");
    assert_eq!(server.hits("/papers/attention.pdf"), before + 1);
    let conditional = server
        .requests()
        .iter()
        .rev()
        .find(|r| r.path == "/papers/attention.pdf")
        .unwrap()
        .clone();
    assert!(
        conditional.header("if-none-match").is_some(),
        "refresh sends validators"
    );
    assert!(
        conditional
            .header("user-agent")
            .unwrap()
            .starts_with("rl-search/")
    );

    env.run(&["submarine"]).expect_code(0);
    env.run(&["zeppelin"]).expect_code(1);
    // The flaky page failed this time but its good copy stays searchable and readable.
    env.run(&["quaternions"]).expect_code(0);
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"]).stdout()).unwrap();
    let flaky = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["url"].as_str().unwrap().ends_with("/flaky"))
        .unwrap()
        .clone();
    assert_eq!(flaky["state"], "ok");
    assert!(flaky["last_error"].as_str().unwrap().contains("404"));
}

#[test]
fn exit_codes_and_errors_are_one_line() {
    let server = Server::start(|req| match req.path.as_str() {
        "/a" => Reply::html(
            "<html><head><title>Alpha</title></head><body><p>Alpha particles and beta decay are described in this paragraph of reasonable length for extraction.</p></body></html>",
        ),
        _ => Reply::status(404),
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [a]({})\n", server.url("/a")));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    env.run(&["alpha"]).expect_code(0);
    env.run(&["nothingmatchesthis"]).expect_code(1);

    for (args, needle) in [
        (vec!["search", "nosuchfield:x"], "nosuchfield"),
        (
            vec!["update", "--list", "does-not-exist.md"],
            "does-not-exist.md",
        ),
        (vec!["extract", "no-such-file.html"], "no-such-file.html"),
        (vec!["update", "--host-rule", "bogus"], "bogus"),
    ] {
        let run = env.run(&args);
        run.expect_code(2);
        let err = run.stderr();
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A bad query on an empty library is reported before any download starts.
    let fresh = Env::new();
    let run = fresh.run(&["search", "nosuchfield:x"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("cannot understand the query"),
        "{}",
        run.stderr()
    );
    assert!(!fresh.library().exists(), "no update was started");

    let empty = env.write("empty.md", "# nothing here\n\nno links\n");
    let run = env.run(&["update", "--list", empty.to_str().unwrap()]);
    run.expect_code(2);
    assert!(run.stderr().contains("no http(s) links"));
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let server = Server::start(|_| {
        Reply::html(
            "<html><body><p>Some text that is long enough to be indexed as the body of this page, really.</p></body></html>",
        )
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [a]({})\n", server.url("/a")));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(env.library().join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let run = env.run(&["update"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("being updated by another rl-search"),
        "{}",
        run.stderr()
    );
    drop(lock);
    env.run(&["update"]).expect_code(0);
}

#[test]
fn search_on_an_empty_library_updates_first() {
    let server = Server::start(|_| {
        Reply::html(
            "<html><head><title>Lonely</title></head><body><p>A lonely page about hedgehogs, with enough words in it to be kept by the extractor.</p></body></html>",
        )
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [a]({})\n", server.url("/a")));
    // --reindex records the list without fetching, leaving an empty index.
    env.run(&["update", "--list", list.to_str().unwrap(), "--reindex"])
        .expect_code(0);
    let run = env.run(&["hedgehogs"]);
    run.expect_code(0);
    assert!(run.stderr().contains("empty"), "{}", run.stderr());
    assert!(run.stdout().contains("Lonely"));
}

#[test]
fn extract_shows_what_the_indexer_sees() {
    let env = Env::new();
    let page = env.write("page.html", BOILERPLATE_PAGE);
    let run = env.run(&["extract", page.to_str().unwrap(), "--json"]);
    run.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(v["title"], "Gradient Descent Explained");
    assert_eq!(v["kind"], "page");
    assert_eq!(v["author"], "Ada Example");
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("Momentum keeps"));
    assert!(!text.contains("Archive") && !text.contains("Copyright"));

    let pdf = env.path("p.pdf");
    std::fs::write(&pdf, make_pdf(None, &["Only the body text of this PDF."])).unwrap();
    let run = env.run(&["extract", pdf.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stdout().contains("Only the body text of this PDF."));

    let bad = env.path("broken.pdf");
    std::fs::write(&bad, b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF").unwrap();
    let run = env.run(&["extract", bad.to_str().unwrap()]);
    run.expect_code(2);
    assert!(run.stderr().contains("broken.pdf"));
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
}

#[test]
fn untrusted_titles_cannot_drive_the_terminal() {
    let server = Server::start(|_| {
        Reply::html(
            "<html><head><title>Evil \u{1b}[2J\u{1b}]0;pwned\u{7} title</title></head><body><p>Walruses are the subject of this page, which has enough words to be indexed for sure.</p></body></html>",
        )
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [a]({})\n", server.url("/a")));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let out = env.run(&["walruses", "--color", "always"]).stdout();
    assert!(out.contains("Evil"));
    assert!(
        !out.contains("\u{1b}[2J") && !out.contains("\u{1b}]0;"),
        "{out:?}"
    );
}

#[test]
fn remembers_lists_and_drops_links_removed_from_them() {
    let counter = Arc::new(Mutex::new(0));
    let c2 = counter.clone();
    let server = Server::start(move |req| {
        *c2.lock().unwrap() += 1;
        Reply::html(&format!(
            "<html><head><title>{0}</title></head><body><p>Page {0} is about narwhals and has enough words to be indexed properly by the tool.</p></body></html>",
            req.path
        ))
    });
    let env = Env::new();
    let both = env.write(
        "both.md",
        &format!("- [a]({})\n- [b]({})\n", server.url("/a"), server.url("/b")),
    );
    env.run(&["update", "--list", both.to_str().unwrap()])
        .expect_code(0);
    assert_eq!(env.run(&["narwhals", "--json"]).json_lines().len(), 2);
    let one = env.write("one.md", &format!("- [a]({})\n", server.url("/a")));
    let run = env.run(&["update", "--list", one.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stdout().contains("1 removed"), "{}", run.stdout());
    assert_eq!(env.run(&["narwhals", "--json"]).json_lines().len(), 1);
}

#[test]
fn global_index_flag_works_before_and_after_the_command() {
    let server = Server::start(|_| {
        Reply::html(
            "<html><head><title>Otters</title></head><body><p>Otters hold hands while they sleep, which is a fact long enough to index here.</p></body></html>",
        )
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [a]({})\n", server.url("/a")));
    let lib = env.path("elsewhere");
    let lib = lib.to_str().unwrap();
    // Regression: a global option before the subcommand made clap read "update" as a query.
    env.run(&["--index", lib, "update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    env.run(&["--index", lib, "otters"]).expect_code(0);
    env.run(&["search", "otters", "--index", lib])
        .expect_code(0);
    env.run(&["--index", lib, "status"]).expect_code(0);
    assert!(std::path::Path::new(lib).join("library.json").exists());
}

#[test]
fn a_link_moved_to_another_section_is_reindexed_without_refetching() {
    let server = Server::start(|req| {
        Reply::html("<html><head><title>Pelicans</title></head><body><p>Pelicans scoop fish with their bills, a sentence long enough to be indexed as text.</p></body></html>").conditional(req)
    });
    let env = Env::new();
    let url = server.url("/p");
    let list = env.write("list.md", &format!("## Birds\n- [p]({url})\n"));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    assert_eq!(
        env.run(&["pelicans", "--section", "birds", "--json"])
            .json_lines()
            .len(),
        1
    );
    env.write(
        "list.md",
        &format!("## Seabirds and others\n- [p]({url})\n"),
    );
    let run = env.run(&["update"]);
    run.expect_code(0);
    assert!(
        run.stdout().contains("1 unchanged") && run.stdout().contains("1 indexed"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        env.run(&["pelicans", "--section", "seabirds", "--json"])
            .json_lines()
            .len(),
        1
    );
    assert!(
        env.run(&["pelicans", "--section", "birds", "--json"])
            .json_lines()
            .is_empty()
    );
    // Nothing changed at all: nothing is written or indexed, yet status knows it was checked.
    let run = env.run(&["update"]);
    assert!(
        run.stdout().contains("1 unchanged, 0 failed; 0 indexed"),
        "{}",
        run.stdout()
    );
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"]).stdout()).unwrap();
    assert!(v["documents"][0]["checked_at"].is_string());
}

/// Issue 14: a damaged record behaves the same for every command — reported once by its file,
/// rebuilt from the stored text, and fetched again in full by the next update.
#[test]
fn a_damaged_record_is_reported_once_and_repaired() {
    let server = Server::start(|req| {
        Reply::html("<html><head><title>Herons</title></head><body><article><p>Herons stand still in shallow water for a long time before they strike at fish.</p></article></body></html>").conditional(req)
    });
    let env = Env::new();
    let list = env.write(
        "list.md",
        &format!("## Birds\n- [h]({})\n", server.url("/h")),
    );
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let id = env.run(&["search", "--json", "herons"]).json_lines()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = env.library().join("docs").join(format!("{id}.json"));
    std::fs::write(&record, "{ not json").unwrap();

    let read = env.run(&["read", &id]);
    read.expect_code(0);
    assert!(
        read.stdout().contains("strike at fish"),
        "{}",
        read.stdout()
    );
    assert_eq!(
        read.stderr().matches("was damaged").count(),
        1,
        "{}",
        read.stderr()
    );
    assert!(
        read.stderr().contains(&format!("{id}.json")),
        "{}",
        read.stderr()
    );
    // Reported once: the record is whole again.
    let status = env.run(&["status"]);
    status.expect_code(0);
    assert!(!status.stderr().contains("damaged"), "{}", status.stderr());
    // The next update fetches the page in full (no validators) and restores its title.
    let before = server.requests().len();
    env.run(&["update"]).expect_code(0);
    let refetch = &server.requests()[before];
    assert!(
        refetch.header("if-none-match").is_none() && refetch.header("if-modified-since").is_none()
    );
    let hit = &env.run(&["search", "--json", "herons"]).json_lines()[0];
    assert_eq!(hit["title"], "Herons");
}

/// Issue 10: every shape of list, recognised by content, and one document per page.
#[test]
fn lists_in_every_format_and_one_document_per_page() {
    let server = Server::start(|req| {
        if req.path == "/list.html" {
            return Reply::html(
                "<html><body><nav><a href=\"/home\">Home</a></nav><article><h2>Birds</h2>\
                 <p><a href=\"/owl\">Owls</a> and <a href=\"/owl/?utm_source=x\">again</a></p></article>\
                 <footer><a href=\"/privacy\">Privacy</a></footer></body></html>",
            );
        }
        let name = req.path.trim_matches('/');
        Reply::html(&format!(
            "<html><head><title>{name}</title></head><body><article><p>The {name} page has words enough to be indexed as the main text of a page.</p></article></body></html>"
        ))
    });
    let u = |p: &str| server.url(p);
    let env = Env::new();
    let titles = |env: &Env| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&env.run(&["status", "--json"]).stdout()).unwrap();
        let mut t: Vec<String> = v["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} | {}",
                    d["section"].as_str().unwrap(),
                    d["url"].as_str().unwrap().replace(&u(""), "")
                )
            })
            .collect();
        t.sort();
        t
    };
    let cases = [
        (
            "plain.txt",
            format!(
                "# my links\n{}\n{}#part\n\n{}?utm_source=news&fbclid=1\n",
                u("/a"),
                u("/a"),
                u("/b/")
            ),
            vec![" | /a", " | /b/?utm_source=news&fbclid=1"],
        ),
        (
            "bookmarks.html",
            format!(
                "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n<DT><H3>Reading</H3>\n<DL><p>\n<DT><A HREF=\"{}\">A</A>\n</DL><p>\n</DL>\n",
                u("/a")
            ),
            vec!["Reading | /a"],
        ),
        (
            "feeds.opml",
            format!(
                "<?xml version=\"1.0\"?><opml version=\"2.0\"><body><outline text=\"Blogs\"><outline text=\"B\" type=\"link\" url=\"{}\"/></outline></body></opml>",
                u("/b")
            ),
            vec!["Blogs | /b"],
        ),
        (
            "notes.md",
            format!(
                "## Mixed\nStart with {}. Then [the same]({}#x).\n",
                u("/c"),
                u("/c")
            ),
            vec!["Mixed | /c"],
        ),
    ];
    for (file, content, want) in cases {
        let env = Env::new();
        let list = env.write(file, &content);
        let run = env.run(&["update", "--list", list.to_str().unwrap()]);
        run.expect_code(0);
        assert_eq!(titles(&env), want, "{file}: {}", run.stdout());
    }
    // A web page that is a reading list: its article's links, not its navigation.
    env.run(&["update", "--list", &u("/list.html")])
        .expect_code(0);
    assert_eq!(titles(&env), ["Birds | /owl"]);

    // Junk and a truncated OPML: one line saying what is understood, exit 2.
    for (file, bytes) in [
        ("junk.bin", vec![0u8, 159, 146, 150, 0, 1, 2]),
        (
            "cut.opml",
            b"<?xml version=\"1.0\"?><opml><body><outline text=\"x\">".to_vec(),
        ),
    ] {
        let path = env.path(file);
        std::fs::write(&path, bytes).unwrap();
        let run = env.run(&["update", "--list", path.to_str().unwrap()]);
        run.expect_code(2);
        assert_eq!(run.stderr().trim().lines().count(), 1, "{}", run.stderr());
        assert!(run.stderr().contains(file), "{}", run.stderr());
    }
}

/// Issue 10: a Mastodon post through its instance's API, a JSON answer and a feed, each a
/// document with text; an image is one line saying it carries no text.
#[test]
fn posts_json_and_feeds_are_read_as_text() {
    let server = Server::start(|req| match req.path.as_str() {
        "/api/v1/statuses/110895263087386568" => Reply::new(
            200,
            "application/json",
            r#"{"id":"110895263087386568","created_at":"2023-08-15T12:00:00Z","content":"<p>Collecting suggestions for an anti-hype reading list about pelicans</p>","account":{"display_name":"Vicki","acct":"vicki"}}"#,
        ),
        "/data.json" => Reply::new(
            200,
            "application/json",
            r#"{"name":"Heron survey","counts":{"grey heron":12,"egret":3},"notes":["seen at dawn near the reeds"]}"#,
        ),
        "/feed.xml" => Reply::new(
            200,
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><title>Bird notes</title><item><title>Cormorants</title><description>Cormorants dry their wings in the sun after diving.</description></item></channel></rss>",
        ),
        "/photo.png" => Reply::new(200, "image/png", vec![0x89, b'P', b'N', b'G', 0, 0, 0, 0]),
        _ => Reply::status(404),
    });
    let env = Env::new();
    let list = env.write(
        "list.md",
        &format!(
            "- {}\n- {}\n- {}\n- {}\n",
            server.url("/@vicki/110895263087386568"),
            server.url("/data.json"),
            server.url("/feed.xml"),
            server.url("/photo.png")
        ),
    );
    let run = env.run(&["update", "--list", list.to_str().unwrap()]);
    run.expect_code(1);
    assert!(
        run.stdout()
            .starts_with("3 new, 0 changed, 0 unchanged, 1 failed"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains("unsupported content type image/png"),
        "{}",
        run.stdout()
    );
    let first = |q: &str| env.run(&["search", "--json", q]).json_lines()[0].clone();
    let post = first("pelicans");
    assert_eq!(post["kind"], "post");
    assert!(
        post["title"]
            .as_str()
            .unwrap()
            .starts_with("Vicki: Collecting"),
        "{post}"
    );
    assert_eq!(first("egret")["title"], "Heron survey");
    let feed = first("cormorants");
    assert_eq!(feed["title"], "Bird notes");
    assert_eq!(feed["kind"], "feed");
}

/// Issue 10: two links that end at the same page after redirects are one document, found by
/// either link's text; status still lists both, the second saying which it duplicates.
#[test]
fn links_that_redirect_to_one_page_are_one_document() {
    let server = Server::start(|req| {
        match req.path.as_str() {
        "/old" => Reply::redirect("/new"),
        "/new" => Reply::html("<html><head><title>Gannets</title></head><body><article><p>Gannets dive from thirty metres into the sea to catch fish, folding their wings.</p></article></body></html>").conditional(req),
        _ => Reply::status(404),
    }
    });
    let env = Env::new();
    let list = env.write(
        "list.md",
        &format!(
            "## Birds\n- [Seabird primer]({})\n## Again\n- [Diving guide]({})\n",
            server.url("/old"),
            server.url("/new")
        ),
    );
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let hits = env.run(&["search", "--json", "gannets"]).json_lines();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["section"], "Birds");
    for q in ["primer", "guide"] {
        let found = env.run(&["search", "--json", q]).json_lines();
        assert_eq!(found.len(), 1, "{q}");
        assert_eq!(found[0]["id"], hits[0]["id"]);
    }
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"]).stdout()).unwrap();
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert!(
        docs[1]["note"]
            .as_str()
            .unwrap()
            .contains("the same page as"),
        "{}",
        docs[1]
    );
    // Stable: a second update changes nothing and re-indexes nothing.
    let again = env.run(&["update"]);
    again.expect_code(0);
    assert!(again.stdout().contains("; 0 indexed"), "{}", again.stdout());
}
