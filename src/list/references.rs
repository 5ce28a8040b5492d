//! Reference managers' exports (Zotero, Mendeley, Paperpile, JabRef): BibTeX, RIS and
//! CSL-JSON. Each entry's page is its `url`, else its DOI (`https://doi.org/…`), else its
//! arXiv e-print (the abstract page); its title is the link text, its keywords its tags.

use serde_json::Value;

use super::{Lines, ParsedList, Skipped, add_tagged, collapse_ws};

/// The page of an entry with these fields.
fn page(url: &str, doi: &str, eprint: &str, archive: &str) -> Option<String> {
    let url = url.split_whitespace().next().unwrap_or("");
    if url.starts_with("http://") || url.starts_with("https://") {
        return Some(url.to_string());
    }
    let doi = doi
        .trim()
        .trim_start_matches("https://doi.org/")
        .trim_start_matches("http://dx.doi.org/")
        .trim_start_matches("doi:");
    if doi.starts_with("10.") {
        return Some(format!("https://doi.org/{doi}"));
    }
    let eprint = eprint.trim().trim_start_matches("arXiv:");
    let arxiv = archive.eq_ignore_ascii_case("arxiv") || eprint.contains('.') && archive.is_empty();
    (!eprint.is_empty() && arxiv).then(|| format!("https://arxiv.org/abs/{eprint}"))
}

fn keywords(s: &str) -> Vec<String> {
    s.split([',', ';'])
        .map(collapse_ws)
        .filter(|k| !k.is_empty())
        .collect()
}

/// LaTeX's braces and a few escapes out of a title.
fn plain(s: &str) -> String {
    collapse_ws(
        &s.replace(['{', '}'], "")
            .replace("\\&", "&")
            .replace("\\%", "%")
            .replace("\\_", "_"),
    )
}

/// A BibTeX or BibLaTeX file, parsed by the `biblatex` crate (`@string`s, braces, comments,
/// crossrefs). A file it cannot parse is an error with its reason and place.
pub fn bibtex(text: &str) -> Result<ParsedList, String> {
    let bib = biblatex::Bibliography::parse(text).map_err(|e| {
        let line = text[..e.span.start.min(text.len())].matches('\n').count() + 1;
        format!("line {line}: {}", e.kind)
    })?;
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    for entry in bib.iter() {
        use biblatex::ChunksExt;
        let field = |k: &str| {
            entry
                .get(k)
                .map(|c| c.format_verbatim())
                .unwrap_or_default()
        };
        let line = lines.find(&entry.key);
        match page(
            &field("url"),
            &field("doi"),
            &field("eprint"),
            &field("archiveprefix").max(field("eprinttype")),
        ) {
            Some(url) => add_tagged(
                &mut out,
                &url,
                &plain(&field("title")),
                "",
                line,
                &keywords(&field("keywords")),
            ),
            None => out.skipped.push(Skipped {
                target: entry.key.clone(),
                line,
                reason: "an entry with no url, doi or arXiv eprint",
            }),
        }
    }
    Ok(out)
}

/// A RIS file: `TY  - ` starts a record, `ER  - ` ends it; `UR`, `DO`, `TI`/`T1`, `KW`.
pub fn ris(text: &str) -> ParsedList {
    let mut out = ParsedList::default();
    let (mut url, mut doi, mut title, mut tags) =
        (String::new(), String::new(), String::new(), vec![]);
    let mut start = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        let Some((tag, value)) = line
            .split_once("  - ")
            .or_else(|| line.strip_suffix("  -").map(|t| (t, "")))
        else {
            continue;
        };
        let value = value.trim();
        match tag.trim() {
            "TY" => {
                start = n + 1;
                (url, doi, title, tags) = (String::new(), String::new(), String::new(), vec![]);
            }
            "UR" | "L2" if url.is_empty() => url = value.to_string(),
            "DO" => doi = value.to_string(),
            "TI" | "T1" if title.is_empty() => title = value.to_string(),
            "KW" => tags.push(value.to_string()),
            "ER" => match page(&url, &doi, "", "") {
                Some(u) => add_tagged(&mut out, &u, &collapse_ws(&title), "", start, &tags),
                None => out.skipped.push(Skipped {
                    target: title.clone(),
                    line: start,
                    reason: "a record with no UR or DO",
                }),
            },
            _ => {}
        }
    }
    out
}

/// CSL-JSON: an array of items with `URL`, `DOI`, `title`, `keyword`.
pub fn csl_json(text: &str) -> Result<ParsedList, String> {
    let items: Vec<Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    for item in &items {
        let s = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let line = lines.find(&s("id"));
        let eprint = if s("archive").eq_ignore_ascii_case("arxiv") {
            s("number")
        } else {
            String::new()
        };
        match page(&s("URL"), &s("DOI"), &eprint, &s("archive")) {
            Some(url) => add_tagged(
                &mut out,
                &url,
                &collapse_ws(&s("title")),
                "",
                line,
                &keywords(&s("keyword")),
            ),
            None => out.skipped.push(Skipped {
                target: s("id"),
                line,
                reason: "an item with no URL or DOI",
            }),
        }
    }
    Ok(out)
}
