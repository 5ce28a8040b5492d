//! Library benchmark (not a test). Generates a synthetic library — Zipf-distributed vocabulary,
//! documents of 2–80 KB of text skewed towards short ones (mean about 5 KB) — then measures,
//! running the real binary as a user would:
//! - re-indexing from stored text with 1 and 2 threads (MB/s, peak RSS), and segments after;
//! - whole-process search latency, warm (and cold, where dropping the page cache is permitted),
//!   p50/p95, for a term, two terms, a phrase, a filtered query and a query with no hits;
//! - the same queries with `rg -i -l` over the stored text, when ripgrep is installed;
//! - an update over the unchanged library (every link answers 304).
//!
//! `cargo bench --bench library -- --docs 1000` (default) or `-- --docs 100000`; add
//! `--dir PATH` to keep the generated library (and `--generate-only` to stop there).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rl_search::store::{self, DocRecord, Manifest, ManifestEntry, SourceRecord, State};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const VOCAB: usize = 50_000;
/// Real words planted at chosen Zipf ranks, so queries have known frequencies.
const PLANTED: &[(usize, &str)] = &[
    (150, "transformer"),
    (300, "attention"),
    (900, "embedding"),
    (2500, "kubernetes"),
];

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    let syll = [
        "ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "gri", "mon", "tel", "vas",
        "quo", "zen", "ber", "lin",
    ];
    let mut words: Vec<String> = (0..VOCAB)
        .map(|_| {
            let n = 1 + (rng.next() % 4) as usize;
            (0..n)
                .map(|_| syll[(rng.next() % syll.len() as u64) as usize])
                .collect()
        })
        .collect();
    for (rank, w) in PLANTED {
        words[*rank] = w.to_string();
    }
    words
}

/// Cumulative Zipf weights (s = 1.07) for sampling by binary search.
fn zipf_cdf() -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=VOCAB)
        .map(|r| {
            acc += 1.0 / (r as f64).powf(1.07);
            acc
        })
        .collect();
    let total = acc;
    cdf.iter_mut().for_each(|c| *c /= total);
    cdf
}

