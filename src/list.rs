//! Reading list → entries: every http(s) link of a Markdown list, with its link text and the
//! heading it sits under. A real CommonMark parser (pulldown-cmark) so that code spans, reference
//! links and autolinks behave as they render.

use std::collections::HashMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};
use url::Url;

/// The list compiled into the binary: Vicki Boykis's "Anti-hype LLM reading list".
pub const BUILTIN_LIST: &str = include_str!("../lists/anti-hype-llm-reading-list.md");
/// The name under which the built-in list is recorded in the library.
pub const BUILTIN_NAME: &str = "builtin:anti-hype-llm-reading-list";

/// One link of a reading list: the document rl-search will fetch and index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The link as the list gives it, normalised by the URL parser; the document's identity.
    pub url: String,
    /// The text of the link (all texts, joined, when the list links the same URL twice).
    pub link_text: String,
    /// The nearest heading above the link; empty before the first heading.
    pub section: String,
    /// 1-based line of the first occurrence in the list.
    pub line: usize,
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
    /// URL → position in `entries`: merging a repeated link is a lookup, not a scan (a scan
    /// made 100k links take 19 s).
    positions: HashMap<String, usize>,
}

/// Parses Markdown and returns its http(s) links, deduplicated, in list order.
pub fn parse(markdown: &str) -> ParsedList {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(markdown.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset);

    let mut out = ParsedList::default();
    let mut section = String::new();
    let mut heading: Option<String> = None;
    // A link being read: (destination, text so far, line).
    let mut link: Option<(String, String, usize)> = None;

    let parser = Parser::new_ext(markdown, Options::empty()).into_offset_iter();
    for (event, range) in parser {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = heading.take() {
                    section = collapse_ws(&h);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                link = Some((dest_url.to_string(), String::new(), line_of(range.start)));
            }
            Event::End(TagEnd::Link) => {
                if let Some((dest, text, line)) = link.take() {
                    add_link(&mut out, &dest, &collapse_ws(&text), &section, line);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text, _)) = link.as_mut() {
                    text.push_str(&t);
                }
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, text, _)) = link.as_mut() {
                    text.push(' ');
                }
            }
            _ => {}
        }
    }
    out
}

fn add_link(out: &mut ParsedList, dest: &str, text: &str, section: &str, line: usize) {
    let skip = |out: &mut ParsedList, reason| {
        out.skipped.push(Skipped {
            target: dest.to_string(),
            line,
            reason,
        })
    };
    let url = match Url::parse(dest.trim()) {
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
    let url = url.to_string();
    if let Some(&i) = out.positions.get(&url) {
        let existing = &mut out.entries[i];
        if !text.is_empty() && !existing.link_text.split(" / ").any(|t| t == text) {
            if !existing.link_text.is_empty() {
                existing.link_text.push_str(" / ");
            }
            existing.link_text.push_str(text);
        }
        return;
    }
    out.positions.insert(url.clone(), out.entries.len());
    out.entries.push(Entry {
        url,
        link_text: text.to_string(),
        section: section.to_string(),
        line,
    });
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_text_section_and_line() {
        let md = "# List\n\nIntro [notes](https://example.org/notes)\n\n## Papers\n\n+ [Attention](https://arxiv.org/abs/1706.03762)\n+ Training [Compute-Optimal `LLMs`](https://arxiv.org/abs/2203.15556)\n";
        let list = parse(md);
        assert_eq!(list.entries.len(), 3);
        assert_eq!(list.entries[0].section, "List");
        assert_eq!(list.entries[0].line, 3);
        assert_eq!(list.entries[1].link_text, "Attention");
        assert_eq!(list.entries[1].section, "Papers");
        assert_eq!(list.entries[2].link_text, "Compute-Optimal LLMs");
        assert_eq!(list.entries[2].line, 8);
    }

    #[test]
    fn other_schemes_are_skipped_with_a_reason() {
        let md = "[a](mailto:x@example.org) [b](../local.md) [c](file:///etc/passwd) [d](ftp://h/x) [e](#top) [ok](https://ok.example/)";
        let list = parse(md);
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.entries[0].url, "https://ok.example/");
        let reasons: Vec<_> = list.skipped.iter().map(|s| s.reason).collect();
        assert_eq!(reasons.len(), 5);
        assert!(reasons[0].contains("e-mail"));
        assert!(reasons[1].contains("relative"));
        assert!(reasons[2].contains("file:"));
    }

    #[test]
    fn duplicates_merge_and_keep_first_section() {
        let md = "## A\n[x](https://Example.org/p)\n## B\n[y](https://example.org/p)\n[x](https://example.org/p)\n";
        let list = parse(md);
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.entries[0].section, "A");
        assert_eq!(list.entries[0].link_text, "x / y");
    }

    #[test]
    fn autolinks_and_reference_links_count() {
        let md = "See <https://a.example/x> and [ref][r].\n\n[r]: https://b.example/y\n";
        let urls: Vec<_> = parse(md).entries.into_iter().map(|e| e.url).collect();
        assert_eq!(urls, ["https://a.example/x", "https://b.example/y"]);
    }

    #[test]
    fn builtin_list_has_36_links() {
        let list = parse(BUILTIN_LIST);
        assert_eq!(list.entries.len(), 36, "{:#?}", list.entries);
        assert!(list.skipped.is_empty());
    }
}
