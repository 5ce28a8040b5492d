//! Reading list → entries: every http(s) link of a list, with its link text and the section it
//! sits under. Lists come in many shapes, recognised by their content (a file's extension is
//! only a hint): Markdown as GitHub renders it ([`markdown`]), browser bookmark exports and OPML
//! ([`outline`]), plain text with one URL per line ([`plain`]), and web pages that are
//! themselves reading lists ([`page`]). One page listed several ways is one entry
//! ([`canonical`]).

pub mod canonical;
pub mod edit;
pub mod exports;
pub mod markdown;
pub mod outline;
pub mod page;
pub mod plain;
pub mod references;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::Url;

pub use markdown::parse;

/// The list compiled into the binary: Vicki Boykis's "Anti-hype LLM reading list".
pub const BUILTIN_LIST: &str = include_str!("../../lists/anti-hype-llm-reading-list.md");
/// The name under which the built-in list is recorded in the library.
pub const BUILTIN_NAME: &str = "builtin:anti-hype-llm-reading-list";

/// What rl-search can read, for error messages.
pub const FORMATS: &str = "Markdown, plain text with one URL per line, a browser's bookmark export (HTML, Firefox JSON, Chrome's Bookmarks), OPML, a web page of links, Pocket (CSV or HTML), Instapaper, Raindrop.io or Readwise CSV, Pinboard JSON, BibTeX, RIS or CSL-JSON";

/// One link of a reading list: the document rl-search will fetch and index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The link as the list first spells it (normalised by the URL parser, without its
    /// fragment): what is fetched and shown. Its identity is [`canonical::key`] of it.
    pub url: String,
    /// The text of the link (all texts, joined, when the list links the same page twice).
    pub link_text: String,
    /// The nearest heading (or bookmark folder, or outline) above the link; empty before the
    /// first one.
    pub section: String,
    /// 1-based line of the first occurrence in the list.
    pub line: usize,
    /// Tags the list gives the link (an export's tags or keywords).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// When and in what state the service the list came from had the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<Saved>,
}

/// What a read-later service or browser says of a link: when it was saved, and whether it
/// was read (`unread`, `archive`, `later`, … as the service names it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// A link the parser saw but will not fetch, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub target: String,
    pub line: usize,
    pub reason: &'static str,
}

/// The result of reading one list.
#[derive(Debug, Default)]
pub struct ParsedList {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
    /// Canonical URL → position in `entries`: merging a repeated link is a lookup, not a scan
    /// (a scan made 100k links take 19 s).
    positions: HashMap<String, usize>,
}

#[cfg(test)]
impl ParsedList {
    /// (url, link text, section) of each entry: what the readers' tests compare.
    pub(crate) fn triples(&self) -> Vec<(&str, &str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.url.as_str(), e.link_text.as_str(), e.section.as_str()))
            .collect()
    }
}

/// The shapes of list rl-search recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    PlainText,
    Bookmarks,
    Opml,
    WebPage,
    PocketCsv,
    PocketHtml,
    InstapaperCsv,
    RaindropCsv,
    ReadwiseCsv,
    PinboardJson,
    FirefoxJson,
    ChromeJson,
    Bibtex,
    Ris,
    CslJson,
}

/// Why a list could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ListError {
    #[error(
        "{name} is not a reading list rl-search can read (it looks like binary data); give {FORMATS}"
    )]
    Binary { name: String },
    #[error("{name}: the OPML is not well formed ({reason}); fix the file or export it again")]
    BadOpml { name: String, reason: String },
    #[error(
        "{name}: read as {format:?}, but it is not well formed ({reason}); fix the file or export it again"
    )]
    Malformed {
        name: String,
        format: Format,
        reason: String,
    },
    #[error(
        "the reading list {name} has no http(s) links (read as {format:?}); rl-search reads {FORMATS}"
    )]
    NoLinks { name: String, format: Format },
}

