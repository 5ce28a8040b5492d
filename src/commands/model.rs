//! `rl-search model pull [NAME]` / `rl-search model list`: models for search by meaning, in
//! the user's cache (`$XDG_CACHE_HOME/rl-search/models/NAME`, else `~/.cache/…`).
//!
//! A pull asks the hub for the repository's file list (`/api/models/REPO/tree/main`), which
//! gives each large file's sha256, then downloads the files a sentence-transformers model
//! needs into `NAME/.partial/`, resuming a partial file with an HTTP range request, checks
//! each large file against its sha256 (the others against their size) and moves it into
//! place: an interrupted pull continues where it stopped, and a folder never holds a file
//! that is not the hub's. The hub's address is a setting (`--hub`, `RL_SEARCH_HUB`), so a
//! mirror or a local server can stand in for it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use super::Exit;
use crate::cli::{ModelArgs, ModelCommand};
use crate::config::{Config, DEFAULT_MODEL, models_dir};

/// The hub unless `--hub` / `RL_SEARCH_HUB` says otherwise.
pub const DEFAULT_HUB: &str = "https://huggingface.co";

/// Files of a sentence-transformers model; the first three are required.
const FILES: &[&str] = &[
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "modules.json",
];

/// Models known by a short name: the hub repository, and what their files do not say.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
        "",
    ),
    (
        "bge-small-en-v1.5",
        "BAAI/bge-small-en-v1.5",
        r#"{"query_prefix": "Represent this sentence for searching relevant passages: ", "pooling": "cls"}"#,
    ),
    (
        "e5-small-v2",
        "intfloat/e5-small-v2",
        r#"{"query_prefix": "query: ", "passage_prefix": "passage: "}"#,
    ),
];

pub fn command(cfg: &Config, args: &ModelArgs) -> Result<Exit> {
    let root =
        models_dir().context("cannot tell where the cache is: set HOME or XDG_CACHE_HOME")?;
    match &args.command {
        ModelCommand::Pull { name, hub } => {
            let name = name.as_deref().unwrap_or(DEFAULT_MODEL);
            let dest = pull(name, hub, &root, cfg.stderr_tty)?;
            println!("{}", dest.display());
            eprintln!("rl-search: {name} is ready; `rl-search update` embeds the library with it");
            Ok(Exit::Success)
        }
        ModelCommand::List => {
            list(cfg, &root);
            Ok(Exit::Success)
        }
    }
}

/// Where a model name points: (folder name, hub repository, rl-search.json or "").
fn resolve(name: &str) -> (String, String, &'static str) {
    if let Some((short, repo, extra)) = KNOWN
        .iter()
        .find(|(s, r, _)| name.eq_ignore_ascii_case(s) || name.eq_ignore_ascii_case(r))
    {
        return (short.to_string(), repo.to_string(), extra);
    }
    let short = name.rsplit('/').next().unwrap_or(name).to_string();
    let repo = if name.contains('/') {
        name.to_string()
    } else {
        format!("sentence-transformers/{name}")
    };
    (short, repo, "")
}

#[derive(serde::Deserialize)]
struct TreeEntry {
    path: String,
    #[serde(default)]
    size: u64,
    lfs: Option<Lfs>,
}

#[derive(serde::Deserialize)]
struct Lfs {
    oid: String,
    size: u64,
}

/// Downloads `name` into `root`; the model's folder.
pub fn pull(name: &str, hub: &str, root: &Path, tty: bool) -> Result<PathBuf> {
    let (short, repo, extra) = resolve(name);
    let dest = root.join(&short);
    let hub = hub.trim_end_matches('/');
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("rl-search/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let tree_url = format!("{hub}/api/models/{repo}/tree/main?recursive=true");
        let res = client
            .get(&tree_url)
            .send()
            .await
            .with_context(|| format!("cannot reach the model hub at {tree_url}"))?;
        if !res.status().is_success() {
            bail!(
                "the hub has no model {repo} ({} for {tree_url}); known names: {}",
                res.status(),
                KNOWN.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
            );
        }
        let tree: Vec<TreeEntry> = serde_json::from_slice(&res.bytes().await?)
            .with_context(|| format!("the hub's file list at {tree_url} is not JSON"))?;
        for required in &FILES[..3] {
            if !tree.iter().any(|e| e.path == *required) {
                bail!("{repo} has no {required}: it is not a sentence-transformers model rl-search can run");
            }
        }
        for file in FILES {
            let Some(entry) = tree.iter().find(|e| e.path == *file) else {
                continue;
            };
            fetch_file(&client, hub, &repo, entry, &dest, tty).await?;
        }
        Ok(())
    })?;
    if !extra.is_empty() {
        std::fs::write(dest.join("rl-search.json"), extra)
            .with_context(|| format!("cannot write {}", dest.join("rl-search.json").display()))?;
    }
    let _ = std::fs::remove_dir_all(dest.join(".partial"));
    Ok(dest)
}

