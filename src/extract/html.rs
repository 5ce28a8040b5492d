//! HTML → title, metadata and main text. Our own content scoring on scraper's DOM, in the
//! readability tradition: paragraphs vote for their ancestors, link-heavy and boilerplate-named
//! blocks are dropped, and the winning block (with its strong siblings) is rendered to text with
//! paragraph breaks. Every walk is iterative, so a pathologically deep page cannot overflow the
//! stack.

use std::collections::HashMap;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

/// Below this many characters of main text a page is "thin" (probably needs JavaScript).
pub const THIN_CHARS: usize = 200;

/// What an HTML page yields.
#[derive(Debug, Default, Clone)]
pub struct HtmlDoc {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub text: String,
    /// The main text was too short to be the page's content; `text` may be the description.
    pub thin: bool,
}

/// Extracts a page's metadata and main text.
pub fn extract(html: &str) -> HtmlDoc {
    if nesting_depth(html) > MAX_DEPTH {
        return HtmlDoc {
            text: strip_tags(html),
            ..Default::default()
        };
    }
    let dom = Html::parse_document(html);
    let meta = Meta::read(&dom);
    let mut text = main_text(&dom, true);
    if text.chars().count() < THIN_CHARS {
        // Class-name filtering can be wrong on unusual pages; try once without it.
        let loose = main_text(&dom, false);
        if loose.chars().count() > text.chars().count() {
            text = loose;
        }
    }
    let mut thin = false;
    if text.chars().count() < THIN_CHARS {
        thin = true;
        if let Some(desc) = &meta.description
            && desc.chars().count() > text.chars().count()
        {
            text = desc.clone();
        }
    }
    let title = meta.title(&dom);
    if let Some(t) = &title {
        text = drop_leading_title(&text, t);
    }
    HtmlDoc {
        title,
        author: meta.author,
        published: meta.published,
        description: meta.description,
        site_name: meta.site_name,
        text,
        thin,
    }
}

/// Pages nested deeper than this skip the DOM: html5ever's scope checks walk the stack of open
/// elements, which is quadratic in depth (minutes for 100,000 levels). No article is that deep.
const MAX_DEPTH: usize = 1_000;

