//! The last pass over a page's main text: what the block scoring keeps but a reader does not
//! want, recognised by what it says rather than where it sits — datelines and bylines, photo
//! credits, gallery captions repeated, and the "Related stories" / "Comments" tail that many
//! sites put inside the article's own container.

/// Words that head a block of links to other pages, or the comments, at an article's end.
const TAIL_HEADINGS: &[&str] = &[
    "related",
    "more from",
    "more stories",
    "more news",
    "latest",
    "recent",
    "popular",
    "most read",
    "most viewed",
    "trending",
    "recommended",
    "top stories",
    "read more",
    "read next",
    "also read",
    "you may also like",
    "you might also like",
    "comments",
    "comment",
    "leave a reply",
    "leave a comment",
    "join the conversation",
    "sharing is caring",
    "share this",
    "about the author",
    "breaking news",
    "tags",
];

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Removes datelines, bylines, credits and duplicated captions, and cuts the text where a
/// "related"/"comments" heading starts its tail. `text` is paragraphs separated by blank lines.
pub(super) fn trim(text: &str) -> String {
    let total = text.len();
    let mut kept: Vec<String> = vec![];
    let mut at = 0usize;
    let mut skipping_list = false;
    'paragraphs: for paragraph in text.split("\n\n") {
        let start = at;
        at += paragraph.len() + 2;
        let mut lines: Vec<&str> = vec![];
        // Datelines stand alone or beside a byline; in a longer block, dated lines are a list
        // (a tour's dates, a timeline) and stay.
        let short_block = paragraph.lines().count() <= 3;
        for line in paragraph.lines() {
            let l = line.trim();
            if l.is_empty() || is_ornament(l) {
                continue;
            }
            if skipping_list {
                if l.starts_with("- ") {
                    continue;
                }
                skipping_list = false;
            }
            if is_tail_heading(l) {
                // Late in the text, everything after it is the tail; early, it heads a list
                // of other stories before the article.
                if start * 2 >= total && !kept.is_empty() {
                    break 'paragraphs;
                }
                skipping_list = true;
                continue;
            }
            if (short_block && is_dateline(l)) || is_credit(l) {
                continue;
            }
            lines.push(line);
        }
        if lines.is_empty() {
            continue;
        }
        let p = lines.join("\n");
        // A gallery shows a caption twice in a row; an article does not (a recipe or an
        // interview may repeat a line, but further apart).
        if p.len() >= 20 && !p.starts_with("- ") && kept.iter().rev().take(2).any(|k| *k == p) {
            continue;
        }
        kept.push(p);
    }
    kept.join("\n\n")
}

/// A line with nothing to read: an empty list item's dash, a separator, or a control's label.
fn is_ornament(l: &str) -> bool {
    const LABELS: &[&str] = &[
        "caption",
        "close",
        "back to gallery",
        "advertisement",
        "skip ad",
        "continue reading",
        "continue reading below",
        "show more",
        "load more",
        "loading...",
    ];
    l.chars().all(|c| !c.is_alphanumeric() && c != '_')
        || LABELS.contains(&l.to_lowercase().as_str())
}

fn unpunctuated(p: &str) -> bool {
    !p.trim_end()
        .ends_with(['.', '!', '?', ':', ';', '"', '”', '»', ')'])
}

fn is_tail_heading(p: &str) -> bool {
    let words = p.split_whitespace().count();
    if words > 6 || p.contains('\n') || !unpunctuated(p.trim_end_matches([':', '.', '…'])) {
        return false;
    }
    let lower = p
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let lower = lower
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim();
    TAIL_HEADINGS
        .iter()
        .any(|h| lower == *h || lower.starts_with(&format!("{h} ")))
        || lower.starts_with("our latest")
        || lower.starts_with("more ") && words <= 4
}

