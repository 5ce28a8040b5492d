//! Selection: from the measures of [`super::score`], the winning block — highest score,
//! discounted by link density — and the siblings that look like more of the same article,
//! handed in document order to [`super::render`].

use ego_tree::NodeId;
use scraper::Html;

use super::render::{Rendered, render};
use super::score::gather;

/// Picks the main block(s) and renders them.
pub(super) fn main_text(dom: &Html, filter_names: bool) -> Rendered {
    let stats = gather(dom, filter_names);
    let Some(body) = dom
        .root_element()
        .child_elements()
        .find(|e| e.value().name() == "body")
        .or(Some(dom.root_element()))
    else {
        return Rendered {
            text: String::new(),
            headings: vec![],
        };
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
