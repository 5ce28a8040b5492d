//! Terminal and JSON rendering: the only module that writes results to stdout. Untrusted text
//! (titles, snippets, page text) is stripped of control characters before it is printed.

use std::io::{self, Write};

use crate::search::Hit;
use crate::store::{DocRecord, State};
use crate::terminal::strip_controls;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
    /// Matched words: bold yellow on a terminal, `[…]` markers without colour.
    pub fn highlight(&self, s: &str) -> String {
        if self.color {
            self.paint("1;33", s)
        } else {
            format!("[{s}]")
        }
    }
}

/// Clean one line of untrusted text for the terminal.
pub fn clean(s: &str) -> String {
    strip_controls(s).replace(['\n', '\t'], " ")
}

/// Search hits for people: rank, title, then kind · host · section · id, URL and snippet. With
/// a `width` (a terminal's), the snippet wraps to it, every line indented under the hit.
pub fn hits(
    out: &mut dyn Write,
    hits: &[Hit],
    style: Style,
    width: Option<usize>,
) -> io::Result<()> {
    let columns = width;
    let width = hits.len().to_string().len();
    for hit in hits {
        let pad = " ".repeat(width + 2);
        writeln!(
            out,
            "{:>width$}. {}",
            hit.rank,
            style.bold(&clean(&hit.title)),
            width = width
        )?;
        let mut facts = vec![hit.kind.clone(), hit.host.clone()];
        if !hit.section.is_empty() {
            facts.push(clean(&hit.section));
        }
        if !hit.tags.is_empty() {
            facts.push(tag_list(&hit.tags));
        }
        writeln!(
            out,
            "{pad}{}  {}",
            style.dim(&facts.join(" · ")),
            style.cyan(&format!("id {}", hit.id))
        )?;
        writeln!(out, "{pad}{}", clean(&hit.url))?;
        if let Some(v) = hit.version {
            writeln!(
                out,
                "{pad}{}",
                style.red(&format!(
                    "earlier version {v}: rl-search read {} --version {v}",
                    hit.id
                ))
            )?;
        }
        if !hit.snippet.is_empty() {
            let snippet = render_snippet(&hit.snippet, &hit.highlights, style);
            match columns {
                // textwrap measures text without its colour escapes.
                Some(w) if w > pad.len() + 20 => {
                    let opts = textwrap::Options::new(w)
                        .initial_indent(&pad)
                        .subsequent_indent(&pad);
                    for line in textwrap::wrap(&snippet, opts) {
                        writeln!(out, "{line}")?;
                    }
                }
                _ => writeln!(out, "{pad}{snippet}")?,
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// When and how the service a link was imported from had it: `saved 2023-07-22 (unread)`.
pub fn saved_line(s: &crate::list::Saved) -> String {
    let mut out = "saved".to_string();
    if let Some(at) = &s.at {
        out += &format!(" {}", clean(at.get(..10).unwrap_or(at)));
    }
    if let Some(state) = &s.state {
        out += &format!(" ({})", clean(state));
    }
    out
}

/// Tags as a reader sees them: `#rlhf #evals`.
pub fn tag_list(tags: &[String]) -> String {
    tags.iter()
        .map(|t| format!("#{}", clean(t).replace(' ', "-")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The snippet with matched ranges highlighted; control characters stripped piecewise so the
/// ranges stay valid.
pub fn render_snippet(snippet: &str, ranges: &[std::ops::Range<usize>], style: Style) -> String {
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at || r.end > snippet.len() {
            continue;
        }
        out.push_str(&clean(&snippet[at..r.start]));
        out.push_str(&style.highlight(&clean(&snippet[r.clone()])));
        at = r.end;
    }
    out.push_str(&clean(&snippet[at..]));
    out
}

/// Text with the given byte ranges highlighted; newlines kept (the text must already be
/// free of control characters).
pub fn highlight_ranges(text: &str, ranges: &[std::ops::Range<usize>], style: Style) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 8);
    let mut at = 0;
    for r in ranges {
        if r.start < at || r.end > text.len() {
            continue;
        }
        out.push_str(&text[at..r.start]);
        out.push_str(&style.highlight(&text[r.clone()]));
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Paragraphs wrapped to `width` columns; lines of code-like text (leading spaces) untouched.
pub fn wrap(text: &str, width: usize) -> String {
    let width = width.max(20);
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        let preformatted = para
            .lines()
            .any(|l| l.starts_with("  ") || l.starts_with('\t'));
        if preformatted {
            out.push_str(para);
            continue;
        }
        let lines: Vec<String> = para
            .lines()
            .flat_map(|l| {
                textwrap::wrap(l, width)
                    .into_iter()
                    .map(|c| c.into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        out.push_str(&lines.join("\n"));
    }
    out
}

/// One JSON object per hit, per line; the snippet marks matches with `[…]`.
pub fn hits_json(out: &mut dyn Write, hits: &[Hit]) -> io::Result<()> {
    for hit in hits {
        writeln!(out, "{}", hit_json(hit))?;
    }
    Ok(())
}

/// A hit as `search --json` (and the web reader's API) give it.
pub fn hit_json(hit: &Hit) -> serde_json::Value {
    let mut v = serde_json::to_value(hit).expect("hits serialise");
    v["snippet"] = render_snippet(&hit.snippet, &hit.highlights, Style { color: false }).into();
    v
}

/// The header `read` prints above a document's text.
pub fn read_header(rec: &DocRecord, style: Style) -> String {
    let mut s = format!("{}\n", style.bold(&clean(&rec.title)));
    s += &format!("{}\n", clean(&rec.url));
    let mut facts = vec![format!("id {}", rec.id), rec.kind.clone()];
    if !rec.section.is_empty() {
        facts.push(format!("section: {}", clean(&rec.section)));
    }
    if !rec.tags.is_empty() {
        facts.push(tag_list(&rec.tags));
    }
    if let Some(s) = &rec.saved {
        facts.push(saved_line(s));
    }
    if let Some(a) = &rec.author {
        facts.push(format!("by {}", clean(a)));
    }
    if let Some(f) = &rec.fetched_at {
        facts.push(format!("fetched {f}"));
    }
    s += &format!("{}\n", style.dim(&facts.join(" · ")));
    if let Some(n) = &rec.note {
        s += &format!("{}\n", style.dim(&format!("note: {n}")));
    }
    s += &"─".repeat(60);
    s.push('\n');
    s
}

/// Per-link table for `status`.
pub fn status_table(out: &mut dyn Write, docs: &[DocRecord], style: Style) -> io::Result<()> {
    for d in docs {
        let state = match d.state {
            State::Ok if d.last_error.is_some() => style.red("ok*    "),
            State::Ok => style.green("ok     "),
            State::Failed => style.red("failed "),
            State::Pending => style.dim("pending"),
        };
        let title = if d.title.is_empty() {
            &d.link_text
        } else {
            &d.title
        };
        let title: String = clean(title).chars().take(60).collect();
        writeln!(
            out,
            "{} {} {:<6} {}",
            style.cyan(&d.id),
            state,
            d.kind,
            title
        )?;
        writeln!(out, "                  {}", style.dim(&clean(&d.url)))?;
        if let Some(e) = &d.last_error {
            // The URL is on the line above; don't repeat it.
            let e = e.strip_prefix(&format!("{}: ", d.url)).unwrap_or(e);
            let kept = if d.state == State::Ok {
                " (keeping the copy from before)"
            } else {
                ""
            };
            let since = d
                .failing_since
                .as_deref()
                .map(|s| format!(" — failing since {s}"))
                .unwrap_or_default();
            writeln!(
                out,
                "                  {}{}{}",
                style.red(&clean(e)),
                kept,
                since
            )?;
        } else if let Some(n) = &d.note {
            writeln!(
                out,
                "                  {}",
                style.dim(&format!("note: {}", clean(n)))
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: on a terminal the snippet wraps to its width, every line under the hit.
    #[test]
    fn snippets_wrap_to_the_terminal_with_an_indent() {
        let snippet = "scaling laws describe how the loss of a language model falls as a power law in parameters, data and compute".to_string();
        let hit = Hit {
            rank: 1,
            id: "85f66a64".into(),
            url: "https://arxiv.org/abs/2001.08361".into(),
            title: "Scaling Laws".into(),
            section: "Papers".into(),
            kind: "paper".into(),
            host: "arxiv.org".into(),
            score: 1.0,
            highlights: vec![0..7, 8..12],
            snippet,
            tags: vec!["scaling".into()],
            version: None,
        };
        let mut out = Vec::new();
        hits(&mut out, &[hit], Style { color: true }, Some(40)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().skip(3).filter(|l| !l.is_empty()).collect();
        assert!(lines.len() >= 3, "{text}");
        for line in lines {
            assert!(line.starts_with("   "), "{line:?}");
            assert!(textwrap::core::display_width(line) <= 40, "{line:?}");
        }
    }
}
