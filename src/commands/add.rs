//! `rl-search add URL… [--section S] [--to LIST]` and `rl-search remove ID|URL [--from LIST]`:
//! growing the library one link at a time. A link added goes into a list — the library's own
//! (`list.md` in the library, a Markdown file the user may edit) or the user's `--to` file,
//! under its section's heading — and is fetched, stored and indexed at once; no other link is
//! asked for. Removing takes the link out of its list and the index; its stored versions stay
//! until `update --prune`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::Exit;
use super::update::{self, UpdateSettings};
use crate::cli::{AddArgs, RemoveArgs};
use crate::config::Config;
use crate::list::{self, Entry, canonical, edit};
use crate::search::Hit;
use crate::store::{self, DocRecord, Store};

fn own_list(cfg: &Config) -> PathBuf {
    cfg.index_dir.join(update::OWN_LIST)
}

/// A list file as the manifest names it: absolute, so `update` finds it from anywhere.
fn list_name(path: &Path) -> Result<String> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot tell the current folder")?
            .join(path)
    };
    Ok(abs.to_string_lossy().into_owned())
}

/// The link as the list reader would store it: an absolute http(s) URL, without fragment.
fn normalise(url: &str) -> Result<String> {
    let mut parsed = list::ParsedList::default();
    list::add_link(&mut parsed, url, "", "", 1);
    match (parsed.entries.first(), parsed.skipped.first()) {
        (Some(e), _) => Ok(e.url.clone()),
        (None, Some(s)) => bail!("cannot add {url:?}: {}; give an http(s) URL", s.reason),
        (None, None) => bail!("cannot add {url:?}: give an http(s) URL"),
    }
}

/// What adding some links came to.
pub struct Added {
    /// Links already in the library (any spelling): their ids and stored links.
    pub present: Vec<(String, String)>,
    /// The links added, as stored.
    pub added: Vec<crate::store::ManifestEntry>,
    pub report: update::Report,
    /// The list they were written into.
    pub list: PathBuf,
}

