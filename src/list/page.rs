//! A web page that is itself a reading list (a blog post of links, an "awesome" page served as
//! HTML): the links of its main content, headings as sections. Navigation, header, footer,
//! sidebars and forms are not entries.

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};
use url::Url;

use super::{Lines, ParsedList, add_link, collapse_ws};

/// Elements whose links are the site's, not the list's.
const CHROME_TAGS: &[&str] = &[
    "nav", "header", "footer", "aside", "form", "script", "style", "noscript", "template", "button",
];
/// Class or id words that mark the same chrome on pages without semantic tags.
const CHROME_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "menu",
    "sidebar",
    "footer",
    "header",
    "breadcrumb",
    "breadcrumbs",
    "share",
    "social",
    "related",
    "comments",
    "toc",
    "skip",
];

pub fn parse(text: &str, base: Option<&Url>) -> ParsedList {
    let dom = Html::parse_document(text);
    let root = dom.root_element();
    // The main content: <main> or an <article>, else [role=main], else the whole body.
    let main = ["main", "article", "[role=main]", "body"]
        .iter()
        .filter_map(|css| scraper::Selector::parse(css).ok())
        .find_map(|sel| dom.select(&sel).next())
        .unwrap_or(root);
    let mut out = ParsedList::default();
    walk(*main, base, &mut out, text);
    out
}

fn is_chrome(el: &scraper::node::Element) -> bool {
    if CHROME_TAGS.contains(&el.name()) {
        return true;
    }
    if matches!(
        el.attr("role"),
        Some("navigation" | "banner" | "contentinfo" | "complementary" | "search")
    ) {
        return true;
    }
    let words = el
        .attr("class")
        .into_iter()
        .chain(el.attr("id"))
        .flat_map(|v| v.split(|c: char| c.is_whitespace() || c == '-' || c == '_'));
    words
        .map(str::to_ascii_lowercase)
        .any(|w| CHROME_WORDS.contains(&w.as_str()))
}

/// The links of `main` in document order, with the heading above each as its section.
/// Iterative, so a deep page cannot overflow the stack.
fn walk(main: NodeRef<Node>, base: Option<&Url>, out: &mut ParsedList, src: &str) {
    let mut section = String::new();
    let mut lines = Lines::new(src);
    let mut edges = main.traverse();
    while let Some(edge) = edges.next() {
        let Edge::Open(node) = edge else { continue };
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let e = el.value();
        if is_chrome(e) && node != main {
            // Skip the whole element: on to its closing edge.
            for edge in edges.by_ref() {
                if matches!(edge, Edge::Close(n) if n == node) {
                    break;
                }
            }
            continue;
        }
        match e.name() {
            // A heading names what follows; a link inside it is an entry too.
            "h1" | "h2" | "h3" | "h4" => section = collapse_ws(&el.text().collect::<String>()),
            "a" => {
                let Some(href) = e.attr("href") else { continue };
                if href.starts_with('#') {
                    continue; // a jump within the page
                }
                let resolved = match base {
                    Some(b) => b
                        .join(href)
                        .map(|u| u.to_string())
                        .unwrap_or_else(|_| href.to_string()),
                    None => href.to_string(),
                };
                let text = collapse_ws(&el.text().collect::<String>());
                add_link(out, &resolved, &text, &section, lines.find(href));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_content_links_with_headings_as_sections() {
        let html = r##"<!doctype html><html><body>
<header><a href="/">Home</a><nav><a href="/about">About</a></nav></header>
<div class="sidebar"><a href="https://ads.example/">Sponsor</a></div>
<main><h1>My LLM reading list</h1>
<p>Start with <a href="https://arxiv.org/abs/1706.03762">Attention</a>.</p>
<h2>Deployment</h2><ul><li><a href="/posts/serving">Serving notes</a></li>
<li><a href="#top">back to top</a></li></ul>
<div class="share"><a href="https://twitter.com/intent/tweet">Share</a></div>
</main><footer><a href="https://example.org/privacy">Privacy</a></footer></body></html>"##;
        let base = Url::parse("https://blog.example/lists/llm").unwrap();
        let list = parse(html, Some(&base));
        let got = list.triples();
        assert_eq!(
            got,
            [
                (
                    "https://arxiv.org/abs/1706.03762",
                    "Attention",
                    "My LLM reading list"
                ),
                (
                    "https://blog.example/posts/serving",
                    "Serving notes",
                    "Deployment"
                ),
            ]
        );
    }
}
