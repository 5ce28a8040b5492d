//! `/changes` and `/changes.atom`: the library's log of changes as a page and as an Atom feed
//! (RFC 4287) a feed reader can follow. Entry ids come from the log (document, kind, the
//! update's time), so they are the same on every request and after a restart.

use maud::{Markup, html};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event as Xml};

use crate::changes::{Event, Kind, Update};
use crate::commands::changes::{describe, headline, short_time};

/// Entries in the feed: a reader that polls daily sees everything of a busy week.
pub const FEED_ENTRIES: usize = 200;
/// Updates on the page.
pub const PAGE_UPDATES: usize = 50;

/// Where an event's link points, relative to the server: the diff of a change, the reading
/// view of a new or recovered page, the page itself when there is no good copy to show.
pub fn target(e: &Event) -> String {
    match (e.kind, e.from_version, e.version) {
        (Kind::Changed, Some(f), Some(t)) => format!("/doc/{}/diff?from={f}&to={t}", e.id),
        (Kind::Changed, ..) => format!("/doc/{}/diff", e.id),
        (Kind::New | Kind::Recovered | Kind::Failing, ..) => format!("/doc/{}", e.id),
        (Kind::Removed, ..) => e.url.clone(),
    }
}

fn title(e: &Event) -> String {
    let what = match e.kind {
        Kind::New => "New",
        Kind::Changed => "Changed",
        Kind::Failing => "Failing",
        Kind::Recovered => "Recovered",
        Kind::Removed => "No longer listed",
    };
    format!("{what}: {}", crate::output::clean(e.name()))
}

fn summary(e: &Event) -> String {
    let mut s = describe(e);
    if let Some(p) = &e.summary {
        s += &format!("\nAdded: {}", crate::output::clean(p));
    }
    s
}

/// The feed's id: the same for one library across restarts.
fn feed_id(library: &str) -> String {
    let digest = crate::store::sha256_hex(library.as_bytes());
    format!("urn:rl-search:library:{}", &digest[..16])
}

/// Events newest first, each with its update's time.
fn newest_first(updates: &[Update]) -> impl Iterator<Item = (&str, &Event)> {
    updates
        .iter()
        .rev()
        .flat_map(|u| u.events.iter().map(move |e| (u.at.as_str(), e)))
}

/// The Atom document. `origin` is `http://host:port` as the request named it; `library` is
/// the library folder (the feed's identity).
pub fn atom(updates: &[Update], origin: &str, library: &str) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let text = |w: &mut Writer<Vec<u8>>, name: &str, value: &str| {
        let _ = w.write_event(Xml::Start(BytesStart::new(name)));
        let _ = w.write_event(Xml::Text(BytesText::new(&xml_safe(value))));
        let _ = w.write_event(Xml::End(BytesEnd::new(name)));
    };
    let link = |w: &mut Writer<Vec<u8>>, rel: &str, href: &str, kind: Option<&str>| {
        let mut l = BytesStart::new("link");
        l.push_attribute(("rel", rel));
        l.push_attribute(("href", href));
        if let Some(k) = kind {
            l.push_attribute(("type", k));
        }
        let _ = w.write_event(Xml::Empty(l));
    };
    let _ = w.write_event(Xml::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    let mut feed = BytesStart::new("feed");
    feed.push_attribute(("xmlns", "http://www.w3.org/2005/Atom"));
    let _ = w.write_event(Xml::Start(feed));
    text(&mut w, "id", &feed_id(library));
    text(&mut w, "title", "rl-search: what changed in the library");
    // A feed with no update yet still needs a time: the epoch says "never".
    let updated = updates
        .last()
        .map_or("1970-01-01T00:00:00Z", |u| u.at.as_str());
    text(&mut w, "updated", updated);
    let _ = w.write_event(Xml::Start(BytesStart::new("author")));
    text(&mut w, "name", "rl-search");
    let _ = w.write_event(Xml::End(BytesEnd::new("author")));
    link(
        &mut w,
        "self",
        &format!("{origin}/changes.atom"),
        Some("application/atom+xml"),
    );
    link(
        &mut w,
        "alternate",
        &format!("{origin}/changes"),
        Some("text/html"),
    );
    text(&mut w, "generator", "rl-search");
    for (at, e) in newest_first(updates).take(FEED_ENTRIES) {
        let _ = w.write_event(Xml::Start(BytesStart::new("entry")));
        text(
            &mut w,
            "id",
            &format!("urn:rl-search:change:{}:{}:{at}", e.id, e.kind.as_str()),
        );
        text(&mut w, "title", &title(e));
        text(&mut w, "updated", at);
        let href = target(e);
        let href = if href.starts_with('/') {
            format!("{origin}{href}")
        } else {
            href
        };
        link(&mut w, "alternate", &href, None);
        text(&mut w, "summary", &summary(e));
        let mut cat = BytesStart::new("category");
        cat.push_attribute(("term", e.kind.as_str()));
        let _ = w.write_event(Xml::Empty(cat));
        let _ = w.write_event(Xml::End(BytesEnd::new("entry")));
    }
    let _ = w.write_event(Xml::End(BytesEnd::new("feed")));
    w.into_inner()
}

/// XML 1.0 cannot carry most control characters, even escaped: they are dropped.
fn xml_safe(s: &str) -> String {
    s.chars()
        .filter(|&c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// The `/changes` page: the last updates, newest first, each change linked.
pub fn page(updates: &[Update]) -> Markup {
    let shown: Vec<&Update> = updates.iter().rev().take(PAGE_UPDATES).collect();
    let body = html! {
        h1 { "What changed" }
        p.muted {
            "Each update's new, changed, failing, recovered and removed pages. "
            a href="/changes.atom" { "Atom feed" } " for a feed reader."
        }
        @if shown.is_empty() {
            p { "No update has been logged yet: refresh the library from the " a href="/status" { "status page" } "." }
        }
        @for u in &shown {
            section.update {
                h2 { (short_time(&u.at)) }
                p.muted { (headline(u)) }
                @if !u.events.is_empty() {
                    ul.changes {
                        @for e in sorted(&u.events) {
                            li class=(format!("change-{}", e.kind.as_str())) {
                                span.kind { (e.kind.as_str()) } " "
                                a href=(target(e)) { (title(e)) }
                                div.meta { (describe(e)) }
                                @if let Some(p) = &e.summary { div.added { "+ " (p) } }
                            }
                        }
                    }
                }
            }
        }
    };
    super::pages::layout("What changed", "", false, body)
}

fn sorted(events: &[Event]) -> Vec<&Event> {
    let mut v: Vec<&Event> = events.iter().collect();
    v.sort_by_key(|e| e.kind);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_with_markup_and_controls_are_text() {
        let mut e = Event::new(
            Kind::New,
            "abcd1234",
            "https://e.org/?a=1&b=2",
            "<b>Bold</b> & \u{7}bell",
        );
        e.version = Some(1);
        let u = Update {
            at: "2026-12-02T06:00:00Z".into(),
            links: 1,
            unchanged: 0,
            failing: 0,
            requests: 1,
            events: vec![e],
        };
        let xml = String::from_utf8(atom(&[u], "http://127.0.0.1:8717", "/lib")).unwrap();
        assert!(xml.contains("&lt;b&gt;Bold&lt;/b&gt; &amp; bell"), "{xml}");
        assert!(!xml.contains('\u{7}'));
    }
}
