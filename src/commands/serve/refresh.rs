//! Refreshing the library from the browser: one refresh at a time, on its own thread (update
//! runs its own runtime), its progress shared with the status page. However the refresh ends
//! — done, failed, or panicked — the state says so and the next refresh can start: a guard
//! clears the progress when the worker's closure is left by any path.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::App;
use super::errors::problem;
use super::pages::UpdateView;
use super::security;
use crate::commands::update::{self, Progress, Report, UpdateSettings};

/// The refresh that is running, and how the last one ended.
#[derive(Default)]
pub struct UpdateState {
    progress: Option<Arc<Progress>>,
    last: Option<String>,
    /// When the scheduled refresh (`--refresh-every`) runs next.
    next: Option<std::time::SystemTime>,
}

impl App {
    pub(super) fn update_view(&self) -> UpdateView {
        view(&self.update)
    }
}

fn view(state: &Mutex<UpdateState>) -> UpdateView {
    let state = state.lock().unwrap_or_else(|e| e.into_inner());
    match &state.progress {
        Some(p) => UpdateView {
            running: true,
            done: p.done.load(Ordering::Relaxed),
            total: p.total.load(Ordering::Relaxed),
            failed: p.failed.load(Ordering::Relaxed),
            last: state.last.clone(),
            next: None,
        },
        None => UpdateView {
            last: state.last.clone(),
            next: state
                .next
                .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            ..Default::default()
        },
    }
}

/// Marks a refresh as running; `None` when one already is.
fn begin(state: &Mutex<UpdateState>) -> Option<Arc<Progress>> {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    if state.progress.is_some() {
        return None;
    }
    let p = Arc::new(Progress::default());
    state.progress = Some(p.clone());
    Some(p)
}

/// Clears the running refresh when dropped, with what to say of it.
struct Finish<'a> {
    state: &'a Mutex<UpdateState>,
    last: String,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.progress = None;
        state.last = Some(std::mem::take(&mut self.last));
    }
}

/// Runs one refresh and records how it ended; a panic inside is caught, recorded as a failed
/// refresh, and leaves the state ready for the next.
fn run_tracked(state: &Mutex<UpdateState>, refresh: impl FnOnce() -> anyhow::Result<Report>) {
    let mut finish = Finish {
        state,
        last: "The refresh stopped unexpectedly; the library is as it was before it.".into(),
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(refresh));
    finish.last = match result {
        Ok(Ok(r)) => format!(
            "Last refresh: {} new, {} changed, {} unchanged, {} failed.",
            r.new,
            r.changed,
            r.unchanged,
            r.failed.len()
        ),
        Ok(Err(e)) => format!("The refresh failed: {e:#}"),
        Err(_) => "The refresh failed: an internal error stopped it (the library stays readable; try again, or run `rl-search update` to see the error).".into(),
    };
}

#[derive(serde::Deserialize)]
pub struct UpdateForm {
    token: Option<String>,
}

/// Starts a refresh in the background (one at a time; the library's lock keeps out a CLI
/// update running at the same time) and sends the browser to the status page.
pub async fn start_update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<UpdateForm>,
) -> Response {
    if let Err(why) = security::same_origin(&app, &headers, form.token.as_deref()) {
        return problem(StatusCode::FORBIDDEN, "Refused", &why);
    }
    let Some(progress) = begin(&app.update) else {
        return Redirect::to("/status").into_response();
    };
    let worker = app.clone();
    std::thread::spawn(move || {
        let settings = UpdateSettings {
            progress: Some(progress),
            ..Default::default()
        };
        run_tracked(&worker.update, || update::run(&worker.cfg, &settings));
    });
    Redirect::to("/status").into_response()
}

/// `every`, give or take a tenth, at random: copies started together drift apart.
fn jittered(every: Duration) -> Duration {
    let mut b = [0u8; 8];
    let unit = match getrandom::fill(&mut b) {
        Ok(()) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    };
    every.mul_f64(0.9 + 0.2 * unit)
}

