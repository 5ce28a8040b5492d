//! Lists exported by the services people keep links in: Pocket (CSV; its older
//! `ril_export.html` is a bookmark file, read by `outline.rs`), Instapaper, Raindrop.io and Readwise Reader (CSV), Pinboard (JSON), and
//! the browsers' own bookmark files (Firefox's backup JSON, Chrome's `Bookmarks`). Each is read
//! from its documented layout; folders and collections become sections, tags stay tags.

use serde_json::Value;

use super::{Lines, ParsedList, Saved, add_tagged, collapse_ws, note_saved};

/// Seconds since 1970 as an RFC 3339 time (`None` for nonsense).
fn epoch(secs: i64) -> Option<String> {
    (0..=32_503_680_000).contains(&secs).then(|| {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
        humantime::format_rfc3339_seconds(t).to_string()
    })
}

/// A time cell as the service writes it: epoch seconds, or an ISO date kept as given.
pub(super) fn time_of(cell: &str) -> Option<String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    match cell.parse::<i64>() {
        Ok(secs) => epoch(secs),
        Err(_) => Some(cell.to_string()),
    }
}

pub(super) fn saved(at: Option<String>, state: &str) -> Saved {
    let state = state.trim();
    Saved {
        at,
        state: (!state.is_empty()).then(|| state.to_ascii_lowercase()),
    }
}

/// Which CSV export a header line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    /// `title,url,time_added,tags,status`
    Pocket,
    /// `URL,Title,Selection,Folder,Timestamp`
    Instapaper,
    /// `id,title,note,excerpt,url,folder,tags,created,…`
    Raindrop,
    /// `Title,URL,ID,Document tags,Saved date,Reading progress,Location,Seen`
    Readwise,
}

/// The export a CSV header names, if any.
pub fn csv_kind(first_line: &str) -> Option<CsvKind> {
    let cols: Vec<String> = first_line
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let has = |name: &str| cols.iter().any(|c| c == name);
    if !has("url") {
        return None;
    }
    if has("time_added") {
        Some(CsvKind::Pocket)
    } else if has("selection") && has("folder") {
        Some(CsvKind::Instapaper)
    } else if has("excerpt") && has("folder") {
        Some(CsvKind::Raindrop)
    } else if has("document tags") || has("saved date") {
        Some(CsvKind::Readwise)
    } else {
        None
    }
}

