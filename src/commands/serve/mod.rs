//! `rl-search serve`: the library in a browser. One axum server on the tokio runtime; pages
//! rendered on the server (`pages`), safe by default (`security`), every error the reader's
//! own page (`errors`), query strings read leniently (`params`), CPU work on a bounded pool
//! (`work`), refreshes on their own thread (`refresh`). Search, status and update are the
//! CLI's own code.

mod errors;
mod feed;
mod handlers;
mod pages;
mod params;
mod refresh;
mod security;
mod work;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{Context, Result};
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::Exit;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::library::Library;
use crate::store::Store;
use errors::{json_error, problem};
use refresh::UpdateState;
use work::{Pool, Refused};

/// How `serve` was asked to run.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: IpAddr,
    pub port: u16,
    pub open: bool,
    /// Host names (besides localhost and IP addresses) the server answers to.
    pub allow_hosts: Vec<String>,
    /// Refresh the library in the background this often.
    pub refresh_every: Option<std::time::Duration>,
}

pub fn command(cfg: &Config, args: &ServeArgs) -> Result<Exit> {
    run(
        cfg,
        &ServeOptions {
            bind: args.bind,
            port: args.port,
            open: args.open,
            allow_hosts: args.allow_hosts.clone(),
            refresh_every: args.refresh_every,
        },
    )?;
    Ok(Exit::Success)
}

/// What every request handler shares.
pub struct App {
    cfg: Config,
    /// Read-only: a page view never writes to the library (a damaged record is rebuilt in
    /// memory; the next update repairs it on disk, under the writer's lock).
    store: Store,
    /// `None` until the library has an index.
    lib: RwLock<Option<Arc<Library>>>,
    /// When the index's last commit was written (and its size), as this server last saw it.
    commit_seen: Mutex<Option<(std::time::SystemTime, u64)>>,
    token: String,
    port: u16,
    origin: String,
    allowed_hosts: Vec<String>,
    update: Arc<Mutex<UpdateState>>,
    pool: Pool,
    /// `/api/status`'s answer, and the file times it was computed at.
    status_cache: Mutex<handlers::StatusCache>,
    /// The embedding model, loaded once: searches are hybrid when the library's passages
    /// were embedded with it.
    model: Option<crate::embed::Model>,
}

impl App {
    fn library(&self) -> Option<Arc<Library>> {
        let lib = match self.lib.read().ok().and_then(|l| l.clone()) {
            Some(lib) => lib,
            None => {
                // The index may have appeared since (an update from the CLI or this server).
                let lib = Arc::new(Library::open_existing(&self.store.tantivy_dir()).ok()??);
                if let Ok(mut slot) = self.lib.write() {
                    *slot = Some(lib.clone());
                }
                lib
            }
        };
        // Any update — this server's or one run from the command line — ends with a commit,
        // which rewrites meta.json: one stat a request sees it. The side data that goes with
        // the commit is matched to it by every snapshot (see `Library::snapshot`).
        let stamp = std::fs::metadata(self.store.tantivy_dir().join("meta.json"))
            .and_then(|m| Ok((m.modified()?, m.len())))
            .ok();
        let mut seen = self.commit_seen.lock().unwrap_or_else(|e| e.into_inner());
        // A reload that fails is tried again by the next request, not recorded as seen.
        if *seen != stamp && lib.reload().is_ok() {
            *seen = stamp;
        }
        Some(lib)
    }

    /// Runs `f` on the bounded pool; a refusal becomes the reader's page (JSON under `/api`).
    async fn on_pool(&self, api: bool, f: impl FnOnce() -> Response + Send + 'static) -> Response {
        match self.pool.run(f).await {
            Ok(res) => res,
            Err(why) => refusal(api, why),
        }
    }
}

/// The answer for work the pool did not run to the end.
fn refusal(api: bool, why: Refused) -> Response {
    let (status, message) = match why {
        Refused::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The reader is busy with other requests; try again in a moment.",
        ),
        Refused::TooLong => (
            StatusCode::SERVICE_UNAVAILABLE,
            "This request took too long and was stopped; try fewer words or fewer wildcards.",
        ),
        Refused::Failed => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The reader could not answer this request; the library is unchanged.",
        ),
    };
    if api {
        json_error(status, message)
    } else {
        problem(status, "Cannot answer", message)
    }
}

/// Binds, prints the URL as the first line of stdout, and serves until Ctrl-C.
pub fn run(cfg: &Config, opts: &ServeOptions) -> Result<()> {
    let store = Store::open(&cfg.index_dir, true)?.read_only();
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
            token: security::new_token()?,
            port: local.port(),
            origin: origin.clone(),
            allowed_hosts: opts.allow_hosts.clone(),
            update: Default::default(),
            pool: Pool::new(*work::MAX_RUNNING, work::TIME_LIMIT, work::QUEUE_WAIT),
            status_cache: Mutex::new(None),
            model: match &cfg.model {
                Some(dir) => match crate::embed::Model::load(dir) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        eprintln!("rl-search: warning: {e}; the reader searches by words only");
                        None
                    }
                },
                None => None,
            },
        });
        // Opened before the URL is announced: the first page does not pay for it.
        let _ = app.library();
        if let Some(every) = opts.refresh_every {
            refresh::schedule(app.clone(), every);
        }
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
        // No Nagle delay: a small answer written in two pieces (headers, then a static
        // body) otherwise waits for the browser's delayed ACK, 40 ms on Linux (measured with
        // kept-alive connections: /static/app.css at 43 ms p50 under load).
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
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
    use handlers::*;
    Router::new()
        .route("/", get(home))
        .route("/search", get(search_page))
        .route("/doc", get(doc_lookup))
        .route("/doc/{id}", get(doc_page))
        .route("/doc/{id}/raw", get(raw))
        .route("/doc/{id}/diff", get(diff_page))
        .route("/status", get(status_page))
        .route("/changes", get(changes_page))
        .route("/changes.atom", get(changes_feed))
        .route("/update", post(refresh::start_update))
        .route("/add", get(refresh::add_form).post(refresh::start_add))
        .route("/api/search", get(api_search))
        .route("/api/status", get(api_status))
        .route("/api/update", get(api_update))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .fallback(not_found)
        // Inner to outer: framework rejections become our pages, then every answer (a
        // refused host's included) gets the security headers.
        .layer(axum::middleware::from_fn(errors::error_pages))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::guard,
        ))
        .with_state(app)
}
