//! Memory benchmark (not a test): peak RSS of a first update of 200 large PDFs (5 MB each:
//! a page of text plus a big embedded stream, as scanned figures make real papers big),
//! served from 20 loopback hosts so that 40 downloads run at once.
//!
//! `cargo bench --bench memory -- [--pdfs N] [--mb M] [--bin PATH]` (`--bin` measures another
//! build of rl-search, e.g. an older one, on the same files).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use common::{Env, Reply};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let pdfs: usize = flag("--pdfs").and_then(|v| v.parse().ok()).unwrap_or(200);
    let mb: usize = flag("--mb").and_then(|v| v.parse().ok()).unwrap_or(5);
    let bin = flag("--bin")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_rl-search")));
    let title = "A large paper about memory budgets";
    let body = Arc::new(common::make_pdf_padded(
        Some(title),
        &[title],
        mb * 1024 * 1024,
    ));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for h in 1..=20 {
        let body = body.clone();
        common::Server::start_on(&format!("127.0.0.{h}:{port}"), move |_| {
            Reply::new(200, "application/pdf", body.as_slice())
        });
    }
    let env = Env::new();
    let mut md = String::from("# Papers\n");
    for i in 0..pdfs {
        md += &format!(
            "- [p{i}](http://127.0.0.{}:{port}/paper{i}.pdf)\n",
            i % 20 + 1
        );
    }
    let list = env.write("papers.md", &md);
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "RSS_KB=%M"])
        .arg(&bin)
        .args(["update", "--list", list.to_str().unwrap()])
        .env("RL_SEARCH_INDEX", env.library())
        .env("NO_PROXY", "*")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run /usr/bin/time (Debian package: time)");
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err
        .lines()
        .find_map(|l| l.strip_prefix("RSS_KB="))
        .unwrap_or("?");
    println!(
        "{pdfs} PDFs of {} MB, 40 downloads at once: {:.1} s, peak RSS {} MB — {}",
        body.len() / (1024 * 1024),
        t.elapsed().as_secs_f64(),
        rss.trim()
            .parse::<u64>()
            .map_or("?".into(), |k| (k / 1024).to_string()),
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
    );
}
