//! The reader's pages, rendered on the server with maud: every value from a document goes
//! through maud's escaping, so a title like `<img onerror=…>` is shown, never run.

use std::ops::Range;

use maud::{DOCTYPE, Markup, html};

use crate::search::Hit;
use crate::store::{DocRecord, State, Version};

/// The frame of every page: a header with the search box, the page, the script.
pub fn layout(title: &str, q: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · rl-search" }
                link rel="stylesheet" href="/static/app.css";
                link rel="alternate" type="application/atom+xml" href="/changes.atom"
                    title="What changed in the library";
                script src="/static/app.js" defer {}
                @if refresh {
                    noscript { meta http-equiv="refresh" content="2"; }
                }
            }
            body {
                header.top {
                    a.brand href="/" { "rl-search" }
                    form action="/search" method="get" role="search" {
                        input type="search" name="q" value=(q) placeholder="Search the library  ( / )"
                            aria-label="Search";
                        button type="submit" { "Search" }
                    }
                    a href="/changes" { "Changes" }
                    a href="/status" { "Status" }
                }
                main { (body) }
            }
        }
    }
}

/// A search for everything with tag `t`.
fn tag_link(t: &str) -> String {
    let q: String =
        url::form_urlencoded::byte_serialize(format!("tag:\"{t}\"").as_bytes()).collect();
    format!("/search?q={q}")
}

/// `/`: a search box and what the library holds.
pub fn home(docs: u64, updated: Option<&str>) -> Markup {
    let body = html! {
        div.home {
            h1 { "Your reading list, offline" }
            form action="/search" method="get" role="search" {
                input type="search" name="q" placeholder="Search papers, posts and talks" autofocus
                    aria-label="Search";
                button.primary type="submit" { "Search" }
            }
            p.muted {
                (docs) " documents"
                @if let Some(u) = updated { " · last updated " (u) }
                " · " a href="/status" { "status and refresh" }
            }
            p.muted { "Keys: / search · j k move through hits · Enter open · n N next and previous match" }
        }
    };
    layout("Library", "", false, body)
}

/// Filters of a search, as they came in the URL.
#[derive(Debug, Default, Clone)]
pub struct SearchParams {
    pub q: String,
    pub kind: Option<String>,
    pub section: Option<String>,
    pub host: Option<String>,
}

impl SearchParams {
    /// The query string of this search with another page.
    pub fn with_page(&self, page: usize) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("q", &self.q);
        for (k, v) in [
            ("kind", &self.kind),
            ("section", &self.section),
            ("host", &self.host),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                pairs.append_pair(k, v);
            }
        }
        if page > 1 {
            pairs.append_pair("page", &page.to_string());
        }
        pairs.finish()
    }
}

/// Text with the given byte ranges wrapped in `<mark>`, everything escaped. With a counter,
/// each mark gets the next id (`m0`, `m1`, …) for jumping between matches.
pub fn marked(text: &str, ranges: &[Range<usize>], mut counter: Option<&mut usize>) -> Markup {
    let mut pieces: Vec<Markup> = vec![];
    let mut at = 0;
    for r in ranges {
        let valid = r.start >= at
            && r.start < r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end);
        if !valid {
            continue;
        }
        pieces.push(html! { (&text[at..r.start]) });
        let word = &text[r.clone()];
        pieces.push(match counter.as_deref_mut() {
            Some(c) => {
                let id = format!("m{c}");
                *c += 1;
                html! { mark id=(id) { (word) } }
            }
            None => html! { mark { (word) } },
        });
        at = r.end;
    }
    pieces.push(html! { (&text[at..]) });
    html! { @for p in pieces { (p) } }
}

