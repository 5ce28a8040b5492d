//! The reader's pages and its JSON. Every handler that reads records, searches or diffs does
//! so on the bounded pool (`App::on_pool`); static files and the update state answer on the
//! async threads at once.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::App;
use super::errors::{json_error, page, problem};
use super::pages::{self, SearchParams};
use super::params::{DocId, Params};
use crate::library::Library;
use crate::search::{self, SearchOptions};
use crate::store::{DocRecord, Store};

/// Hits on one page of results.
const PER_PAGE: usize = 20;
/// Pages of results a search can show: past this, ranking ever more candidates for a page
/// nobody reads would cost everyone else's searches.
pub const MAX_PAGES: usize = 25;
/// Most hits `/api/search` gives.
const API_MAX_LIMIT: usize = 1000;
/// Links on one page of the status table.
const STATUS_PAGE: usize = 200;
/// Libraries up to this many links get whole-library totals on every status page (reading
/// every record takes about a second at 10,000).
const TOTALS_UP_TO: usize = 2_000;
/// Status pages there can be (a library of 10 million links).
const MAX_STATUS_PAGES: usize = 50_000;

pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return json_error(
            StatusCode::NOT_FOUND,
            format!("no such API: {}", uri.path()),
        );
    }
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page here.",
    )
}

pub async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/app.css"),
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/app.js"),
    )
        .into_response()
}

pub async fn home(State(app): State<Arc<App>>) -> Response {
    let worker = app.clone();
    app.on_pool(false, move || {
        let lib = worker.library();
        let docs = lib
            .as_ref()
            .and_then(|l| l.index.num_docs().ok())
            .unwrap_or(0);
        // The index's last commit is the last update: one file's time, not 100k records read.
        let updated = std::fs::metadata(worker.store.tantivy_dir().join("meta.json"))
            .and_then(|m| m.modified())
            .ok()
            .map(|t| humantime::format_rfc3339_seconds(t).to_string());
        page(pages::home(docs, updated.as_deref()))
    })
    .await
}

