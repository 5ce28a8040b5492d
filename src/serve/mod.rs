//! `rl-search serve`: the library in a browser. One axum server on the tokio runtime; pages
//! rendered on the server (`pages`), safe by default (`security`); search, status and update
//! are the CLI's own code.

mod pages;
mod security;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::commands::update::{self, Progress, UpdateSettings};
use crate::config::Config;
use crate::index::LibraryIndex;
use crate::search::{self, SearchOptions};
use crate::store::{DocRecord, Store};
use pages::{SearchParams, UpdateView};

/// Hits on one page of results.
const PER_PAGE: usize = 20;

/// How `serve` was asked to run.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: IpAddr,
    pub port: u16,
    pub open: bool,
    /// Host names (besides localhost and IP addresses) the server answers to.
    pub allow_hosts: Vec<String>,
}

/// What every request handler shares.
pub struct App {
    cfg: Config,
    store: Store,
    /// `None` until the library has an index.
    lib: RwLock<Option<Arc<LibraryIndex>>>,
    /// When the index's last commit was written (and its size), as this server last saw it.
    commit_seen: Mutex<Option<(std::time::SystemTime, u64)>>,
    token: String,
    port: u16,
    origin: String,
    allowed_hosts: Vec<String>,
    update: Mutex<UpdateState>,
}

#[derive(Default)]
struct UpdateState {
    progress: Option<Arc<Progress>>,
    last: Option<String>,
}

impl App {
    fn library(&self) -> Option<Arc<LibraryIndex>> {
        let lib = match self.lib.read().ok().and_then(|l| l.clone()) {
            Some(lib) => lib,
            None => {
                // The index may have appeared since (an update from the CLI or this server).
                let lib = Arc::new(LibraryIndex::open_existing(&self.store.tantivy_dir()).ok()??);
                if let Ok(mut slot) = self.lib.write() {
                    *slot = Some(lib.clone());
                }
                lib
            }
        };
        // Any update — this server's or one run from the command line — ends with a commit,
        // which rewrites meta.json: one stat a request sees it.
        let stamp = std::fs::metadata(self.store.tantivy_dir().join("meta.json"))
            .and_then(|m| Ok((m.modified()?, m.len())))
            .ok();
        let mut seen = self.commit_seen.lock().unwrap_or_else(|e| e.into_inner());
        if *seen != stamp {
            let _ = lib.reload();
            *seen = stamp;
        }
        Some(lib)
    }

    fn update_view(&self) -> UpdateView {
        let state = self.update.lock().unwrap_or_else(|e| e.into_inner());
        let load =
            |a: &std::sync::atomic::AtomicUsize| a.load(std::sync::atomic::Ordering::Relaxed);
        match &state.progress {
            Some(p) => UpdateView {
                running: true,
                done: load(&p.done),
                total: load(&p.total),
                failed: load(&p.failed),
                last: state.last.clone(),
            },
            None => UpdateView {
                last: state.last.clone(),
                ..Default::default()
            },
        }
    }
}

/// Binds, prints the URL as the first line of stdout, and serves until Ctrl-C.
pub fn run(cfg: &Config, opts: &ServeOptions) -> Result<()> {
    let store = Store::open(&cfg.index_dir, true)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let addr = SocketAddr::new(opts.bind, opts.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}: choose another --port (0 picks a free one)"))?;
        let local = listener.local_addr()?;
        let shown_host = if local.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else if local.is_ipv6() {
            format!("[{}]", local.ip())
        } else {
            local.ip().to_string()
        };
        let origin = format!("http://{shown_host}:{}", local.port());
        let app = Arc::new(App {
            cfg: Config {
                stderr_tty: false,
                ..cfg.clone()
            },
            store,
            lib: RwLock::new(None),
            commit_seen: Mutex::new(None),
            token: security::new_token(),
            port: local.port(),
            origin: origin.clone(),
            allowed_hosts: opts.allow_hosts.clone(),
            update: Mutex::new(UpdateState::default()),
        });
        // Opened before the URL is announced: the first page does not pay for it.
        let _ = app.library();
        println!("{origin}/");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if !local.ip().is_loopback() {
            eprintln!(
                "rl-search: WARNING: serving on {} — anyone who can reach this machine on port {} can read and refresh this library",
                local.ip(),
                local.port()
            );
        }
        eprintln!(
            "rl-search: serving the library at {}; Ctrl-C stops",
            cfg.index_dir.display()
        );
        if opts.open {
            let url = format!("{origin}/");
            std::thread::spawn(move || {
                if let Err(e) = crate::commands::open::launch(&url) {
                    eprintln!("rl-search: {e}");
                }
            });
        }
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped")?;
        eprintln!("rl-search: stopped");
        Ok(())
    })
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search_page))
        .route("/doc/{id}", get(doc_page))
        .route("/doc/{id}/raw", get(raw))
        .route("/doc/{id}/diff", get(diff_page))
        .route("/status", get(status_page))
        .route("/update", post(start_update))
        .route("/api/search", get(api_search))
        .route("/api/status", get(api_status))
        .route("/api/update", get(api_update))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::guard,
        ))
        .with_state(app)
}

