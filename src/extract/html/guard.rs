//! Defences against pathological pages: nesting too deep for a DOM is read as plain text.

use super::render::push_collapsed;

/// Pages nested deeper than this skip the DOM: html5ever's scope checks walk the stack of open
/// elements, which is quadratic in depth (minutes for 100,000 levels). No article is that deep.
pub(super) const MAX_DEPTH: usize = 1_000;

/// A cheap upper estimate of tag nesting depth, without parsing.
pub(super) fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "!doctype", "!--",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = memchr_lt(&bytes[i..]) {
        i += off + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let end = bytes[start..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'!' || *b == b'-'))
            .map_or(bytes.len(), |p| start + p);
        let name = html[start..end].to_ascii_lowercase();
        if name.is_empty() || VOID.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

pub(super) fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

/// Byte offset of `needle` (ASCII) in `hay`, ignoring ASCII case.
pub(super) fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

/// Text without tags, scripts or styles: the fallback for pages too deep to parse.
pub(super) fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        push_collapsed(&mut out, &rest[..i]);
        rest = &rest[i..];
        let lower: String = rest
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            "</script>"
        } else if lower.starts_with("<style") {
            "</style>"
        } else {
            ">"
        };
        rest = match find_ascii_ci(rest, skip_to) {
            Some(j) => &rest[j + skip_to.len()..],
            None => "",
        };
        out.push(' ');
    }
    push_collapsed(&mut out, rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
