//! Markdown lists as GitHub renders them: a CommonMark parser (pulldown-cmark) so that code
//! spans, reference links and autolinks behave as they render, plus bare URLs in text.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{ParsedList, add_link, collapse_ws};

/// Parses Markdown and returns its http(s) links, deduplicated, in list order: inline and
/// reference links, `<autolinks>`, and bare URLs in text as GitHub links them.
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
    // Plain text outside links and code, gathered across events (the parser splits text at
    // characters that might have been markup), with the source offset of each piece.
    let mut text: Vec<(String, usize)> = vec![];
    let mut in_code = false;

    let parser = Parser::new_ext(markdown, Options::empty()).into_offset_iter();
    for (event, range) in parser {
        match &event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            _ => {}
        }
        let plain_text =
            matches!(event, Event::Text(_)) && link.is_none() && heading.is_none() && !in_code;
        if !plain_text && !text.is_empty() {
            bare_urls(&mut out, &std::mem::take(&mut text), &section, &line_of);
        }
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
            Event::Text(t) if plain_text => text.push((t.to_string(), range.start)),
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
    if !text.is_empty() {
        bare_urls(&mut out, &text, &section, &line_of);
    }
    hashtags(&mut out, markdown, &line_starts);
    out
}

/// Tags written after a link on its line, `- [Title](url) #rlhf #evals` (what `add --tag`
/// writes; Obsidian's convention): words of `#` and a letter, after the link's end.
fn hashtags(out: &mut ParsedList, markdown: &str, line_starts: &[usize]) {
    for e in &mut out.entries {
        let Some(&start) = line_starts.get(e.line.wrapping_sub(1)) else {
            continue;
        };
        let line = markdown[start..].lines().next().unwrap_or("");
        let after = match line.rfind([')', '>']) {
            Some(i) => &line[i + 1..],
            None => line
                .find("http")
                .and_then(|i| line[i..].find(char::is_whitespace).map(|j| &line[i + j..]))
                .unwrap_or(""),
        };
        for word in after.split_whitespace() {
            let Some(tag) = word.strip_prefix('#') else {
                continue;
            };
            let tag = tag.trim_end_matches(['.', ',', ';']);
            if tag.chars().next().is_some_and(char::is_alphabetic)
                && tag
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/'))
                && !e.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
            {
                e.tags.push(tag.to_string());
            }
        }
    }
}

/// Bare `http(s)://` URLs in text, by GitHub's autolink rules: one starts after a space, a
/// line start or `*_~(`, runs to whitespace or `<`, and leaves out trailing punctuation
/// (`?!.,:*_~'"`), a `)` that closes nothing, and an `&entity;`.
fn bare_urls(
    out: &mut ParsedList,
    pieces: &[(String, usize)],
    section: &str,
    line_of: &dyn Fn(usize) -> usize,
) {
    // One string, and where each piece starts in it and in the source.
    let mut joined = String::new();
    let mut starts = vec![];
    for (piece, offset) in pieces {
        starts.push((joined.len(), *offset));
        joined.push_str(piece);
    }
    let source_offset = |pos: usize| {
        let i = starts.partition_point(|(s, _)| *s <= pos).saturating_sub(1);
        starts[i].1 + (pos - starts[i].0)
    };
    // Lower-cased once (ASCII, so offsets hold), not once per URL found.
    let lower = joined.to_ascii_lowercase();
    let mut from = 0;
    while let Some(rel) = find_scheme(&lower[from..]) {
        let start = from + rel;
        let before = joined[..start].chars().next_back();
        let end = start
            + joined[start..]
                .find(|c: char| c.is_whitespace() || c == '<')
                .unwrap_or(joined.len() - start);
        from = end.max(start + 1);
        if before.is_some_and(|c| !(c.is_whitespace() || "*_~(".contains(c))) {
            continue;
        }
        let url = trim_autolink(&joined[start..end]);
        if url.len() > "https://".len() {
            add_link(out, url, "", section, line_of(source_offset(start)));
        }
    }
}

/// The first `http://` or `https://` in lower-cased text (one forward scan: looking for each
/// scheme separately would rescan to the end for the one that is absent).
fn find_scheme(lower: &str) -> Option<usize> {
    lower.match_indices("http").map(|(i, _)| i).find(|&i| {
        let rest = &lower[i + 4..];
        rest.starts_with("://") || rest.starts_with("s://")
    })
}

/// The end of an autolink as GitHub decides it.
fn trim_autolink(mut url: &str) -> &str {
    loop {
        let before = url;
        url = url.trim_end_matches(['?', '!', '.', ',', ':', '*', '_', '~', '\'', '"']);
        if url.ends_with(')') && url.matches(')').count() > url.matches('(').count() {
            url = &url[..url.len() - 1];
        }
        if url.ends_with(';')
            && let Some(amp) = url.rfind('&')
            && url[amp + 1..url.len() - 1]
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        {
            url = &url[..amp];
        }
        if url == before {
            return url;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::BUILTIN_LIST;

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
    fn bare_urls_as_github_links_them() {
        let md = concat!(
            "Start with https://example.org/post. Then (see https://en.wikipedia.org/wiki/Foo_(bar)),\n",
            "and https://a.example/x?q=1: or *https://b.example/y*\n",
            "`https://code.example/span` and [t](https://c.example/) x:https://not.example/\n\n",
            "    https://indented.example/code\n"
        );
        let urls: Vec<_> = parse(md).entries.into_iter().map(|e| e.url).collect();
        assert_eq!(
            urls,
            [
                "https://example.org/post",
                "https://en.wikipedia.org/wiki/Foo_(bar)",
                "https://a.example/x?q=1",
                "https://b.example/y",
                "https://c.example/",
            ]
        );
        assert_eq!(parse("a\n\nb https://x.example/\n").entries[0].line, 3);
    }

    #[test]
    fn builtin_list_has_36_links() {
        let list = parse(BUILTIN_LIST);
        assert_eq!(list.entries.len(), 36, "{:#?}", list.entries);
        assert!(list.skipped.is_empty());
    }

    #[test]
    fn tags_after_a_link_on_its_line() {
        let md = "# Reading\n\n- [A](https://a.org/) #rlhf #evals.\n- [B](https://b.org/) see issue #12\n- https://c.org/x #Bare_tag\n\n## #notatag heading\n\nText with #hashtag but https://d.org/ first.\n";
        let parsed = parse(md);
        let tags: Vec<(&str, Vec<&str>)> = parsed
            .entries
            .iter()
            .map(|e| (e.url.as_str(), e.tags.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            tags,
            [
                ("https://a.org/", vec!["rlhf", "evals"]),
                ("https://b.org/", vec![]),
                ("https://c.org/x", vec!["Bare_tag"]),
                ("https://d.org/", vec![]),
            ]
        );
    }
}
