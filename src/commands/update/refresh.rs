//! One link: fetch its sources (conditionally), extract, assemble and store — never losing a
//! good stored copy.

use std::time::{Duration, SystemTime};

use crate::assemble;
use crate::fetch::{Fetcher, Outcome, Validators};
use crate::resolve::{self, Role};
use crate::store::ManifestEntry as Entry;
use crate::store::{self, DocRecord, SourceRecord, State, Store};

use super::arxiv::Prefetched;
use super::{Change, UpdateSettings};
use crate::commands::target::last_checked;

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn checked_recently(rec: &DocRecord, checked: Option<&String>, max_age: Duration) -> bool {
    last_checked(rec, checked)
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < max_age)
}

/// Fetches, extracts and stores one link. Never loses a good stored copy.
pub(super) async fn refresh(
    entry: &Entry,
    store: &Store,
    fetcher: &Fetcher,
    settings: &UpdateSettings,
    checked: Option<&String>,
    prefetched: &Prefetched,
) -> Change {
    let id = entry.id.clone();
    let prev = store.load_record(&id).ok().flatten();
    let prev_ok = prev
        .as_ref()
        .filter(|p| p.state == State::Ok && p.text_file.is_some());
    if let (Some(p), Some(age), false) = (prev_ok, settings.max_age, settings.force)
        && checked_recently(p, checked, age)
    {
        return Change::Skipped;
    }

    let result = fetch_and_build(entry, &id, prev_ok, store, fetcher, settings, prefetched).await;
    let mut rec = prev.clone().unwrap_or_else(|| DocRecord {
        id: id.clone(),
        url: entry.url.clone(),
        ..Default::default()
    });
    let listed_as_before = rec.link_text == entry.link_text && rec.section == entry.section;
    rec.link_text = entry.link_text.clone();
    rec.section = entry.section.clone();
    rec.checked_at = Some(now_rfc3339());
    let change = match result {
        Ok(Built::Unchanged(sources)) => {
            // Nothing to write when only the check time moved: that goes to the library's
            // check log, once per update, instead of one fsync'd record per link.
            let same = listed_as_before
                && prev.as_ref().is_some_and(|p| {
                    p.last_error.is_none()
                        && p.sources == sources
                        && p.versions_over(settings.keep_versions) == 0
                });
            if same {
                return Change::Unchanged;
            }
            rec.sources = sources;
            rec.last_error = None;
            rec.failing_since = None;
            rec.bound_versions(settings.keep_versions);
            Change::Unchanged
        }
        Ok(Built::New(mut new_rec)) => {
            // Re-extracted from the same bytes (a newer extractor, --force): the copy is as
            // old as it was, and only a different text is a change.
            let same_bytes = prev_ok.filter(|p| {
                p.sources
                    .iter()
                    .map(|s| &s.sha256)
                    .eq(new_rec.sources.iter().map(|s| &s.sha256))
            });
            if let Some(p) = same_bytes {
                new_rec.fetched_at = p.fetched_at.clone();
            }
            // New content keeps the copy it replaces as a version; the same bytes made into
            // text again (a newer extractor) do not make a version.
            if let Some(p) = prev_ok {
                new_rec.versions = p.versions.clone();
                if same_bytes.is_none() {
                    let words = p
                        .text_file
                        .as_deref()
                        .and_then(|f| store.read_text(f).ok())
                        .map_or(0, |t| t.split_whitespace().count());
                    new_rec.versions.push(p.as_version(words));
                }
                new_rec.bound_versions(settings.keep_versions);
            }
            let change = match (prev_ok, same_bytes) {
                (Some(p), Some(_)) if p.text_sha256 == new_rec.text_sha256 => Change::Unchanged,
                (Some(_), _) => Change::Changed,
                (None, _) => Change::New,
            };
            rec = *new_rec;
            change
        }
        Err(failure) => {
            // The report and the record keep the line a person reads.
            let reason = crate::errors::chain(&failure);
            rec.last_error = Some(reason.clone());
            if rec.failing_since.is_none() {
                rec.failing_since = rec.checked_at.clone();
            }
            if let Some(s) = failure.status() {
                rec.http_status = Some(s);
            }
            if rec.state != State::Ok {
                rec.state = State::Failed;
            }
            Change::Failed(reason, rec.state == State::Ok)
        }
    };
    if let Err(e) = store.save_record(&rec, prev.as_ref()) {
        return Change::Failed(crate::errors::chain(&e), prev_ok.is_some());
    }
    change
}