/// The kinds in the library, for the filter menu.
fn kinds(lib: &Library) -> Vec<String> {
    let Ok(searcher) = lib.index.searcher() else {
        return vec![];
    };
    let mut kinds: Vec<String> = vec![];
    for seg in searcher.segment_readers() {
        if let Ok(inv) = seg.inverted_index(lib.index.fields.kind)
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

/// The filters of a search, read the same way for the page and the API (an empty value is
/// no filter).
fn search_options(p: &Params, limit: usize) -> SearchOptions {
    SearchOptions {
        limit,
        offset: 0,
        kind: p.text("kind"),
        section: p.text("section"),
        host: p.text("host"),
        tags: p.text("tag").into_iter().collect(),
        ..Default::default()
    }
}

pub async fn search_page(State(app): State<Arc<App>>, p: Params) -> Response {
    let Some(q) = p.text("q") else {
        return Redirect::to("/").into_response();
    };
    let page_no = p.page(MAX_PAGES);
    // One more than the page holds: whether there is a next page. Snippets are made for the
    // page's own hits only.
    let opts = SearchOptions {
        offset: (page_no - 1) * PER_PAGE,
        ..search_options(&p, page_no * PER_PAGE + 1)
    };
    let shown = SearchParams {
        q,
        kind: opts.kind.clone(),
        section: opts.section.clone(),
        host: opts.host.clone(),
    };
    let worker = app.clone();
    app.on_pool(false, move || {
        let Some(lib) = worker.library() else {
            return problem(
                StatusCode::OK,
                "The library is empty",
                "Nothing has been fetched yet: refresh the library from the Status page, or run `rl-search update`.",
            );
        };
        let results = worker.run_search(&lib, &shown.q, opts);
        match results {
            Ok(results) => {
                let more = results.hits.len() > PER_PAGE && page_no < MAX_PAGES;
                let hits: Vec<_> = results.hits.into_iter().take(PER_PAGE).collect();
                page(pages::results(
                    &shown,
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
    })
    .await
}

/// A document id as `search` prints them; anything else (a path, a dot) is not one.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// The document with this id; `None` for an id that is not one or not in the library.
fn record(store: &Store, id: &str) -> Option<DocRecord> {
    valid_id(id)
        .then(|| store.load_record(id).ok().flatten())
        .flatten()
}

fn no_document() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "No document has this id.",
    )
}

fn no_version(rec: &DocRecord, n: impl std::fmt::Display) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        &rec.title,
        &format!("This document has no version {n}."),
    )
}

/// The version a request asks for: `None` for the current one; `Err` with the value as
/// given when it names no version there can be (not a number, or past any u32).
fn asked_version(p: &Params) -> Result<Option<u32>, String> {
    match p.text("version") {
        None => Ok(None),
        Some(v) => v.parse::<u32>().map(Some).map_err(|_| v),
    }
}

/// `/doc?url=LINK`: the document of a link in any spelling (what a bookmarklet or another
/// tool knows), sent on to its reading view.
pub async fn doc_lookup(State(app): State<Arc<App>>, p: Params) -> Response {
    let Some(url) = p.text("url") else {
        return problem(
            StatusCode::BAD_REQUEST,
            "No link",
            "Give the link as ?url=… to find its document.",
        );
    };
    let waiting = p.text("wait").is_some();
    let worker = app.clone();
    app.on_pool(false, move || {
        match crate::commands::target::document(&worker.store, &url) {
            Some(rec) if rec.text_file.is_some() || !waiting || !worker.update_view().running => {
                Redirect::to(&format!("/doc/{}", rec.id)).into_response()
            }
            // Being added (the page reloads until it is there).
            _ if waiting && worker.update_view().running => page(pages::adding(&url)),
            None if waiting => problem(
                StatusCode::NOT_FOUND,
                "Not added",
                &worker
                    .update_view()
                    .last
                    .unwrap_or_else(|| format!("{url} could not be added.")),
            ),
            _ => problem(
                StatusCode::NOT_FOUND,
                "Not in the library",
                &format!("No document in the library is {url}."),
            ),
        }
    })
    .await
}

pub async fn doc_page(State(app): State<Arc<App>>, DocId(id): DocId, p: Params) -> Response {
    let worker = app.clone();
    app.on_pool(false, move || {
        let Some(rec) = record(&worker.store, &id) else {
            // `/doc/<any spelling of a link>`: to the document's own address. Only what names
            // a page is looked up, so a mistyped id costs no scan of the library.
            let link = crate::list::canonical::identity(&id).is_some();
            return match link
                .then(|| crate::commands::target::document(&worker.store, &id))
                .flatten()
            {
                Some(rec) => Redirect::to(&format!("/doc/{}", rec.id)).into_response(),
                None => no_document(),
            };
        };
        let asked = match asked_version(&p) {
            Ok(asked) => asked,
            Err(v) => return no_version(&rec, format!("{v:?}")),
        };
        // The versions list (which reads the current text for its word count) only where
        // there is more than one version.
        let all = if rec.versions.is_empty() {
            vec![]
        } else {
            crate::commands::versions::all(&rec, &worker.store)
        };
        let current = rec.current_version();
        // An earlier version reads like the current one, under a banner.
        let (rec, shown) = match asked.filter(|&v| v != current) {
            Some(n) => match rec.versions.iter().find(|v| v.version == n) {
                Some(v) => (rec.at_version(v), n),
                None => return no_version(&rec, n),
            },
            None => (rec, current),
        };
        let Some(text) = rec
            .text_file
            .as_deref()
            .and_then(|f| worker.store.read_text(f).ok())
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
        let similar = worker
            .library()
            .and_then(|lib| {
                let snap = lib.snapshot_with_vectors().ok()?;
                search::similar(&snap, &rec.id, 5).ok().flatten()
            })
            .unwrap_or_default();
        let q = p.text("q").unwrap_or_default();
        page(pages::document(
            &rec, &text, &q, &similar, &all, shown, current,
        ))
    })
    .await
}

/// What changed between two versions, line by line, the changed words marked.
pub async fn diff_page(State(app): State<Arc<App>>, DocId(id): DocId, p: Params) -> Response {
    let worker = app.clone();
    app.on_pool(false, move || {
        let store = &worker.store;
        let Some(rec) = record(store, &id) else {
            return no_document();
        };
        let all = crate::commands::versions::all(&rec, store);
        let to = p.number::<u32>("to").unwrap_or(rec.current_version());
        let from = p
            .number::<u32>("from")
            .unwrap_or_else(|| crate::commands::versions::before(&all, to));
        let (Some(old), Some(new)) = (
            all.iter().find(|v| v.version == from),
            all.iter().find(|v| v.version == to),
        ) else {
            return problem(StatusCode::NOT_FOUND, &rec.title, "No such versions.");
        };
        let text = |v: &crate::store::Version| {
            crate::commands::versions::text(store, &rec, v).unwrap_or_default()
        };
        page(pages::diff(&rec, old, new, &text(old), &text(new)))
    })
    .await
}

/// The stored original, of the current version or `?version=N`, streamed from its file. A
/// PDF shows inline (Chrome will not show one under a sandbox); stored HTML is sandboxed —
/// its own origin, no script — and anything else is plain text.
pub async fn raw(State(app): State<Arc<App>>, DocId(id): DocId, p: Params) -> Response {
    let worker = app.clone();
    // The record is read on the pool; the file is streamed from the async threads.
    let found = app
        .pool
        .run(
            move || -> Result<(std::path::PathBuf, String), Box<Response>> {
                let rec = record(&worker.store, &id).ok_or_else(|| Box::new(no_document()))?;
                let rec = match asked_version(&p) {
                    Err(v) => return Err(Box::new(no_version(&rec, format!("{v:?}")))),
                    Ok(Some(n)) if n != rec.current_version() => {
                        match rec.versions.iter().find(|v| v.version == n) {
                            Some(v) => rec.at_version(v),
                            None => return Err(Box::new(no_version(&rec, n))),
                        }
                    }
                    Ok(_) => rec,
                };
                let no_copy = || {
                    Box::new(problem(
                        StatusCode::NOT_FOUND,
                        &rec.title,
                        "No stored copy.",
                    ))
                };
                let src = crate::commands::read::main_source(&rec).map_err(|_| no_copy())?;
                let path = worker
                    .store
                    .raw_path(&src.raw_file)
                    .map_err(|_| no_copy())?;
                Ok((path, src.raw_file.clone()))
            },
        )
        .await;
    let (path, name) = match found {
        Ok(Ok(found)) => found,
        Ok(Err(res)) => return *res,
        Err(why) => return super::refusal(false, why),
    };
    let Ok(file) = tokio::fs::File::open(&path).await else {
        return problem(
            StatusCode::NOT_FOUND,
            "Not found",
            "The stored copy cannot be read.",
        );
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut res = (StatusCode::OK, body).into_response();
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

/// Ok, failed and pending links of the whole library, when it is small enough to count.
fn library_totals(store: &Store, total: usize) -> Option<[usize; 3]> {
    if total <= STATUS_PAGE || total > TOTALS_UP_TO {
        return None;
    }
    let docs = crate::commands::target::documents(store).ok()?;
    let count = |s: crate::store::State| docs.iter().filter(|d| d.state == s).count();
    Some([
        count(crate::store::State::Ok),
        count(crate::store::State::Failed),
        count(crate::store::State::Pending),
    ])
}

pub async fn status_page(State(app): State<Arc<App>>, p: Params) -> Response {
    let page_no = p.page(MAX_STATUS_PAGES);
    let worker = app.clone();
    app.on_pool(false, move || {
        let start = (page_no - 1) * STATUS_PAGE;
        let store = &worker.store;
        match crate::commands::target::documents_in(store, start..start + STATUS_PAGE) {
            Ok((total, docs)) => page(pages::status(
                &docs,
                total,
                library_totals(store, total),
                page_no,
                STATUS_PAGE,
                &pages::Forms {
                    token: &worker.token,
                    origin: &worker.origin,
                },
                &worker.update_view(),
            )),
            Err(e) => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot read the library",
                &format!("{e:#}"),
            ),
        }
    })
    .await
}

pub async fn api_search(State(app): State<Arc<App>>, p: Params) -> Response {
    let Some(q) = p.text("q") else {
        return json_error(StatusCode::BAD_REQUEST, "the query q is empty");
    };
    let limit = match p.text("limit") {
        None => search::DEFAULT_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=API_MAX_LIMIT).contains(&n) => n,
            _ => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    format!("limit={v:?} is not a number from 1 to {API_MAX_LIMIT}"),
                );
            }
        },
    };
    let opts = search_options(&p, limit);
    let worker = app.clone();
    app.on_pool(true, move || {
        let Some(lib) = worker.library() else {
            return axum::Json(serde_json::json!([])).into_response();
        };
        let results = worker.run_search(&lib, &q, opts);
        match results {
            Ok(r) => {
                let hits: Vec<_> = r.hits.iter().map(crate::output::hit_json).collect();
                axum::Json(serde_json::Value::Array(hits)).into_response()
            }
            Err(e) => json_error(StatusCode::BAD_REQUEST, crate::errors::chain(&e)),
        }
    })
    .await
}