fn page(markup: maud::Markup) -> Response {
    Html(markup.into_string()).into_response()
}

fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    (status, page(pages::problem(title, message))).into_response()
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page here.",
    )
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/app.js"),
    )
        .into_response()
}

async fn home(State(app): State<Arc<App>>) -> Response {
    let lib = app.library();
    let docs = lib.as_ref().and_then(|l| l.num_docs().ok()).unwrap_or(0);
    // The index's last commit is the last update: one file's time, not 100k records read.
    let updated = std::fs::metadata(app.store.tantivy_dir().join("meta.json"))
        .and_then(|m| m.modified())
        .ok()
        .map(|t| humantime::format_rfc3339_seconds(t).to_string());
    page(pages::home(docs, updated.as_deref()))
}

/// The kinds in the library, for the filter menu.
fn kinds(lib: &LibraryIndex) -> Vec<String> {
    let Ok(searcher) = lib.searcher() else {
        return vec![];
    };
    let mut kinds: Vec<String> = vec![];
    for seg in searcher.segment_readers() {
        if let Ok(inv) = seg.inverted_index(lib.fields.kind)
            && let Ok(mut terms) = inv.terms().stream()
        {
            while terms.advance() {
                if let Ok(k) = std::str::from_utf8(terms.key()) {
                    kinds.push(k.to_string());
                }
            }
        }
    }
    kinds.sort();
    kinds.dedup();
    kinds
}

async fn search_page(State(app): State<Arc<App>>, Query(p): Query<SearchParams>) -> Response {
    if p.q.trim().is_empty() {
        return Redirect::to("/").into_response();
    }
    let Some(lib) = app.library() else {
        return problem(
            StatusCode::OK,
            "The library is empty",
            "Nothing has been fetched yet: refresh the library from the Status page, or run `rl-search update`.",
        );
    };
    let page_no = p.page.unwrap_or(1).clamp(1, 500);
    let opts = SearchOptions {
        // One more than the page holds: whether there is a next page.
        limit: page_no * PER_PAGE + 1,
        kind: p.kind.clone().filter(|k| !k.is_empty()),
        section: p.section.clone().filter(|s| !s.is_empty()),
        host: p.host.clone().filter(|h| !h.is_empty()),
    };
    match search::search(&lib, &p.q, &opts) {
        Ok(results) => {
            let start = (page_no - 1) * PER_PAGE;
            let more = results.hits.len() > page_no * PER_PAGE;
            let hits: Vec<_> = results
                .hits
                .into_iter()
                .skip(start)
                .take(PER_PAGE)
                .collect();
            page(pages::results(
                &p,
                &hits,
                page_no,
                more,
                &results.notes,
                &kinds(&lib),
            ))
        }
        Err(e) => problem(
            StatusCode::BAD_REQUEST,
            "Cannot search",
            &crate::errors::chain(&e),
        ),
    }
}

/// A document id as `search` prints them; anything else (a path, a dot) is not one.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// The document with this id; `None` for an id that is not one or not in the library.
fn record(app: &App, id: &str) -> Option<DocRecord> {
    valid_id(id)
        .then(|| app.store.load_record(id).ok().flatten())
        .flatten()
}

fn no_document() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "No document has this id.",
    )
}

