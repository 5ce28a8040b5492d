//! HTML → title, metadata and main text. Our own content scoring on scraper's DOM, in the
//! readability tradition: paragraphs vote for their ancestors, link-heavy and boilerplate-named
//! blocks are dropped, and the winning block (with its strong siblings) is rendered to text with
//! paragraph breaks. Every walk is iterative, so a pathologically deep page cannot overflow the
//! stack.

mod guard;
mod meta;
mod render;
mod score;
mod select;
mod trim;

use scraper::Html;

use guard::strip_tags;
use meta::Meta;
pub use meta::select_attr;
use select::main_text;

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
    /// The main text's headings.
    pub outline: Vec<crate::extract::Heading>,
}

/// Extracts a page's metadata and main text.
pub fn extract(html: &str) -> HtmlDoc {
    if crate::markup::too_deep(html) {
        return HtmlDoc {
            text: strip_tags(html),
            ..Default::default()
        };
    }
    let dom = Html::parse_document(html);
    let meta = Meta::read(&dom);
    let mut main = main_text(&dom, true);
    if main.text.chars().count() < THIN_CHARS {
        // Class-name filtering can be wrong on unusual pages; try once without it.
        let loose = main_text(&dom, false);
        if loose.text.chars().count() > main.text.chars().count() {
            main = loose;
        }
    }
    let mut text = trim::trim(&main.text);
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
    let outline = if thin {
        vec![]
    } else {
        outline(main.headings, &text)
    };
    HtmlDoc {
        title,
        author: meta.author,
        published: meta.published,
        description: meta.description,
        site_name: meta.site_name,
        text,
        thin,
        outline,
    }
}

/// The headings that made it into the text, levels shifted so the highest is 1 (an article
/// whose sections are h2 under a page-wide h1 has sections of level 1).
fn outline(headings: Vec<crate::extract::Heading>, text: &str) -> Vec<crate::extract::Heading> {
    let lines: std::collections::HashSet<&str> = text.lines().map(str::trim).collect();
    let mut kept: Vec<_> = headings
        .into_iter()
        .filter(|h| lines.contains(h.title.as_str()))
        .collect();
    let top = kept.iter().map(|h| h.level).min().unwrap_or(1);
    for h in &mut kept {
        h.level -= top - 1;
    }
    kept
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

#[cfg(test)]
mod tests {
    use super::*;
    use meta::strip_site_suffix;

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
    fn bylines_captions_and_teasers_inside_the_article_go() {
        let page = r#"<html><head><title>Rivers Run Dry</title></head><body><article>
<h1>Rivers Run Dry</h1>
<div class="meta"><span>By Jane Doe</span></div>
<div class="meta">Updated 5:27 am CST, Wednesday, November 20, 2019</div>
<div class="photo"><img src="r.jpg"><div class="image-caption">A dry riverbed near the town, in a file photo from 2018.</div></div>
<p>The river that fed the valley for a century ran dry this summer, and the farmers who depend on it are leaving, one family at a time.</p>
<p>Officials said a new canal would take years to build, and that the money for it has not been found, though studies began in 2015.</p>
<h3>More stories</h3>
<ul><li><a href="/a">Lake levels fall again</a><p>The lake lost a metre this year, the third year in a row.</p></li>
<li><a href="/b">Wells run deeper</a><p>Farmers drill deeper wells as the water table drops.</p></li></ul>
</article></body></html>"#;
        let doc = extract(page);
        let t = &doc.text;
        assert!(t.starts_with("The river that fed the valley"), "{t}");
        assert!(t.ends_with("though studies began in 2015."), "{t}");
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