/// Reads a list of any supported shape. `name` is for messages; `base` resolves relative links
/// of a web page fetched from that URL.
pub fn read(
    name: &str,
    bytes: &[u8],
    base: Option<&Url>,
) -> Result<(Format, ParsedList), ListError> {
    let format = detect(bytes).ok_or_else(|| ListError::Binary {
        name: name.to_string(),
    })?;
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let parsed = match format {
        Format::Markdown => markdown::parse(text),
        Format::PlainText => plain::parse(text),
        Format::Bookmarks | Format::WebPage if crate::markup::too_deep(text) => {
            raw_links(text, base)
        }
        Format::Bookmarks => outline::bookmarks(text),
        Format::Opml => outline::opml(text).map_err(|reason| ListError::BadOpml {
            name: name.to_string(),
            reason,
        })?,
        Format::WebPage => page::parse(text, base),
        Format::PocketCsv => exports::csv(text, exports::CsvKind::Pocket),
        Format::InstapaperCsv => exports::csv(text, exports::CsvKind::Instapaper),
        Format::RaindropCsv => exports::csv(text, exports::CsvKind::Raindrop),
        Format::ReadwiseCsv => exports::csv(text, exports::CsvKind::Readwise),
        Format::PocketHtml => outline::bookmarks(text),
        Format::PinboardJson => {
            exports::pinboard(text).map_err(|reason| bad(name, format, reason))?
        }
        Format::FirefoxJson => {
            exports::firefox(text).map_err(|reason| bad(name, format, reason))?
        }
        Format::ChromeJson => exports::chrome(text).map_err(|reason| bad(name, format, reason))?,
        Format::CslJson => {
            references::csl_json(text).map_err(|reason| bad(name, format, reason))?
        }
        Format::Bibtex => references::bibtex(text).map_err(|reason| bad(name, format, reason))?,
        Format::Ris => references::ris(text),
    };
    if parsed.entries.is_empty() {
        return Err(ListError::NoLinks {
            name: name.to_string(),
            format,
        });
    }
    Ok((format, parsed))
}

fn bad(name: &str, format: Format, reason: String) -> ListError {
    ListError::Malformed {
        name: name.to_string(),
        format,
        reason,
    }
}

/// The shape of a list, from its first bytes; `None` for binary data.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    // Text has no NULs and few replacement characters; a PDF or an image has both.
    let bad = text
        .chars()
        .filter(|&c| c == '\u{fffd}' || c == '\0')
        .count();
    if head.contains(&0) || bad * 20 > text.chars().count().max(1) {
        return None;
    }
    let start = text.trim_start_matches('\u{feff}').trim_start();
    // Cut on a character boundary: byte 1024 of a list in Chinese or Arabic is often inside one.
    let lower = start[..start.floor_char_boundary(1024)].to_ascii_lowercase();
    if lower.starts_with("<!doctype netscape-bookmark-file") {
        return Some(Format::Bookmarks);
    }
    if let Some(f) = export_format(&lower) {
        return Some(f);
    }
    if lower.starts_with("<?xml") || lower.starts_with("<opml") {
        return Some(Format::Opml);
    }
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.starts_with("<head")
    {
        return Some(Format::WebPage);
    }
    if plain::looks_plain(&String::from_utf8_lossy(bytes)) {
        return Some(Format::PlainText);
    }
    Some(Format::Markdown)
}

/// The export or reference format the start of a file (lower-cased) shows, if any.
fn export_format(lower: &str) -> Option<Format> {
    if lower.starts_with('[') || lower.starts_with('{') {
        let has = |k: &str| lower.contains(k);
        return if has("\"roots\"") && has("\"bookmark_bar\"") {
            Some(Format::ChromeJson)
        } else if has("text/x-moz-place") {
            Some(Format::FirefoxJson)
        } else if lower.starts_with('[')
            && has("\"href\"")
            && (has("\"toread\"") || has("\"description\""))
        {
            Some(Format::PinboardJson)
        } else if lower.starts_with('[') && (has("\"url\"") || has("\"doi\"")) && has("\"type\"") {
            Some(Format::CslJson)
        } else {
            None
        };
    }
    if lower.contains("<title>pocket export</title>") {
        return Some(Format::PocketHtml);
    }
    let first = lower.lines().next().unwrap_or("");
    if first.starts_with("ty  - ") {
        return Some(Format::Ris);
    }
    // BibTeX: the first thing that is not a comment is an `@type{`.
    let code = lower
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('%'))
        .unwrap_or("");
    if code.starts_with('@')
        && code[1..].split_once(['{', '(']).is_some_and(|(t, _)| {
            !t.is_empty() && t.trim().chars().all(|c| c.is_ascii_alphabetic())
        })
    {
        return Some(Format::Bibtex);
    }
    match exports::csv_kind(first)? {
        exports::CsvKind::Pocket => Some(Format::PocketCsv),
        exports::CsvKind::Instapaper => Some(Format::InstapaperCsv),
        exports::CsvKind::Raindrop => Some(Format::RaindropCsv),
        exports::CsvKind::Readwise => Some(Format::ReadwiseCsv),
    }
}

