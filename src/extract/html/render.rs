//! The kept blocks as text: blocks become paragraphs, list items get a dash, `pre` keeps its
//! layout, table cells are separated by tabs; junk and link-heavy blocks are left out.

use std::collections::HashMap;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::score::{Stats, is_block, is_junk, link_farm};
use crate::extract::Heading;

/// The main text and the headings (h1–h4) in it.
pub(crate) struct Rendered {
    pub text: String,
    pub headings: Vec<Heading>,
}

/// Renders elements to text: blocks become paragraphs, list items get a dash, `pre` keeps its
/// layout, table cells are separated by tabs; junk and link-heavy blocks are left out.
pub(super) fn render(
    dom: &Html,
    roots: &[NodeId],
    stats: &HashMap<NodeId, Stats>,
    filter_names: bool,
) -> Rendered {
    let mut out = String::new();
    let mut headings = vec![];
    // Where the open heading's text starts in `out`, and its level.
    let mut open_heading: Option<(usize, u8)> = None;
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
                            t if is_block(t) => {
                                out.push_str("\n\n");
                                if let Some(level) = heading_level(t)
                                    && open_heading.is_none()
                                    && pre_depth == 0
                                {
                                    open_heading = Some((out.len(), level));
                                }
                            }
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
                        t if is_block(t) => {
                            if let Some(level) = heading_level(t)
                                && let Some((start, open)) = open_heading
                                && open == level
                            {
                                open_heading = None;
                                let title = out[start..]
                                    .split_whitespace()
                                    .collect::<Vec<_>>()
                                    .join(" ");
                                if !title.is_empty() {
                                    headings.push(Heading {
                                        level,
                                        title,
                                        number: None,
                                    });
                                }
                            }
                            out.push_str("\n\n");
                        }
                        _ => {}
                    }
                }
            }
        }
        out.push_str("\n\n");
    }
    let text = crate::extract::text::tidy(&out)
        .lines()
        .map(|l| l.trim_start_matches(['\t', ' ']).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    Rendered { text, headings }
}

fn heading_level(tag: &str) -> Option<u8> {
    match tag {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        _ => None,
    }
}

/// Markup that reached the DOM as text (the content of `<noscript>` and friends): a tracking
/// pixel is not prose.
pub(super) fn looks_like_markup(t: &str) -> bool {
    let t = t.trim();
    t.starts_with('<') && t.ends_with('>')
}

/// Appends text with whitespace runs collapsed, keeping one space at boundaries.
pub(super) fn push_collapsed(out: &mut String, t: &str) {
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