pub async fn api_status(State(app): State<Arc<App>>) -> Response {
    let worker = app.clone();
    app.on_pool(true, move || match worker.status_json() {
        Ok(v) => axum::Json(&*v).into_response(),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    })
    .await
}

pub async fn api_update(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.update_view()).into_response()
}

impl App {
    /// A search as the CLI runs it: hybrid when the reader has the model the library's
    /// passages were embedded with, lexical otherwise.
    fn run_search(
        &self,
        lib: &Library,
        q: &str,
        mut opts: SearchOptions,
    ) -> Result<search::Results, search::SearchError> {
        let Some(model) = &self.model else {
            return search::search(&lib.snapshot()?, q, &opts);
        };
        // The vectors are read once per update (the library caches them), and carry the id
        // of the model that made them.
        let snap = lib.snapshot_with_vectors()?;
        let vector = snap
            .vectors
            .as_ref()
            .filter(|v| v.model.id == model.id())
            .and_then(|_| model.embed_queries(&[q]).ok()?.pop());
        if let Some(v) = vector {
            opts.mode = search::Mode::Hybrid;
            opts.query_vector = Some(search::QueryVector::ready(v));
        }
        search::search(&snap, q, &opts)
    }
}

/// What the status JSON was computed from: the times of the files an update rewrites.
type StatusStamp = Vec<Option<std::time::SystemTime>>;
/// The last `/api/status` answer and what it was computed from.
pub type StatusCache = Option<(StatusStamp, Arc<serde_json::Value>)>;