/// [`add_link`] with tags, merged into the entry's (a link listed twice keeps both's tags).
pub(crate) fn add_tagged(
    out: &mut ParsedList,
    dest: &str,
    text: &str,
    section: &str,
    line: usize,
    tags: &[String],
) {
    add_link(out, dest, text, section, line);
    if tags.is_empty() {
        return;
    }
    let Ok(url) = Url::parse(dest.trim()) else {
        return;
    };
    if let Some(&i) = out.positions.get(&canonical::key(&url)) {
        let have = &mut out.entries[i].tags;
        for t in tags {
            if !have.iter().any(|h| h.eq_ignore_ascii_case(t)) {
                have.push(t.clone());
            }
        }
    }
}

/// Records when and in what state a service saved the link `dest` (already added).
pub(crate) fn note_saved(out: &mut ParsedList, dest: &str, saved: Saved) {
    if saved.at.is_none() && saved.state.is_none() {
        return;
    }
    let Ok(url) = Url::parse(dest.trim()) else {
        return;
    };
    if let Some(&i) = out.positions.get(&canonical::key(&url)) {
        out.entries[i].saved.get_or_insert(saved);
    }
}

/// Adds one link to a list: skipped with a reason unless it is an absolute http(s) URL; merged
/// into an earlier entry for the same page (see [`canonical::key`]).
pub(crate) fn add_link(out: &mut ParsedList, dest: &str, text: &str, section: &str, line: usize) {
    let skip = |out: &mut ParsedList, reason| {
        out.skipped.push(Skipped {
            target: dest.to_string(),
            line,
            reason,
        })
    };
    let mut url = match Url::parse(dest.trim()) {
        Ok(u) => u,
        Err(_) if dest.starts_with('#') => return skip(out, "an anchor within the list"),
        Err(_) => return skip(out, "not an absolute URL (relative links are not fetched)"),
    };
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => {}
        "http" | "https" => return skip(out, "no host in URL"),
        "mailto" => return skip(out, "an e-mail address"),
        "file" => return skip(out, "a local file: links (file: URLs are never fetched)"),
        _ => return skip(out, "not an http(s) link"),
    }
    url.set_fragment(None);
    let key = canonical::key(&url);
    if let Some(&i) = out.positions.get(&key) {
        let existing = &mut out.entries[i];
        if !text.is_empty() && !existing.link_text.split(" / ").any(|t| t == text) {
            if !existing.link_text.is_empty() {
                existing.link_text.push_str(" / ");
            }
            existing.link_text.push_str(text);
        }
        return;
    }
    out.positions.insert(key, out.entries.len());
    out.entries.push(Entry {
        url: url.to_string(),
        link_text: text.to_string(),
        section: section.to_string(),
        line,
        tags: vec![],
        saved: None,
    });
}

