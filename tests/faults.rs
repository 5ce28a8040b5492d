//! The fetcher against a fault-injecting local server: every case finishes within its bound,
//! without a panic, and never costs a good stored copy.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Env, Fault, Reply, Server, make_pdf};

const PAGE: &str = "<html><head><title>Fine Page</title></head><body><article><p>A perfectly fine page about lighthouses, long enough to be kept as the main text by the extractor.</p></article></body></html>";

/// Runs `update` on a one-link list and returns (run, seconds taken).
fn update_one(env: &Env, url: &str, extra: &[&str]) -> (common::Run, f64) {
    let list = env.write("list.md", &format!("- [x]({url})\n"));
    let mut args = vec!["update", "--list", list.to_str().unwrap()];
    args.extend_from_slice(extra);
    let t = Instant::now();
    let run = env.run(&args);
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    (run, t.elapsed().as_secs_f64())
}

fn counting(f: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Server {
    let n = Arc::new(AtomicUsize::new(0));
    Server::start(move |_| f(n.fetch_add(1, Ordering::SeqCst)))
}

#[test]
fn retry_after_429_is_honoured() {
    let server = counting(|n| {
        if n == 0 {
            Reply::status(429).with_header("Retry-After", "1")
        } else {
            Reply::html(PAGE)
        }
    });
    let env = Env::new();
    let (run, secs) = update_one(&env, &server.url("/p"), &[]);
    run.expect_code(0);
    assert_eq!(server.hits("/p"), 2);
    assert!(secs >= 1.0, "waited for Retry-After ({secs:.2}s)");
}

#[test]
fn two_503s_then_ok() {
    let server = counting(|n| {
        if n < 2 {
            Reply::status(503)
        } else {
            Reply::html(PAGE)
        }
    });
    let env = Env::new();
    update_one(&env, &server.url("/p"), &[]).0.expect_code(0);
    assert_eq!(server.hits("/p"), 3);
}

#[test]
fn a_404_is_not_retried() {
    let server = Server::start(|_| Reply::status(404));
    server.expect("/gone", 1);
    let env = Env::new();
    let (run, _) = update_one(&env, &server.url("/gone"), &[]);
    run.expect_code(1);
    assert!(
        run.stdout().contains("HTTP 404 Not Found"),
        "{}",
        run.stdout()
    );
}

#[test]
fn reset_mid_body_is_retried() {
    let server = counting(|n| {
        let r = Reply::html(PAGE);
        if n == 0 {
            r.with_fault(Fault::ResetMidBody)
        } else {
            r
        }
    });
    let env = Env::new();
    update_one(&env, &server.url("/p"), &[]).0.expect_code(0);
    assert_eq!(server.hits("/p"), 2);
}

#[test]
fn a_server_that_never_answers_is_bounded() {
    let server = Server::start(|_| Reply::html(PAGE).with_fault(Fault::Hang));
    let env = Env::new();
    let (run, secs) = update_one(
        &env,
        &server.url("/hang"),
        &["--timeout", "2s", "--retries", "1"],
    );
    run.expect_code(1);
    assert!(run.stdout().contains("timed out"), "{}", run.stdout());
    assert!(secs < 10.0, "took {secs:.1}s");
}

#[test]
fn a_dripping_server_is_bounded() {
    let body = format!("<html><body><p>{}</p></body></html>", "slow ".repeat(400));
    let server = Server::start(move |_| {
        Reply::html(&body).with_fault(Fault::Drip(Duration::from_millis(100)))
    });
    let env = Env::new();
    let (run, secs) = update_one(
        &env,
        &server.url("/drip"),
        &["--timeout", "2s", "--retries", "0"],
    );
    run.expect_code(1);
    assert!(secs < 8.0, "took {secs:.1}s");
}

/// Issue 14: a PDF extraction that runs out of time is stopped, not left running: it runs in
/// a worker process, which is killed.
#[cfg(target_os = "linux")]
#[test]
fn a_pdf_past_its_time_limit_is_stopped() {
    let lines: Vec<String> = (0..3000)
        .map(|i| format!("Line {i} of a long paper about astrolabes and sextants."))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let pdf = make_pdf(Some("Long Paper"), &lines);
    let server = Server::start(move |_| Reply::new(200, "application/pdf", pdf.clone()));
    let env = Env::new();
    let marker = format!("rl-search-test-{}", std::process::id());
    let list = env.write("list.md", &format!("- [x]({})\n", server.url("/long.pdf")));
    let out = env
        .command(
            env.dir.path(),
            &[
                "update",
                "--list",
                list.to_str().unwrap(),
                "--pdf-timeout",
                "1ms",
            ],
        )
        .env("RL_SEARCH_TEST_MARKER", &marker)
        .output()
        .unwrap();
    let run = common::Run(out);
    run.expect_code(1);
    assert!(
        run.stdout().contains("took longer than"),
        "{}",
        run.stdout()
    );
    // No worker of this run is left behind (workers inherit the marker).
    let leftover = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read(p.path().join("environ")).ok())
        .filter(|env| env.windows(marker.len()).any(|w| w == marker.as_bytes()))
        .count();
    assert_eq!(leftover, 0, "worker processes still running");
}