fn no_version(rec: &DocRecord, n: u32) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        &rec.title,
        &format!("This document has no version {n}."),
    )
}

#[derive(serde::Deserialize)]
struct DocParams {
    #[serde(default)]
    q: String,
    version: Option<u32>,
}

async fn doc_page(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(params): Query<DocParams>,
) -> Response {
    let Some(rec) = record(&app, &id) else {
        return no_document();
    };
    // The versions list (which reads the current text for its word count) only where there
    // is more than one version.
    let all = if rec.versions.is_empty() {
        vec![]
    } else {
        crate::commands::versions::all(&rec, &app.store)
    };
    let current = rec.current_version();
    // An earlier version reads like the current one, under a banner.
    let (rec, shown) = match params.version.filter(|&v| v != current) {
        Some(n) => match rec.versions.iter().find(|v| v.version == n) {
            Some(v) => (rec.at_version(v), n),
            None => return no_version(&rec, n),
        },
        None => (rec, current),
    };
    let Some(text) = rec
        .text_file
        .as_deref()
        .and_then(|f| app.store.read_text(f).ok())
    else {
        let why = rec
            .last_error
            .clone()
            .unwrap_or_else(|| "it has not been fetched yet".into());
        return problem(
            StatusCode::NOT_FOUND,
            &rec.title,
            &format!("No stored text: {why}"),
        );
    };
    let similar = app
        .library()
        .and_then(|lib| search::similar(&lib, &rec.id, 5).ok().flatten())
        .unwrap_or_default();
    page(pages::document(
        &rec, &text, &params.q, &similar, &all, shown, current,
    ))
}

#[derive(serde::Deserialize)]
struct DiffParams {
    from: Option<u32>,
    to: Option<u32>,
}

/// What changed between two versions, line by line, the changed words marked.
async fn diff_page(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(p): Query<DiffParams>,
) -> Response {
    let Some(rec) = record(&app, &id) else {
        return no_document();
    };
    let all = crate::commands::versions::all(&rec, &app.store);
    let to = p.to.unwrap_or(rec.current_version());
    let from = p
        .from
        .unwrap_or_else(|| crate::commands::versions::before(&all, to));
    let (Some(old), Some(new)) = (
        all.iter().find(|v| v.version == from),
        all.iter().find(|v| v.version == to),
    ) else {
        return problem(StatusCode::NOT_FOUND, &rec.title, "No such versions.");
    };
    let text = |v: &crate::store::Version| {
        crate::commands::versions::text(&app.store, &rec, v).unwrap_or_default()
    };
    page(pages::diff(&rec, old, new, &text(old), &text(new)))
}

/// The stored original, of the current version or `?version=N`. A PDF shows inline (Chrome
/// will not show one under a sandbox); stored HTML is sandboxed — its own origin, no script —
/// and anything else is plain text.
async fn raw(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(params): Query<DocParams>,
) -> Response {
    let Some(rec) = record(&app, &id) else {
        return no_document();
    };
    let rec = match params.version.filter(|&n| n != rec.current_version()) {
        Some(n) => match rec.versions.iter().find(|v| v.version == n) {
            Some(v) => rec.at_version(v),
            None => return no_version(&rec, n),
        },
        None => rec,
    };
    let Ok(src) = crate::commands::read::main_source(&rec) else {
        return problem(StatusCode::NOT_FOUND, &rec.title, "No stored copy.");
    };
    let name = &src.raw_file;
    if name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return problem(StatusCode::NOT_FOUND, "Not found", "No stored copy.");
    }
    let Ok(bytes) = app.store.read_raw(name) else {
        return problem(
            StatusCode::NOT_FOUND,
            &rec.title,
            "The stored copy cannot be read.",
        );
    };
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    let ct = match name.rsplit('.').next().unwrap_or("") {
        "pdf" => "application/pdf",
        "html" => {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                ),
            );
            "text/html; charset=utf-8"
        }
        _ => "text/plain; charset=utf-8",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    res
}

/// Libraries up to this many links get whole-library totals on every status page (reading
/// every record takes about a second at 10,000).
const TOTALS_UP_TO: usize = 2_000;

