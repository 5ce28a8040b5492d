//! Fetch benchmark (not a test): 200 links over 20 hosts (127.0.0.1–127.0.0.20) on a local
//! server that answers each request after 100–500 ms. Reports the first update's wall time as
//! a ratio to the slowest single download, and the time of a second, no-change update.
//!
//! Run: `cargo bench --bench fetch` (add `-- --per-host N --concurrency N` to change the limits).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Env, Reply};

const HOSTS: usize = 20;
const LINKS: usize = 200;

fn delay_for(path: &str) -> Duration {
    // Deterministic spread over 100–500 ms.
    let h = path
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    Duration::from_millis(100 + h % 401)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let per_host = args
        .iter()
        .position(|a| a == "--per-host")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "2".into());
    let concurrency = args
        .iter()
        .position(|a| a == "--concurrency")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "32".into());

    // One port for all hosts: bind each loopback address on the same port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for h in 1..=HOSTS {
        let addr = format!("127.0.0.{h}:{port}");
        common::Server::start_on(&addr, |req| {
            Reply::html(&format!(
                "<html><head><title>{0}</title></head><body><article><p>Benchmark page {0} with a paragraph of text long enough to be the main content.</p></article></body></html>",
                req.path
            ))
            .delayed(delay_for(&req.path))
            .conditional(req)
        });
    }
    let env = Env::new();
    let mut md = String::from("# Bench\n");
    let mut slowest = Duration::ZERO;
    for i in 0..LINKS {
        let host = i % HOSTS + 1;
        let path = format!("/page/{i}");
        slowest = slowest.max(delay_for(&path));
        md += &format!("- [p{i}](http://127.0.0.{host}:{port}{path})\n");
    }
    let list = env.write("bench.md", &md);
    let list = list.to_str().unwrap();

    let t = Instant::now();
    let run = env.run(&[
        "update",
        "--list",
        list,
        "--per-host",
        &per_host,
        "--concurrency",
        &concurrency,
    ]);
    let first = t.elapsed();
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    let t = Instant::now();
    let run = env.run(&[
        "update",
        "--per-host",
        &per_host,
        "--concurrency",
        &concurrency,
    ]);
    let second = t.elapsed();
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    // The best any scheduler can do under the per-host limit: each host's delays packed onto
    // `per_host` lanes in list order; the slowest host decides.
    let lanes: usize = per_host.parse().unwrap_or(2);
    let mut floor = Duration::ZERO;
    for h in 0..HOSTS {
        let mut lane = vec![Duration::ZERO; lanes.max(1)];
        for i in (h..LINKS).step_by(HOSTS) {
            let l = lane.iter_mut().min().unwrap();
            *l += delay_for(&format!("/page/{i}"));
        }
        floor = floor.max(*lane.iter().max().unwrap());
    }
    println!("links={LINKS} hosts={HOSTS} per_host={per_host} concurrency={concurrency}");
    println!(
        "slowest single download: {:.0} ms",
        slowest.as_secs_f64() * 1000.0
    );
    println!(
        "first update: {:.2} s = {:.2}x the slowest download; the per-host limit alone needs {:.2} s ({:.2}x of that)",
        first.as_secs_f64(),
        first.as_secs_f64() / slowest.as_secs_f64(),
        floor.as_secs_f64(),
        first.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "second update (all 304): {:.2} s — {}",
        second.as_secs_f64(),
        run.stdout().lines().next().unwrap_or("")
    );
}
