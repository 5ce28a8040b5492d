//! From extracted parts to one document: an arXiv link is its abstract page plus its PDF, a
//! YouTube link its page plus oEmbed. This decides the title, the kind and the text a link is
//! indexed with, and says plainly when a page gave too little text.

use std::time::Duration;

use crate::extract::{self, ExtractError, Extracted, Format, sites};
use crate::resolve::{Role, Site};

/// One extracted source of a document.
#[derive(Debug, Clone)]
pub struct Part {
    pub role: Role,
    pub format: Format,
    pub extracted: Extracted,
}

/// A document ready to be stored and indexed.
#[derive(Debug, Clone, Default)]
pub struct Assembled {
    pub title: String,
    pub kind: String,
    pub author: Option<String>,
    pub published: Option<String>,
    pub description: Option<String>,
    pub text: String,
    pub thin: bool,
    pub note: Option<String>,
    /// The main text's headings (for a paper, its PDF's sections).
    pub outline: Vec<crate::extract::Heading>,
}

/// Extracts one source with the reader its site calls for.
pub fn extract_part(
    site: Site,
    role: Role,
    body: Vec<u8>,
    content_type: Option<&str>,
    url: &str,
    pdf_timeout: Duration,
) -> Result<Part, ExtractError> {
    let shared = std::sync::Arc::new(body);
    let (format, extracted) = extract::extract_shared(&shared, content_type, url, pdf_timeout)?;
    let body: &[u8] = &shared;
    let extracted = match (site, role, format) {
        (Site::Arxiv, Role::Meta, Format::Html) => sites::arxiv_abs(&extract::text::decode(
            body,
            content_type.and_then(extract::text::charset_param),
            true,
        )),
        (Site::Arxiv, Role::Meta, Format::Feed) => {
            extract::feed::arxiv_entry(&extract::text::decode(
                body,
                content_type.and_then(extract::text::charset_param),
                false,
            ))
            .unwrap_or(extracted)
        }
        (Site::Youtube, Role::Main, Format::Html) => sites::youtube(&extract::text::decode(
            body,
            content_type.and_then(extract::text::charset_param),
            true,
        )),
        _ => extracted,
    };
    Ok(Part {
        role,
        format,
        extracted,
    })
}

/// Combines the parts of a link into one document.
pub fn assemble(
    site: Site,
    link_text: &str,
    url: &str,
    parts: &[Part],
) -> Result<Assembled, String> {
    let main = parts.iter().find(|p| p.role == Role::Main);
    let meta = parts.iter().find(|p| p.role == Role::Meta);
    let Some(main) = main.or(meta) else {
        return Err("nothing could be extracted".into());
    };
    let pick = |f: fn(&Extracted) -> Option<String>| {
        meta.and_then(|m| f(&m.extracted))
            .or_else(|| f(&main.extracted))
    };
    let title = pick(|e| e.title.clone())
        .filter(|t| !t.trim().is_empty())
        .or_else(|| (!link_text.is_empty()).then(|| link_text.to_string()))
        .or_else(|| {
            (main.format == Format::Pdf)
                .then(|| first_heading(&main.extracted.text))
                .flatten()
        })
        .unwrap_or_else(|| url.to_string());

    let mut text = String::new();
    if let Some(m) = meta
        && !std::ptr::eq(m, main)
        && !m.extracted.text.is_empty()
    {
        text.push_str(&m.extracted.text);
    }
    if !main.extracted.text.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&main.extracted.text);
    }

    let kind = match site {
        Site::Arxiv => "paper",
        Site::Youtube => "video",
        Site::GithubRepo => "repo",
        Site::Gist => "gist",
        Site::Tweet | Site::Mastodon => "post",
        _ => match main.format {
            Format::Pdf => "pdf",
            Format::Html => "page",
            Format::Text | Format::Json => "text",
            Format::Feed => "feed",
        },
    }
    .to_string();

    let thin = main.extracted.thin && meta.is_none_or(|m| m.extracted.text.len() < 200);
    if text.trim().is_empty() {
        return Err(match site {
            Site::ScriptOnly => {
                "the page has no text without JavaScript (this site needs a browser)".into()
            }
            _ if main.format == Format::Html => {
                "the page has no readable text without JavaScript, and no description".into()
            }
            _ if main.format == Format::Pdf => {
                "the PDF has no extractable text (scanned images?)".into()
            }
            _ => "the document is empty".into(),
        });
    }
    let note = thin.then(|| match (site, main.format) {
        (Site::Youtube, _) => "only the video's title and description are indexed".to_string(),
        (_, Format::Html) => {
            "little text without JavaScript: indexed the page's description".to_string()
        }
        _ => "very little text".to_string(),
    });

    Ok(Assembled {
        title,
        kind,
        author: pick(|e| e.author.clone()),
        published: pick(|e| e.published.clone()),
        description: pick(|e| e.description.clone()),
        text,
        thin,
        note,
        outline: main.extracted.outline.clone(),
    })
}

/// A PDF's first-page heading, for PDFs whose metadata carries no title (arXiv's often
/// don't): the first of its opening lines that reads like a title — a few words, mostly
/// capitalised, no sentence end. Licence notices and author lines don't.
fn first_heading(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(15)
        .find(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let long: Vec<&&str> = words.iter().filter(|w| w.chars().count() >= 4).collect();
            let capitalised = long
                .iter()
                .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
                .count();
            (2..=20).contains(&words.len())
                && !line.ends_with(['.', ',', ';', ':'])
                && !line.contains('@')
                && line.chars().filter(|c| c.is_alphabetic()).count() * 2 > line.chars().count()
                && !long.is_empty()
                && capitalised * 10 >= long.len() * 6
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(role: Role, format: Format, title: Option<&str>, text: &str) -> Part {
        Part {
            role,
            format,
            extracted: Extracted {
                title: title.map(str::to_string),
                text: text.to_string(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn arxiv_title_from_abstract_and_text_from_both() {
        let parts = [
            part(
                Role::Meta,
                Format::Html,
                Some("Scaling Laws"),
                "We study scaling.",
            ),
            part(Role::Main, Format::Pdf, None, "1 Introduction ..."),
        ];
        let doc = assemble(Site::Arxiv, "link", "u", &parts).unwrap();
        assert_eq!(doc.title, "Scaling Laws");
        assert_eq!(doc.kind, "paper");
        assert!(doc.text.starts_with("We study scaling.\n\n1 Introduction"));
    }

    #[test]
    fn link_text_when_no_title_and_empty_is_an_error() {
        let doc = assemble(
            Site::Generic,
            "GPT-2 paper",
            "u",
            &[part(Role::Main, Format::Pdf, None, "text")],
        )
        .unwrap();
        assert_eq!(doc.title, "GPT-2 paper");
        assert_eq!(doc.kind, "pdf");
        let err = assemble(
            Site::ScriptOnly,
            "t",
            "u",
            &[part(Role::Main, Format::Html, None, "")],
        )
        .unwrap_err();
        assert!(err.contains("JavaScript"));
    }
}
