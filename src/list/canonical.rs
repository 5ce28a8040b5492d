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

/// The page a user means, however they spell it, for looking a document up: [`key`], then
/// http and https alike and `www.` dropped; an arXiv paper by its id whatever the form
/// (`abs`/`pdf`, a version, `.pdf`, `arXiv:ID`, the bare id); a DOI by `doi:` and its lower-
/// case name (`https://doi.org/…`, `doi:…`, the bare `10.…/…`); a bare `host/path` as that
/// page. `None` when the text names no page.
pub fn identity(spelling: &str) -> Option<String> {
    let s = spelling.trim();
    if let Some(id) = arxiv_id(s) {
        return Some(format!("arxiv:{id}"));
    }
    if let Some(doi) = doi(s) {
        return Some(format!("doi:{}", doi.to_lowercase()));
    }
    let url = if s.contains("://") {
        Url::parse(s).ok()?
    } else {
        // A bare host/path: the host needs a dot and no spaces.
        let host = s.split('/').next()?;
        if !host.contains('.') || s.contains(char::is_whitespace) {
            return None;
        }
        Url::parse(&format!("https://{s}")).ok()?
    };
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    if let Some(id) = arxiv_id(url.as_str()) {
        return Some(format!("arxiv:{id}"));
    }
    if let Some(doi) = doi(url.as_str()) {
        return Some(format!("doi:{}", doi.to_lowercase()));
    }
    let k = key(&url);
    let rest = k.split_once("://").map_or(k.as_str(), |(_, r)| r);
    Some(rest.strip_prefix("www.").unwrap_or(rest).to_string())
}

/// An arXiv id without its version, from `arXiv:2001.08361v2`, `2001.08361`, an old-style
/// `hep-th/9901001`, or an arxiv.org `abs`/`pdf` URL.
fn arxiv_id(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("arxiv:") {
        r.to_string()
    } else if lower.contains("arxiv.org/") {
        let after = lower.split("arxiv.org/").nth(1)?;
        let path = after.split(['?', '#']).next()?;
        let path = path
            .strip_prefix("abs/")
            .or_else(|| path.strip_prefix("pdf/"))?;
        path.trim_end_matches('/')
            .trim_end_matches(".pdf")
            .to_string()
    } else {
        lower.clone()
    };
    let bare = match rest.rfind('v') {
        Some(i)
            if i > 0 && rest[i + 1..].chars().all(|c| c.is_ascii_digit()) && i + 1 < rest.len() =>
        {
            &rest[..i]
        }
        _ => rest.as_str(),
    };
    // New style: YYMM.NNNN(N); old style: archive(.class)/YYMMNNN.
    let new_style = bare.split_once('.').is_some_and(|(a, b)| {
        a.len() == 4
            && (4..=5).contains(&b.len())
            && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit())
    });
    let old_style = bare.split_once('/').is_some_and(|(a, b)| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '.')
            && b.len() == 7
            && b.chars().all(|c| c.is_ascii_digit())
    });
    (new_style || (old_style && lower.contains("arxiv"))).then(|| bare.to_string())
}

/// A DOI (`10.1145/3292500`) from `doi:…`, a doi.org URL or the bare name.
fn doi(s: &str) -> Option<&str> {
    let rest = s
        .strip_prefix("doi:")
        .or_else(|| s.strip_prefix("DOI:"))
        .or_else(|| {
            [
                "https://doi.org/",
                "http://doi.org/",
                "https://dx.doi.org/",
                "http://dx.doi.org/",
            ]
            .iter()
            .find_map(|p| s.strip_prefix(p))
        })
        .unwrap_or(s)
        .trim();
    let (prefix, suffix) = rest.split_once('/')?;
    (prefix.starts_with("10.")
        && prefix[3..].chars().all(|c| c.is_ascii_digit() || c == '.')
        && !suffix.is_empty()
        && !rest.contains(char::is_whitespace))
    .then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: every spelling a user might paste names the same page.
    #[test]
    fn any_spelling_of_a_page_has_one_identity() {
        let paper = [
            "https://arxiv.org/abs/1706.03762",
            "http://arxiv.org/abs/1706.03762",
            "arxiv.org/abs/1706.03762",
            "https://arxiv.org/abs/1706.03762v7",
            "https://arxiv.org/abs/1706.03762?utm_source=x",
            "https://ARXIV.org/abs/1706.03762",
            "https://arxiv.org/pdf/1706.03762",
            "https://arxiv.org/pdf/1706.03762v5.pdf",
            "arXiv:1706.03762v5",
            "1706.03762",
            "https://www.arxiv.org/abs/1706.03762#intro",
        ];
        for p in paper {
            assert_eq!(identity(p).as_deref(), Some("arxiv:1706.03762"), "{p}");
        }
        assert_eq!(
            identity("arXiv:hep-th/9901001v2").as_deref(),
            Some("arxiv:hep-th/9901001")
        );
        let post = [
            "https://sebastianraschka.com/blog/2021/dl-course.html#l19-self-attention-and-transformer-networks",
            "http://sebastianraschka.com/blog/2021/dl-course.html",
            "https://www.sebastianraschka.com/blog/2021/dl-course.html/",
            "sebastianraschka.com/blog/2021/dl-course.html",
            "https://sebastianraschka.com/blog/2021/dl-course.html?utm_campaign=x",
        ];
        for p in post {
            assert_eq!(
                identity(p).as_deref(),
                Some("sebastianraschka.com/blog/2021/dl-course.html"),
                "{p}"
            );
        }
        for d in [
            "10.1145/3292500.3330701",
            "doi:10.1145/3292500.3330701",
            "https://doi.org/10.1145/3292500.3330701",
            "https://dx.doi.org/10.1145/3292500.3330701",
        ] {
            assert_eq!(
                identity(d).as_deref(),
                Some("doi:10.1145/3292500.3330701"),
                "{d}"
            );
        }
        for not in [
            "scaling laws",
            "abcd1234",
            "ftp://e.org/x",
            "12",
            "localhost/x",
        ] {
            assert_eq!(identity(not), None, "{not}");
        }
    }

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
