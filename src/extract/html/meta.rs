//! A page's metadata: title (og:title, `<title>` without the site suffix, h1), author, date,
//! description and site name, from meta tags and JSON-LD.

use scraper::{ElementRef, Html, Selector};

#[derive(Default)]
pub(super) struct Meta {
    pub(super) og_title: Option<String>,
    pub(super) doc_title: Option<String>,
    pub(super) author: Option<String>,
    pub(super) published: Option<String>,
    pub(super) description: Option<String>,
    pub(super) site_name: Option<String>,
}

impl Meta {
    pub(super) fn read(dom: &Html) -> Meta {
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
    pub(super) fn read_json_ld(&mut self, dom: &Html) {
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
    pub(super) fn title(&self, dom: &Html) -> Option<String> {
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

pub(super) fn person_name(v: &serde_json::Value) -> Option<String> {
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
pub(super) fn strip_site_suffix(title: &str, site: Option<&str>) -> String {
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

pub(super) fn clean_inline(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `ElementRef` helper kept for site-specific readers (YouTube, arXiv) that select by CSS.
pub fn select_attr(dom: &Html, css: &str, attr: &str) -> Option<String> {
    let sel = Selector::parse(css).ok()?;
    dom.select(&sel)
        .next()
        .and_then(|e: ElementRef| e.attr(attr))
        .map(clean_inline)
}
