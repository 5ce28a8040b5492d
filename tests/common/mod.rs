//! Test harness: a temp library, an in-process HTTP server on 127.0.0.1 whose answers the test
//! scripts, fixtures we make ourselves (a PDF built with lopdf), and the real binary run with an
//! isolated environment (no proxies, no user config).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    /// When the request arrived (for order and spacing, never for upper bounds).
    pub at: std::time::Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// How the server misbehaves, when it does.
#[derive(Debug, Clone, Default)]
pub enum Fault {
    #[default]
    None,
    /// Read the request, never answer.
    Hang,
    /// Send headers with the full length, half the body, then close.
    ResetMidBody,
    /// Send the body a few bytes at a time, with this pause between writes.
    Drip(Duration),
}

/// A scripted answer.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub fault: Fault,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            ..Default::default()
        }
    }
    pub fn html(body: &str) -> Reply {
        Reply::new(200, "text/html; charset=utf-8", body)
    }
    pub fn redirect(to: &str) -> Reply {
        Reply {
            status: 301,
            headers: vec![("Location".into(), to.into())],
            ..Default::default()
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply::new(
            status,
            "text/html",
            format!("<html><body>status {status}</body></html>"),
        )
    }
    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
    pub fn with_fault(mut self, f: Fault) -> Reply {
        self.fault = f;
        self
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    /// Adds an ETag from the body and answers 304 when the request's If-None-Match matches.
    pub fn conditional(self, req: &Request) -> Reply {
        let etag = format!("\"{:x}\"", fxhash(&self.body));
        if req.header("if-none-match") == Some(etag.as_str()) {
            return Reply {
                status: 304,
                headers: vec![("ETag".into(), etag)],
                delay: self.delay,
                ..Default::default()
            };
        }
        self.with_header("ETag", &etag)
    }
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100000001b3)
    })
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 answering from a closure; counts requests per path.
pub struct Server {
    pub port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<Request>>>,
    /// (path, requests expected), checked when the server is dropped.
    expected: Mutex<Vec<(String, usize)>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if thread::panicking() {
            return;
        }
        for (path, n) in self.expected.lock().unwrap().iter() {
            assert_eq!(self.hits(path), *n, "requests for {path}");
        }
    }
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_on("127.0.0.1:0", handler)
    }

    /// Serves on a given address (e.g. another loopback address, for per-host tests).
    pub fn start_on(
        addr: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind(addr).expect("bind a loopback address");
        let port = listener.local_addr().unwrap().port();
        let handler: Arc<Handler> = Arc::new(handler);
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (h2, l2) = (hits.clone(), log.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, hits, log) = (handler.clone(), h2.clone(), l2.clone());
                thread::spawn(move || serve(stream, &*handler, &hits, &log));
            }
        });
        Server {
            port,
            hits,
            log,
            expected: Mutex::new(vec![]),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Expects exactly `n` requests for `path` by the time the server is dropped.
    pub fn expect(&self, path: &str, n: usize) -> &Self {
        self.expected.lock().unwrap().push((path.to_string(), n));
        self
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(
    mut stream: TcpStream,
    handler: &Handler,
    hits: &Mutex<HashMap<String, usize>>,
    log: &Mutex<Vec<Request>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let req = Request {
            path: path.clone(),
            headers,
            at: std::time::Instant::now(),
        };
        *hits.lock().unwrap().entry(path).or_default() += 1;
        log.lock().unwrap().push(req.clone());
        let reply = handler(&req);
        thread::sleep(reply.delay);
        if matches!(reply.fault, Fault::Hang) {
            thread::sleep(Duration::from_secs(600));
            return;
        }
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            head += &format!("{k}: {v}\r\n");
        }
        head += "\r\n";
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        match reply.fault {
            Fault::ResetMidBody => {
                let _ = stream.write_all(&reply.body[..reply.body.len() / 2]);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Fault::Drip(pause) => {
                for chunk in reply.body.chunks(4) {
                    if stream.write_all(chunk).is_err() {
                        return;
                    }
                    thread::sleep(pause);
                }
            }
            _ => {
                if stream.write_all(&reply.body).is_err() {
                    return;
                }
            }
        }
        let _ = stream.flush();
    }
}

/// A one-page PDF whose text is `lines`, with an optional metadata title.
pub fn make_pdf(title: Option<&str>, lines: &[&str]) -> Vec<u8> {
    make_pdf_padded(title, lines, 0)
}

/// [`make_pdf`] with an unreferenced stream of `padding` bytes, as big figures make real
/// papers big (for memory benchmarks).
pub fn make_pdf_padded(title: Option<&str>, lines: &[&str], padding: usize) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 12.into()]),
        Operation::new("TL", vec![16.into()]),
        Operation::new("Td", vec![72.into(), 760.into()]),
    ];
    for l in lines {
        ops.push(Operation::new("Tj", vec![Object::string_literal(*l)]));
        ops.push(Operation::new("T*", vec![]));
    }
    ops.push(Operation::new("ET", vec![]));
    let content = Content { operations: ops };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    if padding > 0 {
        let pad: Vec<u8> = (0..padding).map(|i| (i * 7 % 251) as u8).collect();
        doc.add_object(Stream::new(dictionary! { "Type" => "XObject" }, pad));
    }
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    if let Some(t) = title {
        let info = doc.add_object(dictionary! { "Title" => Object::string_literal(t) });
        doc.trailer.set("Info", info);
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temp folder with a library inside and a way to run the binary against it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        COUNTER.fetch_add(1, Ordering::Relaxed);
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn library(&self) -> PathBuf {
        self.path("lib")
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Runs rl-search with the library in the temp dir and nothing from the user's environment.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self
            .command(self.dir.path(), args)
            .output()
            .expect("run rl-search");
        Run(out)
    }

    pub fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rl-search"));
        cmd.args(args).current_dir(cwd);
        for v in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "PAGER",
            "GITHUB_TOKEN",
            "RL_SEARCH_MODEL",
            "XDG_CACHE_HOME",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("NO_PROXY", "*")
            .env("RL_SEARCH_INDEX", self.library())
            .env("NO_COLOR", "1")
            .env("HOME", self.dir.path());
        cmd
    }
}

