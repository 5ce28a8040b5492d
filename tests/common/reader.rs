//! The web reader under test: `rl-search serve --port 0` on a library built from a local
//! fixture site, and a raw HTTP/1.1 client that can send any Host or Origin header.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{Env, Reply, Server, make_pdf};

pub const EVIL_TITLE: &str = "<img src=x onerror=\"document.title='pwned'\">Evil";
/// Pages about zebras: more than one page of results.
pub const ZEBRAS: usize = 25;

/// A site with a paper (PDF), a page with a hostile title, and many small pages.
pub fn fixture_site() -> Server {
    let pdf = make_pdf(
        Some("Attention Mechanisms in Practice"),
        &[
            "Attention mechanisms let a transformer weigh tokens against each other.",
            "Self-attention compares every token with every other token in the sequence.",
            "Multi-head attention runs several attention functions side by side.",
        ],
    );
    Server::start(move |req| match req.path.as_str() {
        "/paper.pdf" => Reply::new(200, "application/pdf", pdf.clone()),
        "/evil" => Reply::html(&format!(
            "<html><head><title>{}</title></head><body><article><p>The quokka is a small marsupial that lives on islands off Western Australia and smiles for photographs.</p><p>Quokkas are nocturnal and eat grasses, leaves and stems, climbing shrubs to reach them.</p><script>document.title='pwned'</script></article></body></html>",
            EVIL_TITLE
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        )),
        p if p.starts_with("/zebra/") => {
            let n = &p[7..];
            // Three topics, so that notes have something in common with some notes only.
            let topic = ["stripes", "herds", "lions"][n.parse::<usize>().unwrap_or(0) % 3];
            Reply::html(&format!(
                "<html><head><title>Zebra note {n}</title></head><body><article><p>Zebra note {n} is about {topic}: zebras and their {topic}, and what {topic} mean for a zebra on the savanna, number {n} of many.</p><p>Zebras graze the grasslands of Africa and keep watch in turn, which is how a zebra spends most of its day.</p></article></body></html>"
            ))
        }
        _ => Reply::status(404),
    })
}

/// A list of everything on the fixture site, updated into the env's library.
pub fn build_library(env: &Env, site: &Server) {
    let mut list = format!(
        "# Reading\n\n## Papers\n\n- [Attention]({})\n\n## Animals\n\n- [Quokkas]({})\n",
        site.url("/paper.pdf"),
        site.url("/evil")
    );
    for i in 0..ZEBRAS {
        list.push_str(&format!(
            "- [Zebra {i}]({})\n",
            site.url(&format!("/zebra/{i}"))
        ));
    }
    let path = env.write("list.md", &list);
    env.run(&["update", "--list", path.to_str().unwrap()])
        .expect_code(0);
}

/// A running `rl-search serve`; stopped when dropped.
pub struct Reader {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub port: u16,
    /// `http://127.0.0.1:PORT/`, as the server printed it.
    pub url: String,
}

impl Reader {
    pub fn start(env: &Env) -> Reader {
        Self::start_with(env, &[])
    }

    pub fn start_with(env: &Env, extra: &[&str]) -> Reader {
        Self::start_with_env(env, extra, &[])
    }

    pub fn start_with_env(env: &Env, extra: &[&str], vars: &[(&str, &str)]) -> Reader {
        let mut args = vec!["serve", "--port", "0"];
        args.extend_from_slice(extra);
        let mut child = env
            .command(env.dir.path(), &args)
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rl-search serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("serve prints its URL first");
        let url = line.trim().to_string();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        Reader {
            child,
            addr,
            port,
            url,
        }
    }

    /// Sends Ctrl-C (SIGINT) and waits for the exit, at most 10 s.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill -INT");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Ctrl-C did not stop the server"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// GET with the right Host.
    pub fn get(&self, path: &str) -> Response {
        let host = self.addr.clone();
        self.request("GET", path, &[("Host", &host)], "")
    }

    /// Any request, with exactly these headers (the Host too).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response {
        let mut s = TcpStream::connect(&self.addr).expect("connect to the reader");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = vec![];
        s.read_to_end(&mut raw).unwrap();
        Response::parse(&raw)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete HTTP answer");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        if chunked {
            body = dechunk(&body);
        }
        Response {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    while let Some(end) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < end + 4 + size {
            break;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
    out
}
