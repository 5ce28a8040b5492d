//! Site-specific readers: where a site's page is a poor source, its metadata or API answer is a
//! good one (arXiv's citation tags, YouTube's player data and oEmbed, GitHub's and gists' APIs).

use base64::Engine;
use scraper::{Html, Selector};
use serde_json::Value;

use super::Extracted;
use super::html::select_attr;

/// The first Markdown `# heading` of a text, as its title.
pub fn markdown_title(text: &str) -> Option<String> {
    text.lines()
        .take(40)
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().trim_end_matches('#').trim().to_string())
        .filter(|t| !t.is_empty())
}

/// JSON answers: a gist, a GitHub README (base64), a post (X oEmbed, Mastodon), a YouTube oEmbed,
/// and any other JSON as labelled text. `None` only when the text is not JSON.
pub fn from_json(text: &str) -> Option<Extracted> {
    let v: Value = serde_json::from_str(text).ok()?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(files) = v.get("files").and_then(Value::as_object) {
        let mut body = String::new();
        let mut first_name = None;
        for (name, f) in files {
            first_name.get_or_insert_with(|| name.clone());
            if let Some(content) = f.get("content").and_then(Value::as_str) {
                if !body.is_empty() {
                    body.push_str("\n\n");
                }
                body.push_str(content);
            }
        }
        let title = s("description")
            .filter(|d| !d.trim().is_empty())
            .or_else(|| markdown_title(&body))
            .or(first_name);
        let author = v
            .get("owner")
            .and_then(|o| o.get("login"))
            .and_then(Value::as_str)
            .map(str::to_string);
        return Some(Extracted {
            title,
            author,
            description: s("description"),
            published: s("created_at"),
            thin: body.trim().is_empty(),
            text: super::text::tidy(&body),
            outline: vec![],
        });
    }
    if s("encoding").as_deref() == Some("base64") {
        let cleaned: String = s("content")?.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cleaned)
            .ok()?;
        let body = String::from_utf8_lossy(&bytes).into_owned();
        return Some(Extracted {
            title: markdown_title(&body),
            thin: body.trim().is_empty(),
            text: super::text::tidy(&body),
            ..Default::default()
        });
    }
    // An X/Twitter oEmbed answer: the post is the blockquote in `html`.
    if let Some(html) = s("html").filter(|h| h.contains("twitter-tweet")) {
        let frag = Html::parse_fragment(&html);
        let p = Selector::parse("blockquote p").expect("valid selector");
        let text = frag
            .select(&p)
            .map(|p| p.text().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n\n");
        let a = Selector::parse("blockquote > a").expect("valid selector");
        let published = frag
            .select(&a)
            .next_back()
            .map(|a| a.text().collect::<String>());
        let author = s("author_name");
        return Some(post(author, published, &text));
    }
    // A Mastodon status from /api/v1/statuses/ID.
    if let (Some(content), Some(account)) = (s("content"), v.get("account")) {
        let frag = Html::parse_fragment(&content);
        let p = Selector::parse("p").expect("valid selector");
        let mut paras: Vec<String> = frag
            .select(&p)
            .map(|p| p.text().collect::<String>())
            .collect();
        if paras.is_empty() {
            paras.push(frag.root_element().text().collect());
        }
        let name = account
            .get("display_name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .or_else(|| account.get("acct").and_then(Value::as_str))
            .map(str::to_string);
        return Some(post(name, s("created_at"), &paras.join("\n\n")));
    }
    if v.get("provider_name").is_some() || v.get("author_name").is_some() {
        let author = s("author_name");
        let text = match (&author, s("provider_name")) {
            (Some(a), Some(p)) => format!("{a} on {p}"),
            (Some(a), None) => a.clone(),
            _ => String::new(),
        };
        return Some(Extracted {
            title: s("title"),
            author,
            thin: true,
            text,
            ..Default::default()
        });
    }
    Some(any_json(&v))
}

/// Any other JSON: its values as text, each under its key path, one per line; the title from
/// a top-level `title` or `name`.
fn any_json(v: &Value) -> Extracted {
    let mut lines = vec![];
    flatten(v, "", &mut lines);
    let title = ["title", "name"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .map(str::to_string);
    let text = lines.join("\n");
    Extracted {
        title,
        thin: text.trim().chars().count() < super::html::THIN_CHARS,
        text,
        ..Default::default()
    }
}

fn flatten(v: &Value, path: &str, out: &mut Vec<String>) {
    let label = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path} › {key}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(v, &label(k), out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let joined: Vec<String> = items.iter().map(scalar).filter(|s| !s.is_empty()).collect();
            if !joined.is_empty() {
                out.push(format!("{path}: {}", joined.join(", ")));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, &label(&(i + 1).to_string()), out);
            }
        }
        other => {
            let s = scalar(other);
            if !s.is_empty() {
                out.push(if path.is_empty() {
                    s
                } else {
                    format!("{path}: {s}")
                });
            }
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A social post: its text, titled by its author and its first words.
fn post(author: Option<String>, published: Option<String>, text: &str) -> Extracted {
    let text = super::text::tidy(text);
    let first: String = text
        .split_whitespace()
        .take(12)
        .collect::<Vec<_>>()
        .join(" ");
    let title = match &author {
        Some(a) => format!("{a}: {first}"),
        None => first,
    };
    Extracted {
        title: Some(title),
        author,
        published,
        thin: text.trim().is_empty(),
        text,
        ..Default::default()
    }
}

/// A YouTube watch page: its title, channel and the full description from the player data.
pub fn youtube(html: &str) -> Extracted {
    let dom = Html::parse_document(html);
    let title = select_attr(&dom, r#"meta[property="og:title"]"#, "content")
        .or_else(|| select_attr(&dom, r#"meta[name="title"]"#, "content"));
    let description = json_string_after(html, "\"shortDescription\"")
        .or_else(|| select_attr(&dom, r#"meta[property="og:description"]"#, "content"))
        .or_else(|| select_attr(&dom, r#"meta[name="description"]"#, "content"));
    let author = json_string_after(html, "\"author\"")
        .or_else(|| select_attr(&dom, r#"link[itemprop="name"]"#, "content"));
    let published = select_attr(&dom, r#"meta[itemprop="datePublished"]"#, "content")
        .or_else(|| select_attr(&dom, r#"meta[itemprop="uploadDate"]"#, "content"));
    let text = description.clone().unwrap_or_default();
    Extracted {
        title,
        author,
        published,
        thin: text.chars().count() < 80,
        description,
        text: super::text::tidy(&text),
        outline: vec![],
    }
}

/// The JSON string value that follows `"key"` somewhere in a page's scripts.
fn json_string_after(html: &str, key: &str) -> Option<String> {
    let at = html.find(key)? + key.len();
    let rest = html[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
    stream.next()?.ok().filter(|s| !s.trim().is_empty())
}

/// An arXiv abstract page: title, all authors, date and abstract from its citation tags.
pub fn arxiv_abs(html: &str) -> Extracted {
    let dom = Html::parse_document(html);
    let meta = |name: &str| select_attr(&dom, &format!(r#"meta[name="{name}"]"#), "content");
    let sel = Selector::parse(r#"meta[name="citation_author"]"#).expect("static selector");
    let authors: Vec<String> = dom
        .select(&sel)
        .filter_map(|m| m.attr("content"))
        .map(|a| {
            // "Kaplan, Jared" → "Jared Kaplan"
            match a.split_once(", ") {
                Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
                None => a.trim().to_string(),
            }
        })
        .collect();
    let abstract_text = meta("citation_abstract").or_else(|| {
        let bq = Selector::parse("blockquote.abstract").expect("static selector");
        dom.select(&bq).next().map(|b| {
            let t: String = b.text().collect::<Vec<_>>().join(" ");
            t.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches("Abstract:")
                .trim()
                .to_string()
        })
    });
    let text = abstract_text.clone().unwrap_or_default();
    Extracted {
        title: meta("citation_title"),
        author: (!authors.is_empty()).then(|| authors.join(", ")),
        published: meta("citation_date").or_else(|| meta("citation_online_date")),
        description: abstract_text,
        thin: text.is_empty(),
        text,
        outline: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_from_oembed_and_mastodon_and_any_json() {
        let tweet = r#"{"url":"https://twitter.com/vboykis/status/1","author_name":"Vicki Boykis","html":"<blockquote class=\"twitter-tweet\"><p lang=\"en\" dir=\"ltr\">An anti-hype reading list on LLMs</p>&mdash; Vicki Boykis (@vboykis) <a href=\"https://twitter.com/vboykis/status/1\">August 15, 2023</a></blockquote>","provider_name":"Twitter"}"#;
        let d = from_json(tweet).unwrap();
        assert_eq!(d.text, "An anti-hype reading list on LLMs");
        assert_eq!(d.author.as_deref(), Some("Vicki Boykis"));
        assert_eq!(d.published.as_deref(), Some("August 15, 2023"));
        assert!(d.title.unwrap().starts_with("Vicki Boykis: An anti-hype"));
        let toot = r#"{"id":"1","created_at":"2023-08-15T12:00:00Z","content":"<p>Collecting suggestions</p><p>for a list</p>","account":{"display_name":"Vicki","acct":"vicki"}}"#;
        let d = from_json(toot).unwrap();
        assert_eq!(d.text, "Collecting suggestions\n\nfor a list");
        assert_eq!(d.author.as_deref(), Some("Vicki"));
        let any = r#"{"name":"tokenizer","config":{"vocab_size":50257,"merges":["a b","c d"]},"models":[{"id":"gpt2"}]}"#;
        let d = from_json(any).unwrap();
        assert_eq!(d.title.as_deref(), Some("tokenizer"));
        assert_eq!(
            d.text,
            "name: tokenizer\nconfig › vocab_size: 50257\nconfig › merges: a b, c d\nmodels › 1 › id: gpt2"
        );
    }

    #[test]
    fn gist_api_answer() {
        let j = r##"{"description":"Notes on ChatGPT","owner":{"login":"vk"},"files":{"a.md":{"content":"# A\nalpha"},"b.py":{"content":"print(1)"}}}"##;
        let e = from_json(j).unwrap();
        assert_eq!(e.title.as_deref(), Some("Notes on ChatGPT"));
        assert!(e.text.contains("alpha") && e.text.contains("print(1)"));
        assert_eq!(e.author.as_deref(), Some("vk"));
    }

    #[test]
    fn github_readme_api_answer_is_base64() {
        let j = r#"{"name":"README.md","encoding":"base64","content":"IyBOdW1i\nZXJzCgpob2xh\n"}"#;
        let e = from_json(j).unwrap();
        assert_eq!(e.title.as_deref(), Some("Numbers"));
        assert!(e.text.contains("hola"));
    }

    #[test]
    fn youtube_page_uses_player_description() {
        let html = r#"<html><head><meta property="og:title" content="The State of GPT"><meta property="og:description" content="short"></head>
<body><script>var ytInitialPlayerResponse = {"videoDetails": {"title": "x", "author": "Microsoft Developer", "shortDescription": "Learn about the training pipeline of GPT assistants like ChatGPT, from tokenization to pretraining, supervised finetuning, and RLHF.\nSecond line"}};</script></body></html>"#;
        let e = youtube(html);
        assert_eq!(e.title.as_deref(), Some("The State of GPT"));
        assert_eq!(e.author.as_deref(), Some("Microsoft Developer"));
        assert!(e.text.contains("RLHF.\nSecond line"));
        assert!(!e.thin);
    }

    #[test]
    fn arxiv_abs_page() {
        let html = r#"<html><head><meta name="citation_title" content="Scaling Laws for Neural Language Models">
<meta name="citation_author" content="Kaplan, Jared"><meta name="citation_author" content="McCandlish, Sam">
<meta name="citation_date" content="2020/01/23"></head><body><blockquote class="abstract mathjax"><span>Abstract:</span>We study empirical scaling laws.</blockquote></body></html>"#;
        let e = arxiv_abs(html);
        assert_eq!(
            e.title.as_deref(),
            Some("Scaling Laws for Neural Language Models")
        );
        assert_eq!(e.author.as_deref(), Some("Jared Kaplan, Sam McCandlish"));
        assert_eq!(e.text, "We study empirical scaling laws.");
    }
}