/// Splits a tags cell as each service writes it: `a|b` (Pocket), `a, b` (Raindrop),
/// `['a', 'b']` (Readwise), `["a","b"]` (Instapaper).
pub(super) fn tags_of(cell: &str) -> Vec<String> {
    cell.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(['|', ','])
        .map(|t| t.trim().trim_matches(['\'', '"']).trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// A CSV export: each row's URL, title, folder (as the section) and tags.
pub fn csv(text: &str, kind: CsvKind) -> ParsedList {
    let mut out = ParsedList::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(_) => return out,
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let url = col("url");
    let title = col("title");
    let section = match kind {
        CsvKind::Instapaper | CsvKind::Raindrop => col("folder"),
        CsvKind::Pocket | CsvKind::Readwise => None,
    };
    let tags = col("tags").or_else(|| col("document tags"));
    let time = col("time_added")
        .or_else(|| col("timestamp"))
        .or_else(|| col("created"))
        .or_else(|| col("saved date"));
    let state = match kind {
        CsvKind::Pocket => col("status"),
        CsvKind::Readwise => col("location"),
        CsvKind::Instapaper | CsvKind::Raindrop => None,
    };
    for row in reader.records() {
        // A broken row (an unclosed quote) ends what can be read; the rows before count.
        let Ok(row) = row else { break };
        let cell = |i: Option<usize>| i.and_then(|i| row.get(i)).unwrap_or("").trim();
        let line = row.position().map_or(0, |p| p.line() as usize);
        let mut folder = cell(section).to_string();
        if kind == CsvKind::Raindrop {
            // Raindrop writes nested collections as `Parent / Child`: the innermost is the section.
            folder = folder.rsplit(" / ").next().unwrap_or("").to_string();
        }
        add_tagged(
            &mut out,
            cell(url),
            &collapse_ws(cell(title)),
            &folder,
            line,
            &tags_of(cell(tags)),
        );
        note_saved(&mut out, cell(url), saved(time_of(cell(time)), cell(state)));
    }
    out
}

/// Pinboard's JSON export: `[{"href", "description", "tags": "a b", "toread", "time"}]`.
pub fn pinboard(text: &str) -> Result<ParsedList, String> {
    let items: Vec<Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    for item in &items {
        let href = str_of(item, "href");
        let tags: Vec<String> = str_of(item, "tags")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let line = lines.find(&href.replace('/', "\\/")).max(lines.find(href));
        add_tagged(
            &mut out,
            href,
            &collapse_ws(str_of(item, "description")),
            "",
            line,
            &tags,
        );
        let state = if str_of(item, "toread") == "yes" {
            "unread"
        } else {
            ""
        };
        note_saved(&mut out, href, saved(time_of(str_of(item, "time")), state));
    }
    Ok(out)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Firefox's bookmark backup (`bookmarks-YYYY-MM-DD.json`): nested containers
/// (`text/x-moz-place-container`) of places with a `uri`; the innermost folder is the section.
pub fn firefox(text: &str) -> Result<ParsedList, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    walk(&root, "", &mut |node, folder| {
        let Some(uri) = node.get("uri").and_then(Value::as_str) else {
            return;
        };
        let tags = node
            .get("tags")
            .and_then(Value::as_str)
            .map(tags_of)
            .unwrap_or_default();
        add_tagged(
            &mut out,
            uri,
            &collapse_ws(str_of(node, "title")),
            folder,
            lines.find(uri),
            &tags,
        );
        // Microseconds since 1970.
        let at = node
            .get("dateAdded")
            .and_then(Value::as_i64)
            .and_then(|us| epoch(us / 1_000_000));
        note_saved(&mut out, uri, saved(at, ""));
    });
    Ok(out)
}

/// Chrome's `Bookmarks` file: `roots` (bookmark bar, other, synced) of folders and `url` nodes.
pub fn chrome(text: &str) -> Result<ParsedList, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    let roots = root.get("roots").ok_or("no \"roots\"")?;
    for key in ["bookmark_bar", "other", "synced"] {
        let Some(children) = roots
            .get(key)
            .and_then(|r| r.get("children"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        // The roots themselves (bookmark bar, other bookmarks) name no section.
        for child in children {
            walk(child, "", &mut |node, folder| {
                if str_of(node, "type") != "url" {
                    return;
                }
                let url = str_of(node, "url");
                let name = collapse_ws(str_of(node, "name"));
                add_tagged(&mut out, url, &name, folder, lines.find(url), &[]);
                // Microseconds since 1601 (Windows' epoch), as a string.
                let at = str_of(node, "date_added")
                    .parse::<i64>()
                    .ok()
                    .and_then(|us| epoch(us / 1_000_000 - 11_644_473_600));
                note_saved(&mut out, url, saved(at, ""));
            });
        }
    }
    Ok(out)
}

/// Visits every node under `node` with the name of its innermost folder. A folder is a node
/// with `children`; its name is `title` (Firefox) or `name` (Chrome). Firefox's roots
/// (menu, toolbar, other) name no section.
fn walk(node: &Value, folder: &str, visit: &mut dyn FnMut(&Value, &str)) {
    visit(node, folder);
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        let is_root = node.get("root").is_some()
            || matches!(
                str_of(node, "guid"),
                "root________" | "menu________" | "toolbar_____" | "unfiled_____" | "mobile______"
            );
        let name = if is_root {
            folder.to_string()
        } else {
            let n = str_of(node, "title");
            let n = if n.is_empty() {
                str_of(node, "name")
            } else {
                n
            };
            collapse_ws(n)
        };
        for c in children {
            walk(c, &name, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_as_each_service_writes_them() {
        assert_eq!(tags_of("rlhf|evals"), ["rlhf", "evals"]);
        assert_eq!(tags_of("rlhf, evals"), ["rlhf", "evals"]);
        assert_eq!(tags_of("['rlhf', 'evals']"), ["rlhf", "evals"]);
        assert_eq!(tags_of("[\"rlhf\",\"evals\"]"), ["rlhf", "evals"]);
        assert!(tags_of("").is_empty());
    }
}
