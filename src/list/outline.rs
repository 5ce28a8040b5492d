//! Lists that are trees of links: a browser's bookmark export (the Netscape bookmark HTML every
//! browser writes; folders become sections) and OPML (nested outlines become sections; an
//! outline's `url` or `htmlUrl` is the page to read).

use quick_xml::events::{BytesStart, Event};
use scraper::{ElementRef, Html, Selector};

use super::{Lines, ParsedList, add_link, add_tagged, collapse_ws, exports, note_saved};

/// A Netscape bookmark file: every `<A HREF>`, in its innermost folder (`<H3>`), with its
/// `TAGS` and the time it was added (`ADD_DATE`; Pocket's `ril_export.html` says
/// `time_added`), as browsers, Pinboard and Pocket write them.
pub fn bookmarks(text: &str) -> ParsedList {
    let dom = Html::parse_document(text);
    let links = Selector::parse("a[href]").expect("valid selector");
    let mut out = ParsedList::default();
    let mut lines = Lines::new(text);
    for a in dom.select(&links) {
        let el = a.value();
        let href = el.attr("href").unwrap_or_default();
        let title = collapse_ws(&a.text().collect::<String>());
        let tags = el.attr("tags").map(exports::tags_of).unwrap_or_default();
        add_tagged(
            &mut out,
            href,
            &title,
            &folder_of(a),
            lines.find(href),
            &tags,
        );
        let at = el
            .attr("add_date")
            .or(el.attr("time_added"))
            .and_then(exports::time_of);
        note_saved(&mut out, href, exports::saved(at, ""));
    }
    out
}

/// The folder a bookmark sits in: the `<H3>` just before the nearest `<DL>` that holds it.
fn folder_of(a: ElementRef) -> String {
    for node in a.ancestors() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if el.value().name() != "dl" {
            continue;
        }
        let heading = el
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .next()
            .filter(|h| h.value().name() == "h3")
            .or_else(|| {
                // Parsers often put the <DL> inside the folder's <DT>, after its <H3>.
                el.parent().and_then(ElementRef::wrap).and_then(|dt| {
                    dt.children()
                        .filter_map(ElementRef::wrap)
                        .find(|c| c.value().name() == "h3")
                })
            });
        if let Some(h) = heading {
            return collapse_ws(&h.text().collect::<String>());
        }
    }
    String::new()
}

/// An OPML file: outlines with a `url` (type link) or `htmlUrl`, in their innermost parent
/// outline's title. Malformed XML is an error with the parser's reason.
pub fn opml(text: &str) -> Result<ParsedList, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut lines = Lines::new(text);
    let mut out = ParsedList::default();
    // Titles of the open outlines, innermost last.
    let mut path: Vec<String> = vec![];
    let mut depth = 0usize;
    let mut seen_opml = false;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                depth += 1;
                seen_opml |= e.local_name().as_ref() == "opml";
                if e.local_name().as_ref() == "outline" {
                    add_outline(&mut out, &e, &path, lines.at(pos));
                    path.push(
                        attr(&e, "title")
                            .or_else(|| attr(&e, "text"))
                            .unwrap_or_default(),
                    );
                }
            }
            Event::Empty(e) => {
                seen_opml |= e.local_name().as_ref() == "opml";
                if e.local_name().as_ref() == "outline" {
                    add_outline(&mut out, &e, &path, lines.at(pos));
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref() == "outline" {
                    path.pop();
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_opml {
        return Err("no <opml> element".into());
    }
    if depth > 0 {
        return Err("it ends before its closing tags (truncated?)".into());
    }
    Ok(out)
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn add_outline(out: &mut ParsedList, e: &BytesStart, path: &[String], line: usize) {
    // A link outline points at the page; a feed outline's page is its htmlUrl.
    let Some(url) = attr(e, "url").or_else(|| attr(e, "htmlUrl")) else {
        return;
    };
    let title = attr(e, "title")
        .or_else(|| attr(e, "text"))
        .unwrap_or_default();
    let section = path.last().cloned().unwrap_or_default();
    add_link(out, &url, &collapse_ws(&title), &section, line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmark_folders_are_sections() {
        let html = r#"<!DOCTYPE NETSCAPE-Bookmark-file-1>
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks</H1>
<DL><p>
    <DT><H3 ADD_DATE="1">Papers</H3>
    <DL><p>
        <DT><A HREF="https://arxiv.org/abs/1706.03762" ADD_DATE="1">Attention Is All You Need</A>
        <DT><H3>Scaling</H3>
        <DL><p>
            <DT><A HREF="https://arxiv.org/abs/2001.08361">Scaling Laws</A>
        </DL><p>
    </DL><p>
    <DT><A HREF="https://example.org/top">Top level</A>
</DL><p>"#;
        let list = bookmarks(html);
        let got = list.triples();
        assert_eq!(
            got,
            [
                (
                    "https://arxiv.org/abs/1706.03762",
                    "Attention Is All You Need",
                    "Papers"
                ),
                (
                    "https://arxiv.org/abs/2001.08361",
                    "Scaling Laws",
                    "Scaling"
                ),
                ("https://example.org/top", "Top level", ""),
            ]
        );
        assert_eq!(list.entries[1].line, 11);
    }

    #[test]
    fn opml_outlines_are_sections() {
        let xml = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Reading</title></head><body>
  <outline text="Blogs">
    <outline text="Simon" type="rss" xmlUrl="https://simonwillison.net/atom/everything/" htmlUrl="https://simonwillison.net/"/>
    <outline text="A post" type="link" url="https://example.org/post?a=1&amp;b=2"/>
  </outline>
  <outline text="Loose" type="link" url="https://loose.example/"/>
</body></opml>"#;
        let list = opml(xml).unwrap();
        let got = list.triples();
        assert_eq!(
            got,
            [
                ("https://simonwillison.net/", "Simon", "Blogs"),
                ("https://example.org/post?a=1&b=2", "A post", "Blogs"),
                ("https://loose.example/", "Loose", ""),
            ]
        );
        let truncated = &xml[..xml.len() / 2];
        assert!(opml(truncated).is_err());
        assert!(opml("<?xml version=\"1.0\"?><rss></rss>").is_err());
    }

    /// Firefox's and Pinboard's bookmark HTML carry `TAGS` and `ADD_DATE`: kept.
    #[test]
    fn bookmark_tags_and_dates_are_kept() {
        let html = "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n<DT><H3>Papers</H3>\n<DL><p>\n<DT><A HREF=\"https://a.org/\" ADD_DATE=\"1690000000\" TAGS=\"rlhf,evals\">A</A>\n</DL><p>\n</DL>\n";
        let parsed = bookmarks(html);
        let e = &parsed.entries[0];
        assert_eq!(e.section, "Papers");
        assert_eq!(e.tags, ["rlhf", "evals"]);
        assert_eq!(
            e.saved.as_ref().and_then(|s| s.at.as_deref()),
            Some("2023-07-22T04:26:40Z")
        );
    }
}