#[test]
fn redirect_loops_are_detected() {
    let server = Server::start(|req| match req.path.as_str() {
        "/a" => Reply::redirect("/b"),
        _ => Reply::redirect("/a"),
    });
    let env = Env::new();
    let (run, _) = update_one(&env, &server.url("/a"), &[]);
    run.expect_code(1);
    assert!(run.stdout().contains("redirect loop"), "{}", run.stdout());
    assert!(server.hits("/a") <= 2, "no retries of a loop");
}

#[test]
fn gzip_bombs_stop_at_the_cap() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(
        bomb.len() < 1 << 20,
        "64 MiB compresses to {} bytes",
        bomb.len()
    );
    let server = Server::start(move |_| {
        Reply::new(200, "text/html", bomb.clone()).with_header("Content-Encoding", "gzip")
    });
    let env = Env::new();
    let (run, secs) = update_one(&env, &server.url("/bomb"), &["--max-bytes", "1000000"]);
    run.expect_code(1);
    assert!(
        run.stdout().contains("larger than 1000000 bytes"),
        "{}",
        run.stdout()
    );
    assert!(secs < 10.0);
}

#[test]
fn oversized_bodies_are_refused() {
    let server = Server::start(|_| Reply::new(200, "text/plain", vec![b'a'; 2_000_000]));
    let env = Env::new();
    let (run, _) = update_one(&env, &server.url("/big.txt"), &["--max-bytes", "1000000"]);
    run.expect_code(1);
    assert!(run.stdout().contains("larger than"), "{}", run.stdout());
}

#[test]
fn a_pdf_served_as_html_is_read_as_pdf() {
    let pdf = make_pdf(
        Some("Mislabelled Paper About Sextants"),
        &["Sextants measure the angle between two objects."],
    );
    let server = Server::start(move |_| Reply::new(200, "text/html", pdf.clone()));
    let env = Env::new();
    update_one(&env, &server.url("/paper"), &[])
        .0
        .expect_code(0);
    let hits = env.run(&["sextants", "--json"]).json_lines();
    assert_eq!(hits[0]["kind"], "pdf");
    assert_eq!(hits[0]["title"], "Mislabelled Paper About Sextants");
}

#[test]
fn unchanged_documents_cost_one_conditional_request_and_no_commit() {
    let server = Server::start(|req| Reply::html(PAGE).conditional(req));
    let env = Env::new();
    update_one(&env, &server.url("/p"), &[]).0.expect_code(0);
    let run = env.run(&["update"]);
    run.expect_code(0);
    assert!(
        run.stdout()
            .contains("0 new, 0 changed, 1 unchanged, 0 failed; 0 indexed"),
        "{}",
        run.stdout()
    );
    assert_eq!(server.hits("/p"), 2);
    let second = server.requests().last().unwrap().clone();
    assert!(second.header("if-none-match").is_some());
    // --max-age: checked just now, so not even a conditional request.
    env.run(&["update", "--max-age", "1h"]).expect_code(0);
    assert_eq!(server.hits("/p"), 2);
    // --force refetches.
    env.run(&["update", "--force"]).expect_code(0);
    assert_eq!(server.hits("/p"), 3);
    assert!(
        server
            .requests()
            .last()
            .unwrap()
            .header("if-none-match")
            .is_none()
    );
}

fn slow_list(env: &Env, server: &Server, n: usize) -> String {
    let mut md = String::from("# Slow\n");
    for i in 0..n {
        md += &format!("- [page {i}]({})\n", server.url(&format!("/p{i}")));
    }
    env.write("slow.md", &md).to_str().unwrap().to_string()
}

fn slow_server(delay_ms: u64) -> Server {
    Server::start(move |req| {
        Reply::html(&format!(
            "<html><head><title>Page {0}</title></head><body><article><p>Page {0} is about cormorants and has enough words in it to be indexed as text.</p></article></body></html>",
            req.path
        ))
        .delayed(Duration::from_millis(delay_ms))
        .conditional(req)
    })
}

