//! `rl-search update`: lists → links → fetch → extract → store → index. Downloads and
//! extraction run concurrently (one `buffer_unordered` stage); one loop owns the index writer and
//! commits once at the end. Every link's result is a value in the report, never an abort.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::changes::{self, Event, Kind};
use crate::config::Config;
use crate::extract::pdf::DEFAULT_PDF_TIMEOUT;
use crate::fetch::{FetchOptions, Fetcher, Outcome, Validators};
use crate::list::{self, Entry};
use crate::resolve;
use crate::store::{self, Manifest, ManifestEntry, Store};

mod arxiv;
pub mod embed;
mod refresh;
mod sync;

use refresh::refresh;
use sync::sync_index;

/// The library's own list, a Markdown file in the library folder that `add` writes to and the
/// user may edit; every update reads it.
pub const OWN_LIST: &str = "list.md";

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
    /// Counters another thread can watch (the web reader's progress).
    pub progress: Option<Arc<Progress>>,
    /// Versions kept per document, the current one included (`None`: all).
    pub keep_versions: Option<usize>,
    /// Remove the records and files of links no longer on the list.
    pub prune: bool,
    /// Replace vectors another model made (`update --embed`).
    pub embed: bool,
}

/// How far an update is: links in the list, links done, links failed.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: std::sync::atomic::AtomicUsize,
    pub done: std::sync::atomic::AtomicUsize,
    pub failed: std::sync::atomic::AtomicUsize,
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
            progress: None,
            keep_versions: None,
            prune: false,
            embed: false,
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
    /// Documents (and their versions) removed from the library by --prune.
    pub pruned: usize,
    pub pruned_versions: usize,
    /// What the embedding step did, when a model is set.
    pub embedded: Option<embed::EmbedReport>,
    /// Requests sent.
    pub requests: u64,
    /// What changed, as written to the library's log (`rl-search changes`).
    pub events: Vec<Event>,
}

/// Runs an update and returns its report; errors are fatal (list unreadable, library locked).
pub fn run(cfg: &Config, settings: &UpdateSettings) -> Result<Report> {
    let store = Store::open(&cfg.index_dir, true)?;
    let _lock = store.lock(settings.wait)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let fetcher = Arc::new(Fetcher::new(settings.fetch.clone())?);

    let stored = store.load_manifest()?;
    let mut unlisted = vec![];
    let manifest = match stored {
        // A rebuild works offline from the links already recorded.
        Some(m) if settings.reindex && settings.lists.is_empty() => m,
        stored => {
            let lists = if !settings.lists.is_empty() {
                settings.lists.clone()
            } else {
                match &stored {
                    Some(m) if !m.lists.is_empty() => m.lists.clone(),
                    _ => vec![list::BUILTIN_NAME.to_string()],
                }
            };
            // The library's own list (what `add` wrote) is always read too, found where the
            // library is now (not recorded by path: a library folder can move).
            let mut to_read = lists.clone();
            let own = store.root().join(OWN_LIST);
            let own_name = own.to_string_lossy().into_owned();
            if own.exists() && !to_read.contains(&own_name) {
                to_read.push(own_name);
            }
            let mut entries = rt.block_on(read_lists(&to_read, &fetcher))?;
            keep_stored_spelling(&mut entries, stored.as_ref());
            let ids = store::assign_ids(entries.iter().map(|e| e.url.as_str()), stored.as_ref());
            let manifest = Manifest {
                lists,
                entries: entries
                    .iter()
                    .zip(ids)
                    .map(|(e, id)| ManifestEntry::listed(e, id))
                    .collect(),
            };
            store.save_manifest(&manifest)?;
            unlisted = no_longer_listed(&store, stored.as_ref(), &manifest);
            manifest
        }
    };
    let entries = &manifest.entries;

    let mut report = Report::default();
    if !settings.reindex {
        let changes = rt.block_on(fetch_all(cfg, settings, &store, &fetcher, entries));
        tally(&mut report, entries, changes);
    }
    finish(
        cfg,
        settings,
        &store,
        &fetcher,
        &manifest,
        entries.len(),
        unlisted,
        report,
    )
}

/// Counts each link's outcome into the report, with its events.
fn tally(report: &mut Report, entries: &[ManifestEntry], changes: Vec<(Change, Vec<Event>)>) {
    for (entry, (change, events)) in entries.iter().zip(changes) {
        report.events.extend(events);
        match change {
            Change::New => report.new += 1,
            Change::Changed => report.changed += 1,
            Change::Unchanged => report.unchanged += 1,
            Change::Skipped => report.skipped += 1,
            Change::Failed(reason, kept) => report.failed.push((entry.url.clone(), reason, kept)),
        }
    }
}