/// The output of one run, with helpers that print everything on failure.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout()
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }
}

/// Compares whole outputs line by line; on a difference prints both with `-`/`+` marks on
/// the lines that differ, so a failure shows what changed, not just that something did.
pub fn assert_same_lines(expected: &str, actual: &str) {
    if expected.trim_end() == actual.trim_end() {
        return;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut diff = String::new();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => diff += &format!("  {x}\n"),
            (x, y) => {
                if let Some(x) = x {
                    diff += &format!("- {x}\n");
                }
                if let Some(y) = y {
                    diff += &format!("+ {y}\n");
                }
            }
        }
    }
    panic!("output differs (- expected, + actual):\n{diff}");
}

/// One run of text placed on a page: `x`, `y` in points from the bottom-left corner.
pub struct Placed<'a> {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub text: &'a str,
}

/// Shorthand for a [`Placed`] run.
pub fn at(x: f32, y: f32, size: f32, text: &str) -> Placed<'_> {
    Placed { x, y, size, text }
}

/// An A4 PDF whose pages draw these runs, in this order, in Helvetica.
pub fn make_layout_pdf(pages: &[Vec<Placed>]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = vec![];
    for runs in pages {
        let mut ops = vec![];
        for r in runs {
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec!["F1".into(), r.size.into()]));
            ops.push(Operation::new(
                "Tm",
                vec![
                    1.into(),
                    0.into(),
                    0.into(),
                    1.into(),
                    r.x.into(),
                    r.y.into(),
                ],
            ));
            ops.push(Operation::new("Tj", vec![Object::string_literal(r.text)]));
            ops.push(Operation::new("ET", vec![]));
        }
        let content = Content { operations: ops };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(Object::from(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
pub mod reader;