#[test]
fn a_concurrent_update_fails_fast_or_waits() {
    let server = slow_server(3000);
    let env = Env::new();
    let list = slow_list(&env, &server, 2);
    let mut first = env
        .command(env.dir.path(), &["update", "--list", &list])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first holds the lock (it has asked for a page), not for a fixed time.
    while server.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = env.run(&["update", "--list", &list]);
    second.expect_code(2);
    assert!(
        second
            .stderr()
            .contains("being updated by another rl-search"),
        "{}",
        second.stderr()
    );
    // Order, not time: the second gave up while the first was still running.
    assert!(
        first.try_wait().unwrap().is_none(),
        "fails at once, without waiting for the first"
    );
    let waited = env.run(&["update", "--list", &list, "--wait"]);
    waited.expect_code(0);
    assert!(first.wait().unwrap().success());
}

#[test]
fn kill_9_mid_update_leaves_a_readable_library_and_the_next_run_finishes() {
    let server = slow_server(150);
    let env = Env::new();
    let list = slow_list(&env, &server, 30);
    // A first, complete update of part of the list, so there is something to keep.
    let first_list = env.write("first.md", &format!("- [page 0]({})\n", server.url("/p0")));
    env.run(&["update", "--list", first_list.to_str().unwrap()])
        .expect_code(0);

    let mut child = env
        .command(
            env.dir.path(),
            &["update", "--list", &list, "--per-host", "2"],
        )
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once several pages have been served, and make sure the kill lands mid-update:
    // the update is still running, and some pages were never requested.
    let started = Instant::now();
    while server.requests().len() < 8 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the update already ended"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let requested = server.requests().len();
    assert!(
        requested < 30,
        "the kill came after every page was requested"
    );
    // Records only: a kill during a write can leave a temporary file beside them.
    let stored = std::fs::read_dir(env.library().join("docs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count();
    assert!(stored > 1, "the killed update stored the pages it finished");

    // Readable right away: search and status work on what was committed.
    let run = env.run(&["cormorants", "--json"]);
    run.expect_code(0);
    env.run(&["status"]).expect_code(0);

    // The next run repairs: everything fetched and indexed, nothing lost; the pages the
    // killed run stored are recognised as such, not fetched as new.
    let run = env.run(&["update"]);
    run.expect_code(0);
    assert!(
        run.stdout().starts_with(&format!(
            "{} new, 0 changed, {} unchanged",
            30 - stored,
            stored
        )),
        "{stored} stored before the kill: {}",
        run.stdout()
    );
    let hits = env.run(&["cormorants", "--json", "-n", "100"]).json_lines();
    assert_eq!(hits.len(), 30, "{}", run.stdout());
}

#[test]
fn an_exhausted_api_rate_limit_says_what_to_do() {
    // The local server stands in for api.github.com as an HTTP proxy would.
    let server = Server::start(|_| {
        Reply::status(403)
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", "1999999999")
    });
    let env = Env::new();
    let list = env.write("list.md", "- [r](http://api.github.com/repos/o/r/readme)\n");
    let out = env
        .command(
            env.dir.path(),
            &["update", "--list", list.to_str().unwrap()],
        )
        .env("HTTP_PROXY", server.url(""))
        .env_remove("NO_PROXY")
        .output()
        .unwrap();
    let run = common::Run(out);
    run.expect_code(1);
    assert!(run.stdout().contains("GITHUB_TOKEN"), "{}", run.stdout());
    assert_eq!(server.requests().len(), 1, "no retries");
}

/// Issue 14: only GitHub's API gets GitHub's advice; elsewhere the header is an ordinary 429.
#[test]
fn a_rate_limit_header_elsewhere_is_an_ordinary_429() {
    let server = counting(|n| {
        if n == 0 {
            Reply::status(429)
                .with_header("X-RateLimit-Remaining", "0")
                .with_header("Retry-After", "1")
        } else {
            Reply::html(PAGE)
        }
    });
    let env = Env::new();
    let (run, _) = update_one(&env, &server.url("/p"), &[]);
    run.expect_code(0);
    assert!(!run.stdout().contains("GITHUB_TOKEN"), "{}", run.stdout());
    assert_eq!(server.hits("/p"), 2, "retried after the pause");
}

/// Issue 14: a 429 pauses the whole host, not just the link that got it.
#[test]
fn a_429_pauses_every_link_of_the_host() {
    // Whichever link is asked for first gets the 429 (the order of tasks is not fixed).
    let server = counting(|n| {
        if n == 0 {
            Reply::status(429).with_header("Retry-After", "2")
        } else {
            Reply::html(PAGE)
        }
    });
    let env = Env::new();
    let list = env.write(
        "list.md",
        &["/a", "/b", "/c", "/d", "/e"]
            .iter()
            .map(|p| format!("- [{p}]({})\n", server.url(p)))
            .collect::<String>(),
    );
    // One request at a time to the host, so none is in flight when the 429 comes.
    env.run(&[
        "update",
        "--list",
        list.to_str().unwrap(),
        "--per-host",
        "1",
    ])
    .expect_code(0);
    let reqs = server.requests();
    let first = reqs[0].at;
    let after = &reqs[1..];
    assert_eq!(
        after.len(),
        5,
        "the retry and the four links queued behind it"
    );
    for r in after {
        let gap = r.at.duration_since(first);
        assert!(
            gap >= Duration::from_millis(1900),
            "{} was requested {gap:?} after the 429 asked for 2 s",
            r.path
        );
    }
}

/// Issue 14: a Retry-After longer than the fetcher would wait fails at once, saying when.
#[test]
fn a_retry_after_beyond_the_longest_wait_fails_at_once() {
    let server = Server::start(|_| Reply::status(503).with_header("Retry-After", "3600"));
    server.expect("/p", 1); // no retries
    let env = Env::new();
    let (run, secs) = update_one(&env, &server.url("/p"), &[]);
    run.expect_code(1);
    assert!(run.stdout().contains("retried in 1h"), "{}", run.stdout());
    assert!(secs < 20.0, "took {secs:.1} s");
}

/// Issue 14: nobody listening is not worth three retries.
#[test]
fn a_refused_connection_is_not_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = Env::new();
    let (run, secs) = update_one(&env, &format!("http://127.0.0.1:{port}/p"), &[]);
    run.expect_code(1);
    assert!(
        run.stdout().contains("connection refused"),
        "{}",
        run.stdout()
    );
    // Three retries back off 0.5 + 1 + 2 s at least.
    assert!(secs < 3.0, "took {secs:.1} s");
}

#[test]
fn an_unresolvable_host_fails_fast_without_retries_or_waiting_its_turn() {
    // `.invalid` never resolves (RFC 2606). Three links on one host spaced 5 s apart would
    // take 10 s if each waited its turn; a dead host's queue drains at once.
    let env = Env::new();
    let list = env.write(
        "list.md",
        "- [a](http://rl-search-test.invalid/a)\n- [b](http://rl-search-test.invalid/b)\n- [c](http://rl-search-test.invalid/c)\n",
    );
    let t = Instant::now();
    let run = env.run(&[
        "update",
        "--list",
        list.to_str().unwrap(),
        "--host-rule",
        "rl-search-test.invalid=1/5s",
    ]);
    run.expect_code(1);
    assert!(run.stdout().contains("3 failed"), "{}", run.stdout());
    assert!(
        run.stdout()
            .contains("cannot resolve the host rl-search-test.invalid"),
        "{}",
        run.stdout()
    );
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?}",
        t.elapsed()
    );
}