enum Built {
    /// Same content as stored; refreshed source validators.
    Unchanged(Vec<SourceRecord>),
    New(Box<DocRecord>),
}

/// Why one link could not be brought up to date. Typed until the report, where it becomes
/// the one line a person reads.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    #[error("{url}: 304 Not Modified for a resource we never stored")]
    UnexpectedNotModified { url: String },
    #[error("{url}")]
    Extract {
        url: String,
        status: u16,
        source: crate::extract::ExtractError,
    },
    #[error("{url}: {reason}")]
    Assemble {
        url: String,
        status: Option<u16>,
        reason: String,
    },
    #[error("the extraction task stopped")]
    Worker(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Failure {
    /// The HTTP status that goes with the failure, when there is one.
    fn status(&self) -> Option<u16> {
        match self {
            Failure::Fetch(e) => e.status(),
            Failure::UnexpectedNotModified { .. } => Some(304),
            Failure::Extract { status, .. } => Some(*status),
            Failure::Assemble { status, .. } => *status,
            Failure::Worker(_) | Failure::Store(_) => None,
        }
    }
}

async fn fetch_and_build(
    entry: &Entry,
    id: &str,
    prev: Option<&DocRecord>,
    store: &Store,
    fetcher: &Fetcher,
    settings: &UpdateSettings,
    prefetched: &Prefetched,
) -> Result<Built, Failure> {
    let plan = resolve::plan(&entry.url);
    let prev_source = |url: &str| prev.and_then(|p| p.sources.iter().find(|s| s.url == url));
    // Text made by an older extractor is made again from the stored bytes.
    let stale = prev.is_some_and(|p| p.extractor < crate::extract::VERSION);
    let mut sources: Vec<SourceRecord> = vec![];
    let mut bodies: Vec<(Role, Vec<u8>)> = vec![];
    // The bodies' share of the fetcher's memory budget, held until extraction is done.
    let mut holds = vec![];
    let mut all_same = prev.is_some();
    for (i, src) in plan.sources.iter().enumerate() {
        let old = prev_source(&src.url);
        let validators = match (old, settings.force) {
            (Some(o), false) => Validators {
                etag: o.etag.clone(),
                last_modified: o.last_modified.clone(),
            },
            _ => Validators::default(),
        };
        let mut urls = vec![src.url.clone()];
        urls.extend(src.alternates.iter().cloned());
        let answer = match prefetched.get(&src.url) {
            Some(f) => Ok(Outcome::Fetched(f.clone())),
            None => fetcher.get_first(&urls, &validators).await,
        };
        let outcome = match answer {
            Ok(o) => o,
            // Metadata is a bonus: the document can stand on its main text alone.
            Err(_) if src.role == Role::Meta && plan.sources.len() > 1 => continue,
            Err(e) => return Err(e.into()),
        };
        match outcome {
            Outcome::NotModified => {
                let Some(o) = old else {
                    return Err(Failure::UnexpectedNotModified {
                        url: src.url.clone(),
                    });
                };
                // The first source decides: if it is unchanged the document is, and nothing
                // is read, extracted or indexed.
                if i == 0 && !stale && prev.is_some_and(|p| p.sources.len() == plan.sources.len()) {
                    return Ok(Built::Unchanged(
                        prev.map(|p| p.sources.clone()).unwrap_or_default(),
                    ));
                }
                let body = match store.read_raw(&o.raw_file) {
                    Ok(body) => body,
                    // Re-extraction needs the stored bytes; without them the text made by the
                    // older extractor stays, rather than failing the link on every update.
                    Err(_)
                        if stale && prev.is_some_and(|p| p.sources.len() == plan.sources.len()) =>
                    {
                        return Ok(Built::Unchanged(
                            prev.map(|p| p.sources.clone()).unwrap_or_default(),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                };
                sources.push(o.clone());
                bodies.push((src.role, body));
            }
            Outcome::Fetched(f) => {
                let sha = store::sha256_hex(&f.body);
                if old.is_none_or(|o| o.sha256 != sha) {
                    all_same = false;
                }
                let ext = extension_for(f.content_type.as_deref(), &f.body);
                let raw_file = store.write_raw(id, &sha, ext, &f.body)?;
                sources.push(SourceRecord {
                    url: src.url.clone(),
                    final_url: f.final_url.clone(),
                    http_status: f.status,
                    content_type: f.content_type.clone(),
                    etag: f.etag.clone(),
                    last_modified: f.last_modified.clone(),
                    sha256: sha,
                    bytes: f.body.len() as u64,
                    raw_file,
                });
                holds.push(f.hold);
                bodies.push((src.role, f.body));
            }
        }
    }
    if all_same
        && !stale
        && prev.is_some_and(|p| p.sources.len() == sources.len())
        && !settings.force
    {
        return Ok(Built::Unchanged(sources));
    }

    // Extraction is CPU work (PDFs especially): off the async threads, in parallel with downloads.
    let site = plan.site;
    let jobs: Vec<_> = bodies
        .into_iter()
        .zip(sources.iter())
        .map(|((role, body), s)| (role, body, s.content_type.clone(), s.final_url.clone()))
        .collect();
    let pdf_timeout = settings.pdf_timeout;
    let parts = tokio::task::spawn_blocking(move || {
        jobs.into_iter()
            .map(|(role, body, ct, url)| {
                assemble::extract_part(site, role, body, ct.as_deref(), &url, pdf_timeout)
                    .map_err(|e| (url, e))
            })
            .collect::<Vec<_>>()
    })
    .await?;
    drop(holds);
    let mut good = vec![];
    let mut first_err = None;
    for (p, s) in parts.into_iter().zip(&sources) {
        match p {
            Ok(p) => good.push(p),
            Err((url, source)) => {
                first_err.get_or_insert(Failure::Extract {
                    url,
                    status: s.http_status,
                    source,
                });
            }
        }
    }
    if good.is_empty() {
        return Err(first_err.unwrap_or_else(|| Failure::Assemble {
            url: entry.url.clone(),
            status: None,
            reason: "nothing to extract".into(),
        }));
    }
    let mut doc =
        assemble::assemble(site, &entry.link_text, &entry.url, &good).map_err(|reason| {
            Failure::Assemble {
                url: entry.url.clone(),
                status: sources.first().map(|s| s.http_status),
                reason,
            }
        })?;
    if let Some(e) = first_err {
        // An arXiv abstract without its PDF is still worth indexing; say what is missing.
        doc.note = Some(format!("partly indexed: {}", crate::errors::chain(&e)));
    }
    let text_sha = store::sha256_hex(doc.text.as_bytes());
    let text_file = store.write_text(id, &text_sha, &doc.text)?;
    let now = now_rfc3339();
    Ok(Built::New(Box::new(DocRecord {
        id: id.to_string(),
        url: entry.url.clone(),
        link_text: entry.link_text.clone(),
        section: entry.section.clone(),
        kind: doc.kind,
        title: doc.title,
        author: doc.author,
        published: doc.published,
        description: doc.description,
        state: State::Ok,
        thin: doc.thin,
        note: doc.note,
        http_status: sources
            .iter()
            .find(|s| s.http_status != 0)
            .map(|s| s.http_status),
        bytes: sources.iter().map(|s| s.bytes).sum(),
        text_chars: doc.text.chars().count(),
        text_sha256: Some(text_sha),
        text_file: Some(text_file),
        fetched_at: Some(now.clone()),
        checked_at: Some(now),
        last_error: None,
        sources,
        outline: doc.outline,
        extractor: crate::extract::VERSION,
        versions: vec![],
        failing_since: None,
    })))
}

fn extension_for(content_type: Option<&str>, body: &[u8]) -> &'static str {
    match crate::extract::sniff(body, content_type, "") {
        Ok(crate::extract::Format::Pdf) => "pdf",
        Ok(crate::extract::Format::Html) => "html",
        Ok(crate::extract::Format::Json) => "json",
        Ok(crate::extract::Format::Feed) => "xml",
        Ok(crate::extract::Format::Text) => "txt",
        Err(_) => "bin",
    }
}