impl App {
    /// `/api/status`: the library's links and totals, computed again only when an update has
    /// changed something (reading every record of a large library takes seconds). The
    /// library's place on disk is not the API's business and is left out.
    fn status_json(&self) -> anyhow::Result<Arc<serde_json::Value>> {
        let root = self.store.root();
        let stamp: StatusStamp = ["docs", "library.json", "checked.json", "tantivy/meta.json"]
            .iter()
            .map(|f| {
                std::fs::metadata(root.join(f))
                    .and_then(|m| m.modified())
                    .ok()
            })
            .collect();
        let mut cache = self.status_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, v)) = cache.as_ref()
            && *seen == stamp
        {
            return Ok(v.clone());
        }
        let docs = crate::commands::target::documents(&self.store)?;
        let mut v = crate::commands::status::status_json(&self.store, &docs);
        if let Some(o) = v.as_object_mut() {
            o.remove("library");
        }
        let v = Arc::new(v);
        *cache = Some((stamp, v.clone()));
        Ok(v)
    }
}

/// `/changes`: the log of changes as a page.
pub async fn changes_page(State(app): State<Arc<App>>) -> Response {
    let worker = app.clone();
    app.on_pool(false, move || {
        page(super::feed::page(&crate::changes::read(
            worker.store.root(),
        )))
    })
    .await
}

/// `/changes.atom`: the same as an Atom feed, with links back to this server as the request
/// named it (the guard has checked the Host already).
pub async fn changes_feed(State(app): State<Arc<App>>, headers: axum::http::HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| format!("127.0.0.1:{}", app.port), str::to_string);
    let worker = app.clone();
    app.on_pool(false, move || {
        let updates = crate::changes::read(worker.store.root());
        let library = worker.store.root().to_string_lossy().into_owned();
        let xml = super::feed::atom(&updates, &format!("http://{host}"), &library);
        (
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            xml,
        )
            .into_response()
    })
    .await
}
