//! One link: fetch its sources (conditionally), extract, assemble and store — never losing a
//! good stored copy.

use std::time::{Duration, SystemTime};

use crate::assemble;
use crate::changes::{self, Event, Kind};
use crate::fetch::{Fetcher, Outcome, Validators};
use crate::resolve::{self, Role, Site};
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

/// Fetches, extracts and stores one link, and says what changed for the library's log.
/// Never loses a good stored copy.
pub(super) async fn refresh(
    entry: &Entry,
    store: &Store,
    fetcher: &Fetcher,
    settings: &UpdateSettings,
    checked: Option<&String>,
    prefetched: &Prefetched,
) -> (Change, Vec<Event>) {
    let prev = store.load_record(&entry.id).ok().flatten();
    let change = store_fresh_copy(
        entry,
        prev.as_ref(),
        store,
        fetcher,
        settings,
        checked,
        prefetched,
    )
    .await;
    let events = match &change {
        Change::Skipped | Change::Unchanged
            if prev.as_ref().is_none_or(|p| p.failing_since.is_none()) =>
        {
            vec![]
        }
        _ => match store.load_record(&entry.id) {
            Ok(Some(now)) => events(prev.as_ref(), &now, &change, store),
            _ => vec![],
        },
    };
    (change, events)
}

/// What the log says of one link's refresh: new, changed (with its words), failing (the first
/// failure only), recovered.
fn events(prev: Option<&DocRecord>, now: &DocRecord, change: &Change, store: &Store) -> Vec<Event> {
    let event = |kind| Event::new(kind, &now.id, &now.url, &now.title);
    let mut out = vec![];
    let was_failing = prev.and_then(|p| p.failing_since.clone());
    if let (Some(since), None) = (&was_failing, &now.failing_since) {
        out.push(Event {
            since: Some(since.clone()),
            ..event(Kind::Recovered)
        });
    }
    match change {
        Change::New => out.push(Event {
            version: Some(now.current_version()),
            ..event(Kind::New)
        }),
        Change::Changed => {
            let text = |file: Option<&str>| {
                file.and_then(|f| store.read_text(f).ok())
                    .unwrap_or_default()
            };
            let old = text(prev.and_then(|p| p.text_file.as_deref()));
            let new = text(now.text_file.as_deref());
            let d = changes::delta(&old, &new);
            out.push(Event {
                version: Some(now.current_version()),
                from_version: prev.map(DocRecord::current_version),
                words_added: Some(d.added),
                words_removed: Some(d.removed),
                summary: d.summary,
                ..event(Kind::Changed)
            });
        }
        Change::Failed(reason, _) if was_failing.is_none() => out.push(Event {
            reason: Some(reason.clone()),
            since: now.failing_since.clone(),
            ..event(Kind::Failing)
        }),
        _ => {}
    }
    out
}

