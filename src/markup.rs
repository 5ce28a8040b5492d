//! Facts about raw HTML that more than one stage needs before (or instead of) building a DOM:
//! whether a page is too deep to parse, and where its links are when it is.

/// Pages nested deeper than this skip the DOM: html5ever's scope checks walk the stack of open
/// elements, which is quadratic in depth (minutes for 100,000 levels). No article is that deep.
pub const MAX_DEPTH: usize = 1_000;

/// Whether a page is nested too deeply to be parsed into a DOM in reasonable time.
pub fn too_deep(html: &str) -> bool {
    nesting_depth(html) > MAX_DEPTH
}

/// A cheap upper estimate of tag nesting depth, without parsing.
pub fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "!doctype", "!--",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&c| c == b'<') {
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

/// Every quoted `href` value in raw HTML, with its byte offset, in order: the links of a page
/// too deep for a DOM. Entities other than `&amp;` are left as written.
pub fn hrefs(html: &str) -> Vec<(usize, String)> {
    let lower = html.to_ascii_lowercase(); // ASCII lower-casing keeps byte offsets
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = lower[from..].find("href=") {
        let at = from + i + "href=".len();
        from = at;
        let Some(quote) = html[at..]
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
        else {
            continue;
        };
        let value_start = at + 1;
        let Some(len) = html[value_start..].find(quote) else {
            break;
        };
        out.push((
            value_start,
            html[value_start..value_start + len].replace("&amp;", "&"),
        ));
        from = value_start + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_links_without_a_dom() {
        let deep = format!(
            "{}<a href=\"https://a.example/x?a=1&amp;b=2\">x</a>",
            "<div>".repeat(2000)
        );
        assert!(too_deep(&deep));
        assert!(!too_deep(
            "<html><body><p>one<p>two<ul><li>x</ul></body></html>"
        ));
        assert_eq!(
            hrefs(&deep).into_iter().map(|(_, h)| h).collect::<Vec<_>>(),
            ["https://a.example/x?a=1&b=2"]
        );
        assert_eq!(hrefs("<a HREF='/rel'>a</a> <a href=x>b</a>")[0].1, "/rel");
    }
}
