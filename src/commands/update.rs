//! `rl-search update`: lists → links → fetch → extract → store → index. Downloads and
//! extraction run concurrently (one `buffer_unordered` stage); one loop owns the index writer and
//! commits once at the end. Every link's result is a value in the report, never an abort.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::assemble::{self, Part};
use crate::config::Config;
use crate::extract::pdf::DEFAULT_PDF_TIMEOUT;
use crate::fetch::{FetchOptions, Fetcher, Outcome, Validators};
use crate::index::{IndexDoc, LibraryIndex};
use crate::list::{self, Entry};
use crate::resolve::{self, Role};
use crate::store::{self, DocRecord, Manifest, ManifestEntry, SourceRecord, State, Store};

/// Everything `update` needs, resolved from flags.
#[derive(Debug, Clone)]
pub struct UpdateSettings {
    pub lists: Vec<String>,
    pub force: bool,
    pub max_age: Option<Duration>,
    pub wait: bool,
    pub concurrency: usize,
    pub fetch: FetchOptions,
    pub reindex: bool,
    pub pdf_timeout: Duration,
    /// Indexing threads; 0 for one per core.
    pub index_threads: usize,
}

impl Default for UpdateSettings {
    fn default() -> Self {
        UpdateSettings {
            lists: vec![],
            force: false,
            max_age: None,
            wait: false,
            concurrency: crate::fetch::DEFAULT_GLOBAL_LIMIT,
            fetch: FetchOptions::default(),
            reindex: false,
            pdf_timeout: DEFAULT_PDF_TIMEOUT,
            index_threads: 0,
        }
    }
}

/// What happened to one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    New,
    Changed,
    Unchanged,
    /// Checked recently enough (--max-age).
    Skipped,
    /// The reason, and whether an older good copy is kept.
    Failed(String, bool),
}

/// The end-of-update summary.
#[derive(Debug, Default)]
pub struct Report {
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: Vec<(String, String, bool)>,
    pub indexed: usize,
    pub removed: usize,
}

/// Runs an update and returns its report; errors are fatal (list unreadable, library locked).
pub fn run(cfg: &Config, settings: &UpdateSettings) -> Result<Report> {
    let store = Store::open(&cfg.index_dir, true)?;
    let _lock = store.lock(settings.wait)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let fetcher = Arc::new(Fetcher::new(settings.fetch.clone())?);

    let stored = store.load_manifest()?;
    let manifest = match stored {
        // A rebuild works offline from the links already recorded.
        Some(m) if settings.reindex && settings.lists.is_empty() => m,
        stored => {
            let lists = if !settings.lists.is_empty() {
                settings.lists.clone()
            } else {
                match stored {
                    Some(m) if !m.lists.is_empty() => m.lists,
                    _ => vec![list::BUILTIN_NAME.to_string()],
                }
            };
            let entries = rt.block_on(read_lists(&lists, &fetcher))?;
            let manifest = Manifest {
                lists,
                entries: entries
                    .iter()
                    .map(|e| ManifestEntry {
                        id: store::doc_id(&e.url),
                        url: e.url.clone(),
                        link_text: e.link_text.clone(),
                        section: e.section.clone(),
                    })
                    .collect(),
            };
            store.save_manifest(&manifest)?;
            manifest
        }
    };
    let entries: Vec<Entry> = manifest
        .entries
        .iter()
        .map(|e| Entry {
            url: e.url.clone(),
            link_text: e.link_text.clone(),
            section: e.section.clone(),
            line: 0,
        })
        .collect();

    let mut report = Report::default();
    if !settings.reindex {
        let changes = rt.block_on(fetch_all(cfg, settings, &store, &fetcher, &entries));
        for (entry, change) in entries.iter().zip(changes) {
            match change {
                Change::New => report.new += 1,
                Change::Changed => report.changed += 1,
                Change::Unchanged => report.unchanged += 1,
                Change::Skipped => report.skipped += 1,
                Change::Failed(reason, kept) => {
                    report.failed.push((entry.url.clone(), reason, kept))
                }
            }
        }
    }
    let (indexed, removed) =
        sync_index(&store, &manifest, settings.reindex, settings.index_threads)?;
    report.indexed = indexed;
    report.removed = removed;
    Ok(report)
}