/// A stored copy made by an older extractor is re-extracted from its stored bytes; when those
/// bytes are gone, the link stays as it was instead of failing on every update.
#[test]
fn an_old_copy_without_its_stored_bytes_is_kept_not_failed() {
    let server = Server::start(|req| {
        let page = "<html><head><title>Kept</title></head><body><article><p>This page talks about lighthouses long enough to be the main text of the page.</p></article></body></html>";
        Reply::html(page).conditional(req)
    });
    let env = Env::new();
    let list = env.write("list.md", &format!("- [Kept]({})\n", server.url("/kept")));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    // As an older rl-search left it: an older extractor, and the raw bytes deleted.
    let docs = env.library().join("docs");
    let record = std::fs::read_dir(&docs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let mut rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    rec["extractor"] = 0.into();
    std::fs::write(&record, rec.to_string()).unwrap();
    for f in std::fs::read_dir(env.library().join("raw"))
        .unwrap()
        .flatten()
    {
        std::fs::remove_file(f.path()).unwrap();
    }
    let run = env.run(&["update", "--list", list.to_str().unwrap()]);
    run.expect_code(0);
    assert!(run.stdout().contains("1 unchanged"), "{}", run.stdout());
    assert_eq!(
        env.run(&["search", "--json", "lighthouses"])
            .json_lines()
            .len(),
        1
    );
}

#[test]
fn nearest_documents_that_cannot_be_written_are_a_warning_not_a_failed_update() {
    let server = Server::start(|_| Reply::html(PAGE));
    let env = Env::new();
    // Something in the way of the file: a folder where it goes.
    let file = env.library().join("tantivy").join("rl-neighbours.bin");
    std::fs::create_dir_all(file.join("in-the-way")).unwrap();
    let (run, _) = update_one(&env, &server.url("/page"), &[]);
    run.expect_code(0);
    let err = run.stderr();
    assert!(
        err.contains("warning: nearest documents not computed")
            && err.contains("rl-neighbours.bin"),
        "{err}"
    );
    let hits = env.run(&["search", "--json", "lighthouses"]);
    hits.expect_code(0);
    assert_eq!(hits.json_lines()[0]["title"], "Fine Page");
}
