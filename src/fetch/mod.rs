//! The fetcher: one HTTP GET with everything the real web needs around it — per-host politeness,
//! retries, conditional requests, a cap on the decoded body, bounded redirects and timeouts.
//! Proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) and `SSL_CERT_FILE` are honoured by reqwest.

pub mod politeness;
pub mod retry;

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::redirect;
use thiserror::Error;

use politeness::{HostGate, HostRule};

/// Larger decoded bodies are abandoned: no reading-list document is bigger, and it bounds memory.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// No byte for this long (headers or body) and the request is abandoned.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The whole transfer of one attempt, headers to last byte.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(120);

/// Requests in flight at once across all hosts.
pub const DEFAULT_GLOBAL_LIMIT: usize = 64;

/// Bytes of downloaded bodies held at once, from the first byte until the body is dropped
/// (after extraction): 64 requests of 64 MiB could otherwise hold 4 GiB.
pub const DEFAULT_MEMORY_BUDGET: u64 = 256 * 1024 * 1024;
/// The budget is counted in units of this many bytes (Tokio semaphores count u32 permits).
const BUDGET_UNIT: u64 = 64 * 1024;

/// Slowest acceptable transfer, in bytes per second, once `DEFAULT_RATE_GRACE` has passed.
pub const DEFAULT_MIN_RATE: u64 = 1024;
pub const DEFAULT_RATE_GRACE: Duration = Duration::from_secs(10);

/// An honest User-Agent: who we are and that we are a tool, not a browser.
pub const USER_AGENT: &str = concat!(
    "rl-search/",
    env!("CARGO_PKG_VERSION"),
    " (reading-list indexer; +https://crates.io/crates/rl-search)"
);

/// Settings of a [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub max_bytes: u64,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub total_timeout: Duration,
    pub attempts: u32,
    /// Below this many bytes per second (after `rate_grace`), a transfer is abandoned: a server
    /// dripping bytes cannot hold a run hostage.
    pub min_rate: u64,
    pub rate_grace: Duration,
    /// Requests in flight at once across all hosts.
    pub global_limit: usize,
    /// Bytes of bodies held at once (see [`DEFAULT_MEMORY_BUDGET`]).
    pub memory_budget: u64,
    pub per_host: HostRule,
    pub host_rules: Vec<(String, HostRule)>,
    /// Sent as a bearer token to api.github.com (raises its 60 requests/hour limit).
    pub github_token: Option<String>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            attempts: retry::DEFAULT_ATTEMPTS,
            min_rate: DEFAULT_MIN_RATE,
            rate_grace: DEFAULT_RATE_GRACE,
            global_limit: DEFAULT_GLOBAL_LIMIT,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            per_host: HostRule::default(),
            host_rules: politeness::builtin_rules(),
            github_token: None,
        }
    }
}

/// Validators from the last good copy, sent so an unchanged resource costs a 304.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A downloaded resource.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the body came from after redirects.
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
    /// The body's share of the memory budget, given back when the last clone is dropped.
    pub hold: Option<std::sync::Arc<tokio::sync::OwnedSemaphorePermit>>,
}

/// What one GET came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 304: the stored copy is current.
    NotModified,
    Fetched(Fetched),
}

/// Why a fetch failed; each names the URL so a report line stands on its own.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}{}", reason_suffix(*status))]
    Status { url: String, status: u16 },
    #[error("{url}: timed out ({what})")]
    Timeout { url: String, what: String },
    #[error("{url}: could not connect: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url}: connection refused (is the server up, and the port right?)")]
    Refused { url: String },
    #[error("{url}: the connection broke: {reason}")]
    Interrupted { url: String, reason: String },
    #[error(
        "{url}: HTTP {status}{}; the host asks to be retried in {} (after {}): run update again then",
        reason_suffix(*status),
        humantime::format_duration(*wait),
        httpdate::fmt_http_date(*at)
    )]
    RetryLater {
        url: String,
        status: u16,
        wait: Duration,
        at: SystemTime,
    },
    #[error("{url}: cannot resolve the host {host} (offline, or a mistyped URL?)")]
    Unresolvable { url: String, host: String },
    #[error("{url}: body larger than {limit} bytes (decoded); raise --max-bytes to allow it")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {reason}")]
    Redirect { url: String, reason: String },
    #[error(
        "{url}: the API's rate limit is used up (GitHub allows 60 requests an hour without a token); set GITHUB_TOKEN and run update again"
    )]
    RateLimited { url: String },
    #[error("{url}: {reason}")]
    Other { url: String, reason: String },
    #[error("cannot set up the HTTP client: {reason}")]
    Client { reason: String },
}

