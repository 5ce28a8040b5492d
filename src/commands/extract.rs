//! `rl-search extract PATH_OR_URL`: what the indexer would see for one file or URL, without
//! touching the library. For debugging pages and measuring extraction.

use std::io::Write;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::Exit;
use crate::assemble::{self, Part};
use crate::cli::ExtractArgs;
use crate::config::Config;
use crate::extract::pdf::DEFAULT_PDF_TIMEOUT;
use crate::fetch::{FetchOptions, Fetcher, Outcome, Validators};
use crate::output::{self, Style};
use crate::resolve::{self, Role, Site};

pub fn command(cfg: &Config, args: &ExtractArgs) -> Result<Exit> {
    let target = args.target.trim();
    let (doc, url) = if target.starts_with("http://") || target.starts_with("https://") {
        let url = url::Url::parse(target)
            .with_context(|| format!("{target:?} is not a valid URL"))?
            .to_string();
        (from_url(&url)?, url)
    } else {
        let bytes = std::fs::read(target).with_context(|| format!("cannot read {target}"))?;
        let ct = args.content_type.clone().or_else(|| guess_type(target));
        let part = assemble::extract_part(
            Site::Generic,
            Role::Main,
            bytes,
            ct.as_deref(),
            target,
            DEFAULT_PDF_TIMEOUT,
        )
        .with_context(|| format!("cannot extract {target}"))?;
        // No link text for a local file: the title comes from the file itself, else its path.
        let doc = assemble::assemble(Site::Generic, "", target, &[part])
            .map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
        (doc, target.to_string())
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "url": url, "title": doc.title, "kind": doc.kind, "author": doc.author,
            "published": doc.published, "description": doc.description, "thin": doc.thin,
            "note": doc.note, "text_chars": doc.text.chars().count(), "outline": doc.outline,
            "text": doc.text,
        });
        writeln!(out, "{v}")?;
    } else {
        let style = Style { color: cfg.color };
        writeln!(out, "{}", style.bold(&output::clean(&doc.title)))?;
        let mut facts = vec![
            doc.kind.clone(),
            format!("{} chars", doc.text.chars().count()),
        ];
        if let Some(a) = &doc.author {
            facts.push(format!("by {}", output::clean(a)));
        }
        if let Some(n) = &doc.note {
            facts.push(format!("note: {n}"));
        }
        writeln!(out, "{}\n", style.dim(&facts.join(" · ")))?;
        writeln!(out, "{}", crate::terminal::strip_controls(&doc.text))?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

fn guess_type(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let ct = if lower.ends_with(".html") || lower.ends_with(".htm") {
        "text/html"
    } else if lower.ends_with(".pdf") {
        "application/pdf"
    } else if lower.ends_with(".json") {
        "application/json"
    } else if lower.ends_with(".md") || lower.ends_with(".txt") {
        "text/plain"
    } else {
        return None;
    };
    Some(ct.to_string())
}

/// Fetches every source the URL's plan names and assembles them, as `update` would.
fn from_url(url: &str) -> Result<assemble::Assembled> {
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let fetcher = Fetcher::new(FetchOptions {
        github_token: std::env::var("GITHUB_TOKEN").ok(),
        ..FetchOptions::default()
    })?;
    let plan = resolve::plan(url);
    let mut parts: Vec<Part> = vec![];
    let mut errors = vec![];
    for src in &plan.sources {
        let mut urls = vec![src.url.clone()];
        urls.extend(src.alternates.iter().cloned());
        match rt.block_on(fetcher.get_first(&urls, &Validators::default())) {
            Ok(Outcome::Fetched(f)) => {
                match assemble::extract_part(
                    plan.site,
                    src.role,
                    f.body,
                    f.content_type.as_deref(),
                    &f.final_url,
                    DEFAULT_PDF_TIMEOUT,
                ) {
                    Ok(p) => parts.push(p),
                    Err(e) => errors.push(format!("{}: {e}", f.final_url)),
                }
            }
            Ok(Outcome::NotModified) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if parts.is_empty() {
        bail!(
            "{}",
            errors
                .first()
                .cloned()
                .unwrap_or_else(|| format!("{url}: nothing could be fetched"))
        );
    }
    assemble::assemble(plan.site, "", url, &parts).map_err(|e| anyhow::anyhow!("{url}: {e}"))
}