/// Reads and parses every list; a list that cannot be read is fatal, a bad link only a warning.
async fn read_lists(lists: &[String], fetcher: &Fetcher) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = vec![];
    for name in lists {
        let markdown = if name == list::BUILTIN_NAME {
            list::BUILTIN_LIST.to_string()
        } else if name.starts_with("http://") || name.starts_with("https://") {
            match fetcher.get(name, &Validators::default()).await {
                Ok(Outcome::Fetched(f)) => String::from_utf8_lossy(&f.body).into_owned(),
                Ok(Outcome::NotModified) => bail!("reading list {name}: unexpected 304"),
                Err(e) => bail!("cannot download the reading list: {e}"),
            }
        } else {
            std::fs::read_to_string(name).with_context(|| {
                format!(
                    "cannot read the reading list {name}; give a Markdown file or an http(s) URL"
                )
            })?
        };
        let parsed = list::parse(&markdown);
        for s in &parsed.skipped {
            eprintln!(
                "warning: {name}:{}: skipping {}: {}",
                s.line, s.target, s.reason
            );
        }
        if parsed.entries.is_empty() {
            bail!("the reading list {name} has no http(s) links");
        }
        for e in parsed.entries {
            if !entries.iter().any(|x| x.url == e.url) {
                entries.push(e);
            }
        }
    }
    Ok(entries)
}

async fn fetch_all(
    cfg: &Config,
    settings: &UpdateSettings,
    store: &Store,
    fetcher: &Arc<Fetcher>,
    entries: &[Entry],
) -> Vec<Change> {
    let bar = if cfg.stderr_tty {
        ProgressBar::with_draw_target(Some(entries.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("static template"),
    );
    let failures = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, Change)> = futures::stream::iter(entries.iter().enumerate())
        .map(|(i, entry)| {
            let store = store.clone();
            let fetcher = fetcher.clone();
            let settings = settings.clone();
            let entry = entry.clone();
            let bar = bar.clone();
            let failures = &failures;
            async move {
                let change = refresh(&entry, &store, &fetcher, &settings).await;
                if matches!(change, Change::Failed(..)) {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                bar.inc(1);
                bar.set_message(format!(
                    "{} failed · last: {}",
                    failures.load(std::sync::atomic::Ordering::Relaxed),
                    resolve::host_of(&entry.url)
                ));
                (i, change)
            }
        })
        // The fetcher enforces the global and per-host limits; this bound only keeps the number
        // of tasks (and bodies held for extraction) in check on lists of thousands of links.
        .buffer_unordered(settings.concurrency.max(1) * 8)
        .collect()
        .await;
    bar.finish_and_clear();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, c)| c).collect()
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn checked_recently(rec: &DocRecord, max_age: Duration) -> bool {
    rec.checked_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < max_age)
}

/// Fetches, extracts and stores one link. Never loses a good stored copy.
async fn refresh(
    entry: &Entry,
    store: &Store,
    fetcher: &Fetcher,
    settings: &UpdateSettings,
) -> Change {
    let id = store::doc_id(&entry.url);
    let prev = store.load_record(&id).ok().flatten();
    let prev_ok = prev
        .as_ref()
        .filter(|p| p.state == State::Ok && p.text_file.is_some());
    if let (Some(p), Some(age), false) = (prev_ok, settings.max_age, settings.force)
        && checked_recently(p, age)
    {
        return Change::Skipped;
    }

    let result = fetch_and_build(entry, &id, prev_ok, store, fetcher, settings).await;
    let mut rec = prev.clone().unwrap_or_else(|| DocRecord {
        id: id.clone(),
        url: entry.url.clone(),
        ..Default::default()
    });
    rec.link_text = entry.link_text.clone();
    rec.section = entry.section.clone();
    rec.checked_at = Some(now_rfc3339());
    let change = match result {
        Ok(Built::Unchanged(sources)) => {
            rec.sources = sources;
            rec.last_error = None;
            rec.fetched_at = Some(now_rfc3339());
            Change::Unchanged
        }
        Ok(Built::New(new_rec)) => {
            let change = if prev_ok.is_some() {
                Change::Changed
            } else {
                Change::New
            };
            rec = *new_rec;
            change
        }
        Err((reason, status)) => {
            rec.last_error = Some(reason.clone());
            if let Some(s) = status {
                rec.http_status = Some(s);
            }
            if rec.state != State::Ok {
                rec.state = State::Failed;
            }
            Change::Failed(reason, rec.state == State::Ok)
        }
    };
    if let Err(e) = store.save_record(&rec, prev.as_ref()) {
        return Change::Failed(e.to_string(), prev_ok.is_some());
    }
    change
}