async fn fetch_file(
    client: &reqwest::Client,
    hub: &str,
    repo: &str,
    entry: &TreeEntry,
    dest: &Path,
    tty: bool,
) -> Result<()> {
    let (size, sha) = match &entry.lfs {
        Some(l) => (l.size, Some(l.oid.to_ascii_lowercase())),
        None => (entry.size, None),
    };
    let target = dest.join(&entry.path);
    if target.metadata().is_ok_and(|m| m.len() == size) {
        return Ok(()); // pulled before
    }
    let partial = dest.join(".partial").join(&entry.path);
    if let Some(parent) = partial.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let have = partial.metadata().map(|m| m.len()).unwrap_or(0).min(size);
    let url = format!("{hub}/{repo}/resolve/main/{}", entry.path);
    let mut req = client.get(&url);
    if have > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let res = req
        .send()
        .await
        .with_context(|| format!("cannot download {url}"))?;
    let status = res.status();
    if !status.is_success() {
        bail!("cannot download {url}: {status}");
    }
    // 206: the server continues where the partial file stops; 200: it sends it all again.
    let resume = status == reqwest::StatusCode::PARTIAL_CONTENT && have > 0;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(resume)
        .write(true)
        .truncate(!resume)
        .open(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let bar = if tty {
        ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
        )
        .expect("static template"),
    );
    bar.set_message(entry.path.clone());
    bar.set_position(if resume { have } else { 0 });
    let mut res = res;
    loop {
        let chunk = res.chunk().await.with_context(|| {
            format!("the download of {url} broke off; run the pull again to continue it")
        })?;
        let Some(chunk) = chunk else { break };
        file.write_all(&chunk)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        bar.inc(chunk.len() as u64);
    }
    file.sync_all().ok();
    drop(file);
    bar.finish_and_clear();
    let got = partial.metadata()?.len();
    if got != size {
        bail!(
            "the download of {url} stopped at {got} of {size} bytes; run the pull again to continue it"
        );
    }
    if let Some(want) = sha {
        let digest = sha256_file(&partial)?;
        if digest != want {
            let _ = std::fs::remove_file(&partial);
            bail!(
                "{url} does not match the hub's sha256 ({digest} instead of {want}); the partial file was removed, run the pull again"
            );
        }
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(&partial, &target)
        .with_context(|| format!("cannot move {} into place", target.display()))?;
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The models in the cache, and the one searches use.
fn list(cfg: &Config, root: &Path) {
    let mut any = false;
    if let Ok(dir) = std::fs::read_dir(root) {
        let mut names: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let complete = FILES[..3].iter().all(|f| p.join(f).is_file());
            let size: u64 = FILES
                .iter()
                .filter_map(|f| p.join(f).metadata().ok())
                .map(|m| m.len())
                .sum();
            let used = cfg.model.as_deref() == Some(p.as_path());
            println!(
                "{}{}\t{:.1} MB\t{}",
                p.file_name().unwrap_or_default().to_string_lossy(),
                if used { " (in use)" } else { "" },
                size as f64 / 1e6,
                if complete {
                    p.display().to_string()
                } else {
                    "incomplete: run `rl-search model pull` again".into()
                }
            );
            any = true;
        }
    }
    if let Some(m) = &cfg.model
        && !m.starts_with(root)
    {
        println!("{} (in use, from --model or RL_SEARCH_MODEL)", m.display());
        any = true;
    }
    if !any {
        eprintln!(
            "rl-search: no models in {}; `rl-search model pull` downloads {DEFAULT_MODEL}",
            root.display()
        );
    }
}
