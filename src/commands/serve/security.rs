//! The reader runs next to a browser full of other sites. Every request must name this server
//! in its `Host` (a DNS-rebinding page names its own domain); every answer carries a Content
//! Security Policy that allows only this server's own script and style; a request that changes
//! something must come from this origin and carry the page's token (CSRF).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;

/// No inline script, nothing from elsewhere: a document's text can never run as code here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether a `Host` header names this server: `localhost`, an IP address (a rebinding attack
/// needs a domain name), or a name allowed with `--allow-host`, with the port it listens on.
pub fn host_allowed(host: &str, port: u16, allowed: &[String]) -> bool {
    let (name, p) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((addr, "")) => (addr, Some(80)),
            Some((addr, after)) => (addr, after.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (n, p.parse::<u16>().ok()),
            None => (host, Some(80)),
        }
    };
    p == Some(port)
        && !name.is_empty()
        && (name.eq_ignore_ascii_case("localhost")
            || name.parse::<std::net::IpAddr>().is_ok()
            || allowed.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// Refuses requests for other hosts; adds the security headers to every answer.
pub async fn guard(State(app): State<Arc<App>>, req: Request<Body>, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let mut res = if host_allowed(host, app.port, &app.allowed_hosts) {
        next.run(req).await
    } else {
        // Plain text, and the same headers as every other answer.
        (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "rl-search serves {} only; this request was for {host:?}\n",
                app.origin
            ),
        )
            .into_response()
    };
    let h = res.headers_mut();
    // Our pages get the policy; a stored page sets its own (a sandbox). Other types need
    // none: with nosniff they are never run as HTML, and a policy on a PDF stops Chrome's
    // viewer from showing it.
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    if html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: under it Chrome sends `Origin: null` with our own forms.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// A state-changing request is accepted only from a page of this server: the browser's
/// `Origin` (or `Sec-Fetch-Site`) must say so, and the form must carry the token.
pub fn same_origin(app: &App, headers: &HeaderMap, token: Option<&str>) -> Result<(), String> {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = origin
            .strip_prefix("http://")
            .unwrap_or("")
            .trim_end_matches('/');
        if !host_allowed(host, app.port, &app.allowed_hosts) {
            return Err(format!(
                "a request from {origin} may not change this library"
            ));
        }
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|s| s.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(format!("a {site} request may not change this library"));
    }
    if token != Some(app.token.as_str()) {
        return Err("the form's token is missing or stale: reload the page and try again".into());
    }
    Ok(())
}

/// A token no other page can know: 32 bytes from the operating system's random source
/// (`getrandom`), not a hash of the clock and hasher keys.
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        anyhow::anyhow!("cannot get random bytes from the system for the page token: {e}")
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let allowed = vec!["reader.lan".to_string()];
        for ok in [
            "127.0.0.1:8717",
            "localhost:8717",
            "[::1]:8717",
            "192.168.1.5:8717",
            "reader.lan:8717",
        ] {
            assert!(host_allowed(ok, 8717, &allowed), "{ok}");
        }
        for bad in [
            "evil.example:8717",
            "127.0.0.1:9000",
            "localhost",
            "",
            "127.0.0.1.evil.example:8717",
        ] {
            assert!(!host_allowed(bad, 8717, &allowed), "{bad}");
        }
        assert!(host_allowed("localhost", 80, &[]));
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token().unwrap(), new_token().unwrap());
        assert_eq!(new_token().unwrap().len(), 64);
    }
}