enum Built {
    /// Same content as stored; refreshed source validators.
    Unchanged(Vec<SourceRecord>),
    New(Box<DocRecord>),
}

type Failure = (String, Option<u16>);

async fn fetch_and_build(
    entry: &Entry,
    id: &str,
    prev: Option<&DocRecord>,
    store: &Store,
    fetcher: &Fetcher,
    settings: &UpdateSettings,
) -> Result<Built, Failure> {
    let plan = resolve::plan(&entry.url);
    let prev_source = |url: &str| prev.and_then(|p| p.sources.iter().find(|s| s.url == url));
    let mut sources: Vec<SourceRecord> = vec![];
    let mut bodies: Vec<(Role, Vec<u8>)> = vec![];
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
        let outcome = match fetcher.get_first(&urls, &validators).await {
            Ok(o) => o,
            // Metadata is a bonus: the document can stand on its main text alone.
            Err(_) if src.role == Role::Meta && plan.sources.len() > 1 => continue,
            Err(e) => return Err((e.to_string(), e.status())),
        };
        match outcome {
            Outcome::NotModified => {
                let Some(o) = old else {
                    return Err((
                        format!(
                            "{}: 304 Not Modified for a resource we never stored",
                            src.url
                        ),
                        Some(304),
                    ));
                };
                // The first source decides: if it is unchanged the document is, and nothing
                // is read, extracted or indexed.
                if i == 0 && prev.is_some_and(|p| p.sources.len() == plan.sources.len()) {
                    return Ok(Built::Unchanged(
                        prev.map(|p| p.sources.clone()).unwrap_or_default(),
                    ));
                }
                let body = store
                    .read_raw(&o.raw_file)
                    .map_err(|e| (e.to_string(), None))?;
                sources.push(o.clone());
                bodies.push((src.role, body));
            }
            Outcome::Fetched(f) => {
                let sha = store::sha256_hex(&f.body);
                if old.is_none_or(|o| o.sha256 != sha) {
                    all_same = false;
                }
                let ext = extension_for(f.content_type.as_deref(), &f.body);
                let raw_file = store
                    .write_raw(id, &sha, ext, &f.body)
                    .map_err(|e| (e.to_string(), None))?;
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
                bodies.push((src.role, f.body));
            }
        }
    }
    if all_same && prev.is_some_and(|p| p.sources.len() == sources.len()) && !settings.force {
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
                assemble::extract_part(site, role, &body, ct.as_deref(), &url, pdf_timeout)
                    .map_err(|e| format!("{url}: {e}"))
            })
            .collect::<Vec<Result<Part, String>>>()
    })
    .await
    .map_err(|e| (format!("extraction failed: {e}"), None))?;
    let mut good = vec![];
    let mut first_err = None;
    for (p, s) in parts.into_iter().zip(&sources) {
        match p {
            Ok(p) => good.push(p),
            Err(e) => {
                first_err.get_or_insert((e, Some(s.http_status)));
            }
        }
    }
    if good.is_empty() {
        return Err(
            first_err.unwrap_or_else(|| (format!("{}: nothing to extract", entry.url), None))
        );
    }
    let mut doc = assemble::assemble(site, &entry.link_text, &entry.url, &good).map_err(|e| {
        (
            format!("{}: {e}", entry.url),
            sources.first().map(|s| s.http_status),
        )
    })?;
    if let Some((e, _)) = first_err {
        // An arXiv abstract without its PDF is still worth indexing; say what is missing.
        doc.note = Some(format!("partly indexed: {e}"));
    }
    let text_sha = store::sha256_hex(doc.text.as_bytes());
    let text_file = store
        .write_text(id, &text_sha, &doc.text)
        .map_err(|e| (e.to_string(), None))?;
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
    })))
}

fn extension_for(content_type: Option<&str>, body: &[u8]) -> &'static str {
    match crate::extract::sniff(body, content_type, "") {
        Ok(crate::extract::Format::Pdf) => "pdf",
        Ok(crate::extract::Format::Html) => "html",
        Ok(crate::extract::Format::Json) => "json",
        Ok(crate::extract::Format::Text) => "txt",
        Err(_) => "bin",
    }
}

