//! Editing a Markdown or plain list in place, for `add --to` and `remove --from`: a link goes
//! in under its section's heading (the heading is made when missing), a link comes out with
//! its line; every other byte of the file stays as it was, line endings included.

use super::canonical;

/// The text with `- [text](url) #tag…` added: at the end of the section headed `section` (any
/// level, case and spaces aside), or under a new `## section` at the end; without a section,
/// before the first heading (where a link has no section).
pub fn insert(
    text: &str,
    section: Option<&str>,
    link_text: &str,
    url: &str,
    tags: &[String],
) -> String {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let tags: String = tags
        .iter()
        .map(|t| format!(" #{}", t.split_whitespace().collect::<Vec<_>>().join("-")))
        .collect();
    let item = format!("- [{}]({url}){tags}{eol}", escape(link_text));
    let lines = line_spans(text);
    let heading = |i: usize| heading_of(&text[lines[i].clone()]);
    let at = match section.map(str::trim).filter(|s| !s.is_empty()) {
        Some(wanted) => {
            let found = (0..lines.len())
                .find(|&i| heading(i).is_some_and(|(_, t)| t.eq_ignore_ascii_case(wanted)));
            match found {
                Some(h) => {
                    let level = heading(h).map_or(1, |(l, _)| l);
                    let end = (h + 1..lines.len())
                        .find(|&i| heading(i).is_some_and(|(l, _)| l <= level))
                        .unwrap_or(lines.len());
                    after_last_content(text, &lines, h, end)
                }
                None => {
                    // A new section at the end, after a blank line.
                    let mut out = text.to_string();
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push_str(eol);
                    }
                    if !out.is_empty() && !out.ends_with(&format!("{eol}{eol}")) {
                        out.push_str(eol);
                    }
                    out.push_str(&format!("## {}{eol}{eol}{item}", wanted));
                    return out;
                }
            }
        }
        None => match (0..lines.len()).find(|&i| heading(i).is_some()) {
            Some(0) => {
                // The list starts with a heading: the link goes first, on its own.
                return format!("{item}{eol}{text}");
            }
            Some(h) => after_last_content(text, &lines, 0, h),
            None => text.len(),
        },
    };
    let mut out = String::with_capacity(text.len() + item.len() + 2);
    out.push_str(&text[..at]);
    if at > 0 && !out.ends_with('\n') {
        out.push_str(eol);
    }
    out.push_str(&item);
    out.push_str(&text[at..]);
    out
}

/// The text without the list items (or bare-URL lines) that link to the page `url` means;
/// `None` when no such line exists.
pub fn remove(text: &str, url: &str) -> Option<String> {
    let want = canonical::identity(url)?;
    let mut out = String::with_capacity(text.len());
    let mut removed = false;
    for span in line_spans(text) {
        let line = &text[span.clone()];
        let trimmed = line.trim();
        let is_item = trimmed.starts_with(['-', '*', '+'])
            || trimmed
                .split_once(['.', ')'])
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        let urls = urls_in(line);
        let only_url = urls.len() == 1 && trimmed.trim_matches(['<', '>']) == urls[0];
        if (is_item || only_url)
            && urls
                .iter()
                .any(|u| canonical::identity(u).as_deref() == Some(want.as_str()))
        {
            removed = true;
            continue;
        }
        out.push_str(line);
    }
    removed.then_some(out)
}

/// Byte ranges of the lines, each with its line ending.
fn line_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = vec![];
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// An ATX heading's level and text.
fn heading_of(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_end();
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) || (!t[level..].starts_with([' ', '\t']) && t.len() > level) {
        return None;
    }
    Some((level, t[level..].trim().trim_end_matches('#').trim()))
}

/// Where a new line goes in lines `from..to`: after the last line that is not blank.
fn after_last_content(
    text: &str,
    lines: &[std::ops::Range<usize>],
    from: usize,
    to: usize,
) -> usize {
    (from..to)
        .rev()
        .find(|&i| !text[lines[i].clone()].trim().is_empty())
        .map_or_else(
            || lines.get(from).map_or(text.len(), |l| l.end),
            |i| lines[i].end,
        )
}

/// The http(s) URLs in a line.
fn urls_in(line: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = line;
    while let Some(i) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | ']' | '"' | '\''))
            .unwrap_or(tail.len());
        out.push(&tail[..end]);
        rest = &tail[end..];
    }
    out
}

/// Link text that cannot end the link early.
fn escape(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.replace('[', "\\[").replace(']', "\\]")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "# My list\r\n\r\nIntro text.\r\n\r\n## Papers\r\n\r\n- [A](https://a.org/)\r\n\r\n## Posts\r\n\r\n- [B](https://b.org/x#top)\r\n";

    #[test]
    fn a_link_goes_under_its_heading_and_every_other_byte_stays() {
        let out = insert(LIST, Some("papers"), "New [paper]", "https://n.org/p", &[]);
        assert_eq!(
            out,
            LIST.replace(
                "- [A](https://a.org/)\r\n",
                "- [A](https://a.org/)\r\n- [New \\[paper\\]](https://n.org/p)\r\n"
            )
        );
        let parsed = super::super::markdown::parse(&out);
        assert!(
            parsed
                .triples()
                .contains(&("https://n.org/p", "New [paper]", "Papers")),
            "{:?}",
            parsed.triples()
        );
        // A missing heading is made at the end.
        let out = insert(LIST, Some("Talks"), "T", "https://t.org/", &[]);
        assert!(out.starts_with(LIST));
        assert!(
            out.ends_with("\r\n\r\n## Talks\r\n\r\n- [T](https://t.org/)\r\n"),
            "{out:?}"
        );
        // No section: before the first heading.
        let out = insert(
            "- [A](https://a.org/)\n\n## S\n- [B](https://b.org/)\n",
            None,
            "N",
            "https://n.org/",
            &[],
        );
        assert_eq!(
            out,
            "- [A](https://a.org/)\n- [N](https://n.org/)\n\n## S\n- [B](https://b.org/)\n"
        );
        assert_eq!(
            insert("", Some("S"), "N", "https://n.org/", &[]),
            "## S\n\n- [N](https://n.org/)\n"
        );
        assert_eq!(
            insert("no newline", None, "N", "https://n.org/", &[]),
            "no newline\n- [N](https://n.org/)\n"
        );
    }

    #[test]
    fn a_link_comes_out_with_its_line_in_any_spelling() {
        let out = remove(LIST, "http://www.b.org/x/").unwrap();
        assert_eq!(out, LIST.replace("- [B](https://b.org/x#top)\r\n", ""));
        assert_eq!(remove(LIST, "https://c.org/"), None);
        let plain = "https://a.org/\nhttps://b.org/\n";
        assert_eq!(remove(plain, "https://a.org").unwrap(), "https://b.org/\n");
        // A paragraph that mentions the link is not a list entry: it stays.
        assert_eq!(
            remove("See https://a.org/ for more.\n", "https://a.org/"),
            None
        );
    }
}
