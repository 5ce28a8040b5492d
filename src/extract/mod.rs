//! Extraction: the bytes of one fetched resource, plus its Content-Type, become a title, plain
//! text and metadata. The content type is sniffed from the bytes when the header is missing or
//! wrong: a `%PDF-` body is a PDF whatever the server says.

pub mod feed;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod sites;
pub mod text;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Bumped when extraction changes what it makes of the same bytes: `update` then re-extracts
/// stored copies from their raw bytes, without downloading them again.
/// 2: PDFs as paragraphs with headings; outlines. 3: Markdown rendered; HTML datelines and
/// related-stories tails trimmed.
pub const VERSION: u32 = 3;

/// What kind of content a resource turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Html,
    Pdf,
    Text,
    Json,
    /// RSS or Atom.
    Feed,
}

/// A section heading, in reading order: a document's outline is a list of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    /// 1 for a section, 2 for a subsection, and so on.
    pub level: u8,
    pub title: String,
    /// The section's number as printed (`3.2`, `A`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Heading {
    /// How the heading stands in the text and in a table of contents: `3.2 Attention`.
    pub fn line(&self) -> String {
        match &self.number {
            Some(n) => format!("{n} {}", self.title),
            None => self.title.clone(),
        }
    }
}

/// What the indexer sees of one resource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Extracted {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub description: Option<String>,
    pub text: String,
    /// Too little text to be the real content (pages that need JavaScript).
    pub thin: bool,
    /// The headings of the text, in order.
    pub outline: Vec<Heading>,
}

#[derive(Debug, Error)]
pub enum ExtractError {
    #[error("unsupported content type {0}: not indexed")]
    Unsupported(String),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error("{0}")]
    Invalid(String),
}

/// Decides what a body is: sniffed bytes first for the formats servers mislabel, then the header.
pub fn sniff(body: &[u8], content_type: Option<&str>, url: &str) -> Result<Format, ExtractError> {
    let head = &body[..body.len().min(1024)];
    let lead: Vec<u8> = head
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == 0xef || **b == 0xbb || **b == 0xbf)
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(Format::Pdf);
    }
    let mime = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let looks_html = lead.starts_with(b"<!doctype html")
        || lead.starts_with(b"<html")
        || lead.starts_with(b"<head");
    let feed = feed::looks_like_feed(&String::from_utf8_lossy(&head[..head.len().min(512)]));
    match mime.as_str() {
        "application/atom+xml" | "application/rss+xml" => Ok(Format::Feed),
        "application/xml" | "text/xml" | "" if feed => Ok(Format::Feed),
        "text/html" | "application/xhtml+xml" => Ok(Format::Html),
        "application/pdf" | "application/x-pdf" => Ok(Format::Pdf),
        m if m.ends_with("json") => Ok(Format::Json),
        "text/plain" | "text/markdown" | "text/x-markdown" | "text/x-rst" | "text/csv" | ""
            if looks_html =>
        {
            Ok(Format::Html)
        }
        "text/plain" | "text/markdown" | "text/x-markdown" | "text/x-rst" | "text/csv" => {
            Ok(Format::Text)
        }
        "application/octet-stream" | "binary/octet-stream" | "" => {
            if looks_html {
                Ok(Format::Html)
            } else if is_texty_path(url) && std::str::from_utf8(head).is_ok() {
                Ok(Format::Text)
            } else {
                Err(ExtractError::Unsupported(if mime.is_empty() {
                    "(none)".into()
                } else {
                    mime
                }))
            }
        }
        m if m.starts_with("text/") => Ok(Format::Text),
        _ => Err(ExtractError::Unsupported(mime)),
    }
}

fn is_texty_path(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".md", ".txt", ".markdown", ".rst", ".text"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// Extracts one resource. PDF extraction is contained and bounded by `pdf_timeout`.
pub fn extract(
    body: &[u8],
    content_type: Option<&str>,
    url: &str,
    pdf_timeout: Duration,
) -> Result<(Format, Extracted), ExtractError> {
    extract_shared(
        &std::sync::Arc::new(body.to_vec()),
        content_type,
        url,
        pdf_timeout,
    )
}

/// [`extract`] of a body shared with the caller: a PDF goes to its worker thread without a
/// copy.
pub fn extract_shared(
    shared: &std::sync::Arc<Vec<u8>>,
    content_type: Option<&str>,
    url: &str,
    pdf_timeout: Duration,
) -> Result<(Format, Extracted), ExtractError> {
    let body: &[u8] = shared;
    let format = sniff(body, content_type, url)?;
    let charset = content_type.and_then(text::charset_param);
    let extracted = match format {
        Format::Pdf => {
            let doc = pdf::extract(shared.clone(), pdf_timeout)?;
            let thin = doc.text.trim().is_empty();
            Extracted {
                title: doc.title,
                author: doc.author,
                text: doc.text,
                thin,
                outline: doc.outline,
                ..Default::default()
            }
        }
        Format::Html => {
            let decoded = text::decode(body, charset, true);
            let doc = html::extract(&decoded);
            Extracted {
                title: doc.title,
                author: doc.author,
                published: doc.published,
                description: doc.description,
                text: doc.text,
                thin: doc.thin,
                outline: doc.outline,
            }
        }
        Format::Text => {
            let decoded = text::decode(body, charset, false);
            let thin = decoded.trim().chars().count() < html::THIN_CHARS;
            let (body, outline) = if markdown::looks_like_markdown(&decoded, content_type, url) {
                markdown::render(&decoded)
            } else {
                (decoded.clone(), vec![])
            };
            Extracted {
                title: sites::markdown_title(&decoded),
                thin,
                text: text::tidy(&body),
                outline,
                ..Default::default()
            }
        }
        Format::Feed => {
            let decoded = text::decode(body, charset, false);
            feed::extract(&decoded).map_err(|e| {
                ExtractError::Unsupported(format!("a feed that is not well-formed XML ({e})"))
            })?
        }
        Format::Json => {
            let decoded = text::decode(body, charset, false);
            sites::from_json(&decoded).ok_or_else(|| {
                ExtractError::Unsupported("application/json that does not parse as JSON".into())
            })?
        }
    };
    Ok((format, extracted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_trusts_bytes_over_headers() {
        assert_eq!(
            sniff(b"%PDF-1.7\n...", Some("text/html"), "x").unwrap(),
            Format::Pdf
        );
        assert_eq!(
            sniff(b"<!DOCTYPE html><p>x", None, "x").unwrap(),
            Format::Html
        );
        assert_eq!(
            sniff(b"<html>", Some("text/plain"), "x").unwrap(),
            Format::Html
        );
        assert_eq!(
            sniff(b"# Title", Some("text/plain; charset=utf-8"), "x").unwrap(),
            Format::Text
        );
        assert_eq!(
            sniff(
                b"# T",
                Some("application/octet-stream"),
                "https://h/README.md"
            )
            .unwrap(),
            Format::Text
        );
        assert!(matches!(
            sniff(b"\x89PNG....", Some("image/png"), "x"),
            Err(ExtractError::Unsupported(_))
        ));
        assert!(matches!(
            sniff(b"PK\x03\x04", Some("application/zip"), "x"),
            Err(ExtractError::Unsupported(_))
        ));
    }

    #[test]
    fn markdown_is_kept_as_text_with_its_heading_as_title() {
        let (f, e) = extract(
            b"# LLM numbers\n\nSome text about tokens.\n",
            Some("text/plain"),
            "u",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(f, Format::Text);
        assert_eq!(e.title.as_deref(), Some("LLM numbers"));
        assert!(e.text.contains("tokens"));
    }
}
