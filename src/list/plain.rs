//! Plain text lists: one URL per line; `#` comments and blank lines are ignored.

use super::{ParsedList, add_link};

fn is_url_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !line.contains(char::is_whitespace)
}

/// Whether every line is a URL, a `#` comment or blank, and at least one is a URL (Markdown
/// would read the comments as headings).
pub fn looks_plain(text: &str) -> bool {
    let mut urls = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !is_url_line(line) {
            return false;
        }
        urls += 1;
    }
    urls > 0
}

pub fn parse(text: &str) -> ParsedList {
    let mut out = ParsedList::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if is_url_line(line) {
            add_link(&mut out, line, "", "", i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_per_line() {
        let text = "# papers\nhttps://a.example/1\n\n  http://b.example/2  \n# https://commented.example/\n";
        assert!(looks_plain(text));
        let list = parse(text);
        let urls: Vec<_> = list.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ["https://a.example/1", "http://b.example/2"]);
        assert_eq!(list.entries[1].line, 4);
        assert!(!looks_plain("https://a.example/ and some words\n"));
        assert!(!looks_plain("# only a comment\n"));
    }
}
