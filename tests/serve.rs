//! The web reader over plain HTTP: its pages, its JSON, and every safety rule — Host
//! checking (DNS rebinding), CSRF on the refresh, escaping of document fields, the Content
//! Security Policy, sandboxed originals, and no path out of the library.

#[path = "common/mod.rs"]
mod common;

use common::Env;
use common::reader::{EVIL_TITLE, Reader, ZEBRAS, build_library, fixture_site};

fn library() -> (Env, common::Server) {
    let env = Env::new();
    let site = fixture_site();
    build_library(&env, &site);
    (env, site)
}

/// The id of the first hit of a CLI search.
fn first_id(env: &Env, query: &str) -> String {
    let run = env.run(&["search", "--json", query]);
    run.json_lines()[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn pages_show_the_library() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    assert!(
        reader.url.starts_with("http://127.0.0.1:"),
        "{}",
        reader.url
    );

    let home = reader.get("/");
    assert_eq!(home.status, 200);
    let html = home.text();
    assert!(html.contains("name=\"q\""), "{html}");
    assert!(
        html.contains(&format!("{} documents", ZEBRAS + 2)),
        "{html}"
    );

    // The same hits in the same order as the CLI, each linking to its reading view.
    let cli: Vec<String> = env
        .run(&["search", "--json", "-n", "20", "zebra stripes"])
        .json_lines()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    let page = reader.get("/search?q=zebra+stripes").text();
    let mut last = 0;
    for id in &cli {
        let at = page
            .find(&format!("/doc/{id}?q=zebra+stripes"))
            .unwrap_or_else(|| panic!("{id} missing from {page}"));
        assert!(at > last, "hit order differs from the CLI");
        last = at;
    }
    assert!(page.contains("<mark>"), "highlighted words");
    // Paging: 25 zebra pages, 20 on the first page.
    assert!(page.contains("rel=\"next\""));
    let second = reader.get("/search?q=zebra+stripes&page=2").text();
    assert_eq!(second.matches("<li>").count(), ZEBRAS - 20, "{second}");
    assert!(second.contains("rel=\"prev\""));

    // The reading view: metadata, marks with ids to jump between, similar documents.
    let id = first_id(&env, "attention");
    let doc = reader.get(&format!("/doc/{id}?q=attention")).text();
    assert!(doc.contains("Attention Mechanisms in Practice"), "{doc}");
    assert!(doc.contains("<mark id=\"m0\">"), "{doc}");
    assert!(doc.contains(&format!("/doc/{id}/raw")));
    let zebra = first_id(&env, "zebra");
    let doc = reader.get(&format!("/doc/{zebra}")).text();
    assert!(doc.contains("Similar documents"), "{doc}");
    assert!(doc.contains("Zebra note"));

    // The stored original: the PDF as a PDF.
    let raw = reader.get(&format!("/doc/{id}/raw"));
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("application/pdf"));
    assert!(raw.body.starts_with(b"%PDF-"));
    // No policy on a PDF: Chrome will not show one under a sandbox.
    assert_eq!(raw.header("content-security-policy"), None);

    let status = reader.get("/status").text();
    assert!(status.contains("Refresh the library"));
    assert!(
        status.contains(&format!("{} links", ZEBRAS + 2)),
        "{status}"
    );

    assert_eq!(reader.get("/doc/ffffffff").status, 404);
    assert_eq!(reader.get("/nowhere").status, 404);
}

#[test]
fn the_api_gives_the_cli_json() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    let api: serde_json::Value =
        serde_json::from_slice(&reader.get("/api/search?q=quokka&limit=3").body).unwrap();
    let cli = env
        .run(&["search", "--json", "-n", "3", "quokka"])
        .json_lines();
    assert_eq!(api.as_array().unwrap(), &cli);

    let api: serde_json::Value = serde_json::from_slice(&reader.get("/api/status").body).unwrap();
    let cli: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"]).stdout()).unwrap();
    assert_eq!(api["documents"], cli["documents"]);
    assert_eq!(api["totals"], cli["totals"]);
    // The library's place on disk is not the API's business (issue 20).
    assert!(api.get("library").is_none(), "{api}");
    assert!(
        !api.to_string()
            .contains(&env.library().display().to_string())
    );

    let bad = reader.get("/api/search?q=");
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("\"error\""));
}

