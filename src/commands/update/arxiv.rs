//! arXiv at its floor: the metadata of every paper on the list from the export API in one
//! request per 100 papers, instead of one abstract page per paper 3 seconds apart. The PDFs
//! still come one by one at the pace arXiv asks for — and only when the paper has a version
//! newer than the one stored: the same answer names each paper's current version, and the PDF
//! of one version never changes.

use std::collections::HashMap;

use crate::extract::feed;
use crate::fetch::{Fetched, Fetcher, Outcome, Validators};
use crate::resolve::{self, Role, Site};
use crate::store::ManifestEntry;

/// Ids per export API request (arXiv's advice for `id_list`).
const BATCH: usize = 100;
/// The export API's query endpoint.
pub const EXPORT_API: &str = "https://export.arxiv.org/api/query";

/// What the export API said, by abstract-page URL.
#[derive(Debug, Default)]
pub struct Prefetched {
    /// The paper's entry, as if fetched from the abstract page.
    pages: HashMap<String, Fetched>,
    /// The paper's current version (`2001.08361v2`).
    versions: HashMap<String, String>,
}

impl Prefetched {
    /// The paper's entry, as if its abstract page `abs_url` had been fetched.
    pub fn page(&self, abs_url: &str) -> Option<&Fetched> {
        self.pages.get(abs_url)
    }

    /// The current version of the paper whose abstract page is `abs_url`.
    pub fn version(&self, abs_url: &str) -> Option<&str> {
        self.versions.get(abs_url).map(String::as_str)
    }

    /// Test and bench use: a paper whose entry says version `version`.
    #[cfg(test)]
    pub fn insert(&mut self, abs_url: &str, page: Fetched, version: &str) {
        self.pages.insert(abs_url.to_string(), page);
        self.versions
            .insert(abs_url.to_string(), version.to_string());
    }
}

/// The arXiv id of an abstract URL (`https://arxiv.org/abs/2001.08361` → `2001.08361`).
fn id_of(abs_url: &str) -> Option<&str> {
    abs_url.strip_prefix("https://arxiv.org/abs/")
}

/// An entry id without its version (`http://arxiv.org/abs/2001.08361v2` → `2001.08361`).
fn bare(id: &str) -> &str {
    let id = id.rsplit_once("/abs/").map_or(id, |(_, i)| i);
    match id.rfind('v') {
        Some(i) if i > 0 && id[i + 1..].chars().all(|c| c.is_ascii_digit()) && i + 1 < id.len() => {
            &id[..i]
        }
        _ => id,
    }
}

/// Fetches the metadata of every arXiv paper among `entries`. A batch that fails (an unknown
/// id makes arXiv answer 404 for the whole batch) just leaves its papers to their abstract
/// pages, as before.
pub async fn prefetch(fetcher: &Fetcher, api: &str, entries: &[ManifestEntry]) -> Prefetched {
    let mut abs_urls: Vec<String> = entries
        .iter()
        .map(|e| resolve::plan(&e.url))
        .filter(|p| p.site == Site::Arxiv)
        .flat_map(|p| {
            p.sources
                .into_iter()
                .filter(|s| s.role == Role::Meta)
                .map(|s| s.url)
        })
        .collect();
    abs_urls.sort();
    abs_urls.dedup();
    let mut out = Prefetched::default();
    for chunk in abs_urls.chunks(BATCH) {
        let ids: Vec<&str> = chunk.iter().filter_map(|u| id_of(u)).collect();
        let url = format!("{api}?id_list={}&max_results={}", ids.join(","), ids.len());
        let Ok(Outcome::Fetched(answer)) = fetcher.get(&url, &Validators::default()).await else {
            continue;
        };
        let xml = String::from_utf8_lossy(&answer.body);
        let Ok(parsed) = feed::parse(&xml) else {
            continue;
        };
        for item in parsed.items {
            let Some(abs) = chunk.iter().find(|u| {
                id_of(u).is_some_and(|i| i == bare(&item.id) || bare(i) == bare(&item.id))
            }) else {
                continue;
            };
            let versioned = item
                .id
                .rsplit_once("/abs/")
                .map_or(item.id.as_str(), |(_, i)| i);
            if versioned != bare(versioned) {
                out.versions.insert(abs.clone(), versioned.to_string());
            }
            let body = format!(
                "<feed xmlns=\"http://www.w3.org/2005/Atom\">{}</feed>",
                item.raw
            );
            out.pages.insert(
                abs.clone(),
                Fetched {
                    final_url: abs.clone(),
                    status: answer.status,
                    content_type: Some("application/atom+xml".into()),
                    etag: None,
                    last_modified: None,
                    body: body.into_bytes(),
                    hold: None,
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// A one-connection-at-a-time HTTP server that answers every request with `body` and
    /// records the request lines.
    fn serve(body: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
        let log = seen.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                log.lock().unwrap().push(line.trim().to_string());
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (format!("http://{addr}/api/query"), seen)
    }

    /// Issue 10: one metadata request for several papers; each paper gets its own entry.
    #[test]
    fn one_request_for_all_the_papers() {
        let (api, seen) = serve(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>http://arxiv.org/abs/2001.08361v1</id><title>Scaling Laws</title><summary>We study scaling.</summary><author><name>Jared Kaplan</name></author></entry><entry><id>http://arxiv.org/abs/2203.15556v1</id><title>Chinchilla</title><summary>Compute-optimal.</summary></entry></feed>",
        );
        let entry = |id: &str, url: &str| ManifestEntry {
            id: id.into(),
            url: url.into(),
            link_text: String::new(),
            section: String::new(),
            tags: vec![],
            saved: None,
        };
        let entries = [
            entry("a", "https://arxiv.org/abs/2001.08361"),
            entry("b", "https://arxiv.org/pdf/2203.15556v1"),
            entry("c", "https://example.org/not-a-paper"),
        ];
        let fetcher = Fetcher::new(crate::fetch::FetchOptions::default()).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let got = rt.block_on(prefetch(&fetcher, &api, &entries));
        let requests = seen.lock().unwrap().clone();
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert!(
            requests[0].contains("id_list=2001.08361,2203.15556v1"),
            "{requests:?}"
        );
        let one = got.page("https://arxiv.org/abs/2001.08361").unwrap();
        let doc = feed::arxiv_entry(&String::from_utf8_lossy(&one.body)).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Scaling Laws"));
        assert_eq!(doc.author.as_deref(), Some("Jared Kaplan"));
        assert!(got.page("https://arxiv.org/abs/2203.15556v1").is_some());
        assert_eq!(
            got.version("https://arxiv.org/abs/2001.08361"),
            Some("2001.08361v1")
        );
    }

    #[test]
    fn ids_with_and_without_versions() {
        assert_eq!(bare("http://arxiv.org/abs/2001.08361v2"), "2001.08361");
        assert_eq!(bare("2001.08361"), "2001.08361");
        assert_eq!(bare("hep-th/9901001v1"), "hep-th/9901001");
        assert_eq!(
            id_of("https://arxiv.org/abs/2203.15556"),
            Some("2203.15556")
        );
    }
}