/// What every update does after fetching: the index brought in line with the records (one
/// commit), the passages embedded, the log of changes written, and the pruning asked for.
#[allow(clippy::too_many_arguments)]
fn finish(
    cfg: &Config,
    settings: &UpdateSettings,
    store: &Store,
    fetcher: &Fetcher,
    manifest: &Manifest,
    links: usize,
    unlisted: Vec<Event>,
    mut report: Report,
) -> Result<Report> {
    let (indexed, removed) = sync_index(store, manifest, settings.reindex, settings.index_threads)?;
    report.indexed = indexed;
    report.removed = removed;
    report.requests = fetcher.requests();
    if !settings.reindex {
        report.events.extend(unlisted);
        let update = changes::Update {
            at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            links,
            unchanged: report.unchanged,
            failing: report.failed.len(),
            requests: report.requests,
            events: report.events.clone(),
        };
        // The log is a convenience: an update that cannot write it still did its work.
        if let Err(e) = changes::append(store.root(), &update) {
            eprintln!("rl-search: warning: the log of changes not written: {e}");
        }
    }
    // Meaning last: the library is searchable by its words already, and an interrupted
    // embedding keeps what it did.
    if let Some(dir) = &cfg.model {
        match embed::embed_library(store, dir, settings.embed, cfg.stderr_tty) {
            Ok(r) => report.embedded = Some(r),
            Err(e) => eprintln!(
                "rl-search: warning: passages not embedded: {e:#}; search ranks by words only"
            ),
        }
    } else if settings.embed {
        anyhow::bail!(
            "--embed needs a model: give --model DIR (or RL_SEARCH_MODEL), or run `rl-search model pull`"
        );
    }
    if settings.prune {
        // Records of links no longer listed, with all their versions; the index no longer
        // has them (sync removed them above).
        let listed: HashSet<&str> = manifest.entries.iter().map(|e| e.id.as_str()).collect();
        for rec in store.records() {
            if !listed.contains(rec.id.as_str()) {
                report.pruned_versions += rec.versions.len() + 1;
                store.remove_record(&rec)?;
                report.pruned += 1;
            }
        }
    }
    Ok(report)
}

/// `add`: fetches, stores and indexes `new` links now, without asking any other link again;
/// they join the library's links, and `lists` its lists (so the next update reads them).
/// Returns the report and the new links as stored.
pub fn add(
    cfg: &Config,
    settings: &UpdateSettings,
    new: &[Entry],
    lists: &[String],
) -> Result<(Report, Vec<ManifestEntry>)> {
    let store = Store::open(&cfg.index_dir, true)?;
    let _lock = store.lock(settings.wait)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let fetcher = Arc::new(Fetcher::new(settings.fetch.clone())?);
    let mut manifest = store.load_manifest()?.unwrap_or_default();
    if manifest.lists.is_empty() {
        // What a first `update` would have read.
        manifest.lists.push(list::BUILTIN_NAME.to_string());
    }
    for l in lists {
        if !manifest.lists.contains(l) {
            manifest.lists.push(l.clone());
        }
    }
    let ids = store::assign_ids(new.iter().map(|e| e.url.as_str()), Some(&manifest));
    let added: Vec<ManifestEntry> = new
        .iter()
        .zip(ids)
        .map(|(e, id)| ManifestEntry::listed(e, id))
        .collect();
    manifest.entries.extend(added.iter().cloned());
    store.save_manifest(&manifest)?;
    let mut report = Report::default();
    let changes = rt.block_on(fetch_all(cfg, settings, &store, &fetcher, &added));
    tally(&mut report, &added, changes);
    let report = finish(
        cfg,
        settings,
        &store,
        &fetcher,
        &manifest,
        added.len(),
        vec![],
        report,
    )?;
    Ok((report, added))
}

/// `remove`: the link with id `id` leaves the library's links and its index; its record and
/// versions stay until `update --prune`.
pub fn remove(cfg: &Config, settings: &UpdateSettings, id: &str) -> Result<Report> {
    let store = Store::open(&cfg.index_dir, true)?;
    let _lock = store.lock(settings.wait)?;
    let fetcher = Fetcher::new(settings.fetch.clone())?;
    let Some(mut manifest) = store.load_manifest()? else {
        bail!("there is no library at {}", cfg.index_dir.display());
    };
    let before = manifest.clone();
    manifest.entries.retain(|e| e.id != id);
    store.save_manifest(&manifest)?;
    let gone = no_longer_listed(&store, Some(&before), &manifest);
    finish(
        cfg,
        settings,
        &store,
        &fetcher,
        &manifest,
        0,
        gone,
        Report::default(),
    )
}

