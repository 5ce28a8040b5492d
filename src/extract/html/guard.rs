//! Defences against pathological pages: nesting too deep for a DOM (see [`crate::markup`]) is
//! read as plain text.

use super::render::push_collapsed;

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
