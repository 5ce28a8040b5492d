//! URL rules: which resources to fetch for one reading-list link. A list links to the page a
//! person reads; the text worth indexing often lives elsewhere (an arXiv paper's PDF, a GitHub
//! repository's README, a gist's files), so each link becomes a small plan of sources.

use url::Url;

/// What a source contributes to its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The main text (and the metadata, when no `Meta` source exists).
    Main,
    /// Title, authors, abstract: an arXiv abstract page or a YouTube oEmbed answer.
    Meta,
}

/// One resource to fetch. `alternates` are tried in order when the main URL answers 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub role: Role,
    pub url: String,
    pub alternates: Vec<String>,
}

/// The site a link belongs to, when rl-search knows a better way to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Generic,
    Arxiv,
    GithubRepo,
    GithubFile,
    Gist,
    Youtube,
    /// Sites whose pages are empty without JavaScript (x.com, twitter.com) and that offer no
    /// other way in for this link.
    ScriptOnly,
    /// A post on X/Twitter, read through the public oEmbed endpoint.
    Tweet,
    /// A Mastodon post, read through its instance's public API (the page when that fails).
    Mastodon,
}

/// The sources of one link, the first being the one that decides whether it changed.
#[derive(Debug, Clone)]
pub struct Plan {
    pub site: Site,
    pub sources: Vec<Source>,
}

fn source(role: Role, url: String) -> Source {
    Source {
        role,
        url,
        alternates: Vec::new(),
    }
}

/// Maps a list URL to what should be fetched for it.
pub fn plan(list_url: &str) -> Plan {
    let generic = || Plan {
        site: Site::Generic,
        sources: vec![source(Role::Main, fetchable(list_url))],
    };
    let Ok(url) = Url::parse(list_url) else {
        return generic();
    };
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_start_matches("www.")
        .to_ascii_lowercase();
    let segs: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();

    match (host.as_str(), segs.as_slice()) {
        ("arxiv.org", ["abs" | "pdf", id @ ..]) if !id.is_empty() => {
            let id = id.join("/");
            let id = id.trim_end_matches(".pdf");
            Plan {
                site: Site::Arxiv,
                sources: vec![
                    source(Role::Meta, format!("https://arxiv.org/abs/{id}")),
                    source(Role::Main, format!("https://arxiv.org/pdf/{id}")),
                ],
            }
        }
        ("github.com", [owner, repo]) => Plan {
            site: Site::GithubRepo,
            sources: vec![Source {
                role: Role::Main,
                url: format!("https://raw.githubusercontent.com/{owner}/{repo}/HEAD/README.md"),
                alternates: vec![format!(
                    "https://api.github.com/repos/{owner}/{repo}/readme"
                )],
            }],
        },
        ("github.com", [owner, repo, "blob", rest @ ..]) if !rest.is_empty() => Plan {
            site: Site::GithubFile,
            sources: vec![source(
                Role::Main,
                format!(
                    "https://raw.githubusercontent.com/{owner}/{repo}/{}",
                    rest.join("/")
                ),
            )],
        },
        ("gist.github.com", [.., id]) => Plan {
            site: Site::Gist,
            sources: vec![source(
                Role::Main,
                format!("https://api.github.com/gists/{id}"),
            )],
        },
        ("youtube.com" | "m.youtube.com", ["watch"]) if url.query().is_some() => {
            let mut oembed = Url::parse("https://www.youtube.com/oembed").expect("static URL");
            oembed
                .query_pairs_mut()
                .append_pair("url", &fetchable(list_url))
                .append_pair("format", "json");
            Plan {
                site: Site::Youtube,
                sources: vec![
                    source(Role::Main, fetchable(list_url)),
                    source(Role::Meta, oembed.to_string()),
                ],
            }
        }
        ("x.com" | "twitter.com" | "mobile.twitter.com", [user, "status", id, ..])
            if id.chars().all(|c| c.is_ascii_digit()) =>
        {
            // The public oEmbed endpoint answers without JavaScript or an account.
            let post = format!("https://twitter.com/{user}/status/{id}");
            let mut oembed = Url::parse("https://publish.twitter.com/oembed").expect("static URL");
            oembed
                .query_pairs_mut()
                .append_pair("url", &post)
                .append_pair("omit_script", "true")
                .append_pair("dnt", "true");
            Plan {
                site: Site::Tweet,
                sources: vec![source(Role::Main, oembed.to_string())],
            }
        }
        (_, [user, id])
            if user.starts_with('@') && id.len() >= 6 && id.chars().all(|c| c.is_ascii_digit()) =>
        {
            // Mastodon's post URLs look like this on every instance; its API has the text.
            Plan {
                site: Site::Mastodon,
                sources: vec![Source {
                    role: Role::Main,
                    url: {
                        let mut api = url.clone();
                        api.set_path(&format!("/api/v1/statuses/{id}"));
                        api.set_query(None);
                        api.set_fragment(None);
                        api.to_string()
                    },
                    alternates: vec![fetchable(list_url)],
                }],
            }
        }
        ("x.com" | "twitter.com", _) => Plan {
            site: Site::ScriptOnly,
            sources: vec![source(Role::Main, fetchable(list_url))],
        },
        _ => generic(),
    }
}