fn generate(dir: &Path, docs: usize, port: u16) -> u64 {
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let words = vocabulary(&mut rng);
    let cdf = zipf_cdf();
    for sub in ["docs", "raw", "text", "tantivy"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let kinds = [
        "page", "page", "page", "paper", "paper", "pdf", "video", "page", "repo", "page",
    ];
    let mut manifest = Manifest {
        lists: vec![dir.join("bench.md").display().to_string()],
        entries: vec![],
    };
    let mut total = 0u64;
    let urls: Vec<String> = (0..docs)
        .map(|i| format!("http://127.0.0.{}:{port}/doc/{i}", i % 16 + 1))
        .collect();
    // At 100k URLs some 8-digit ids collide; the library gives those longer ids.
    let ids = store::assign_ids(urls.iter().map(String::as_str), None);
    for i in 0..docs {
        let target = (2000.0 * 40f64.powf(rng.unit().powi(8))) as usize;
        let mut text = String::with_capacity(target + 100);
        let mut in_para = 0;
        while text.len() < target {
            let u = rng.unit();
            let w = &words[cdf.partition_point(|&c| c < u).min(VOCAB - 1)];
            text.push_str(w);
            in_para += 1;
            if i % 97 == 0 && in_para == 40 {
                text.push_str(" scaling laws");
            }
            text.push_str(if in_para >= 80 { "\n\n" } else { " " });
            if in_para >= 80 {
                in_para = 0;
            }
        }
        total += text.len() as u64;
        let url = urls[i].clone();
        let id = ids[i].clone();
        let sha = store::sha256_hex(text.as_bytes());
        let text_file = format!("{id}-{}.txt", &sha[..16]);
        std::fs::write(dir.join("text").join(&text_file), &text).unwrap();
        let title: Vec<&str> = (0..6)
            .map(|_| words[(rng.next() % 5000) as usize].as_str())
            .collect();
        let section = format!("Section {}", i % 20);
        let rec = DocRecord {
            id: id.clone(),
            url: url.clone(),
            link_text: title.join(" "),
            section: section.clone(),
            kind: kinds[i % kinds.len()].to_string(),
            title: title.join(" "),
            state: State::Ok,
            http_status: Some(200),
            bytes: text.len() as u64,
            text_chars: text.len(),
            text_sha256: Some(sha.clone()),
            text_file: Some(text_file),
            fetched_at: Some("2026-01-01T00:00:00Z".into()),
            checked_at: Some("2026-01-01T00:00:00Z".into()),
            // Made by this version's extractor: an unchanged update re-extracts nothing.
            extractor: rl_search::extract::VERSION,
            sources: vec![SourceRecord {
                url: url.clone(),
                final_url: url.clone(),
                http_status: 200,
                content_type: Some("text/plain".into()),
                etag: Some("\"v1\"".into()),
                sha256: sha,
                bytes: text.len() as u64,
                raw_file: String::new(),
                ..Default::default()
            }],
            ..Default::default()
        };
        std::fs::write(
            dir.join("docs").join(format!("{id}.json")),
            serde_json::to_vec(&rec).unwrap(),
        )
        .unwrap();
        manifest.entries.push(ManifestEntry {
            id,
            url,
            link_text: rec.link_text,
            section,
            tags: vec![],
            saved: None,
        });
    }
    std::fs::write(
        dir.join("library.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    // The list as a user would keep it: one heading per section, its links below.
    let mut list = String::from("# Bench\n");
    for k in 0..20 {
        let section = format!("Section {k}");
        list += &format!("\n## {section}\n\n");
        for e in manifest.entries.iter().filter(|e| e.section == section) {
            list += &format!("- [{}]({})\n", e.link_text, e.url);
        }
    }
    std::fs::write(dir.join("bench.md"), list).unwrap();
    total
}

/// Runs the binary; returns wall time and peak RSS in KB (via GNU time when present).
fn timed(bin: &Path, args: &[&str]) -> (Duration, Option<u64>, String) {
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("RSS_KB=%M").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env("NO_PROXY", "*");
    let t = Instant::now();
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let wall = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = err
        .lines()
        .find_map(|l| l.strip_prefix("RSS_KB="))
        .and_then(|v| v.trim().parse().ok());
    if !out.status.success() && !err.contains("RSS_KB") {
        eprintln!("{}", err);
    }
    (
        wall,
        rss,
        String::from_utf8_lossy(&out.stdout).into_owned() + &err,
    )
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn drop_caches() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let docs: usize = args
        .iter()
        .position(|a| a == "--docs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runs = 30;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rl-search"));
    let tmp = tempfile::tempdir().unwrap();
    // --dir PATH keeps the generated library for profiling.
    let lib = match args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
    {
        Some(d) => PathBuf::from(d),
        None => tmp.path().join("lib"),
    };
    let lib_s = lib.to_str().unwrap().to_string();

    // A 304 server on 16 loopback hosts, for the unchanged update.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for h in 1..=16 {
        common::Server::start_on(&format!("127.0.0.{h}:{port}"), |req| {
            if req.header("if-none-match") == Some("\"v1\"") {
                common::Reply {
                    status: 304,
                    ..Default::default()
                }
            } else {
                common::Reply::new(200, "text/plain", "changed")
            }
        });
    }

    let t = Instant::now();
    let bytes = generate(&lib, docs, port);
    let mb = bytes as f64 / 1e6;
    println!(
        "library: {docs} documents, {mb:.1} MB of text (generated in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    if args.iter().any(|a| a == "--generate-only") {
        return;
    }
    println!();
    println!("| measurement | result |");
    println!("|---|---|");

    for threads in ["1", "2"] {
        let (wall, rss, out) = timed(
            &bin,
            &[
                "--index",
                &lib_s,
                "update",
                "--reindex",
                "--index-threads",
                threads,
            ],
        );
        assert!(out.contains(&format!("{docs} indexed")), "stdout: {out}");
        println!(
            "| re-index from stored text, {threads} thread(s) | {:.1} s, {:.1} MB/s, peak RSS {} MB |",
            wall.as_secs_f64(),
            mb / wall.as_secs_f64(),
            rss.map_or("?".into(), |k| (k / 1024).to_string())
        );
    }
    let meta = std::fs::read_to_string(lib.join("tantivy/meta.json")).unwrap();
    let segments = serde_json::from_str::<serde_json::Value>(&meta).unwrap()["segments"]
        .as_array()
        .map_or(0, |s| s.len());
    println!("| searchable segments after re-index | {segments} |");

    let queries: [(&str, Vec<&str>, Vec<&str>); 5] = [
        ("term", vec!["attention"], vec!["attention"]),
        (
            "two terms",
            vec!["attention", "kubernetes"],
            vec!["-e", "attention", "-e", "kubernetes"],
        ),
        ("phrase", vec!["\"scaling laws\""], vec!["scaling laws"]),
        (
            "filtered",
            vec!["embedding", "--kind", "paper", "--section", "section 3"],
            vec!["embedding"],
        ),
        ("no hits", vec!["zzqqxxjj"], vec!["zzqqxxjj"]),
    ];
    let has_rg = Command::new("rg")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let text_dir = lib.join("text");
    let can_drop = drop_caches();
    let mut max_rss = 0;
    for (name, q, rgq) in &queries {
        let mut search_args = vec![
            "--index",
            lib_s.as_str(),
            "search",
            "-n",
            "10",
            "--color",
            "never",
        ];
        search_args.extend(q.iter().copied());
        for _ in 0..3 {
            timed(&bin, &search_args);
        }
        let mut warm: Vec<f64> = (0..runs)
            .map(|_| {
                let (w, rss, _) = timed(&bin, &search_args);
                max_rss = max_rss.max(rss.unwrap_or(0));
                w.as_secs_f64() * 1000.0
            })
            .collect();
        let (p50, p95) = (percentile(&mut warm, 0.5), percentile(&mut warm, 0.95));
        let mut line = format!("| search, {name}, warm | p50 {p50:.1} ms, p95 {p95:.1} ms");
        if can_drop {
            let mut cold: Vec<f64> = (0..10)
                .map(|_| {
                    drop_caches();
                    timed(&bin, &search_args).0.as_secs_f64() * 1000.0
                })
                .collect();
            line += &format!(
                "; cold p50 {:.0} ms, p95 {:.0} ms",
                percentile(&mut cold, 0.5),
                percentile(&mut cold, 0.95)
            );
        }
        if has_rg {
            let mut rg_args = vec!["-i", "-l"];
            rg_args.extend(rgq.iter().copied());
            rg_args.push(text_dir.to_str().unwrap());
            let mut rg: Vec<f64> = (0..10)
                .map(|_| {
                    let t = Instant::now();
                    Command::new("rg")
                        .args(&rg_args)
                        .stdout(Stdio::null())
                        .status()
                        .unwrap();
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            let rg50 = percentile(&mut rg, 0.5);
            line += &format!("; rg -i -l p50 {rg50:.1} ms ({:.1}x rl-search)", rg50 / p50);
        }
        println!("{line} |");
    }
    println!("| search peak RSS | {} MB |", max_rss / 1024);
    if !can_drop {
        println!("| cold search | not measured: dropping the page cache is not permitted here |");
    }

    serve_latency(&bin, &lib_s);

    {
        let (wall, rss, out) = timed(&bin, &["--index", &lib_s, "update", "--per-host", "8"]);
        assert!(out.contains(&format!("{docs} unchanged")), "{out}");
        println!(
            "| update, unchanged library ({docs} x 304) | {:.2} s, peak RSS {} MB ({}) |",
            wall.as_secs_f64(),
            rss.map_or("?".into(), |k| (k / 1024).to_string()),
            out.lines().next().unwrap_or("")
        );
    }
}

/// Server time of the web reader's pages (loopback, one connection per request): the first
/// page right after start, then warm percentiles.
fn serve_latency(bin: &Path, lib: &str) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(bin)
        .args(["--index", lib, "serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rl-search serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let get = |path: &str| -> f64 {
        let t = Instant::now();
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = vec![];
        s.read_to_end(&mut answer).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{path}");
        t.elapsed().as_secs_f64() * 1000.0
    };
    let first = get("/");
    for (name, path) in [
        ("first page /", "/"),
        ("search page (one term)", "/search?q=attention"),
        ("search page (two terms)", "/search?q=attention+kubernetes"),
        ("status page (200 links)", "/status"),
    ] {
        get(path);
        let mut times: Vec<f64> = (0..30).map(|_| get(path)).collect();
        let p50 = percentile(&mut times, 0.5);
        let p95 = percentile(&mut times, 0.95);
        let extra = if path == "/" {
            format!("; the very first request {first:.1} ms")
        } else {
            String::new()
        };
        println!("| web reader: {name} | p50 {p50:.1} ms, p95 {p95:.1} ms{extra} |");
    }
    let _ = child.kill();
    let _ = child.wait();
}