fn reason_suffix(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl FetchError {
    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } | FetchError::RetryLater { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// Worth another try within this run: the answer may differ in a moment. A refused
    /// connection or an unknown host will not change in seconds; neither will a 404.
    fn retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => retry::retryable_status(*status),
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Interrupted { .. } => true,
            FetchError::Refused { .. }
            | FetchError::Unresolvable { .. }
            | FetchError::TooLarge { .. }
            | FetchError::Redirect { .. }
            | FetchError::RateLimited { .. }
            | FetchError::RetryLater { .. }
            | FetchError::Other { .. }
            | FetchError::Client { .. } => false,
        }
    }
}

/// A shared HTTP client with politeness; cheap to share by reference across tasks.
pub struct Fetcher {
    client: reqwest::Client,
    gate: HostGate,
    /// Taken after the host's permit, so links waiting for a busy host hold no global slot.
    global: tokio::sync::Semaphore,
    /// Units of body memory (see `DEFAULT_MEMORY_BUDGET`).
    memory: std::sync::Arc<tokio::sync::Semaphore>,
    memory_units: u32,
    /// Hosts whose name did not resolve in this run: their other links fail at once instead
    /// of queueing behind the host's politeness rules (an offline update ends in seconds).
    unresolvable: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Requests sent (retries and alternates included): the update's summary says it.
    sent: std::sync::atomic::AtomicU64,
    opts: FetchOptions,
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> Result<Self, FetchError> {
        let policy = redirect::Policy::custom(|attempt| {
            let next = attempt.url();
            if !matches!(next.scheme(), "http" | "https") {
                let reason = format!("redirect to a non-http(s) URL ({next})");
                return attempt.error(reason);
            }
            if attempt.previous().iter().any(|u| u == next) {
                let reason = format!("redirect loop at {next}");
                return attempt.error(reason);
            }
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            attempt.follow()
        });
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(opts.connect_timeout.min(opts.total_timeout))
            .read_timeout(opts.read_timeout.min(opts.total_timeout))
            .timeout(opts.total_timeout)
            .redirect(policy)
            .build()
            .map_err(|e| FetchError::Client {
                reason: root_cause(&e),
            })?;
        let gate = HostGate::new(opts.per_host, opts.host_rules.clone());
        let global = tokio::sync::Semaphore::new(opts.global_limit.max(1));
        let memory_units =
            (opts.memory_budget / BUDGET_UNIT).clamp(1, u64::from(u32::MAX >> 4)) as u32;
        Ok(Fetcher {
            client,
            gate,
            global,
            memory: std::sync::Arc::new(tokio::sync::Semaphore::new(memory_units as usize)),
            memory_units,
            unresolvable: Default::default(),
            sent: Default::default(),
            opts,
        })
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// GETs `url`, retrying transient failures, within the host's politeness rules.
    pub async fn get(&self, url: &str, validators: &Validators) -> Result<Outcome, FetchError> {
        let host = resolve_host(url);
        let mut retry_no = 0;
        loop {
            let unresolvable = || FetchError::Unresolvable {
                url: url.to_string(),
                host: host.clone(),
            };
            let dead = || self.unresolvable.lock().expect("host set").contains(&host);
            let result = {
                let Some(_host) = self.gate.acquire_unless(&host, dead).await else {
                    return Err(unresolvable());
                };
                let _slot = self.global.acquire().await.expect("semaphore never closed");
                self.attempt(url, &host, validators).await
            };
            match result {
                Ok(outcome) => return Ok(outcome),
                Err((FetchError::Unresolvable { .. }, _)) => {
                    self.unresolvable
                        .lock()
                        .expect("host set")
                        .insert(host.clone());
                    return Err(unresolvable());
                }
                Err((err, retry_after)) => {
                    if !err.retryable() || retry_no + 1 >= self.opts.attempts {
                        return Err(err);
                    }
                    let status = err.status();
                    // A wait longer than we would ever make is the host saying "not today".
                    if let (Some(status), Some(wait)) = (status, retry_after)
                        && wait > retry::MAX_DELAY
                    {
                        return Err(FetchError::RetryLater {
                            url: url.to_string(),
                            status,
                            wait,
                            at: SystemTime::now() + wait,
                        });
                    }
                    let wait = retry::delay(retry_no, retry_after);
                    if matches!(status, Some(429 | 503)) || retry_after.is_some() {
                        // "Slow down" is about the host, not this link: every link waits.
                        self.gate.pause(&host, wait);
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                    retry_no += 1;
                }
            }
        }
    }

    /// GETs the first of `urls` that exists: later ones are tried only while the answer is 404
    /// (a README that is not README.md, say).
    pub async fn get_first(
        &self,
        urls: &[String],
        validators: &Validators,
    ) -> Result<Outcome, FetchError> {
        let mut last = None;
        for url in urls {
            match self.get(url, validators).await {
                Err(e) if e.status() == Some(404) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| FetchError::Client {
            reason: "no URL to fetch".into(),
        }))
    }

    async fn attempt(
        &self,
        url: &str,
        host: &str,
        validators: &Validators,
    ) -> Result<Outcome, (FetchError, Option<Duration>)> {
        let mut req = self.client.get(url);
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        if let Some(token) = &self.opts.github_token
            && host == "api.github.com"
        {
            req = req.bearer_auth(token);
        }
        if host == "api.github.com" {
            // The raw media type gives a README or file as it is, not wrapped in JSON.
            let accept = if url.ends_with("/readme") {
                "application/vnd.github.raw"
            } else {
                "application/vnd.github+json"
            };
            req = req.header(header::ACCEPT, accept);
        }
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut resp = req
            .send()
            .await
            .map_err(|e| (self.classify(url, e), None))?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(Outcome::NotModified);
        }
        if !(200..300).contains(&status) {
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
            // GitHub's API says "no more for now" with a 403 or 429 and a zero budget; waiting
            // or retrying won't help within this run, a token will. Other hosts that send
            // the same header get the ordinary treatment of a 429 (wait, retry).
            if host == "api.github.com"
                && matches!(status, 403 | 429)
                && resp
                    .headers()
                    .get("x-ratelimit-remaining")
                    .is_some_and(|v| v == "0")
            {
                return Err((
                    FetchError::RateLimited {
                        url: url.to_string(),
                    },
                    None,
                ));
            }
            return Err((
                FetchError::Status {
                    url: url.to_string(),
                    status,
                },
                retry_after,
            ));
        }
        let headers = resp.headers().clone();
        let final_url = resp.url().to_string();
        let limit = self.opts.max_bytes;
        if resp.content_length().is_some_and(|n| n > limit) && !is_encoded(&headers) {
            return Err((
                FetchError::TooLarge {
                    url: url.to_string(),
                    limit,
                },
                None,
            ));
        }
        // A body whose size is announced reserves it before the first byte, all at once (so
        // no download holds part of the budget while it waits for the rest); one bigger than
        // the whole budget waits until it has the budget to itself. Bodies of unknown size
        // (compressed, chunked) take what is free as they grow.
        let announced = resp.content_length().filter(|_| !is_encoded(&headers));
        let mut hold = match announced {
            Some(n) => {
                let units = (n.div_ceil(BUDGET_UNIT) as u32).clamp(1, self.memory_units);
                Some(
                    self.memory
                        .clone()
                        .acquire_many_owned(units)
                        .await
                        .expect("semaphore never closed"),
                )
            }
            None => None,
        };
        let mut body = Vec::with_capacity(announced.unwrap_or(0).min(limit) as usize);
        let started = std::time::Instant::now();
        loop {
            let elapsed = started.elapsed();
            if elapsed > self.opts.rate_grace
                && (body.len() as f64 / elapsed.as_secs_f64()) < self.opts.min_rate as f64
            {
                return Err((
                    FetchError::Timeout {
                        url: url.to_string(),
                        what: format!(
                            "transfer slower than {} bytes/s ({} bytes in {:.0?})",
                            self.opts.min_rate,
                            body.len(),
                            elapsed
                        ),
                    },
                    None,
                ));
            }
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    // Chunks are already decoded, so this caps the decoded size: a gzip bomb stops here.
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Err((
                            FetchError::TooLarge {
                                url: url.to_string(),
                                limit,
                            },
                            None,
                        ));
                    }
                    body.extend_from_slice(&chunk);
                    if announced.is_none() {
                        let held = hold.as_ref().map_or(0, |h| h.num_permits() as u64);
                        let want = (body.len() as u64).div_ceil(BUDGET_UNIT);
                        if want > held
                            && let Ok(more) = self
                                .memory
                                .clone()
                                .try_acquire_many_owned((want - held) as u32)
                        {
                            match &mut hold {
                                Some(h) => h.merge(more),
                                None => hold = Some(more),
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => return Err((self.classify(url, e), None)),
            }
        }
        Ok(Outcome::Fetched(Fetched {
            final_url,
            status,
            content_type: header_str(&headers, header::CONTENT_TYPE),
            etag: header_str(&headers, header::ETAG),
            last_modified: header_str(&headers, header::LAST_MODIFIED),
            body,
            hold: hold.map(std::sync::Arc::new),
        }))
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> FetchError {
        let url = url.to_string();
        if e.is_timeout() {
            return FetchError::Timeout {
                url,
                what: "no answer in time".into(),
            };
        }
        if e.is_redirect() {
            return FetchError::Redirect {
                url,
                reason: root_cause(&e),
            };
        }
        if e.is_dns() {
            return FetchError::Unresolvable {
                host: resolve_host(&url),
                url,
            };
        }
        let io_kind = io_error_kind(&e);
        if e.is_connect() {
            if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
                return FetchError::Refused { url };
            }
            return FetchError::Connect {
                url,
                reason: root_cause(&e),
            };
        }
        use std::io::ErrorKind::*;
        if matches!(
            io_kind,
            Some(ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
        ) || e.is_body()
        {
            return FetchError::Interrupted {
                url,
                reason: root_cause(&e),
            };
        }
        FetchError::Other {
            url,
            reason: root_cause(&e),
        }
    }
}

fn is_encoded(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v != HeaderValue::from_static("identity"))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn resolve_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

/// The kind of the I/O error underneath, if one is.
fn io_error_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

/// The innermost cause: what actually went wrong, without reqwest's wrapping.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::Arc;

    /// Answers every request with `size` bytes and an announced length.
    fn serve(size: usize) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(&vec![b'x'; size]);
                });
            }
        });
        format!("http://{addr}")
    }

    /// Issue 14: bodies held at once are bounded in bytes: a download waits while earlier
    /// bodies fill the budget, and goes on when one is dropped.
    #[tokio::test]
    async fn bodies_wait_for_the_memory_budget() {
        let base = serve(700 * 1024);
        let fetcher = Arc::new(
            Fetcher::new(FetchOptions {
                memory_budget: 1024 * 1024,
                ..FetchOptions::default()
            })
            .unwrap(),
        );
        let first = fetcher
            .get(&format!("{base}/a"), &Validators::default())
            .await
            .unwrap();
        let f = fetcher.clone();
        let url = format!("{base}/b");
        let mut second =
            tokio::spawn(async move { f.get(&url, &Validators::default()).await.map(drop) });
        let waited = tokio::time::timeout(Duration::from_millis(400), &mut second).await;
        assert!(
            waited.is_err(),
            "the second body did not wait for the first"
        );
        drop(first);
        let done = tokio::time::timeout(Duration::from_secs(10), second).await;
        assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
    }
}
