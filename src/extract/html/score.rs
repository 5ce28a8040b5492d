//! The measures of content scoring on the DOM: which tags are blocks and which are junk, each
//! element's text and link lengths, and the paragraph votes its ancestors collect. Choosing
//! the winning blocks from these is [`super::select`]'s work; rendering them, [`super::render`]'s.

use std::collections::HashMap;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// Tags whose contents are never article text.
pub(super) const JUNK_TAGS: &[&str] = &[
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
pub(super) const JUNK_ROLES: &[&str] = &[
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
pub(super) const JUNK_NAMES: &[&str] = &[
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
    "caption",
    "credit",
];
/// Class/id fragments that vouch for a block despite a junk-looking name.
pub(super) const GOOD_NAMES: &[&str] = &[
    "article",
    "content",
    "main",
    "post-body",
    "entry-content",
    "story",
];

/// Block-level tags: rendered as their own paragraphs.
pub(super) fn is_block(tag: &str) -> bool {
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

pub(super) fn is_junk(el: &scraper::node::Element, filter_names: bool) -> bool {
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
pub(super) struct Stats {
    pub(super) chars: usize,
    pub(super) link_chars: usize,
    pub(super) commas: usize,
    pub(super) score: f64,
}

pub(super) fn text_weight(s: &str) -> (usize, usize) {
    let mut chars = 0;
    let mut commas = 0;
    for w in s.split_whitespace() {
        chars += w.chars().count() + 1;
        commas += w.matches(',').count();
    }
    (chars, commas)
}

/// One iterative pass: text and link lengths per element, and paragraph votes for ancestors.
pub(super) fn gather(dom: &Html, filter_names: bool) -> HashMap<NodeId, Stats> {
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
pub(super) fn initial_score(dom: &Html, id: NodeId) -> f64 {
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

/// A short block that is mostly links (a "related posts" list, tag cloud, share bar).
pub(super) fn link_farm(
    id: NodeId,
    el: &scraper::node::Element,
    stats: &HashMap<NodeId, Stats>,
) -> bool {
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