/// Ok, failed and pending links of the whole library, when it is small enough to count.
fn library_totals(app: &App, total: usize) -> Option<[usize; 3]> {
    if total <= STATUS_PAGE || total > TOTALS_UP_TO {
        return None;
    }
    let docs = crate::commands::target::documents(&app.store).ok()?;
    let count = |s: crate::store::State| docs.iter().filter(|d| d.state == s).count();
    Some([
        count(crate::store::State::Ok),
        count(crate::store::State::Failed),
        count(crate::store::State::Pending),
    ])
}

/// Links on one page of the status table.
const STATUS_PAGE: usize = 200;

#[derive(serde::Deserialize)]
struct PageParam {
    page: Option<usize>,
}

async fn status_page(State(app): State<Arc<App>>, Query(p): Query<PageParam>) -> Response {
    let page_no = p.page.unwrap_or(1).max(1);
    let start = (page_no - 1).saturating_mul(STATUS_PAGE);
    match crate::commands::target::documents_in(&app.store, start..start + STATUS_PAGE) {
        Ok((total, docs)) => page(pages::status(
            &docs,
            total,
            library_totals(&app, total),
            page_no,
            STATUS_PAGE,
            &app.token,
            &app.update_view(),
        )),
        Err(e) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot read the library",
            &format!("{e:#}"),
        ),
    }
}

#[derive(serde::Deserialize)]
struct UpdateForm {
    token: Option<String>,
}

/// Starts a refresh in the background (one at a time; the library's lock keeps out a CLI
/// update running at the same time) and sends the browser to the status page.
async fn start_update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<UpdateForm>,
) -> Response {
    if let Err(why) = security::same_origin(&app, &headers, form.token.as_deref()) {
        return problem(StatusCode::FORBIDDEN, "Refused", &why);
    }
    let progress = {
        let mut state = app.update.lock().unwrap_or_else(|e| e.into_inner());
        if state.progress.is_some() {
            return Redirect::to("/status").into_response();
        }
        let p = Arc::new(Progress::default());
        state.progress = Some(p.clone());
        p
    };
    let worker = app.clone();
    // Its own thread: `update` runs its own runtime.
    std::thread::spawn(move || {
        let settings = UpdateSettings {
            progress: Some(progress),
            ..Default::default()
        };
        let result = update::run(&worker.cfg, &settings);
        let last = match result {
            Ok(r) => format!(
                "Last refresh: {} new, {} changed, {} unchanged, {} failed.",
                r.new,
                r.changed,
                r.unchanged,
                r.failed.len()
            ),
            Err(e) => format!("The refresh failed: {e:#}"),
        };
        let mut state = worker.update.lock().unwrap_or_else(|e| e.into_inner());
        state.progress = None;
        state.last = Some(last);
    });
    Redirect::to("/status").into_response()
}

#[derive(serde::Deserialize)]
struct ApiSearch {
    #[serde(default)]
    q: String,
    limit: Option<usize>,
    kind: Option<String>,
    section: Option<String>,
    host: Option<String>,
}

fn json_error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn api_search(State(app): State<Arc<App>>, Query(p): Query<ApiSearch>) -> Response {
    if p.q.trim().is_empty() {
        return json_error(StatusCode::BAD_REQUEST, "the query q is empty".into());
    }
    let Some(lib) = app.library() else {
        return axum::Json(json!([])).into_response();
    };
    let opts = SearchOptions {
        limit: p.limit.unwrap_or(search::DEFAULT_LIMIT).clamp(1, 1000),
        kind: p.kind,
        section: p.section,
        host: p.host,
    };
    match search::search(&lib, &p.q, &opts) {
        Ok(r) => {
            let hits: Vec<_> = r.hits.iter().map(crate::output::hit_json).collect();
            axum::Json(serde_json::Value::Array(hits)).into_response()
        }
        Err(e) => json_error(StatusCode::BAD_REQUEST, crate::errors::chain(&e)),
    }
}

async fn api_status(State(app): State<Arc<App>>) -> Response {
    match crate::commands::target::documents(&app.store) {
        Ok(docs) => {
            axum::Json(crate::commands::status::status_json(&app.store, &docs)).into_response()
        }
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

async fn api_update(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.update_view()).into_response()
}
