//! Markdown (a README, a `.md` file) as a reader sees it rendered: headings on their own lines
//! and in the outline, paragraphs joined, links as their text, images, HTML tags and comments
//! gone, code blocks kept as they are.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::Heading;

/// Whether plain text is Markdown worth rendering: a `.md` name or type, or ATX headings,
/// fences or link syntax in its first lines.
pub fn looks_like_markdown(text: &str, content_type: Option<&str>, url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if path.ends_with(".md") || path.ends_with(".markdown") {
        return true;
    }
    if content_type.is_some_and(|c| c.to_ascii_lowercase().contains("markdown")) {
        return true;
    }
    let head: Vec<&str> = text.lines().take(200).collect();
    let headings = head
        .iter()
        .filter(|l| l.starts_with("# ") || l.starts_with("## "))
        .count();
    let fences = head
        .iter()
        .filter(|l| l.trim_start().starts_with("```"))
        .count();
    let links = head.iter().filter(|l| l.contains("](")).count();
    headings >= 1 && (headings + fences + links) >= 2
}

/// The rendered text (paragraphs separated by blank lines) and its headings.
pub fn render(md: &str) -> (String, Vec<Heading>) {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    let mut blocks: Vec<String> = vec![];
    let mut outline = vec![];
    let mut cur = String::new();
    let mut heading: Option<u8> = None;
    let mut in_code = false;
    let mut image_depth = 0usize;
    let flush = |cur: &mut String, blocks: &mut Vec<String>| {
        let t = cur.trim_end().trim_start_matches(['\n', ' ']).to_string();
        if !t.trim().is_empty() {
            blocks.push(t);
        }
        cur.clear();
    };
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    flush(&mut cur, &mut blocks);
                    heading = Some(level_number(level));
                }
                // A list item's or a note's first paragraph continues its marker.
                Tag::Paragraph | Tag::BlockQuote(_) | Tag::Table(_)
                    if !cur.ends_with("- ") && !cur.ends_with("] ") =>
                {
                    flush(&mut cur, &mut blocks);
                }
                Tag::FootnoteDefinition(label) => {
                    flush(&mut cur, &mut blocks);
                    cur.push_str(&format!("[{label}] "));
                }
                Tag::CodeBlock(_) => {
                    flush(&mut cur, &mut blocks);
                    in_code = true;
                }
                Tag::Item => {
                    flush(&mut cur, &mut blocks);
                    cur.push_str("- ");
                }
                Tag::Image { .. } => image_depth += 1,
                Tag::TableCell if !cur.is_empty() && !cur.ends_with('\n') => cur.push('\t'),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(_) => {
                    let title = cur.split_whitespace().collect::<Vec<_>>().join(" ");
                    if let Some(level) = heading.take()
                        && !title.is_empty()
                    {
                        outline.push(Heading {
                            level,
                            title: title.clone(),
                            number: None,
                        });
                    }
                    cur = title;
                    flush(&mut cur, &mut blocks);
                }
                TagEnd::Paragraph
                | TagEnd::BlockQuote(_)
                | TagEnd::Table
                | TagEnd::Item
                | TagEnd::FootnoteDefinition => flush(&mut cur, &mut blocks),
                TagEnd::CodeBlock => {
                    in_code = false;
                    flush(&mut cur, &mut blocks);
                }
                TagEnd::TableRow | TagEnd::TableHead => cur.push('\n'),
                TagEnd::Image => image_depth = image_depth.saturating_sub(1),
                _ => {}
            },
            Event::Text(t) if image_depth == 0 => cur.push_str(&t),
            Event::Code(t) => cur.push_str(&t),
            Event::SoftBreak if !in_code => cur.push(' '),
            Event::HardBreak => cur.push('\n'),
            Event::Html(h) | Event::InlineHtml(h) => cur.push_str(&strip_html(&h)),
            // The reader keeps the marker that leads to the note.
            Event::FootnoteReference(label) => cur.push_str(&format!("[{label}]")),
            Event::TaskListMarker(_) | Event::Rule => {}
            _ => {}
        }
    }
    flush(&mut cur, &mut blocks);
    (blocks.join("\n\n"), outline)
}

fn level_number(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Raw HTML in Markdown: its text, without tags or comments.
fn strip_html(h: &str) -> String {
    let mut out = String::new();
    let mut rest = h;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.find("-->").map_or("", |i| &r[i + 3..]);
        } else if rest.starts_with('<') {
            rest = rest.find('>').map_or("", |i| &rest[i + 1..]);
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readme_renders_with_its_outline() {
        let md = "# Numbers\n\n[中文](https://x) <!-- note -->\n\n## Prompts\n\nSave **40-90%** by\nappending [Be Concise](https://y).[^1]\n\n[^1]: Measured in May.\n\n<img src=\"a.png\" alt=\"shot\">\n\n![diagram](d.png)\n\n- one\n- two\n\n```\nlet x = 1;\nlet y = 2;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let (text, outline) = render(md);
        assert_eq!(
            text,
            "Numbers\n\n中文\n\nPrompts\n\nSave 40-90% by appending Be Concise.[1]\n\n[1] Measured in May.\n\n- one\n\n- two\n\nlet x = 1;\nlet y = 2;\n\na\tb\n1\t2"
        );
        let titles: Vec<(u8, &str)> = outline
            .iter()
            .map(|h| (h.level, h.title.as_str()))
            .collect();
        assert_eq!(titles, vec![(1, "Numbers"), (2, "Prompts")]);
    }

    #[test]
    fn markdown_is_recognised() {
        assert!(looks_like_markdown("x", None, "https://h/README.md"));
        assert!(looks_like_markdown(
            "# T\n\nSee [a](b).",
            Some("text/plain"),
            "u"
        ));
        assert!(!looks_like_markdown("plain notes\n# not much", None, "u"));
    }
}
