//! RSS and Atom feeds: the feed's title, and each item's title and summary as a paragraph.
//! The arXiv export API answers in Atom too; [`arxiv_entry`] reads one of its papers.

use quick_xml::XmlVersion;
use quick_xml::events::Event;

use super::Extracted;

/// One item of a feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// The entry's `<id>` (Atom) or `<guid>` (RSS).
    pub id: String,
    pub title: String,
    pub summary: String,
    pub authors: Vec<String>,
    pub published: Option<String>,
    /// The entry's XML as it stands in the feed, for storing one entry on its own.
    pub raw: String,
}

/// A parsed feed.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    pub title: Option<String>,
    pub items: Vec<Item>,
}

/// Whether the bytes start like a feed (`<rss`, `<feed`, or an XML declaration before one).
pub fn looks_like_feed(lead: &str) -> bool {
    let lead = lead.trim_start_matches('\u{feff}').trim_start();
    let after_decl = match lead.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim_start(),
        None => lead,
    };
    let after_decl = after_decl
        .trim_start_matches(|c: char| c != '<')
        .trim_start();
    after_decl.starts_with("<rss")
        || after_decl.starts_with("<feed")
        || after_decl.starts_with("<rdf:RDF")
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a feed; `Err` with the XML reader's reason when it is not well formed.
pub fn parse(xml: &str) -> Result<Feed, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut feed = Feed::default();
    let mut path: Vec<String> = vec![];
    let mut item: Option<(Item, usize)> = None;
    let mut text = String::new();
    loop {
        let pos = reader.buffer_position() as usize;
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == "entry" || name == "item" {
                    item = Some((Item::default(), pos));
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => {
                // Entities inside text: the predefined ones and character references.
                let name: &str = r.as_ref();
                let c = match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    n => n
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32),
                };
                text.extend(c);
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_string();
                let value = collapse(&text);
                let parent = path.len().checked_sub(2).map(|i| path[i].as_str());
                match (&mut item, name.as_str()) {
                    (Some((it, start)), "entry" | "item") => {
                        let end = reader.buffer_position() as usize;
                        it.raw = xml[*start..end.min(xml.len())].to_string();
                        feed.items.push(std::mem::take(it));
                        item = None;
                    }
                    (Some((it, _)), "title")
                        if parent.is_some_and(|p| p == "entry" || p == "item") =>
                    {
                        it.title = value
                    }
                    (Some((it, _)), "summary" | "description" | "content" | "encoded")
                        if it.summary.is_empty() =>
                    {
                        it.summary = value
                    }
                    (Some((it, _)), "name") if parent == Some("author") => it.authors.push(value),
                    (Some((it, _)), "creator") => it.authors.push(value),
                    (Some((it, _)), "id" | "guid")
                        if parent.is_some_and(|p| p == "entry" || p == "item") =>
                    {
                        it.id = value
                    }
                    (Some((it, _)), "published" | "pubDate" | "date") if it.published.is_none() => {
                        it.published = Some(value)
                    }
                    (None, "title") if feed.title.is_none() && !value.is_empty() => {
                        feed.title = Some(value)
                    }
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err("the feed ends before its closing tags (truncated?)".into());
    }
    Ok(feed)
}

/// A feed as a document: its title; each item's title and summary as paragraphs.
pub fn extract(xml: &str) -> Result<Extracted, String> {
    let feed = parse(xml)?;
    let mut text = String::new();
    for it in &feed.items {
        for part in [&it.title, &it.summary] {
            if !part.is_empty() {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(part);
            }
        }
    }
    Ok(Extracted {
        title: feed.title.clone(),
        thin: text.trim().is_empty(),
        text,
        ..Default::default()
    })
}

/// One paper from an arXiv export API answer (a feed of one entry): title, authors, date and
/// abstract, as the abstract page would give them.
pub fn arxiv_entry(xml: &str) -> Option<Extracted> {
    let feed = parse(xml).ok()?;
    let it = feed.items.into_iter().next()?;
    Some(Extracted {
        title: Some(it.title).filter(|t| !t.is_empty()),
        author: (!it.authors.is_empty()).then(|| it.authors.join(", ")),
        published: it.published,
        description: Some(it.summary.clone()).filter(|s| !s.is_empty()),
        thin: it.summary.is_empty(),
        text: it.summary,
        outline: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>ArXiv Query</title>
<entry><id>http://arxiv.org/abs/2001.08361v1</id><published>2020-01-23T00:00:00Z</published>
<title>Scaling Laws for Neural
  Language Models</title><summary>We study empirical scaling laws &amp; more.</summary>
<author><name>Jared Kaplan</name></author><author><name>Sam McCandlish</name></author></entry>
<entry><id>http://arxiv.org/abs/2203.15556v1</id><title>Training Compute-Optimal Large Language Models</title>
<summary>Chinchilla.</summary><author><name>Jordan Hoffmann</name></author></entry></feed>"#;

    #[test]
    fn atom_entries_and_their_fields() {
        assert!(looks_like_feed(ATOM));
        assert!(looks_like_feed("<rss version=\"2.0\">"));
        assert!(!looks_like_feed("<!doctype html><html>"));
        let feed = parse(ATOM).unwrap();
        assert_eq!(feed.title.as_deref(), Some("ArXiv Query"));
        assert_eq!(feed.items.len(), 2);
        let a = &feed.items[0];
        assert_eq!(a.id, "http://arxiv.org/abs/2001.08361v1");
        assert_eq!(a.title, "Scaling Laws for Neural Language Models");
        assert_eq!(a.summary, "We study empirical scaling laws & more.");
        assert_eq!(a.authors, ["Jared Kaplan", "Sam McCandlish"]);
        assert!(a.raw.starts_with("<entry>") && a.raw.ends_with("</entry>"));
        let one = arxiv_entry(&format!("<feed>{}</feed>", a.raw)).unwrap();
        assert_eq!(one.author.as_deref(), Some("Jared Kaplan, Sam McCandlish"));
        assert!(parse(&ATOM[..ATOM.len() / 2]).is_err());
    }

    #[test]
    fn rss_items_become_paragraphs() {
        let rss = "<rss version=\"2.0\"><channel><title>Notes</title><item><title>First</title><description><![CDATA[<p>About tokens</p>]]></description></item><item><title>Second</title><description>On attention</description></item></channel></rss>";
        let doc = extract(rss).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Notes"));
        assert_eq!(
            doc.text,
            "First\n\n<p>About tokens</p>\n\nSecond\n\nOn attention"
        );
    }
}