/// `/search`: the hits of one page, with filters and paging.
pub fn results(
    p: &SearchParams,
    hits: &[Hit],
    page: usize,
    more: bool,
    notes: &[String],
    kinds: &[String],
) -> Markup {
    let doc_link = |id: &str| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &p.q);
        format!("/doc/{id}?{}", s.finish())
    };
    let body = html! {
        form.filters action="/search" method="get" {
            input type="hidden" name="q" value=(p.q);
            label { "Kind "
                select name="kind" {
                    option value="" { "any" }
                    @for k in kinds {
                        option value=(k) selected[p.kind.as_deref() == Some(k.as_str())] { (k) }
                    }
                }
            }
            @if let Some(s) = p.section.as_deref().filter(|s| !s.is_empty()) {
                input type="hidden" name="section" value=(s);
                span { "section: " (s) }
            }
            @if let Some(h) = p.host.as_deref().filter(|h| !h.is_empty()) {
                input type="hidden" name="host" value=(h);
                span { "host: " (h) }
            }
            button type="submit" { "Filter" }
        }
        @for n in notes { p.muted { "Note: " (n) } }
        @if hits.is_empty() {
            p { "No documents match " strong { (p.q) } "." }
        } @else {
            ol.hits start=(hits[0].rank) {
                @for h in hits {
                    li {
                        h2 { a href=(doc_link(&h.id)) { (h.title) } }
                        div.meta {
                            (h.kind) " · " (h.host)
                            @if !h.section.is_empty() { " · " (h.section) }
                            @for t in &h.tags { " " a.tag href=(tag_link(t)) { "#" (t) } }
                            " · " a href=(h.url) rel="noreferrer" { "source" }
                        }
                        p.snippet { (marked(&h.snippet, &h.highlights, None)) }
                    }
                }
            }
        }
        div.pager {
            @if page > 1 { a rel="prev" href=(format!("/search?{}", p.with_page(page - 1))) { "← Previous" } } @else { span {} }
            @if more { a rel="next" href=(format!("/search?{}", p.with_page(page + 1))) { "Next →" } }
        }
    };
    layout(&p.q, &p.q, false, body)
}

/// `/doc/ID`: the reading view.
pub fn document(
    rec: &DocRecord,
    text: &str,
    q: &str,
    similar: &[Hit],
    versions: &[Version],
    shown: u32,
    current: u32,
) -> Markup {
    // Headings are found in order among the blocks, so a heading's text elsewhere in a
    // paragraph is not mistaken for it.
    let blocks: Vec<&str> = text.split("\n\n").collect();
    let mut next_heading = 0;
    let mut mark_id = 0usize;
    let query_ranges = |b: &str| {
        if q.trim().is_empty() {
            vec![]
        } else {
            crate::search::match_ranges(b, q)
        }
    };
    let mut rendered: Vec<Markup> = vec![];
    let mut list: Vec<Markup> = vec![];
    let flush_list = |list: &mut Vec<Markup>, rendered: &mut Vec<Markup>| {
        if !list.is_empty() {
            let items = std::mem::take(list);
            rendered.push(html! { ul { @for i in items { li { (i) } } } });
        }
    };
    for b in blocks {
        let b = b.trim_matches('\n');
        if b.trim().is_empty() {
            continue;
        }
        if let Some(h) = rec.outline.get(next_heading)
            && b.trim() == h.line()
        {
            flush_list(&mut list, &mut rendered);
            let id = format!("s{next_heading}");
            next_heading += 1;
            let ranges = query_ranges(b);
            let inner = marked(b, &ranges, Some(&mut mark_id));
            rendered.push(match h.level {
                1 => html! { h2 id=(id) { (inner) } },
                2 => html! { h3 id=(id) { (inner) } },
                3 => html! { h4 id=(id) { (inner) } },
                4 => html! { h5 id=(id) { (inner) } },
                _ => html! { h6 id=(id) { (inner) } },
            });
            continue;
        }
        let ranges = query_ranges(b);
        if let Some(item) = b.strip_prefix("- ").filter(|_| !b.contains('\n')) {
            let offset = 2;
            let shifted: Vec<Range<usize>> = ranges
                .iter()
                .filter(|r| r.start >= offset)
                .map(|r| r.start - offset..r.end - offset)
                .collect();
            list.push(marked(item, &shifted, Some(&mut mark_id)));
            continue;
        }
        flush_list(&mut list, &mut rendered);
        let inner = marked(b, &ranges, Some(&mut mark_id));
        rendered.push(if b.contains('\n') {
            html! { pre { (inner) } }
        } else {
            html! { p { (inner) } }
        });
    }
    flush_list(&mut list, &mut rendered);
    let marks = mark_id;
    let source_host = crate::resolve::host_of(&rec.url);
    let body = html! {
        article {
            @if marks > 0 {
                div.marks {
                    a #mark-prev href="#m0" title="Previous match (N)" { "↑" } " "
                    span #mark-pos { (marks) " matches" } " "
                    a #mark-next href="#m0" title="Next match (n)" { "↓" }
                }
            }
            @if shown != current {
                p.banner {
                    "Version " (shown) " of " (current) ", fetched "
                    (rec.fetched_at.as_deref().unwrap_or("(unknown)")) " · "
                    a href=(format!("/doc/{}", rec.id)) { "the current version" } " · "
                    a href=(format!("/doc/{}/diff?from={shown}&to={current}", rec.id)) { "what changed since" }
                }
            }
            h1 { (rec.title) }
            div.meta {
                (rec.kind)
                @if let Some(a) = &rec.author { " · " (a) }
                @if !rec.section.is_empty() { " · " (rec.section) }
                @for t in &rec.tags { " " a.tag href=(tag_link(t)) { "#" (t) } }
                @if let Some(s) = &rec.saved { " · " (crate::output::saved_line(s)) }
                @if let Some(f) = &rec.fetched_at { " · fetched " (f) }
            }
            div.meta {
                a href=(rec.url) rel="noreferrer" { (source_host) } " · "
                a href=(if shown == current { format!("/doc/{}/raw", rec.id) } else { format!("/doc/{}/raw?version={shown}", rec.id) }) { "stored original" }
                @if let Some(n) = &rec.note { " · " (n) }
            }
            @if versions.len() > 1 {
                details.toc.versions {
                    summary { strong { "Versions" } " (" (versions.len()) ")" }
                    ol {
                        @for (i, v) in versions.iter().enumerate().rev() {
                            li {
                                @if v.version == shown { strong { "version " (v.version) } }
                                @else { a href=(format!("/doc/{}?version={}", rec.id, v.version)) { "version " (v.version) } }
                                " · " (v.fetched_at.as_deref().unwrap_or("?")) " · " (v.words) " words"
                                @if v.version == current { " · current" }
                                @if i > 0 {
                                    " · " a href=(format!("/doc/{}/diff?from={}&to={}", rec.id, versions[i - 1].version, v.version)) { "changes" }
                                }
                            }
                        }
                    }
                }
            }
            @if !rec.outline.is_empty() {
                details.toc open[rec.outline.len() <= 40] {
                    summary { strong { "Contents" } " (" (rec.outline.len()) ")" }
                    ol {
                        @for (i, h) in rec.outline.iter().enumerate() {
                            li class=(format!("l{}", h.level.clamp(1, 4))) {
                                a href=(format!("#s{i}")) { (h.line()) }
                            }
                        }
                    }
                }
            }
            @for r in rendered { (r) }
        }
        @if !similar.is_empty() {
            aside.similar {
                h2 { "Similar documents" }
                ol.hits {
                    @for h in similar {
                        li {
                            h2 { a href=(format!("/doc/{}", h.id)) { (h.title) } }
                            div.meta { (h.kind) " · " (h.host) }
                        }
                    }
                }
            }
        }
    };
    layout(&rec.title, q, false, body)
}