async fn store_fresh_copy(
    entry: &Entry,
    prev: Option<&DocRecord>,
    store: &Store,
    fetcher: &Fetcher,
    settings: &UpdateSettings,
    checked: Option<&String>,
    prefetched: &Prefetched,
) -> Change {
    let id = entry.id.clone();
    let prev_ok = prev.filter(|p| p.state == State::Ok && p.text_file.is_some());
    if let (Some(p), Some(age), false) = (prev_ok, settings.max_age, settings.force)
        && checked_recently(p, checked, age)
    {
        return Change::Skipped;
    }

    let result = fetch_and_build(entry, &id, prev_ok, store, fetcher, settings, prefetched).await;
    let mut rec = prev.cloned().unwrap_or_else(|| DocRecord {
        id: id.clone(),
        url: entry.url.clone(),
        ..Default::default()
    });
    let listed_as_before = rec.link_text == entry.link_text
        && rec.section == entry.section
        && rec.tags == entry.tags
        && rec.saved == entry.saved;
    rec.link_text = entry.link_text.clone();
    rec.section = entry.section.clone();
    rec.tags = entry.tags.clone();
    rec.saved = entry.saved.clone();
    rec.checked_at = Some(now_rfc3339());
    let change = match result {
        Ok(Built::Unchanged(sources)) => {
            // Nothing to write when only the check time moved: that goes to the library's
            // check log, once per update, instead of one fsync'd record per link.
            let same = listed_as_before
                && prev.is_some_and(|p| {
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
            // New bytes with the same text (a changed ad, a timestamp in the markup) are not
            // a new version, and re-extracted bytes (a newer extractor, --force) are as old
            // as they were.
            let same_text = prev_ok.filter(|p| p.text_sha256 == new_rec.text_sha256);
            let same_bytes = prev_ok.filter(|p| {
                p.sources
                    .iter()
                    .map(|s| &s.sha256)
                    .eq(new_rec.sources.iter().map(|s| &s.sha256))
            });
            if let Some(p) = same_text.or(same_bytes) {
                new_rec.fetched_at = p.fetched_at.clone();
            }
            // New content keeps the copy it replaces as a version.
            if let Some(p) = prev_ok {
                new_rec.versions = p.versions.clone();
                if same_text.is_none() && same_bytes.is_none() {
                    let words = p
                        .text_file
                        .as_deref()
                        .and_then(|f| store.read_text(f).ok())
                        .map_or(0, |t| t.split_whitespace().count());
                    new_rec.versions.push(p.as_version(words));
                }
                new_rec.bound_versions(settings.keep_versions);
            }
            let change = match (prev_ok, same_text) {
                (Some(_), Some(_)) => Change::Unchanged,
                (Some(_), None) => Change::Changed,
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
    if let Err(e) = store.save_record(&rec, prev) {
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
    let same_shape = prev.is_some_and(|p| p.sources.len() == plan.sources.len());
    // The version the site says is current (arXiv's export API answer, asked once for all
    // papers at the start); a PDF of the version stored cannot have changed.
    let current_version = match plan.site {
        Site::Arxiv => plan
            .sources
            .iter()
            .find(|s| s.role == Role::Meta)
            .and_then(|meta| prefetched.version(&meta.url)),
        _ => None,
    };
    let mut sources: Vec<SourceRecord> = vec![];
    // Bodies in hand; `None` for a stored body read only if something else changed.
    let mut bodies: Vec<(Role, Option<Vec<u8>>)> = vec![];
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
        // The version this source will hold: only the main text of a versioned site.
        let version = current_version.filter(|_| src.role == Role::Main);
        let mut urls = vec![src.url.clone()];
        urls.extend(src.alternates.iter().cloned());
        let answer = if let Some(f) = prefetched.page(&src.url) {
            Ok(Outcome::Fetched(f.clone()))
        } else if version.is_some()
            && !settings.force
            && old.is_some_and(|o| o.version.as_deref() == version)
        {
            Ok(Outcome::NotModified)
        } else {
            fetcher.get_first(&urls, &validators).await
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
                if i == 0 && !stale && same_shape {
                    return Ok(Built::Unchanged(
                        prev.map(|p| p.sources.clone()).unwrap_or_default(),
                    ));
                }
                let mut o = o.clone();
                if version.is_some() {
                    o.version = version.map(str::to_string);
                }
                sources.push(o);
                bodies.push((src.role, None));
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
                    version: version.map(str::to_string),
                });
                holds.push(f.hold);
                bodies.push((src.role, Some(f.body)));
            }
        }
    }
    if all_same && !stale && same_shape && !settings.force {
        return Ok(Built::Unchanged(sources));
    }
    // Something changed: the unchanged sources' bodies come from the store.
    let mut read = Vec::with_capacity(bodies.len());
    for ((role, body), s) in bodies.into_iter().zip(&sources) {
        let body = match body {
            Some(b) => b,
            None => match store.read_raw(&s.raw_file) {
                Ok(b) => b,
                // Re-extraction needs the stored bytes; without them the text made by the
                // older extractor stays, rather than failing the link on every update.
                Err(_) if stale && same_shape => {
                    return Ok(Built::Unchanged(
                        prev.map(|p| p.sources.clone()).unwrap_or_default(),
                    ));
                }
                Err(e) => return Err(e.into()),
            },
        };
        read.push((role, body));
    }
    let bodies = read;

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
        tags: entry.tags.clone(),
        saved: entry.saved.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{FetchOptions, Fetched};

    /// Issue 21: when arXiv's metadata names the version whose PDF is stored, the PDF is not
    /// requested at all; the record says which version it holds.
    #[test]
    fn a_known_arxiv_version_is_not_asked_for_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), true).unwrap();
        let abs = "https://arxiv.org/abs/2001.08361";
        let entry = Entry {
            id: "abcd1234".into(),
            url: abs.into(),
            link_text: "Scaling laws".into(),
            section: String::new(),
            tags: vec![],
            saved: None,
        };
        let meta = b"<feed><entry><id>http://arxiv.org/abs/2001.08361v2</id></entry></feed>";
        let text_sha = store::sha256_hex(b"Scaling laws text");
        let text_file = store
            .write_text("abcd1234", &text_sha, "Scaling laws text")
            .unwrap();
        let source = |url: &str, body: &[u8], version: Option<&str>| SourceRecord {
            url: url.into(),
            final_url: url.into(),
            http_status: 200,
            sha256: store::sha256_hex(body),
            raw_file: "abcd1234-x.bin".into(),
            version: version.map(str::to_string),
            ..Default::default()
        };
        let rec = DocRecord {
            id: "abcd1234".into(),
            url: abs.into(),
            link_text: "Scaling laws".into(),
            state: State::Ok,
            text_file: Some(text_file),
            text_sha256: Some(text_sha),
            extractor: crate::extract::VERSION,
            sources: vec![
                source(abs, meta, None),
                source(
                    "https://arxiv.org/pdf/2001.08361",
                    b"%PDF",
                    Some("2001.08361v2"),
                ),
            ],
            ..Default::default()
        };
        store.save_record(&rec, None).unwrap();
        let mut prefetched = Prefetched::default();
        let page = Fetched {
            final_url: abs.into(),
            status: 200,
            content_type: Some("application/atom+xml".into()),
            etag: None,
            last_modified: None,
            body: meta.to_vec(),
            hold: None,
        };
        prefetched.insert(abs, page, "2001.08361v2");
        let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let settings = UpdateSettings::default();
        let (change, events) = rt.block_on(refresh(
            &entry,
            &store,
            &fetcher,
            &settings,
            None,
            &prefetched,
        ));
        assert_eq!(change, Change::Unchanged);
        assert!(events.is_empty());
        assert_eq!(fetcher.requests(), 0, "the PDF was asked for");
        let stored = store.load_record("abcd1234").unwrap().unwrap();
        assert_eq!(stored.sources[1].version.as_deref(), Some("2001.08361v2"));
    }
}