/// Brings the index in line with the stored text: upserts documents whose text differs from
/// what is indexed (new, changed, or left unindexed by a crash), removes links no longer listed.
/// One writer, one commit.
fn sync_index(
    store: &Store,
    manifest: &Manifest,
    rebuild: bool,
    threads: usize,
) -> Result<(usize, usize)> {
    let (lib, rebuilt) = LibraryIndex::open_for_update(&store.tantivy_dir())?;
    if rebuilt {
        eprintln!(
            "rl-search: the search index could not be opened; rebuilding it from the stored text"
        );
    }
    let indexed = if rebuild || rebuilt {
        HashMap::new()
    } else {
        lib.indexed_hashes()?
    };
    let listed: HashSet<&str> = manifest.entries.iter().map(|e| e.id.as_str()).collect();
    let mut writer = None;
    if rebuild || rebuilt {
        let mut w = lib.writer_with_threads(threads)?;
        w.clear()?;
        writer = Some(w);
    }
    let mut upserts = 0;
    let mut removed = 0;
    for entry in &manifest.entries {
        let Some(rec) = store.load_record(&entry.id)? else {
            continue;
        };
        let (Some(hash), Some(file), State::Ok) = (&rec.text_sha256, &rec.text_file, rec.state)
        else {
            continue;
        };
        if indexed.get(&entry.id) == Some(hash) {
            continue;
        }
        let body = store.read_text(file)?;
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(lib.writer_with_threads(threads)?),
        };
        w.upsert(&IndexDoc {
            id: rec.id.clone(),
            url: rec.url.clone(),
            host: resolve::host_of(&rec.url),
            kind: rec.kind.clone(),
            title: rec.title.clone(),
            link_text: rec.link_text.clone(),
            section: rec.section.clone(),
            author: rec.author.clone().unwrap_or_default(),
            body,
            hash: hash.clone(),
        })?;
        upserts += 1;
    }
    let stale: Vec<&String> = indexed
        .keys()
        .filter(|id| !listed.contains(id.as_str()))
        .collect();
    for id in stale {
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(lib.writer_with_threads(threads)?),
        };
        w.delete(id);
        removed += 1;
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok((upserts, removed))
}

/// `rl-search update`: flags → settings → run → summary.
pub fn command(cfg: &Config, args: &crate::cli::UpdateArgs) -> Result<super::Exit> {
    let settings = settings_from(args)?;
    let report = run(cfg, &settings)?;
    print_report(&report, cfg);
    Ok(if report.failed.is_empty() {
        super::Exit::Success
    } else {
        super::Exit::Partial
    })
}

/// Resolves and validates update flags.
pub fn settings_from(args: &crate::cli::UpdateArgs) -> Result<UpdateSettings> {
    use crate::fetch::politeness::{HostRule, parse_rule};
    let mut fetch = FetchOptions {
        max_bytes: args.max_bytes,
        total_timeout: args.timeout,
        attempts: args.retries + 1,
        global_limit: args.concurrency.max(1),
        per_host: HostRule {
            concurrency: args.per_host.max(1),
            spacing: Duration::ZERO,
        },
        github_token: std::env::var("GITHUB_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty()),
        ..FetchOptions::default()
    };
    for r in &args.host_rules {
        let (host, rule) = parse_rule(r).map_err(anyhow::Error::msg)?;
        fetch.host_rules.retain(|(h, _)| h != &host);
        fetch.host_rules.push((host, rule));
    }
    Ok(UpdateSettings {
        lists: args.lists.clone(),
        force: args.force,
        max_age: args.max_age,
        wait: args.wait,
        concurrency: args.concurrency.max(1),
        fetch,
        reindex: args.reindex,
        pdf_timeout: DEFAULT_PDF_TIMEOUT,
        index_threads: args.index_threads,
    })
}

/// The end summary: counts, then each failure with its URL and reason.
pub fn print_report(r: &Report, cfg: &Config) {
    let style = crate::output::Style { color: cfg.color };
    let mut line = format!(
        "{} new, {} changed, {} unchanged, {} failed",
        r.new,
        r.changed,
        r.unchanged,
        r.failed.len()
    );
    if r.skipped > 0 {
        line += &format!(", {} checked recently (skipped)", r.skipped);
    }
    line += &format!("; {} indexed", r.indexed);
    if r.removed > 0 {
        line += &format!(", {} removed from the index", r.removed);
    }
    println!("{line}");
    for (url, reason, kept) in &r.failed {
        let reason = reason.strip_prefix(&format!("{url}: ")).unwrap_or(reason);
        let kept = if *kept {
            " (kept the copy from before)"
        } else {
            ""
        };
        println!(
            "  {} {}: {}{}",
            style.red("failed"),
            url,
            crate::output::clean(reason),
            kept
        );
    }
}