/// `/doc/ID/diff`: two versions' texts compared paragraph by paragraph; removed paragraphs
/// struck through, added ones underlined, the changed words within them marked.
pub fn diff(rec: &DocRecord, old: &Version, new: &Version, a: &str, b: &str) -> Markup {
    use similar::{ChangeTag, TextDiff};
    let lines = crate::commands::versions::paragraph_lines;
    let (a, b) = (lines(a), lines(b));
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(5))
        .diff_lines(&a, &b);
    let mut hunks: Vec<Markup> = vec![];
    for group in diff.grouped_ops(1) {
        let mut rows: Vec<Markup> = vec![];
        for op in &group {
            for change in diff.iter_inline_changes(op) {
                let parts: Vec<(bool, String)> = change
                    .iter_strings_lossy()
                    .map(|(e, s)| (e, s.trim_end_matches('\n').to_string()))
                    .collect();
                let inner =
                    html! { @for (e, s) in &parts { @if *e { mark { (s) } } @else { (s) } } };
                rows.push(match change.tag() {
                    ChangeTag::Delete => html! { p.del { del { (inner) } } },
                    ChangeTag::Insert => html! { p.ins { ins { (inner) } } },
                    ChangeTag::Equal => html! { p.same { (inner) } },
                });
            }
        }
        hunks.push(html! { section.hunk { @for r in rows { (r) } } });
    }
    let body = html! {
        article {
            h1 { (rec.title) }
            p.meta {
                "Changes from version " (old.version) " (" (old.fetched_at.as_deref().unwrap_or("?"))
                ") to version " (new.version) " (" (new.fetched_at.as_deref().unwrap_or("?")) ") · "
                a href=(format!("/doc/{}", rec.id)) { "back to the document" }
            }
            @if hunks.is_empty() { p { "No differences." } }
            @for h in hunks { (h) }
        }
    };
    layout(&format!("Changes · {}", rec.title), "", false, body)
}

/// The state of a refresh started from the status page.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct UpdateView {
    pub running: bool,
    pub done: usize,
    pub total: usize,
    pub failed: usize,
    /// How the last refresh ended.
    pub last: Option<String>,
    /// When the scheduled refresh runs next (`serve --refresh-every`).
    pub next: Option<String>,
}