/// Links of the stored list that the new one no longer has, as the log's events.
fn no_longer_listed(store: &Store, stored: Option<&Manifest>, now: &Manifest) -> Vec<Event> {
    let Some(stored) = stored else { return vec![] };
    let listed: HashSet<&str> = now.entries.iter().map(|e| e.id.as_str()).collect();
    stored
        .entries
        .iter()
        .filter(|e| !listed.contains(e.id.as_str()))
        .map(|e| {
            let title = store
                .load_record(&e.id)
                .ok()
                .flatten()
                .map(|r| r.title)
                .unwrap_or_else(|| e.link_text.clone());
            Event::new(Kind::Removed, &e.id, &e.url, &title)
        })
        .collect()
}

/// Reads and parses every list, whatever its format; a list that cannot be read is fatal, a
/// bad link only a warning. A page listed twice (in any spelling) is one entry.
async fn read_lists(lists: &[String], fetcher: &Fetcher) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = vec![];
    let mut seen: HashSet<String> = HashSet::new();
    for name in lists {
        let (bytes, base) = if name == list::BUILTIN_NAME {
            (list::BUILTIN_LIST.as_bytes().to_vec(), None)
        } else if name.starts_with("http://") || name.starts_with("https://") {
            match fetcher.get(name, &Validators::default()).await {
                Ok(Outcome::Fetched(f)) => (f.body, url::Url::parse(&f.final_url).ok()),
                Ok(Outcome::NotModified) => bail!("reading list {name}: unexpected 304"),
                Err(e) => bail!("cannot download the reading list: {e}"),
            }
        } else {
            let bytes = std::fs::read(name).with_context(|| {
                format!("cannot read the reading list {name}; give a file or an http(s) URL")
            })?;
            (bytes, None)
        };
        let (_, parsed) = list::read(name, &bytes, base.as_ref())?;
        for s in &parsed.skipped {
            eprintln!(
                "warning: {name}:{}: skipping {}: {}",
                s.line, s.target, s.reason
            );
        }
        for e in parsed.entries {
            if seen.insert(list::canonical::key_of(&e.url)) {
                entries.push(e);
            }
        }
    }
    Ok(entries)
}

/// A link already in the library keeps the spelling it was stored under, and so its id, when
/// the list now spells it differently (a fragment or tracking parameter added or dropped).
fn keep_stored_spelling(entries: &mut [Entry], stored: Option<&Manifest>) {
    let Some(m) = stored else { return };
    let known: std::collections::HashMap<String, &str> = m
        .entries
        .iter()
        .map(|e| (list::canonical::key_of(&e.url), e.url.as_str()))
        .collect();
    for e in entries {
        if let Some(url) = known.get(&list::canonical::key_of(&e.url)) {
            e.url = url.to_string();
        }
    }
}

