//! One identity per page: the same page listed as `…/post`, `…/post/`, `…/post#part` or
//! `…/post?utm_source=newsletter` is one document. Scheme and host are already lower-case and
//! the default port gone (the URL parser sees to that); here the fragment, tracking parameters
//! and a trailing slash go.

use url::Url;

/// Query parameters that only say where a click came from. Names, or prefixes ending in `_`.
pub const TRACKING_PARAMS: &[&str] = &[
    "utm_",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref_src",
    "ref_url",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wickedid",
    "__s",
    "s_cid",
];

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    TRACKING_PARAMS.iter().any(|t| {
        if t.ends_with('_') && t.len() > 2 {
            name.starts_with(t)
        } else {
            name == *t
        }
    })
}

/// The URL without what does not change the page: tracking parameters, the fragment, and a
/// trailing slash on a path other than `/`.
pub fn clean(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    u
}

/// The identity of a page: [`clean`], and the path without a trailing slash.
pub fn key(url: &Url) -> String {
    let u = clean(url);
    let mut s = u.to_string();
    let path_end = s.len() - u.query().map_or(0, |q| q.len() + 1);
    if u.path().len() > 1 && s[..path_end].ends_with('/') {
        s.remove(path_end - 1);
    }
    s
}

/// [`key`] of a URL string (the string itself when it does not parse).
pub fn key_of(url: &str) -> String {
    Url::parse(url)
        .map(|u| key(&u))
        .unwrap_or_else(|_| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_one_page_share_a_key() {
        let same = [
            "https://Example.org/post",
            "https://example.org:443/post/",
            "https://example.org/post#comments",
            "https://example.org/post/?utm_source=newsletter&utm_medium=email",
            "https://example.org/post?fbclid=abc&mc_eid=1",
        ];
        for u in same {
            assert_eq!(key_of(u), "https://example.org/post", "{u}");
        }
        // Different pages stay different: another path, a meaningful parameter, http.
        for u in [
            "https://example.org/post2",
            "https://example.org/post?id=2",
            "http://example.org/post",
        ] {
            assert_ne!(key_of(u), "https://example.org/post", "{u}");
        }
        assert_eq!(
            key_of("https://e.org/a?id=2&utm_campaign=x&b=3"),
            "https://e.org/a?id=2&b=3"
        );
        assert_eq!(key_of("https://e.org/"), "https://e.org/");
    }
}