/// `serve --refresh-every`: a thread that refreshes the library on a schedule, as the
/// status page's button does (one refresh at a time; a CLI update holding the library's lock
/// makes this one fail and say so, and the next one is tried at the next time).
pub fn schedule(app: Arc<App>, every: Duration) {
    std::thread::spawn(move || {
        loop {
            let wait = jittered(every);
            {
                let mut state = app.update.lock().unwrap_or_else(|e| e.into_inner());
                state.next = Some(std::time::SystemTime::now() + wait);
            }
            std::thread::sleep(wait);
            let Some(progress) = begin(&app.update) else {
                // One from the browser is running: that is this period's refresh.
                continue;
            };
            let settings = UpdateSettings {
                progress: Some(progress),
                ..Default::default()
            };
            run_tracked(&app.update, || update::run(&app.cfg, &settings));
        }
    });
}

#[derive(serde::Deserialize)]
pub struct AddForm {
    token: Option<String>,
    url: Option<String>,
    section: Option<String>,
}

/// `GET /add?url=…` (what the bookmarklet opens): a form to confirm. A GET never changes
/// the library.
pub async fn add_form(State(app): State<Arc<App>>, p: super::params::Params) -> Response {
    super::errors::page(super::pages::add_form(
        p.text("url").as_deref().unwrap_or(""),
        &app.token,
    ))
}

/// `POST /add`: adds one link in the background (one change to the library at a time) and
/// sends the browser to a page that waits for its document and then opens it.
pub async fn start_add(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<AddForm>,
) -> Response {
    if let Err(why) = security::same_origin(&app, &headers, form.token.as_deref()) {
        return problem(StatusCode::FORBIDDEN, "Refused", &why);
    }
    let url = form.url.as_deref().map(str::trim).unwrap_or("").to_string();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url::Url::parse(&url).is_err()
    {
        return problem(
            StatusCode::BAD_REQUEST,
            "Cannot add this link",
            &format!("{url:?} is not an http(s) link: give the whole address, with https://."),
        );
    }
    let Some(progress) = begin(&app.update) else {
        return problem(
            StatusCode::CONFLICT,
            "The library is being updated",
            "An update is running; add the link again when it has finished.",
        );
    };
    let section = form
        .section
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let worker = app.clone();
    let link = url.clone();
    std::thread::spawn(move || {
        let settings = UpdateSettings {
            progress: Some(progress),
            ..Default::default()
        };
        run_tracked(&worker.update, || {
            crate::commands::add::add_links(
                &worker.cfg,
                &settings,
                &[link],
                section.as_deref(),
                &[],
                None,
            )
            .map(|a| a.report)
        });
    });
    let q: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    Redirect::to(&format!("/doc?url={q}&wait=1")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: a panic in the refresh left "Updating: 0 of 0 links…" until a restart.
    #[test]
    fn a_panicking_refresh_ends_as_failed_and_the_next_can_start() {
        let state = Mutex::new(UpdateState::default());
        assert!(begin(&state).is_some());
        assert!(begin(&state).is_none(), "one refresh at a time");
        assert!(view(&state).running);
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        run_tracked(&state, || panic!("a bug in the refresh"));
        std::panic::set_hook(quiet);
        let v = view(&state);
        assert!(!v.running);
        assert!(
            v.last.as_deref().unwrap().starts_with("The refresh failed"),
            "{v:?}"
        );
        assert!(begin(&state).is_some(), "the next refresh can start");
        run_tracked(&state, || Ok(Report::default()));
        assert!(
            view(&state)
                .last
                .unwrap()
                .starts_with("Last refresh: 0 new")
        );
    }

    #[test]
    fn scheduled_refreshes_drift_by_at_most_a_tenth() {
        let every = Duration::from_secs(6 * 3600);
        let waits: Vec<Duration> = (0..50).map(|_| jittered(every)).collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= every.mul_f64(0.9) && *w <= every.mul_f64(1.1))
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "not all the same");
    }
}