/// Line numbers of things met in document order. Each lookup starts where the last one ended,
/// so a list of n links costs one pass over the text, not n (40k bookmarks took 23 s).
pub(crate) struct Lines<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Lines {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The line of byte `offset` (offsets must not go backwards; an earlier one gets the
    /// current line).
    pub(crate) fn at(&mut self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        if end > self.pos {
            self.line += self.text.as_bytes()[self.pos..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.pos = end;
        }
        self.line
    }

    /// The line where `needle` next appears (the current line when it does not: an attribute
    /// value written with entities is not found as decoded).
    pub(crate) fn find(&mut self, needle: &str) -> usize {
        match self.text[self.pos..].find(needle) {
            Some(i) => self.at(self.pos + i),
            None => self.line,
        }
    }
}

/// Links of a page too deeply nested for a DOM (see [`crate::markup::too_deep`]): every
/// `href`, without sections or link texts, resolved against `base`.
pub(crate) fn raw_links(text: &str, base: Option<&Url>) -> ParsedList {
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    for (offset, href) in crate::markup::hrefs(text) {
        if href.starts_with('#') {
            continue;
        }
        let resolved = match base {
            Some(b) => b.join(&href).map(|u| u.to_string()).unwrap_or(href),
            None => href,
        };
        add_link(&mut out, &resolved, "", "", lines.at(offset));
    }
    out
}

pub(crate) fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(
            detect(b"# List\n- [a](https://a.example/)\n"),
            Some(Format::Markdown)
        );
        assert_eq!(
            detect(b"# my links\nhttps://a.example/x\n\nhttp://b.example/\n"),
            Some(Format::PlainText)
        );
        assert_eq!(
            detect(b"<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>"),
            Some(Format::Bookmarks)
        );
        assert_eq!(
            detect(b"\xef\xbb\xbf<?xml version=\"1.0\"?><opml>"),
            Some(Format::Opml)
        );
        assert_eq!(
            detect(b"<!doctype html><html><body>"),
            Some(Format::WebPage)
        );
        assert_eq!(detect(b"%PDF-1.7\n\x00\x01\x02\xff\xfe binary"), None);
    }

    /// Issue 20: a list whose byte 1024 fell inside a character crashed `update` (exit 101).
    #[test]
    fn lists_in_any_script_are_read_whatever_falls_at_byte_1024() {
        for words in ["阅读清单", "قائمة القراءة", "📚🦀"] {
            // Every offset of the characters against byte 1024.
            for shift in 0..4 {
                let filler = format!("{}{}", "a".repeat(shift), words.repeat(120));
                let md = format!("{filler}\n- [论文](https://a.example/论文)\n");
                let (format, list) = read("清单.md", md.as_bytes(), None).unwrap();
                assert_eq!(format, Format::Markdown);
                assert_eq!(list.entries.len(), 1);
            }
        }
    }

    /// Issue 14: merging repeated links is a lookup. A scan per link made 100k links take
    /// 19 s in a release build; 60k here would take tens of seconds in a debug build.
    #[test]
    fn large_lists_parse_in_linear_time() {
        let md: String = (0..60_000)
            .map(|i| format!("- [l{i}](https://h{}.example/p/{i})\n", i % 7))
            .collect();
        let t = std::time::Instant::now();
        assert_eq!(parse(&md).entries.len(), 60_000);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(8),
            "{:?}",
            t.elapsed()
        );
    }

    /// Pages too deep for a DOM are read without one: their links, at once.
    #[test]
    fn deep_pages_and_bookmarks_are_read_without_a_dom() {
        let deep = |head: &str| {
            format!(
                "{head}<body><main>{}<a href=\"https://a.example/x\">x</a>\n<a href=\"/y\">y</a>{}</main>",
                "<div>".repeat(100_000),
                "</div>".repeat(100_000)
            )
        };
        let base = Url::parse("https://blog.example/list").unwrap();
        let t = std::time::Instant::now();
        for (head, format) in [
            ("<!doctype html>", Format::WebPage),
            ("<!DOCTYPE NETSCAPE-Bookmark-file-1>", Format::Bookmarks),
        ] {
            let (f, list) = read("deep.html", deep(head).as_bytes(), Some(&base)).unwrap();
            assert_eq!(f, format);
            let urls: Vec<_> = list.entries.iter().map(|e| e.url.as_str()).collect();
            assert_eq!(urls, ["https://a.example/x", "https://blog.example/y"]);
            assert_eq!(list.entries[1].line, 2);
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn unreadable_lists_say_what_is_understood() {
        let e = read("junk.bin", b"\x00\x01\x02\x03", None).unwrap_err();
        assert!(e.to_string().contains("OPML"), "{e}");
        let e = read("empty.md", b"# nothing here\n", None).unwrap_err();
        assert!(e.to_string().contains("has no http(s) links"), "{e}");
        assert!(!e.to_string().contains('\n'));
    }
}
