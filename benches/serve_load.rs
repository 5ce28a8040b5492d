//! Web reader load benchmark (not a test). Starts `rl-search serve` on a library and drives it
//! from N client threads on 127.0.0.1 for a bounded time: search pages (queries of one to four
//! words from the library's own vocabulary), reading views and static files, while H hostile
//! clients send 20 KB queries of 3,000 prefixes. Reports p50/p99 per kind of request, errors
//! (anything but a 2xx or 3xx, and failed connections) and throughput. Each client keeps its
//! connection open between requests, as a browser does.
//!
//! `cargo bench --bench serve_load -- --library DIR [--clients 32] [--seconds 20] [--hostile 2]`
//! with a library made by `update`, or by `cargo bench --bench library -- --docs 100000 --dir DIR`
//! (then `rl-search --index DIR update --reindex` to index it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const QUERIES: &[&str] = &[
    "transformer",
    "attention",
    "transformer attention",
    "scaling laws",
    "attention heads layer",
    "\"attention heads\"",
    "transf*",
    "model evaluation benchmark data",
];

#[derive(Default)]
struct Tally {
    times: Vec<f64>,
    errors: usize,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// One GET on the client's kept-alive connection (a browser keeps its connections open),
/// opened again when the server closed it; the status, or `None` when the request failed.
fn get(conn: &mut Option<BufReader<TcpStream>>, addr: &str, path: &str) -> Option<u16> {
    if conn.is_none() {
        let s = TcpStream::connect(addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        s.set_nodelay(true).ok()?;
        *conn = Some(BufReader::new(s));
    }
    let r = conn.as_mut()?;
    // One write: a request in pieces waits for delayed ACKs (40 ms) between them.
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let sent = r.get_mut().write_all(req.as_bytes());
    let answer = sent.ok().and_then(|_| read_answer(r));
    if answer.is_none_or(|(_, keep)| !keep) {
        *conn = None;
    }
    answer.map(|(status, _)| status)
}

/// Reads one answer with a Content-Length body: its status, and whether the connection
/// can carry the next request.
fn read_answer(r: &mut BufReader<TcpStream>) -> Option<(u16, bool)> {
    let mut status_line = String::new();
    r.read_line(&mut status_line).ok()?;
    let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let (mut len, mut keep) = (None, true);
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("connection:") && lower.contains("close") {
            keep = false;
        }
    }
    match len {
        Some(n) => {
            let mut body = vec![0u8; n];
            r.read_exact(&mut body).ok()?;
        }
        // A streamed body: read to the end, and this connection is done.
        None => {
            let mut rest = vec![];
            r.read_to_end(&mut rest).ok()?;
            keep = false;
        }
    }
    Some((status, keep))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(library) = arg(&args, "--library") else {
        eprintln!(
            "usage: cargo bench --bench serve_load -- --library DIR [--clients N] [--seconds S] [--hostile H]"
        );
        std::process::exit(2);
    };
    let clients: usize = arg(&args, "--clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let seconds: u64 = arg(&args, "--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let hostile: usize = arg(&args, "--hostile")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);

    let mut child = Command::new(env!("CARGO_BIN_EXE_rl-search"))
        .args(["--index", &library, "serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rl-search serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the server's URL");
    let addr = line
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();

    // Ids to read, from the library's own search.
    let ids: Vec<String> = {
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(s, "GET /api/search?q=attention&limit=50 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let body = raw.split("\r\n\r\n").nth(1).unwrap_or("[]");
        let hits: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        hits.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(!ids.is_empty(), "the library has no hits for \"attention\"");

    let kinds = [
        "search page",
        "reading view",
        "static file",
        "hostile query",
    ];
    let tallies: Arc<Vec<Mutex<Tally>>> =
        Arc::new(kinds.iter().map(|_| Mutex::default()).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let hostile_path = format!(
        "/search?q={}",
        (0..3000)
            .map(|i| format!("q{i}x*"))
            .collect::<Vec<_>>()
            .join("+")
    );
    let mut threads = vec![];
    for c in 0..clients + hostile {
        let (addr, ids, tallies, stop) = (addr.clone(), ids.clone(), tallies.clone(), stop.clone());
        let hostile_path = hostile_path.clone();
        threads.push(std::thread::spawn(move || {
            let mut n = c;
            let mut conn = None;
            while !stop.load(Ordering::Relaxed) {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = n >> 33;
                let (kind, path) = if c >= clients {
                    (3, hostile_path.clone())
                } else {
                    match pick % 10 {
                        0..=5 => {
                            let q = QUERIES[pick / 10 % QUERIES.len()];
                            let page = 1 + pick / 100 % 3;
                            (
                                0,
                                format!(
                                    "/search?q={}&page={page}",
                                    q.replace(' ', "+").replace('"', "%22")
                                ),
                            )
                        }
                        6 | 7 => (1, format!("/doc/{}", ids[pick / 10 % ids.len()])),
                        _ => (2, "/static/app.css".to_string()),
                    }
                };
                let t = Instant::now();
                let status = get(&mut conn, &addr, &path);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let mut tally = tallies[kind].lock().unwrap();
                tally.times.push(ms);
                if !status.is_some_and(|s| (200..400).contains(&s)) {
                    tally.errors += 1;
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let _ = child.kill();
    let _ = child.wait();

    println!("{clients} clients and {hostile} hostile ones for {seconds} s on {library}");
    println!();
    println!("| request | count | per s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|");
    for (kind, tally) in kinds.iter().zip(tallies.iter()) {
        let mut t = tally.lock().unwrap();
        if t.times.is_empty() {
            continue;
        }
        t.times.sort_by(f64::total_cmp);
        let at = |q: f64| t.times[((t.times.len() - 1) as f64 * q) as usize];
        println!(
            "| {kind} | {} | {:.0} | {:.1} ms | {:.1} ms | {} |",
            t.times.len(),
            t.times.len() as f64 / seconds as f64,
            at(0.5),
            at(0.99),
            t.errors
        );
    }
}