/// Adds `urls` under `section` to the list `to` (the library's own by default): links already
/// there change nothing; the others are fetched, stored and indexed now, then written into
/// the list with their titles. The CLI's `add` and the web reader's *Add* both come here.
pub fn add_links(
    cfg: &Config,
    settings: &UpdateSettings,
    urls: &[String],
    section: Option<&str>,
    tags: &[String],
    to: Option<&Path>,
) -> Result<Added> {
    let target = to.map_or_else(|| own_list(cfg), Path::to_path_buf);
    let store = Store::open(&cfg.index_dir, true)?;
    let manifest = store.load_manifest()?;
    let mut new: Vec<Entry> = vec![];
    let mut present = vec![];
    for url in urls {
        let url = normalise(url)?;
        let id = canonical::identity(&url);
        let known = manifest.iter().flat_map(|m| &m.entries).find(|e| {
            canonical::identity(&e.url) == id
                || canonical::key_of(&e.url) == canonical::key_of(&url)
        });
        if let Some(e) = known {
            present.push((e.id.clone(), e.url.clone()));
            continue;
        }
        if new.iter().any(|n| canonical::identity(&n.url) == id) {
            continue;
        }
        new.push(Entry {
            url,
            link_text: String::new(),
            section: section.unwrap_or_default().to_string(),
            line: 0,
            // As the list will spell them (`#fishing-line`), so that the next update reads
            // the same tags back.
            tags: tags
                .iter()
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join("-"))
                .filter(|t| !t.is_empty())
                .collect(),
            saved: None,
        });
    }
    if new.is_empty() {
        return Ok(Added {
            present,
            added: vec![],
            report: update::Report::default(),
            list: target,
        });
    }
    // The list file must be one we can write before anything is fetched.
    let original = match std::fs::read(&target) {
        Ok(b) => String::from_utf8(b).with_context(|| {
            format!(
                "{} is not UTF-8 text: add links to a Markdown list",
                target.display()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => bail!("cannot read the list {}: {e}", target.display()),
    };
    if !original.is_empty()
        && !matches!(
            list::detect(original.as_bytes()),
            Some(list::Format::Markdown | list::Format::PlainText)
        )
    {
        bail!(
            "{} is not a Markdown or plain list; `add --to` writes only those (give another file)",
            target.display()
        );
    }
    // The library's own list is read by every update wherever the library is; a user's list
    // joins the library's lists by its path.
    let lists: Vec<String> = match to {
        Some(_) => vec![list_name(&target)?],
        None => vec![],
    };
    let (report, added) = update::add(cfg, settings, &new, &lists)?;
    // Into the list, with the title found (the URL when the fetch failed).
    let mut text = original;
    for e in &added {
        let rec = store.load_record(&e.id)?.unwrap_or_default();
        let title = if rec.title.is_empty() {
            &e.url
        } else {
            &rec.title
        };
        text = edit::insert(&text, section, title, &e.url, &e.tags);
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder of {}", target.display()))?;
    }
    store::atomic_write(&target, text.as_bytes())
        .with_context(|| format!("cannot write the list {}", target.display()))?;
    Ok(Added {
        present,
        added,
        report,
        list: target,
    })
}

pub fn add(cfg: &Config, args: &AddArgs) -> Result<Exit> {
    let settings = UpdateSettings {
        wait: args.wait,
        ..UpdateSettings::default()
    };
    let done = add_links(
        cfg,
        &settings,
        &args.urls,
        args.section.as_deref(),
        &args.tags,
        args.to.as_deref(),
    )?;
    let store = Store::open(&cfg.index_dir, false)?;
    let mut out = std::io::stdout().lock();
    for (id, url) in &done.present {
        writeln!(out, "already in the library: {id} {url}")?;
    }
    if done.added.is_empty() {
        return Ok(Exit::Success);
    }
    let mut hits = vec![];
    for e in &done.added {
        if let Some(rec) = store.load_record(&e.id)?.filter(|r| r.text_file.is_some()) {
            hits.push(hit(&store, &rec, hits.len() + 1));
        }
    }
    let style = crate::output::Style { color: cfg.color };
    crate::output::hits(
        &mut out,
        &hits,
        style,
        cfg.stdout_tty.then(textwrap::termwidth),
    )?;
    for (url, reason, _) in &done.report.failed {
        let reason = reason.strip_prefix(&format!("{url}: ")).unwrap_or(reason);
        writeln!(
            out,
            "  {} {url}: {} (listed; `rl-search update` tries again)",
            style.red("failed"),
            crate::output::clean(reason)
        )?;
    }
    writeln!(
        out,
        "{}",
        style.dim(&format!("added to {}", done.list.display()))
    )?;
    Ok(if done.report.failed.is_empty() {
        Exit::Success
    } else {
        Exit::SomeFailed
    })
}

/// A stored document as a search hit: its title, link and the start of its text.
fn hit(store: &Store, rec: &DocRecord, rank: usize) -> Hit {
    let text = rec
        .text_file
        .as_deref()
        .and_then(|f| store.read_text(f).ok())
        .unwrap_or_default();
    let body: String = text
        .lines()
        .filter(|l| l.trim() != rec.title.trim())
        .collect::<Vec<_>>()
        .join("\n");
    let snippet = crate::search::lead(&body, crate::search::snippet::SNIPPET_CHARS);
    Hit {
        rank,
        id: rec.id.clone(),
        url: rec.url.clone(),
        title: rec.title.clone(),
        section: rec.section.clone(),
        kind: rec.kind.clone(),
        host: crate::resolve::host_of(&rec.url),
        score: 0.0,
        snippet,
        highlights: vec![],
        tags: rec.tags.clone(),
        version: None,
    }
}

pub fn remove(cfg: &Config, args: &RemoveArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let (rec, _) = super::target::find(&store, &args.target)?;
    let manifest = store.load_manifest()?.unwrap_or_default();
    let Some(entry) = manifest.entries.iter().find(|e| e.id == rec.id) else {
        bail!(
            "{} is no longer on any list (its stored copy goes with `rl-search update --prune`)",
            rec.url
        );
    };
    let files: Vec<PathBuf> = match &args.from {
        Some(f) => vec![f.clone()],
        None => manifest
            .lists
            .iter()
            .filter(|l| {
                *l != list::BUILTIN_NAME && !l.starts_with("http://") && !l.starts_with("https://")
            })
            .map(PathBuf::from)
            .chain(std::iter::once(own_list(cfg)))
            .collect(),
    };
    let mut edited = vec![];
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        if let Some(out) = edit::remove(&text, &entry.url) {
            store::atomic_write(f, out.as_bytes())
                .with_context(|| format!("cannot write the list {}", f.display()))?;
            edited.push(f.display().to_string());
        }
    }
    if edited.is_empty() {
        let from = match &args.from {
            Some(f) => format!("{} has no line linking it", f.display()),
            None if manifest.lists.iter().any(|l| l == list::BUILTIN_NAME) => {
                "it is on the built-in list, or on a list rl-search cannot edit".into()
            }
            None => "no Markdown or plain list of the library has a line linking it".into(),
        };
        bail!(
            "cannot remove {}: {from}; remove it from its list and run `rl-search update`",
            entry.url
        );
    }
    let settings = UpdateSettings {
        wait: args.wait,
        ..UpdateSettings::default()
    };
    update::remove(cfg, &settings, &entry.id)?;
    println!(
        "removed {} {} from {}; its stored versions stay until `rl-search update --prune`",
        entry.id,
        crate::output::clean(if rec.title.is_empty() {
            &rec.url
        } else {
            &rec.title
        }),
        edited.join(", ")
    );
    Ok(Exit::Success)
}