/// `/status`: every link, and the refresh button.
/// A status page: `docs` are the links on it; `totals` the whole library's (ok, failed,
/// pending) when they were counted.
pub fn status(
    docs: &[DocRecord],
    total: usize,
    totals: Option<[usize; 3]>,
    page: usize,
    per_page: usize,
    forms: &Forms,
    update: &UpdateView,
) -> Markup {
    let Forms { token, origin } = *forms;
    let count = |s: State| docs.iter().filter(|d| d.state == s).count();
    let [ok, failed, pending] = totals.unwrap_or([
        count(State::Ok),
        count(State::Failed),
        count(State::Pending),
    ]);
    let pages = total.div_ceil(per_page).max(1);
    let body = html! {
        h1 { "Status" }
        p.muted {
            (total) " links"
            @if pages > 1 {
                " · page " (page) " of " (pages)
                @if totals.is_none() { " · on this page" }
            }
            ": " (ok) " ok, " (failed) " failed, " (pending) " pending"
        }
        @if update.running {
            p.progress #progress data-running="true" {
                "Updating: " (update.done) " of " (update.total) " links"
                @if update.failed > 0 { " (" (update.failed) " failed)" } "…"
            }
        } @else {
            form method="post" action="/update" {
                input type="hidden" name="token" value=(token);
                button.primary type="submit" { "Refresh the library" }
            }
            @if let Some(l) = &update.last { p.progress #progress data-running="false" { (l) } }
            @if let Some(n) = &update.next { p.muted { "Next scheduled refresh: " (n) } }
            (add_box("", token))
            p.muted {
                "Add from any page: drag this bookmarklet to your bookmarks bar — "
                a.bookmarklet href=(format!("javascript:location.href='{origin}/add?url='+encodeURIComponent(location.href)")) { "+ rl-search" }
            }
        }
        table.status {
            thead { tr { th { "State" } th { "Document" } th.wide { "Fetched" } th.wide { "Checked" } } }
            tbody {
                @for d in docs {
                    tr {
                        td class=(match d.state { State::Ok => "state-ok", State::Failed => "state-failed", State::Pending => "" }) {
                            (match d.state { State::Ok => "ok", State::Failed => "failed", State::Pending => "pending" })
                        }
                        td {
                            @if d.text_file.is_some() {
                                a href=(format!("/doc/{}", d.id)) { (if d.title.is_empty() { &d.url } else { &d.title }) }
                            } @else {
                                (if d.title.is_empty() { &d.url } else { &d.title })
                            }
                            div.meta { (d.url) }
                            @if let Some(e) = &d.last_error { div.error { (e) } }
                        }
                        td.wide.meta { (d.fetched_at.as_deref().unwrap_or("—")) }
                        td.wide.meta { (d.checked_at.as_deref().unwrap_or("—")) }
                    }
                }
            }
        }
        @if pages > 1 {
            div.pager {
                @if page > 1 { a rel="prev" href=(format!("/status?page={}", page - 1)) { "← Previous" } } @else { span {} }
                @if page < pages { a rel="next" href=(format!("/status?page={}", page + 1)) { "Next →" } }
            }
        }
    };
    layout("Status", "", update.running, body)
}

/// What a page's forms need: the token that proves they came from this server, and the
/// server's address (for the bookmarklet).
#[derive(Clone, Copy)]
pub struct Forms<'a> {
    pub token: &'a str,
    pub origin: &'a str,
}

/// `/add?url=…`: the form the *Add* box and the bookmarklet lead to.
pub fn add_form(url: &str, token: &str) -> Markup {
    let body = html! {
        h1 { "Add a link" }
        (add_box(url, token))
        p.muted { "The page is fetched, stored and indexed now, and written into the library's own list (list.md in the library)." }
    };
    layout("Add a link", "", false, body)
}

/// The *Add* box: a link, an optional section, the page's token.
pub fn add_box(url: &str, token: &str) -> Markup {
    html! {
        form.add method="post" action="/add" {
            input type="hidden" name="token" value=(token);
            input type="url" name="url" value=(url) placeholder="https://…" required aria-label="Link to add";
            input type="text" name="section" placeholder="Section (optional)" aria-label="Section";
            button.primary type="submit" { "Add" }
        }
    }
}

/// While a link is being added: reloads until its document is there.
pub fn adding(url: &str) -> Markup {
    let body = html! {
        h1 { "Adding…" }
        p.progress #progress data-running="true" { "Fetching and indexing " (url) "…" }
    };
    layout("Adding", "", true, body)
}

/// A page for a request that cannot be answered.
pub fn problem(title: &str, message: &str) -> Markup {
    layout(
        title,
        "",
        false,
        html! { h1 { (title) } p { (message) } p { a href="/" { "Back to the library" } } },
    )
}