async fn fetch_all(
    cfg: &Config,
    settings: &UpdateSettings,
    store: &Store,
    fetcher: &Arc<Fetcher>,
    entries: &[ManifestEntry],
) -> Vec<(Change, Vec<Event>)> {
    let bar = if cfg.stderr_tty {
        ProgressBar::with_draw_target(Some(entries.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("static template"),
    );
    if let Some(p) = &settings.progress {
        p.total
            .store(entries.len(), std::sync::atomic::Ordering::Relaxed);
    }
    let checked = store.load_checked();
    // arXiv's metadata for all papers first, in one request per 100 (see arxiv.rs).
    let prefetched = Arc::new(arxiv::prefetch(fetcher, arxiv::EXPORT_API, entries).await);
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let settings_shared = Arc::new(settings.clone());
    let mut results: Vec<(usize, (Change, Vec<Event>))> =
        futures::stream::iter(entries.iter().enumerate())
            .map(|(i, entry)| {
                let store = store.clone();
                let fetcher = fetcher.clone();
                let settings = settings_shared.clone();
                let entry = entry.clone();
                let bar = bar.clone();
                let failures = failures.clone();
                let prefetched = prefetched.clone();
                let last = checked.get(&entry.id).cloned();
                // A task per link, so record I/O and response handling run on every worker thread
                // instead of the one thread that drives the stream.
                let task = tokio::spawn(async move {
                    let (change, events) = refresh(
                        &entry,
                        &store,
                        &fetcher,
                        &settings,
                        last.as_ref(),
                        &prefetched,
                    )
                    .await;
                    if matches!(change, Change::Failed(..)) {
                        failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if let Some(p) = &settings.progress {
                        p.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if matches!(change, Change::Failed(..)) {
                            p.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    bar.inc(1);
                    bar.set_message(format!(
                        "{} failed · last: {}",
                        failures.load(std::sync::atomic::Ordering::Relaxed),
                        resolve::host_of(&entry.url)
                    ));
                    (change, events)
                });
                async move {
                    let done = task.await.unwrap_or_else(|e| {
                        (
                            Change::Failed(format!("internal error: {e}"), false),
                            vec![],
                        )
                    });
                    (i, done)
                }
            })
            // The fetcher enforces the global and per-host limits; this bound only keeps the number
            // of tasks (and bodies held for extraction) in check on lists of thousands of links.
            .buffer_unordered(settings.concurrency.max(1) * 8)
            .collect()
            .await;
    bar.finish_and_clear();
    results.sort_by_key(|(i, _)| *i);
    let mut checked = checked;
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    for (i, (change, _)) in &results {
        if *change != Change::Skipped {
            checked.insert(entries[*i].id.clone(), now.clone());
        }
    }
    if let Err(e) = store.save_checked(&checked) {
        eprintln!("warning: {}", crate::errors::chain(&e));
    }
    results.into_iter().map(|(_, c)| c).collect()
}

/// `rl-search update`: flags → settings → run → summary.
pub fn command(cfg: &Config, args: &crate::cli::UpdateArgs) -> Result<super::Exit> {
    let settings = settings_from(args)?;
    let report = run(cfg, &settings)?;
    print_report(&report, cfg);
    Ok(if report.failed.is_empty() {
        super::Exit::Success
    } else {
        super::Exit::SomeFailed
    })
}

/// Resolves and validates update flags.
pub fn settings_from(args: &crate::cli::UpdateArgs) -> Result<UpdateSettings> {
    use crate::fetch::politeness::{HostRule, parse_rule};
    let mut fetch = FetchOptions {
        max_bytes: args.max_bytes,
        total_timeout: args.timeout.into(),
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
        pdf_timeout: args.pdf_timeout.into(),
        index_threads: args.index_threads,
        progress: None,
        keep_versions: args.keep_versions,
        prune: args.prune,
        embed: args.embed,
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
    if r.pruned > 0 {
        line += &format!(
            "; pruned {} documents no longer listed ({} versions)",
            r.pruned, r.pruned_versions
        );
    }
    if r.requests > 0 {
        line += &format!(" ({} requests)", r.requests);
    }
    println!("{line}");
    if !r.events.is_empty() {
        println!(
            "what changed: {} — see `rl-search changes`",
            changes::tally(&r.events)
        );
    }
    if let Some(e) = &r.embedded {
        let rate = match e.embedded {
            0 => String::new(),
            n => format!(", {:.0} a second", n as f64 / e.seconds.max(1e-3)),
        };
        println!(
            "meaning: {} passages and {} sentences of {} documents, {} embedded now in {:.1} s{rate} ({})",
            e.passages, e.sentences, e.documents, e.embedded, e.seconds, e.model
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: a link stored under one spelling keeps it (and its id) when the list now
    /// spells the same page another way.
    #[test]
    fn stored_links_keep_their_spelling_and_id() {
        let stored = Manifest {
            lists: vec![],
            entries: vec![ManifestEntry {
                id: "abcd1234".into(),
                url: "https://example.org/post#intro".into(),
                link_text: String::new(),
                section: String::new(),
                tags: vec![],
                saved: None,
            }],
        };
        let entry = |url: &str| Entry {
            url: url.into(),
            link_text: String::new(),
            section: String::new(),
            line: 1,
            tags: vec![],
            saved: None,
        };
        let mut entries = vec![
            entry("https://example.org/post/?utm_source=x"),
            entry("https://example.org/other"),
        ];
        keep_stored_spelling(&mut entries, Some(&stored));
        assert_eq!(entries[0].url, "https://example.org/post#intro");
        assert_eq!(entries[1].url, "https://example.org/other");
        let ids = store::assign_ids(entries.iter().map(|e| e.url.as_str()), Some(&stored));
        assert_eq!(ids[0], "abcd1234");
    }
}