#[test]
fn document_fields_are_escaped_and_scripts_are_ours_only() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    let id = first_id(&env, "quokka");
    for path in [
        format!("/doc/{id}"),
        "/search?q=quokka".to_string(),
        "/status".to_string(),
    ] {
        let res = reader.get(&path);
        let html = res.text();
        assert!(
            !html.contains(EVIL_TITLE),
            "{path} shows the title as markup: {html}"
        );
        assert!(html.contains("&lt;img src=x onerror="), "{path}: {html}");
        assert!(!html.contains("document.title='pwned'</script>"));
        let csp = res.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline'; script"),
            "{path}: {csp}"
        );
        assert!(csp.contains("default-src 'none'"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    }
    // A stored page never runs in the reader's origin.
    let raw = reader.get(&format!("/doc/{id}/raw"));
    assert_eq!(raw.status, 200);
    let csp = raw.header("content-security-policy").unwrap_or("");
    assert!(csp.starts_with("sandbox"), "{csp}");
}

#[test]
fn other_hosts_are_refused() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    let port = reader.port;
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        "127.0.0.1:1".to_string(),
    ] {
        let res = reader.request("GET", "/api/status", &[("Host", &host)], "");
        assert_eq!(res.status, 421, "Host {host}");
        assert!(!res.text().contains("documents"));
        // The refusal carries the same security headers as every answer (issue 20).
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(res.header("x-frame-options"), Some("DENY"));
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let res = reader.request("GET", "/", &[("Host", &host)], "");
        assert_eq!(res.status, 200, "Host {host}");
    }
}