/// A cheap upper estimate of tag nesting depth, without parsing.
fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "!doctype", "!--",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = memchr_lt(&bytes[i..]) {
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

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

/// Byte offset of `needle` (ASCII) in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

/// Text without tags, scripts or styles: the fallback for pages too deep to parse.
fn strip_tags(html: &str) -> String {
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

/// The article's headline is its title, not its body: drop a first paragraph that repeats it.
fn drop_leading_title(text: &str, title: &str) -> String {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let (first, rest) = text.split_once("\n\n").unwrap_or((text, ""));
    let (f, t) = (norm(first), norm(title));
    if !rest.is_empty() && !f.is_empty() && (f == t || (f.len() > 15 && t.starts_with(&f))) {
        rest.to_string()
    } else {
        text.to_string()
    }
}

#[derive(Default)]
struct Meta {
    og_title: Option<String>,
    doc_title: Option<String>,
    author: Option<String>,
    published: Option<String>,
    description: Option<String>,
    site_name: Option<String>,
}

impl Meta {
    fn read(dom: &Html) -> Meta {
        let mut m = Meta::default();
        let meta_sel = Selector::parse("meta").expect("static selector");
        for el in dom.select(&meta_sel) {
            let key = el
                .attr("property")
                .or_else(|| el.attr("name"))
                .or_else(|| el.attr("itemprop"))
                .unwrap_or("")
                .to_ascii_lowercase();
            let Some(content) = el
                .attr("content")
                .map(clean_inline)
                .filter(|c| !c.is_empty())
            else {
                continue;
            };
            let slot = match key.as_str() {
                "og:title" | "twitter:title" => &mut m.og_title,
                "author" | "article:author" | "citation_author" | "dc.creator" => &mut m.author,
                "article:published_time"
                | "citation_publication_date"
                | "citation_date"
                | "date"
                | "dc.date"
                | "datepublished" => &mut m.published,
                "description" | "og:description" | "twitter:description" => &mut m.description,
                "og:site_name" | "application-name" => &mut m.site_name,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(content);
            }
        }
        let title_sel = Selector::parse("title").expect("static selector");
        m.doc_title = dom
            .select(&title_sel)
            .next()
            .map(|t| clean_inline(&t.text().collect::<String>()))
            .filter(|t| !t.is_empty());
        m.read_json_ld(dom);
        if m.published.is_none() {
            let time_sel = Selector::parse("time[datetime]").expect("static selector");
            m.published = dom
                .select(&time_sel)
                .next()
                .and_then(|t| t.attr("datetime"))
                .map(str::to_string);
        }
        m
    }

    /// Author and date from JSON-LD (`<script type="application/ld+json">`), when the meta tags
    /// lack them.
    fn read_json_ld(&mut self, dom: &Html) {
        let sel =
            Selector::parse(r#"script[type="application/ld+json"]"#).expect("static selector");
        for script in dom.select(&sel) {
            let raw: String = script.text().collect();
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&raw) else {
                continue;
            };
            let mut stack = vec![&value];
            while let Some(v) = stack.pop() {
                match v {
                    serde_json::Value::Array(items) => stack.extend(items),
                    serde_json::Value::Object(map) => {
                        if self.published.is_none()
                            && let Some(d) = map.get("datePublished").and_then(|d| d.as_str())
                        {
                            self.published = Some(d.to_string());
                        }
                        if self.author.is_none()
                            && let Some(a) = map.get("author")
                        {
                            self.author = person_name(a);
                        }
                        if let Some(graph) = map.get("@graph") {
                            stack.push(graph);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// og:title, else `<title>` without its " | Site" tail, else the first h1.
    fn title(&self, dom: &Html) -> Option<String> {
        if let Some(t) = &self.og_title {
            return Some(t.clone());
        }
        if let Some(t) = &self.doc_title {
            return Some(strip_site_suffix(t, self.site_name.as_deref()));
        }
        let h1 = Selector::parse("h1").expect("static selector");
        dom.select(&h1)
            .map(|h| clean_inline(&h.text().collect::<String>()))
            .find(|t| !t.is_empty())
    }
}

fn person_name(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(m) => m.get("name").and_then(|n| n.as_str()).map(str::to_string),
        serde_json::Value::Array(items) => {
            let names: Vec<String> = items.iter().filter_map(person_name).collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        _ => None,
    }
}

/// "Post title | Site" → "Post title", when the tail is the site's name or short.
fn strip_site_suffix(title: &str, site: Option<&str>) -> String {
    for sep in [" | ", " – ", " — ", " - ", " :: ", " · "] {
        if let Some(i) = title.rfind(sep) {
            let (head, tail) = (&title[..i], &title[i + sep.len()..]);
            let tail_is_site = site.is_some_and(|s| s.eq_ignore_ascii_case(tail.trim()))
                || tail.split_whitespace().count() <= 3;
            if tail_is_site && head.split_whitespace().count() >= 2 {
                return head.trim().to_string();
            }
        }
    }
    title.to_string()
}

fn clean_inline(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tags whose contents are never article text.
const JUNK_TAGS: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "nav",
    "footer",
    "aside",
    "button",
    "iframe",
    "select",
    "input",
    "textarea",
    "menu",
    "dialog",
    "header",
    "head",
    "object",
    "embed",
    "video",
    "audio",
    "map",
    "figcaption",
    "title",
];
/// Roles of landmark regions that are not the article.
const JUNK_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "search",
    "toolbar",
];
/// Class/id fragments of boilerplate blocks (readability's "unlikely candidates", extended).
const JUNK_NAMES: &[&str] = &[
    "comment",
    "disqus",
    "footer",
    "sidebar",
    "side-bar",
    "related",
    "share",
    "sharing",
    "social",
    "cookie",
    "consent",
    "gdpr",
    "banner",
    "newsletter",
    "subscribe",
    "signup",
    "sign-up",
    "promo",
    "sponsor",
    "advert",
    "-ad-",
    "ad-slot",
    "breadcrumb",
    "pagination",
    "pager",
    "popup",
    "modal",
    "navbar",
    "menu",
    "masthead",
    "toolbar",
    "widget",
    "skip-link",
    "author-bio",
    "byline",
    "tags",
    "share-",
    "recommend",
    "read-more",
    "more-stories",
    "outbrain",
    "taboola",
];
/// Class/id fragments that vouch for a block despite a junk-looking name.
const GOOD_NAMES: &[&str] = &[
    "article",
    "content",
    "main",
    "post-body",
    "entry-content",
    "story",
];

/// Block-level tags: rendered as their own paragraphs.
fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "blockquote"
            | "pre"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "tr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "figure"
            | "figcaption"
            | "hr"
            | "body"
            | "center"
            | "details"
            | "summary"
            | "address"
    )
}

fn is_junk(el: &scraper::node::Element, filter_names: bool) -> bool {
    let tag = el.name();
    if JUNK_TAGS.contains(&tag) {
        return true;
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let s = style.replace(' ', "").to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    if let Some(role) = el.attr("role")
        && JUNK_ROLES.contains(&role.to_ascii_lowercase().as_str())
    {
        return true;
    }
    if filter_names && !matches!(tag, "body" | "article" | "main" | "html") {
        let names = format!(
            "{} {}",
            el.attr("class").unwrap_or(""),
            el.attr("id").unwrap_or("")
        )
        .to_ascii_lowercase();
        if JUNK_NAMES.iter().any(|j| names.contains(j))
            && !GOOD_NAMES.iter().any(|g| names.contains(g))
        {
            return true;
        }
    }
    false
}

/// Per-element text statistics, gathered in one pass.
#[derive(Default, Clone, Copy)]
struct Stats {
    chars: usize,
    link_chars: usize,
    commas: usize,
    score: f64,
}

fn text_weight(s: &str) -> (usize, usize) {
    let mut chars = 0;
    let mut commas = 0;
    for w in s.split_whitespace() {
        chars += w.chars().count() + 1;
        commas += w.matches(',').count();
    }
    (chars, commas)
}

/// Picks the main block(s) and renders them.
fn main_text(dom: &Html, filter_names: bool) -> String {
    let stats = gather(dom, filter_names);
    let Some(body) = dom
        .root_element()
        .child_elements()
        .find(|e| e.value().name() == "body")
        .or(Some(dom.root_element()))
    else {
        return String::new();
    };

    // The best candidate: highest score, discounted by link density.
    let mut best: Option<(NodeId, f64)> = None;
    for (&id, s) in &stats {
        if s.score <= 0.0 {
            continue;
        }
        let density = s.link_chars as f64 / s.chars.max(1) as f64;
        let fin = s.score * (1.0 - density);
        // Ties go to the earlier element, so the result does not depend on hash order.
        if best.is_none_or(|(bid, b)| fin > b || (fin == b && id < bid)) {
            best = Some((id, fin));
        }
    }
    let Some((top_id, top_score)) = best else {
        return render(dom, &[body.id()], &stats, filter_names);
    };
    let top = dom.tree.get(top_id).expect("id from this tree");

    // Siblings that look like more of the same article join it, in document order.
    let mut roots = vec![];
    let threshold = (top_score * 0.5).max(10.0);
    match top.parent() {
        Some(parent) => {
            for sib in parent.children() {
                if sib.id() == top_id {
                    roots.push(sib.id());
                    continue;
                }
                let Some(s) = stats.get(&sib.id()) else {
                    continue;
                };
                let density = s.link_chars as f64 / s.chars.max(1) as f64;
                let is_p = sib.value().as_element().is_some_and(|e| e.name() == "p");
                if s.score * (1.0 - density) >= threshold
                    || (is_p && s.chars > 80 && density < 0.25)
                {
                    roots.push(sib.id());
                }
            }
        }
        None => roots.push(top_id),
    }
    render(dom, &roots, &stats, filter_names)
}

/// One iterative pass: text and link lengths per element, and paragraph votes for ancestors.
fn gather(dom: &Html, filter_names: bool) -> HashMap<NodeId, Stats> {
    let mut stats: HashMap<NodeId, Stats> = HashMap::new();
    let mut stack: Vec<(NodeId, Stats, bool)> = Vec::new(); // (element, stats so far, in link)
    let mut skip_depth = 0usize;
    for edge in dom.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    if skip_depth > 0 || is_junk(el, filter_names) {
                        skip_depth += 1;
                        continue;
                    }
                    let in_link = el.name() == "a" || stack.last().is_some_and(|s| s.2);
                    stack.push((node.id(), Stats::default(), in_link));
                }
                Node::Text(t) if skip_depth == 0 => {
                    if let Some((_, s, in_link)) = stack.last_mut() {
                        let (c, commas) = text_weight(t);
                        s.chars += c;
                        s.commas += commas;
                        if *in_link {
                            s.link_chars += c;
                        }
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                let Node::Element(el) = node.value() else {
                    continue;
                };
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                let Some((id, mut s, _)) = stack.pop() else {
                    continue;
                };
                let tag = el.name();
                // Paragraph-like blocks vote for their parent (1), grandparent (1/2), and
                // great-grandparent (1/3).
                let votes = matches!(tag, "p" | "pre" | "td" | "blockquote" | "dd")
                    || (matches!(tag, "div" | "section" | "li") && s.chars >= 100);
                if votes && s.chars >= 25 {
                    let density = s.link_chars as f64 / s.chars.max(1) as f64;
                    let vote = (1.0 + s.commas as f64 + (s.chars as f64 / 100.0).min(3.0))
                        * (1.0 - density);
                    for (level, anc) in stack.iter().rev().take(3).enumerate() {
                        let e = stats.entry(anc.0).or_default();
                        if e.score == 0.0 {
                            e.score = initial_score(dom, anc.0);
                        }
                        e.score += vote / (level as f64 + 1.0);
                    }
                }
                let entry = stats.entry(id).or_default();
                entry.chars = s.chars;
                entry.link_chars = s.link_chars;
                entry.commas = s.commas;
                s.score = entry.score;
                if let Some(parent) = stack.last_mut() {
                    parent.1.chars += s.chars;
                    parent.1.link_chars += s.link_chars;
                    parent.1.commas += s.commas;
                }
            }
        }
    }
    stats
}

/// A head start from the tag and class names, as readability gives.
fn initial_score(dom: &Html, id: NodeId) -> f64 {
    let Some(el) = dom
        .tree
        .get(id)
        .and_then(|n| n.value().as_element().cloned())
    else {
        return 0.0;
    };
    let mut score: f64 = match el.name() {
        "article" => 10.0,
        "main" | "div" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    let names = format!(
        "{} {}",
        el.attr("class").unwrap_or(""),
        el.attr("id").unwrap_or("")
    )
    .to_ascii_lowercase();
    if GOOD_NAMES.iter().any(|g| names.contains(g)) || el.attr("itemprop") == Some("articleBody") {
        score += 25.0;
    }
    if JUNK_NAMES.iter().any(|j| names.contains(j)) {
        score -= 25.0;
    }
    score.max(0.1)
}

/// Renders elements to text: blocks become paragraphs, list items get a dash, `pre` keeps its
/// layout, table cells are separated by tabs; junk and link-heavy blocks are left out.
fn render(
    dom: &Html,
    roots: &[NodeId],
    stats: &HashMap<NodeId, Stats>,
    filter_names: bool,
) -> String {
    let mut out = String::new();
    for &root in roots {
        let Some(root) = dom.tree.get(root) else {
            continue;
        };
        let mut skip_depth = 0usize;
        let mut pre_depth = 0usize;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => match node.value() {
                    Node::Element(el) => {
                        if skip_depth > 0
                            || is_junk(el, filter_names)
                            || link_farm(node.id(), el, stats)
                        {
                            skip_depth += 1;
                            continue;
                        }
                        let tag = el.name();
                        match tag {
                            "br" => out.push('\n'),
                            "pre" => {
                                pre_depth += 1;
                                out.push_str("\n\n");
                            }
                            "li" => out.push_str("\n- "),
                            "td" | "th" => out.push('\t'),
                            "img" => {}
                            t if is_block(t) => out.push_str("\n\n"),
                            _ => {}
                        }
                    }
                    Node::Text(t) if skip_depth == 0 => {
                        if looks_like_markup(t) {
                            continue;
                        }
                        if pre_depth > 0 {
                            out.push_str(t);
                        } else {
                            push_collapsed(&mut out, t);
                        }
                    }
                    _ => {}
                },
                Edge::Close(node) => {
                    let Some(el) = node.value().as_element() else {
                        continue;
                    };
                    if skip_depth > 0 {
                        skip_depth -= 1;
                        continue;
                    }
                    match el.name() {
                        "pre" => {
                            pre_depth = pre_depth.saturating_sub(1);
                            out.push_str("\n\n");
                        }
                        "tr" => out.push('\n'),
                        t if is_block(t) => out.push_str("\n\n"),
                        _ => {}
                    }
                }
            }
        }
        out.push_str("\n\n");
    }
    crate::extract::text::tidy(&out)
        .lines()
        .map(|l| l.trim_start_matches(['\t', ' ']).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Markup that reached the DOM as text (the content of `<noscript>` and friends): a tracking
/// pixel is not prose.
fn looks_like_markup(t: &str) -> bool {
    let t = t.trim();
    t.starts_with('<') && t.ends_with('>')
}

/// A short block that is mostly links (a "related posts" list, tag cloud, share bar).
fn link_farm(id: NodeId, el: &scraper::node::Element, stats: &HashMap<NodeId, Stats>) -> bool {
    if !matches!(
        el.name(),
        "ul" | "ol" | "div" | "section" | "p" | "table" | "dl"
    ) {
        return false;
    }
    stats.get(&id).is_some_and(|s| {
        s.chars > 0 && s.chars < 1000 && s.link_chars as f64 / s.chars as f64 > 0.6
    })
}

/// Appends text with whitespace runs collapsed, keeping one space at boundaries.
fn push_collapsed(out: &mut String, t: &str) {
    let starts_ws = t.starts_with(char::is_whitespace);
    let ends_ws = t.ends_with(char::is_whitespace);
    let mut words = t.split_whitespace().peekable();
    if words.peek().is_none() {
        if !t.is_empty() && !out.ends_with([' ', '\n']) && !out.is_empty() {
            out.push(' ');
        }
        return;
    }
    if starts_ws && !out.ends_with([' ', '\n']) && !out.is_empty() {
        out.push(' ');
    }
    let mut first = true;
    for w in words {
        if !first {
            out.push(' ');
        }
        out.push_str(w);
        first = false;
    }
    if ends_ws {
        out.push(' ');
    }
}

/// `ElementRef` helper kept for site-specific readers (YouTube, arXiv) that select by CSS.
pub fn select_attr(dom: &Html, css: &str, attr: &str) -> Option<String> {
    let sel = Selector::parse(css).ok()?;
    dom.select(&sel)
        .next()
        .and_then(|e: ElementRef| e.attr(attr))
        .map(clean_inline)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = r##"<!doctype html><html><head>
<title>Why Chatbots Are Not the Future | Example Blog</title>
<meta name="description" content="An essay on interfaces.">
<meta name="author" content="Amelia W.">
<meta property="article:published_time" content="2023-04-01">
</head><body>
<header class="site-header"><a href="/">Home</a> <a href="/about">About</a></header>
<nav><ul><li><a href="/a">Posts</a></li><li><a href="/b">Talks</a></li></ul></nav>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
<main><article>
<h1>Why Chatbots Are Not the Future</h1>
<p>Chat is a tempting interface, because everyone knows how to type a question into a box and read an answer back.</p>
<p>But a text box hides what a tool can do, gives no affordances, and makes people guess the right incantation, which is the opposite of good design.</p>
<ul><li>Affordances matter more than novelty in the long run.</li><li>Direct manipulation beats describing what you want.</li></ul>
<pre>let x = 1;
let y = 2;</pre>
<div class="share-bar"><a href="#">Share on Twitter</a> <a href="#">Share on LinkedIn</a></div>
</article></main>
<aside class="sidebar"><h3>Related posts</h3><a href="/x">Other post one</a></aside>
<div class="comments"><p>Great post, thanks for sharing this with all of us here!</p></div>
<footer>© 2023 Example Blog. All rights reserved. Privacy policy.</footer>
<script>var tracking = "should never appear";</script>
</body></html>"##;

    #[test]
    fn article_without_boilerplate() {
        let doc = extract(ARTICLE);
        assert_eq!(
            doc.title.as_deref(),
            Some("Why Chatbots Are Not the Future")
        );
        assert_eq!(doc.author.as_deref(), Some("Amelia W."));
        assert_eq!(doc.published.as_deref(), Some("2023-04-01"));
        let t = &doc.text;
        assert!(t.contains("Chat is a tempting interface"), "{t}");
        assert!(t.contains("opposite of good design"));
        assert!(t.contains("- Affordances matter"));
        assert!(t.contains("let x = 1;\nlet y = 2;"), "{t}");
        for junk in [
            "cookies",
            "Share on",
            "Related posts",
            "Great post",
            "All rights",
            "tracking",
            "About",
        ] {
            assert!(!t.contains(junk), "{junk:?} leaked into {t}");
        }
        assert!(t.contains("\n\n"), "paragraph breaks kept");
    }

    #[test]
    fn script_only_page_is_thin_and_uses_description() {
        let doc = extract(
            r#"<html><head><meta property="og:description" content="A post about large language models and their limits, shared by the author."><title>Post</title></head><body><div id="root"></div><script>render()</script></body></html>"#,
        );
        assert!(doc.thin);
        assert!(doc.text.contains("large language models"));
    }

    #[test]
    fn deep_and_wide_pages_do_not_crash() {
        let deep = "<div>".repeat(100_000) + "deep text" + &"</div>".repeat(100_000);
        let doc = extract(&deep);
        assert!(doc.text.contains("deep text"));
        let wide = format!("<p>{}</p>", "word ".repeat(1_000_000));
        assert!(extract(&wide).text.len() > 1_000_000);
    }

    #[test]
    fn site_suffix_is_stripped_only_when_it_looks_like_one() {
        assert_eq!(
            strip_site_suffix("Prompt Engineering | Lil'Log", None),
            "Prompt Engineering"
        );
        assert_eq!(
            strip_site_suffix("GPT-3 - the model", None),
            "GPT-3 - the model"
        );
    }
}
