//! One face for every error: the reader's own page, or `{"error": …}` under `/api`. Handlers
//! answer with [`problem`] / [`json_error`]; what they never see — a path that is not UTF-8, a
//! body the form reader rejects, a method not allowed — comes back from the framework as
//! plain text, and [`error_pages`] turns it into the same page (miniserve's
//! `error_page_middleware` does this for its listings).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::pages;

pub fn page(markup: maud::Markup) -> Response {
    Html(markup.into_string()).into_response()
}

pub fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    (status, page(pages::problem(title, message))).into_response()
}

pub fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// The title and sentence for a status the framework answered by itself.
fn words_for(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("Not found", "There is no such page here."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "Not allowed",
            "This address does not take that kind of request.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("Too large", "The request is larger than the reader takes.")
        }
        s if s.is_server_error() => (
            "Something went wrong",
            "The reader could not answer this request; the library is unchanged. Try again.",
        ),
        _ => (
            "Not understood",
            "The reader cannot read this address; check it, or start again from the library.",
        ),
    }
}

/// Rewrites error answers that are not already one of ours (HTML or JSON) into the reader's
/// page, or its JSON form under `/api`, keeping the status.
pub async fn error_pages(req: Request<Body>, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html") || c.starts_with("application/json"));
    if ours {
        return res;
    }
    let (title, message) = words_for(status);
    if api {
        json_error(status, format!("{title}: {message}"))
    } else {
        problem(status, title, message)
    }
}
