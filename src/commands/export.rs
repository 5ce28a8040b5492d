//! `rl-search export`: the library as documents for a distributed engine — NDJSON (Meilisearch,
//! Quickwit) or Elasticsearch/OpenSearch `_bulk`. Long documents are split into chunks with
//! stable ids (`ID-0`, `ID-1`, …) so re-exports overwrite instead of duplicating.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::Exit;
use crate::cli::{ExportArgs, ExportFormat};
use crate::config::Config;
use crate::store::{State, Store};

/// Splits text into pieces of at most `words` words, on paragraph boundaries where possible.
pub fn chunks(text: &str, words: usize) -> Vec<String> {
    let words = words.max(1);
    let mut out = vec![];
    let mut cur = String::new();
    let mut count = 0;
    for para in text.split("\n\n") {
        let n = para.split_whitespace().count();
        if count + n > words && count > 0 {
            out.push(std::mem::take(&mut cur));
            count = 0;
        }
        if n > words {
            // One paragraph longer than a chunk: cut it by words.
            let ws: Vec<&str> = para.split_whitespace().collect();
            for piece in ws.chunks(words) {
                out.push(piece.join(" "));
            }
            continue;
        }
        if !cur.is_empty() {
            cur.push_str("\n\n");
        }
        cur.push_str(para);
        count += n;
    }
    if !cur.trim().is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

/// One text of a document to export: the current one (`version` None) or an earlier one.
struct Exported<'a> {
    version: Option<u32>,
    title: &'a str,
    file: Option<&'a str>,
    fetched_at: Option<&'a str>,
}

pub fn command(cfg: &Config, args: &ExportArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let docs = super::target::documents(&store)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = 0;
    for rec in docs.iter().filter(|d| d.state == State::Ok) {
        // The current text (ids `ID-CHUNK`, stable across exports), then with --all-versions
        // each earlier one (`ID-vN-CHUNK`).
        let mut texts: Vec<Exported> = vec![];
        if args.all_versions {
            for v in &rec.versions {
                texts.push(Exported {
                    version: Some(v.version),
                    title: &v.title,
                    file: v.text_file.as_deref(),
                    fetched_at: v.fetched_at.as_deref(),
                });
            }
        }
        texts.push(Exported {
            version: None,
            title: &rec.title,
            file: rec.text_file.as_deref(),
            fetched_at: rec.fetched_at.as_deref(),
        });
        for Exported {
            version,
            title,
            file,
            fetched_at,
        } in texts
        {
            let Some(file) = file else { continue };
            let text = store.read_text(file)?;
            let parts = chunks(&text, args.chunk_words);
            let total = parts.len();
            for (i, part) in parts.into_iter().enumerate() {
                let id = match version {
                    Some(v) => format!("{}-v{v}-{i}", rec.id),
                    None => format!("{}-{i}", rec.id),
                };
                let mut doc = json!({
                    "id": id, "doc_id": rec.id, "chunk": i, "chunks": total,
                    "url": rec.url, "title": title, "link_text": rec.link_text,
                    "section": rec.section, "kind": rec.kind, "host": crate::resolve::host_of(&rec.url),
                    "author": rec.author, "published": rec.published, "fetched_at": fetched_at,
                    "text": part,
                });
                if args.all_versions {
                    doc["version"] = version.unwrap_or(rec.current_version()).into();
                    doc["current"] = version.is_none().into();
                }
                if args.format == ExportFormat::EsBulk {
                    writeln!(
                        out,
                        "{}",
                        json!({"index": {"_index": args.index_name, "_id": id}})
                    )?;
                }
                writeln!(out, "{doc}")?;
                written += 1;
            }
        }
    }
    out.flush()?;
    eprintln!(
        "exported {written} documents from {}",
        cfg.index_dir.display()
    );
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_the_word_limit_and_keep_everything() {
        let text = "a b c\n\nd e\n\nf g h i j k";
        let c = chunks(text, 4);
        assert!(c.iter().all(|p| p.split_whitespace().count() <= 4), "{c:?}");
        let joined: Vec<&str> = c.iter().flat_map(|p| p.split_whitespace()).collect();
        assert_eq!(joined.join(" "), "a b c d e f g h i j k");
        assert_eq!(chunks("short", 100), vec!["short"]);
    }
}
