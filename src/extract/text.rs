//! Text clean-up shared by the extractors: charset decoding, Unicode normalisation and the
//! repair of words broken at line ends.

use encoding_rs::Encoding;
use unicode_normalization::UnicodeNormalization;

/// Decodes a document's bytes. The HTTP charset wins, then a BOM, then `<meta charset>` (HTML
/// only), then UTF-8; bytes that are not valid UTF-8 with no declaration are read as
/// windows-1252, as browsers do.
pub fn decode(bytes: &[u8], http_charset: Option<&str>, is_html: bool) -> String {
    let declared = http_charset.and_then(|c| Encoding::for_label(c.trim().as_bytes()));
    if let Some(enc) = declared {
        // A BOM still beats a header claiming something else (WHATWG encoding sniffing).
        if let Some((bom_enc, len)) = Encoding::for_bom(bytes) {
            return bom_enc
                .decode_without_bom_handling(&bytes[len..])
                .0
                .into_owned();
        }
        return enc.decode_without_bom_handling(bytes).0.into_owned();
    }
    if let Some((enc, len)) = Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[len..])
            .0
            .into_owned();
    }
    if is_html && let Some(enc) = meta_charset(bytes) {
        return enc.decode_without_bom_handling(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The charset parameter of a Content-Type header.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// `<meta charset=…>` or `<meta http-equiv=Content-Type content="…; charset=…">` in the first
/// 4 KiB (browsers look at 1 KiB; some pages put a long comment first).
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(i) = rest.find("<meta") {
        rest = &rest[i + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(j) = tag.find("charset=") {
            let v = tag[j + 8..].trim_start_matches(['"', '\'']);
            let end = v
                .find(|c: char| c == '"' || c == '\'' || c == ';' || c.is_whitespace() || c == '/')
                .unwrap_or(v.len());
            if let Some(enc) = Encoding::for_label(&v.as_bytes()[..end]) {
                // A page that says UTF-16 in ASCII is not UTF-16 (WHATWG).
                return Some(
                    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        encoding_rs::UTF_8
                    } else {
                        enc
                    },
                );
            }
        }
    }
    None
}

/// NFKC (ligatures ﬁ ﬂ become fi fl) and words rejoined where a line ended in a hyphen.
pub fn normalize_pdf_text(raw: &str) -> String {
    let nfkc: String = raw.nfkc().collect();
    dehyphenate(&nfkc)
}

/// Joins `exam-\nple` into `example` when the hyphen ends a line and a lowercase letter starts
/// the next: hyphenation, not a compound like `GPT-\n3`.
pub fn dehyphenate(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut lines = s.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_end();
        let next_starts_lower = lines
            .peek()
            .and_then(|n| n.trim_start().chars().next())
            .is_some_and(|c| c.is_lowercase());
        let before_hyphen_is_letter = trimmed
            .strip_suffix('-')
            .and_then(|t| t.chars().last())
            .is_some_and(|c| c.is_alphabetic());
        if before_hyphen_is_letter && next_starts_lower {
            out.push_str(&trimmed[..trimmed.len() - 1]);
            // Glue the next line's first word to this one.
            if let Some(next) = lines.next() {
                let next = next.trim_start();
                let (word, rest) =
                    next.split_at(next.find(char::is_whitespace).unwrap_or(next.len()));
                out.push_str(word);
                out.push_str(rest);
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Collapses runs of blank lines and trailing spaces; the text as stored and indexed.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_order_http_bom_meta() {
        let latin1 = b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>";
        assert!(decode(latin1, None, true).contains("café"));
        assert!(decode(b"caf\xc3\xa9", Some("utf-8"), true).contains("café"));
        let bom = b"\xef\xbb\xbfcaf\xc3\xa9";
        assert_eq!(decode(bom, Some("iso-8859-1"), false), "café");
        let sjis = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">\x93\xfa\x96\x7b";
        assert!(decode(sjis, None, true).ends_with("日本"));
        assert_eq!(decode(b"caf\xe9", None, false), "café");
        assert_eq!(charset_param("text/html; Charset=\"UTF-8\""), Some("UTF-8"));
    }

    #[test]
    fn pdf_text_is_repaired() {
        let s = normalize_pdf_text("the ﬁrst ﬂow of infor-\nmation about GPT-\n3 models\n");
        assert_eq!(s, "the first flow of information about GPT-\n3 models\n");
    }

    #[test]
    fn tidy_collapses_blank_runs() {
        assert_eq!(tidy("a  \n\n\n\nb\nc\n\n"), "a\n\nb\nc");
    }
}