/// A date written out: a month name next to a number, or `2019-11-20`, or `11/20/2019`.
fn has_date(p: &str) -> bool {
    let lower = p.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let month_next_to_number = tokens.windows(2).any(|w| {
        let month = |t: &str| MONTHS.iter().any(|m| t.starts_with(m)) && t.len() <= 10;
        let number = |t: &str| t.chars().next().is_some_and(|c| c.is_ascii_digit());
        (month(w[0]) && number(w[1])) || (number(w[0]) && month(w[1]))
    });
    let numeric = tokens.iter().any(|t| {
        let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()))
            && parts.iter().any(|x| x.len() == 4)
    });
    // A year and a clock time: "22 de janeiro de 2018 às 0:13" in any language.
    let year = tokens.iter().any(|t| {
        t.len() == 4
            && (t.starts_with("19") || t.starts_with("20"))
            && t.chars().all(|c| c.is_ascii_digit())
    });
    let time = tokens.iter().any(|t| {
        let t = t.trim_end_matches(|c: char| c.is_alphabetic());
        t.split_once(':').is_some_and(|(h, m)| {
            (1..=2).contains(&h.len())
                && m.len() == 2
                && (h.to_string() + m).chars().all(|c| c.is_ascii_digit())
        })
    });
    month_next_to_number || numeric || (year && time)
}

/// "By Jane Doe", "Published Monday, November 18, 2019 8:22AM EST", "| Nov 18, 2019": a short
/// line that is a date or a byline, not a sentence.
fn is_dateline(p: &str) -> bool {
    let words = p.split_whitespace().count();
    if p.len() > 100 || words > 14 || p.contains('\n') || !unpunctuated(p) {
        return false;
    }
    let lower = p
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if p.contains("(@") {
        return false; // an embedded post's signature: "— Name (@name) November 15, 2019"
    }
    let byline = [
        "by ",
        "written by ",
        "posted by ",
        "published ",
        "updated ",
        "posted ",
    ]
    .iter()
    .any(|b| lower.starts_with(b));
    byline || has_date(p)
}

/// "Photo: Jane Doe, AP", "Image 1 of 9", "1 / 9".
fn is_credit(p: &str) -> bool {
    let lower = p.to_lowercase();
    let short = p.len() <= 80 && !p.contains('\n');
    let counter = {
        let t: Vec<&str> = lower.split_whitespace().collect();
        matches!(t.as_slice(), [_, "of", n] | [_, "/", n] if n.chars().all(|c| c.is_ascii_digit()))
            || matches!(t.as_slice(), ["image", _, "of", ..])
    };
    short
        && (["photo:", "photograph:", "image:", "credit:", "photo credit"]
            .iter()
            .any(|c| lower.starts_with(c))
            || counter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datelines_credits_and_tails_go() {
        let text = "Updated 5:27 am CST, Wednesday, November 20, 2019\n\nThe minister said on Monday that talks would resume, and that both sides wanted a deal.\n\nPhoto: Jane Doe, AP\n\nA long caption that a gallery shows twice over.\n\nA long caption that a gallery shows twice over.\n\nThe talks, first planned for 2018, were delayed twice.\n\nRelated Articles\n\nAnother story entirely, with its own long summary sentence.";
        assert_eq!(
            trim(text),
            "The minister said on Monday that talks would resume, and that both sides wanted a deal.\n\nA long caption that a gallery shows twice over.\n\nThe talks, first planned for 2018, were delayed twice."
        );
    }

    #[test]
    fn sentences_with_dates_stay() {
        let text = "The law took effect on November 18, 2019.\n\nBy the end of the year, the agency had hired staff for the new office across the state.";
        assert_eq!(trim(text), text);
    }

    #[test]
    fn an_early_list_of_other_stories_goes() {
        let text = "Breaking News\n\n- Story one about something else\n\n- Story two about another thing\n\nThe article starts here and goes on for a while, as articles do.";
        assert_eq!(
            trim(text),
            "The article starts here and goes on for a while, as articles do."
        );
    }
}
