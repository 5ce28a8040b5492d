//! Query strings as the reader reads them: never a reason to refuse a page. A repeated key
//! takes its first value, an empty value is no value, a number that is not one (or is out of
//! range) is no number — the page falls back to its default, as miniserve's listing does,
//! instead of answering with the framework's "Failed to deserialize query string".

use std::convert::Infallible;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The `{id}` of a document's address as it came, undecoded: ids are hex digits, so any
/// percent sign (`/doc/%ff`) already makes it no id — a 404, not the framework's 400.
#[derive(Debug, Clone)]
pub struct DocId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DocId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == "id")
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_default();
        Ok(DocId(id))
    }
}

/// The pairs of a request's query string, decoded.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    pub fn parse(query: &str) -> Params {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`, when it is not empty.
    pub fn text(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// The first value of `key` as a number; `None` when absent or not a number of that type.
    pub fn number<T: FromStr>(&self, key: &str) -> Option<T> {
        self.text(key)?.parse().ok()
    }

    /// A page number in `1..=max`: anything else (absent, negative, huge, not a number) is the
    /// nearest page there is.
    pub fn page(&self, max: usize) -> usize {
        match self.text("page") {
            None => 1,
            Some(v) => match v.parse::<i128>() {
                Ok(n) => n.clamp(1, max as i128) as usize,
                // Digits beyond any integer: the last page.
                Err(_) if v.chars().all(|c| c.is_ascii_digit()) => max,
                Err(_) => 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_values_fall_back_to_defaults() {
        let p = Params::parse("q=a&q=b&version=&page=-1&limit=x&kind=%20");
        assert_eq!(p.text("q").as_deref(), Some("a"));
        assert_eq!(p.number::<u32>("version"), None);
        assert_eq!(p.page(25), 1);
        assert_eq!(p.number::<usize>("limit"), None);
        assert_eq!(p.text("kind"), None, "an empty filter is no filter");
        assert_eq!(
            Params::parse("page=99999999999999999999999999999999999999999").page(25),
            25
        );
        assert_eq!(
            Params::parse("version=99999999999").number::<u32>("version"),
            None
        );
        assert_eq!(
            Params::parse("q=%ff%fe").text("q").as_deref(),
            Some("\u{fffd}\u{fffd}")
        );
    }
}