/// The URL to request: the list URL without its fragment, which servers never see.
pub fn fetchable(list_url: &str) -> String {
    match Url::parse(list_url) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => list_url.to_string(),
    }
}

/// The host of a URL without `www.`, for display and the `host` field.
pub fn host_of(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(p: &Plan) -> Vec<&str> {
        p.sources.iter().map(|s| s.url.as_str()).collect()
    }

    #[test]
    fn arxiv_abs_becomes_abstract_and_pdf() {
        let p = plan("https://arxiv.org/abs/2001.08361");
        assert_eq!(p.site, Site::Arxiv);
        assert_eq!(
            urls(&p),
            [
                "https://arxiv.org/abs/2001.08361",
                "https://arxiv.org/pdf/2001.08361"
            ]
        );
        let p = plan("https://arxiv.org/pdf/2001.08361v2.pdf");
        assert_eq!(urls(&p)[1], "https://arxiv.org/pdf/2001.08361v2");
    }

    #[test]
    fn github_repo_and_blob_go_raw() {
        let p = plan("https://github.com/ray-project/llm-numbers");
        assert_eq!(
            urls(&p),
            ["https://raw.githubusercontent.com/ray-project/llm-numbers/HEAD/README.md"]
        );
        assert_eq!(p.sources[0].alternates.len(), 1);
        let p = plan("https://github.com/o/r/blob/main/a/b.pdf");
        assert_eq!(
            urls(&p),
            ["https://raw.githubusercontent.com/o/r/main/a/b.pdf"]
        );
    }

    /// Issue 10: social posts without a browser.
    #[test]
    fn posts_go_through_oembed_and_the_mastodon_api() {
        let p = plan("https://x.com/vboykis/status/1691530859575214081?s=20");
        assert_eq!(p.site, Site::Tweet);
        assert_eq!(
            urls(&p),
            [
                "https://publish.twitter.com/oembed?url=https%3A%2F%2Ftwitter.com%2Fvboykis%2Fstatus%2F1691530859575214081&omit_script=true&dnt=true"
            ]
        );
        let p = plan("https://jawns.club/@vicki/110895263087386568");
        assert_eq!(p.site, Site::Mastodon);
        assert_eq!(
            urls(&p),
            ["https://jawns.club/api/v1/statuses/110895263087386568"]
        );
        assert_eq!(
            p.sources[0].alternates,
            ["https://jawns.club/@vicki/110895263087386568"]
        );
        assert_eq!(plan("https://x.com/vboykis").site, Site::ScriptOnly);
        assert_eq!(plan("https://example.org/@team/about").site, Site::Generic);
    }

    #[test]
    fn gist_youtube_and_fragments() {
        assert_eq!(
            urls(&plan("https://gist.github.com/u/abc123")),
            ["https://api.github.com/gists/abc123"]
        );
        let p = plan("https://www.youtube.com/watch?v=ISPId9Lhc1g");
        assert_eq!(p.site, Site::Youtube);
        assert!(
            p.sources[1]
                .url
                .starts_with("https://www.youtube.com/oembed?url=")
        );
        assert_eq!(
            urls(&plan("https://a.example/x.html#part")),
            ["https://a.example/x.html"]
        );
        assert_eq!(host_of("https://www.Example.org/x"), "example.org");
    }
}