#[test]
fn a_refresh_needs_this_origin_and_the_token() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    let host = reader.addr.clone();
    let page = reader.get("/status").text();
    let token = page
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a token in the form")
        .to_string();
    let origin = format!("http://{host}");

    let no_token = reader.request(
        "POST",
        "/update",
        &[("Host", &host), ("Origin", &origin)],
        "",
    );
    assert_eq!(no_token.status, 403);
    let wrong = reader.request(
        "POST",
        "/update",
        &[("Host", &host), ("Origin", &origin)],
        "token=0000",
    );
    assert_eq!(wrong.status, 403);
    let cross = reader.request(
        "POST",
        "/update",
        &[("Host", &host), ("Origin", "http://evil.example")],
        &format!("token={token}"),
    );
    assert_eq!(cross.status, 403);
    let cross_site = reader.request(
        "POST",
        "/update",
        &[("Host", &host), ("Sec-Fetch-Site", "cross-site")],
        &format!("token={token}"),
    );
    assert_eq!(cross_site.status, 403);
    let get = reader.get("/update");
    assert_eq!(get.status, 405, "a GET changes nothing");

    let ok = reader.request(
        "POST",
        "/update",
        &[("Host", &host), ("Origin", &origin)],
        &format!("token={token}"),
    );
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location"), Some("/status"));
    // The refresh runs and ends; the status page says how.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let u: serde_json::Value = serde_json::from_slice(&reader.get("/api/update").body).unwrap();
        if u["running"] == false {
            assert!(
                u["last"].as_str().unwrap_or("").contains("unchanged"),
                "{u}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn no_path_leaves_the_library() {
    let (env, _site) = library();
    std::fs::write(env.path("secret.txt"), "the secret").unwrap();
    let reader = Reader::start(&env);
    for path in [
        "/doc/..%2F..%2Fsecret.txt",
        "/doc/..%2Flibrary.json/raw",
        "/doc/%2e%2e/raw",
        "/doc/../../secret.txt",
        "/static/..%2F..%2Fsecret.txt",
        "/doc/..%5C..%5Csecret.txt/raw",
    ] {
        let res = reader.get(path);
        assert!(
            res.status == 404 || res.status == 400,
            "{path}: {}",
            res.status
        );
        assert!(!res.text().contains("the secret"), "{path}");
    }
}

#[test]
fn ctrl_c_stops_it_cleanly() {
    let (env, _site) = library();
    let mut reader = Reader::start(&env);
    assert_eq!(reader.get("/").status, 200);
    let status = reader.interrupt();
    assert!(status.success(), "{status}");
}

#[test]
fn open_starts_the_browser_on_the_served_url() {
    let (env, _site) = library();
    let seen = env.path("opened.txt");
    let script = env.write(
        "browser.sh",
        &format!("#!/bin/sh\necho \"$1\" > {}\n", seen.display()),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let reader =
        Reader::start_with_env(&env, &["--open"], &[("BROWSER", script.to_str().unwrap())]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), reader.url);
}

#[test]
fn a_refresh_honours_the_library_lock() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    // Another update holds the library.
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(env.library().join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let host = reader.addr.clone();
    let page = reader.get("/status").text();
    let token = page
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let ok = reader.request(
        "POST",
        "/update",
        &[("Host", &host), ("Sec-Fetch-Site", "same-origin")],
        &format!("token={token}"),
    );
    assert_eq!(ok.status, 303);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let u: serde_json::Value = serde_json::from_slice(&reader.get("/api/update").body).unwrap();
        if u["running"] == false && u["last"].is_string() {
            let last = u["last"].as_str().unwrap();
            assert!(
                last.contains("being updated by another rl-search"),
                "{last}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no answer: {u}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = reader.get("/status").text();
    assert!(status.contains("The refresh failed"), "{status}");
    drop(lock);
}

#[test]
fn an_update_from_the_command_line_is_seen_without_a_restart() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let changed = Arc::new(AtomicBool::new(false));
    let flag = changed.clone();
    let site = common::Server::start(move |_| {
        let extra = if flag.load(Ordering::SeqCst) {
            " and zeppelins"
        } else {
            ""
        };
        common::Reply::html(&format!(
            "<html><head><title>Coast</title></head><body><article><p>Lighthouses guide ships{extra} along the rocky coast at night.</p></article></body></html>"
        ))
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [Coast]({})\n", site.url("/coast")));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let reader = Reader::start(&env);
    let hits = |q: &str| -> usize {
        let body = reader.get(&format!("/api/search?q={q}")).body;
        serde_json::from_slice::<serde_json::Value>(&body)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(hits("lighthouses"), 1);
    assert_eq!(hits("zeppelins"), 0);
    changed.store(true, Ordering::SeqCst);
    env.run(&["update"]).expect_code(0);
    assert_eq!(
        hits("zeppelins"),
        1,
        "the page's new text is searchable in the reader"
    );
}

/// Issue 20: malformed parameters got the framework's text ("Failed to deserialize query
/// string…"), the API lost its `{"error": …}` form, and a huge page number overflowed.
#[test]
fn malformed_parameters_get_the_readers_own_answers() {
    let (env, _site) = library();
    let reader = Reader::start(&env);
    let id = first_id(&env, "zebra");
    let ours = |path: &str, status: u16| {
        let res = reader.get(path);
        assert_eq!(res.status, status, "{path}: {}", res.text());
        assert!(
            res.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}: {:?}",
            res.header("content-type")
        );
        let page = res.text();
        assert!(page.contains("href=\"/static/app.css\""), "{path}: {page}");
        assert!(!page.contains("Failed to deserialize"), "{path}");
        assert!(res.header("content-security-policy").is_some(), "{path}");
        page
    };
    assert!(ours("/search?q=zebra&q=other", 200).contains("Zebra"));
    assert!(ours("/search?q=zebra&page=-1", 200).contains("Zebra"));
    ours("/search?q=zebra&page=99999999999999999999999", 200);
    ours("/search?q=zebra&page=abc", 200);
    ours(&format!("/doc/{id}?version="), 200);
    ours(&format!("/doc/{id}?version=abc"), 404);
    assert!(ours(&format!("/doc/{id}?version=99999999999"), 404).contains("no version"));
    ours(&format!("/doc/{id}/raw?version=99999999999"), 404);
    // Unreadable versions fall back to the defaults: the latest change.
    ours(&format!("/doc/{id}/diff?from=x&to=-1"), 200);
    ours("/doc/%ff", 404);
    ours("/doc/%ff/raw", 404);
    ours("/status?page=-1", 200);
    ours("/status?page=99999999999999999999999999", 200);
    ours("/nowhere", 404);
    // The API answers in its own form whatever it is given.
    for path in [
        "/api/search?q=zebra&limit=-5",
        "/api/search?q=zebra&limit=abc",
        "/api/search?q=zebra&limit=99999999999999999999",
        "/api/search?q=",
        "/api/nowhere",
    ] {
        let res = reader.get(path);
        assert!(res.status >= 400, "{path}");
        let v: serde_json::Value = serde_json::from_slice(&res.body)
            .unwrap_or_else(|e| panic!("{path}: {e}: {}", res.text()));
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    // One reading of filters for both: an empty filter is no filter (it found nothing
    // through the API).
    let api = |path: &str| -> usize {
        serde_json::from_slice::<serde_json::Value>(&reader.get(path).body)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    let all = api("/api/search?q=zebra&limit=100");
    assert!(all > 0);
    assert_eq!(
        api("/api/search?q=zebra&limit=100&kind=&section=&host="),
        all
    );
    let page = ours("/search?q=zebra&kind=&section=&host=", 200);
    assert!(page.contains("Zebra"));
}

/// Issue 20: a query of 3,000 prefixes took 5.9 s on the runtime's threads, and two of them
/// kept `/static/app.css` waiting 10.5 s. Wildcards are capped and searches run on a bounded
/// pool, so static files answer at once.
#[test]
fn hostile_queries_neither_hold_the_reader_nor_run_away() {
    let (env, _site) = library();
    let reader = std::sync::Arc::new(Reader::start(&env));
    let q: Vec<String> = (0..3000).map(|i| format!("z{i}b*")).collect();
    let path = format!("/search?q={}", q.join("+"));
    assert!(path.len() > 20_000);
    let hostile: Vec<_> = (0..2)
        .map(|_| {
            let (reader, path) = (reader.clone(), path.clone());
            std::thread::spawn(move || {
                let t = std::time::Instant::now();
                let res = reader.get(&path);
                (res.status, t.elapsed())
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    for _ in 0..5 {
        let t = std::time::Instant::now();
        assert_eq!(reader.get("/static/app.css").status, 200);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "static file waited {:?}",
            t.elapsed()
        );
    }
    for h in hostile {
        let (status, took) = h.join().unwrap();
        assert_eq!(status, 200);
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
    let page = reader.get(&path).text();
    assert!(
        page.contains("only the first"),
        "the page says the query was cut"
    );
}

/// Issue 20: reading a damaged record repaired it on disk, from a GET, without the writer's
/// lock; and file names in records were not checked before reading.
#[test]
fn a_page_view_writes_nothing_and_reads_nothing_outside_the_library() {
    let (env, _site) = library();
    std::fs::write(env.path("secret.txt"), "the secret").unwrap();
    let id = first_id(&env, "zebra");
    let other = first_id(&env, "attention");
    let docs = env.library().join("docs");
    // A damaged record: shown from its stored text, the file left as it is.
    std::fs::write(docs.join(format!("{id}.json")), b"{ damaged").unwrap();
    // A record that names a file outside the library.
    let path = docs.join(format!("{other}.json"));
    let mut rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    rec["text_file"] = env.path("secret.txt").display().to_string().into();
    rec["sources"][0]["raw_file"] = "../../secret.txt".into();
    std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
    let before: Vec<_> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let reader = Reader::start(&env);
    let page = reader.get(&format!("/doc/{id}"));
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("zebra"),
        "rebuilt in memory from the stored text"
    );
    assert_eq!(
        std::fs::read(docs.join(format!("{id}.json"))).unwrap(),
        b"{ damaged"
    );
    let after: Vec<_> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before.len(), after.len(), "no file was added or set aside");

    for p in [format!("/doc/{other}"), format!("/doc/{other}/raw")] {
        let res = reader.get(&p);
        assert_eq!(res.status, 404, "{p}");
        assert!(!res.text().contains("the secret"), "{p}");
    }
}

/// Issue 21: `/changes.atom` is a feed a real parser reads (feed-rs), with one entry per
/// change, linked back to this server, and ids that stay the same across requests and
/// restarts; `/changes` shows the same as a page, titles escaped.
#[test]
fn the_feed_of_changes_parses_and_its_ids_are_stable() {
    let (env, _site) = library();
    let ids = |reader: &Reader| -> Vec<String> {
        let res = reader.get("/changes.atom");
        assert_eq!(res.status, 200);
        assert!(
            res.header("content-type")
                .is_some_and(|c| c.starts_with("application/atom+xml")),
            "{:?}",
            res.header("content-type")
        );
        let feed = feed_rs::parser::parse(res.body.as_slice()).expect("a valid feed");
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert!(feed.updated.is_some());
        assert_eq!(feed.entries.len(), ZEBRAS + 2);
        for e in &feed.entries {
            assert!(e.updated.is_some(), "{e:?}");
            let link = &e.links[0].href;
            assert!(
                link.starts_with(&format!("{}doc/", reader.url)),
                "{link} vs {}",
                reader.url
            );
            assert!(e.title.as_ref().unwrap().content.starts_with("New: "));
        }
        let titles: Vec<&str> = feed
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.as_str())
            .collect();
        assert!(
            titles.iter().any(|t| t.contains(EVIL_TITLE)),
            "the title is text, kept whole: {titles:?}"
        );
        feed.entries.iter().map(|e| e.id.clone()).collect()
    };
    let reader = Reader::start(&env);
    let first = ids(&reader);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), first.len(), "ids are unique");
    assert_eq!(ids(&reader), first, "the same on the next request");
    let page = reader.get("/changes").text();
    assert!(page.contains(&format!("{} new", ZEBRAS + 2)), "{page}");
    assert!(!page.contains(EVIL_TITLE), "escaped on the page");
    assert!(page.contains("href=\"/changes.atom\""));
    drop(reader);
    let again = Reader::start(&env);
    assert_eq!(ids(&again), first, "and after a restart");
}

/// Issue 22: adding a link changes the library, so it needs the page's token and the same
/// origin; a GET of `/add` only shows the form.
#[test]
fn adding_a_link_needs_the_token() {
    let (env, site) = library();
    let reader = Reader::start(&env);
    let host = reader.addr.clone();
    let link = site.url("/zebra/77");
    let body = format!("url={}", link.replace(':', "%3A").replace('/', "%2F"));
    let no_token = reader.request(
        "POST",
        "/add",
        &[
            ("Host", &host),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &body,
    );
    assert_eq!(no_token.status, 403);
    let form = reader.get(&format!("/add?url={link}"));
    assert_eq!(form.status, 200);
    let html = form.text();
    assert!(html.contains("name=\"token\""), "{html}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        env.run(&["read", &link]).code() == 2,
        "neither the refused POST nor the GET added it"
    );
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let added = reader.request(
        "POST",
        "/add",
        &[
            ("Host", &host),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("{body}&token={token}"),
    );
    assert_eq!(added.status, 303, "{}", added.text());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.run(&["read", &link]).code() != 0 {
        assert!(std::time::Instant::now() < deadline, "never added");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
