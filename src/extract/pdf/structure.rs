//! From positioned lines to reading-grade text: running headers, footers, page and line
//! numbers dropped; two-column pages read column by column; lines reflowed into paragraphs
//! (one per line of output); headings found with their level; captions and reference entries
//! kept apart; line-end hyphens removed only where the joined word is a word.

use std::collections::{HashMap, HashSet};

use super::layout::{Line, Page};
use crate::extract::Heading;

/// The text as paragraphs and headings, and the headings as an outline.
#[derive(Debug, Default)]
pub struct Structured {
    pub text: String,
    pub outline: Vec<Heading>,
}

/// A line in reading order, with what is known about its place.
#[derive(Debug)]
struct Placed<'a> {
    line: &'a Line,
    page: usize,
    column: u8,
    /// The column's left and right text edges on this page.
    left: f32,
    right: f32,
}

/// Named sections that are headings on a line of their own, numbered or not.
const NAMED: &[&str] = &[
    "abstract",
    "introduction",
    "background",
    "related work",
    "conclusion",
    "conclusions",
    "discussion",
    "limitations",
    "acknowledgments",
    "acknowledgements",
    "acknowledgment",
    "acknowledgement",
    "references",
    "bibliography",
    "appendix",
    "appendices",
    "supplementary material",
];

pub fn structure(pages: &[Page]) -> Structured {
    let body = body_size(pages);
    let furniture = furniture(pages);
    let mut placed = vec![];
    for (pi, page) in pages.iter().enumerate() {
        let kept: Vec<&Line> = page
            .lines
            .iter()
            .enumerate()
            .filter(|(li, _)| !furniture.contains(&(pi, *li)))
            .map(|(_, l)| l)
            .collect();
        placed.extend(reading_order(pi, page, kept));
    }
    let vocab = vocabulary(&placed);
    let pitch = line_pitch(&placed, body);
    let mut out = Builder::new(&vocab);
    let mut numbering = Numbering::default();
    let numbered_doc = placed
        .iter()
        .filter(|p| numbering.peek(p.line, body).is_some())
        .count()
        >= 2;
    // The title's lines: the largest type on the first page.
    let title_size = pages
        .first()
        .and_then(|p| p.lines.iter().map(|l| l.size).max_by(f32::total_cmp))
        .unwrap_or(f32::MAX);
    let mut in_references = false;
    let mut in_back_matter = false;
    let mut prev: Option<&Placed> = None;
    let mut prev_heading = false;
    for p in &placed {
        let title_line = p.page == 0 && p.line.size >= title_size - 0.5;
        if !title_line
            && let Some(h) = numbering.heading(p.line, body, numbered_doc, in_back_matter)
        {
            in_references = h.title.eq_ignore_ascii_case("references")
                || h.title.eq_ignore_ascii_case("bibliography");
            in_back_matter |= in_references
                || h.title.to_lowercase().starts_with("appendi")
                || h.title.to_lowercase().starts_with("supplementary");
            out.heading(h);
            prev = Some(p);
            prev_heading = true;
            continue;
        }
        let new_paragraph = match prev {
            None => true,
            Some(_) if prev_heading => true,
            Some(q) => breaks(q, p, pitch, in_references),
        };
        if new_paragraph {
            out.end_paragraph();
        }
        out.push_line(&p.line.text);
        prev = Some(p);
        prev_heading = false;
    }
    out.finish()
}

/// The most common font size, by characters: the body text's.
fn body_size(pages: &[Page]) -> f32 {
    let mut counts: HashMap<i32, usize> = HashMap::new();
    for l in pages.iter().flat_map(|p| &p.lines) {
        *counts.entry((l.size * 2.0).round() as i32).or_default() += l.text.len();
    }
    counts
        .into_iter()
        .max_by_key(|&(size, n)| (n, -size))
        .map(|(s, _)| s as f32 / 2.0)
        .unwrap_or(10.0)
}

/// A line's text with digits made alike: running headers repeat with the page number changing.
fn furniture_key(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if c.is_ascii_digit() {
                '#'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Page numbers: `12`, `- 12 -`, `Page 3`, `3 of 10`, `iv`.
fn is_page_number(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace())
        .to_ascii_lowercase();
    let t = t.strip_prefix("page").unwrap_or(&t).trim();
    let mut parts = t
        .split(|c: char| c == '/' || c.is_whitespace())
        .filter(|s| !s.is_empty());
    let first = parts.next().unwrap_or("");
    let numeric = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    let roman = |s: &str| !s.is_empty() && s.len() <= 5 && s.chars().all(|c| "ivxlc".contains(c));
    let rest: Vec<&str> = parts.collect();
    (numeric(first) || roman(first))
        && (rest.is_empty() || (rest.len() == 2 && rest[0] == "of" && numeric(rest[1])))
}

/// Lines that are page furniture, as (page, line) pairs: page numbers and running headers
/// or footers in the top and bottom margins, and line numbers beside the text.
fn furniture(pages: &[Page]) -> HashSet<(usize, usize)> {
    let mut drop = HashSet::new();
    let in_margin = |page: &Page, l: &Line| l.y < 0.1 * page.height || l.y > 0.9 * page.height;
    let mut seen: HashMap<String, HashSet<usize>> = HashMap::new();
    for (pi, page) in pages.iter().enumerate() {
        for l in page.lines.iter().filter(|l| in_margin(page, l)) {
            seen.entry(furniture_key(&l.text)).or_default().insert(pi);
        }
    }
    let repeated = |key: &str| {
        seen.get(key)
            .is_some_and(|p| p.len() >= 3 && p.len() * 4 >= pages.len())
    };
    for (pi, page) in pages.iter().enumerate() {
        // The text's edges on this page, from the lines that are not bare numbers.
        let mut x0s: Vec<f32> = vec![];
        let mut x1s: Vec<f32> = vec![];
        for l in &page.lines {
            if !is_page_number(&l.text) && l.text.len() >= 10 {
                x0s.push(l.x0);
                x1s.push(l.x1);
            }
        }
        let left = percentile(&mut x0s, 0.05);
        let right = percentile(&mut x1s, 0.95);
        for (li, l) in page.lines.iter().enumerate() {
            let number = is_page_number(&l.text);
            let margin = in_margin(page, l);
            let beside = number
                && (left.is_some_and(|x| l.x1 <= x + 1.0)
                    || right.is_some_and(|x| l.x0 >= x - 1.0));
            if (margin && (number || repeated(&furniture_key(&l.text)))) || beside {
                drop.insert((pi, li));
            }
        }
    }
    drop
}

fn percentile(v: &mut [f32], q: f32) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[((v.len() - 1) as f32 * q).round() as usize])
}

/// A page's lines in reading order. A page with two columns is read band by band (a line
/// across both columns starts a new band), left column before right; one column keeps the
/// order the page draws it in.
fn reading_order<'a>(pi: usize, page: &Page, lines: Vec<&'a Line>) -> Vec<Placed<'a>> {
    let w = page.width.max(1.0);
    let column = |l: &Line| -> u8 {
        if l.x1 <= 0.53 * w {
            1
        } else if l.x0 >= 0.47 * w {
            2
        } else {
            0
        }
    };
    let long: Vec<&&Line> = lines.iter().filter(|l| l.text.len() >= 20).collect();
    let (left, right) = long.iter().fold((0, 0), |(a, b), l| match column(l) {
        1 => (a + 1, b),
        2 => (a, b + 1),
        _ => (a, b),
    });
    let two = left >= 3 && right >= 3 && (left + right) * 2 >= long.len();
    let mut keyed: Vec<(usize, u8, &Line)> = vec![];
    if two {
        let mut by_y: Vec<&Line> = lines.clone();
        by_y.sort_by(|a, b| a.y.total_cmp(&b.y));
        let mut band = 0;
        for l in by_y {
            match column(l) {
                0 => {
                    band += 1;
                    keyed.push((band, 0, l));
                    band += 1;
                }
                c => keyed.push((band, c, l)),
            }
        }
        keyed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.y.total_cmp(&b.2.y)));
    } else {
        keyed = lines.iter().map(|l| (0, 0, *l)).collect();
    }
    // Each column's text edges, for indents and short last lines.
    let mut edges: HashMap<u8, (f32, f32)> = HashMap::new();
    for c in [0u8, 1, 2] {
        let mut x0s: Vec<f32> = keyed
            .iter()
            .filter(|k| k.1 == c && k.2.text.len() >= 20)
            .map(|k| k.2.x0)
            .collect();
        let mut x1s: Vec<f32> = keyed
            .iter()
            .filter(|k| k.1 == c && k.2.text.len() >= 20)
            .map(|k| k.2.x1)
            .collect();
        if let (Some(l), Some(r)) = (percentile(&mut x0s, 0.1), percentile(&mut x1s, 0.9)) {
            edges.insert(c, (l, r));
        }
    }
    keyed
        .into_iter()
        .map(|(_, c, line)| {
            let (left, right) = edges
                .get(&c)
                .copied()
                .unwrap_or((line.x0, line.x1.max(line.x0 + 1.0)));
            Placed {
                line,
                page: pi,
                column: c,
                left,
                right,
            }
        })
        .collect()
}

/// The usual distance between two lines of body text.
fn line_pitch(placed: &[Placed], body: f32) -> f32 {
    let mut gaps: Vec<f32> = placed
        .windows(2)
        .filter(|w| w[0].page == w[1].page && w[0].column == w[1].column)
        .filter(|w| (w[0].line.size - body).abs() < 0.6 && (w[1].line.size - body).abs() < 0.6)
        .map(|w| w[1].line.y - w[0].line.y)
        .filter(|g| *g > 0.5 * body && *g < 3.0 * body)
        .collect();
    percentile(&mut gaps, 0.5).unwrap_or(1.2 * body)
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .ends_with(['.', '!', '?', ':', '"', '”', ')'])
}

/// A list item's first line: a bullet, or `(1)` / `1.` / `a)` before a capital.
fn starts_item(text: &str) -> bool {
    let t = text.trim_start();
    if t.starts_with(['•', '◦', '▪', '‣', '∙', '●', '○', '■', '–']) {
        return true;
    }
    let Some((first, rest)) = t.split_once(' ') else {
        return false;
    };
    let marker = first.trim_start_matches('(').trim_end_matches([')', '.']);
    let numbered = first.len() <= 4
        && first.ends_with([')', '.'])
        && !marker.is_empty()
        && (marker.chars().all(|c| c.is_ascii_digit())
            || (marker.len() == 1 && marker.chars().all(|c| c.is_ascii_lowercase())));
    numbered && rest.chars().next().is_some_and(char::is_uppercase)
}

fn is_caption(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("");
    let second = words.next().unwrap_or("");
    matches!(first, "Figure" | "Fig." | "Table" | "Algorithm" | "Listing")
        && second
            .trim_end_matches([':', '.', '|'])
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
        && second.len() <= 6
}

fn is_reference_start(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('[')
        && t[1..].split_once(']').is_some_and(|(n, _)| {
            !n.is_empty() && n.len() <= 4 && n.chars().all(|c| c.is_ascii_digit())
        })
}

/// Whether `b` starts a new paragraph after `a`.
fn breaks(a: &Placed, b: &Placed, pitch: f32, in_references: bool) -> bool {
    let size = b.line.size;
    if (a.line.size - b.line.size).abs() > 0.9 || is_caption(&b.line.text) {
        return true;
    }
    let same_column = a.page == b.page && a.column == b.column;
    if same_column {
        let gap = b.line.y - a.line.y;
        if gap > 1.45 * pitch.max(size) || gap < -0.5 * size {
            return true;
        }
    }
    // A first-line indent after a sentence's end starts a paragraph; after a bullet's first
    // line it is the bullet's hanging indent.
    let indented = b.line.x0 > b.left + 0.7 * size && b.line.x0 < b.left + 5.0 * size;
    let a_indented = a.line.x0 > a.left + 0.7 * size;
    if indented && !a_indented && !in_references && ends_sentence(&a.line.text) {
        return true;
    }
    if starts_item(&b.line.text) {
        return true;
    }
    let a_short = a.line.x1 < a.right - 2.5 * a.line.size;
    if a_short && ends_sentence(&a.line.text) {
        return true;
    }
    if in_references {
        // A numbered entry, or a hanging indent: the entry's first line sticks out.
        return is_reference_start(&b.line.text)
            || (same_column && b.line.x0 < a.line.x0 - 0.5 * size);
    }
    false
}

/// Every word of the text, lower-cased, but for the halves of words split at a line end.
fn vocabulary(placed: &[Placed]) -> HashSet<String> {
    let mut vocab = HashSet::new();
    let mut after_hyphen = false;
    for p in placed {
        let mut words = p.line.text.split_whitespace().peekable();
        let mut first = true;
        while let Some(w) = words.next() {
            let last = words.peek().is_none();
            let skip = (first && after_hyphen) || (last && w.ends_with('-'));
            first = false;
            if skip {
                continue;
            }
            for part in std::iter::once(w).chain(w.split('-')) {
                let clean = clean_word(part);
                if !clean.is_empty() {
                    vocab.insert(clean);
                }
            }
        }
        after_hyphen = p.line.text.trim_end().ends_with('-');
    }
    vocab
}

fn clean_word(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
        .trim_matches('-')
        .to_lowercase()
}

/// Whether `prefix-` at a line end and `suffix` at the next line's start are one word broken
/// by hyphenation (join them) or a compound (keep the hyphen).
fn is_one_word(prefix: &str, suffix: &str, vocab: &HashSet<String>) -> bool {
    let joined = clean_word(&format!("{prefix}{suffix}"));
    let known = |w: &str| {
        vocab.contains(w)
            || w.strip_suffix('s').is_some_and(|s| vocab.contains(s))
            || vocab.contains(&format!("{w}s"))
    };
    if known(&joined) {
        return true;
    }
    if vocab.contains(&clean_word(&format!("{prefix}-{suffix}"))) {
        return false;
    }
    // Neither half a word of its own (`computa-`, `tion`): hyphenation. Short halves prove
    // nothing (`in-spired`, `of-fering`).
    let head = clean_word(prefix.rsplit('-').next().unwrap_or(prefix));
    let tail = clean_word(suffix.split('-').next().unwrap_or(suffix));
    let word = |w: &str| w.chars().count() >= 4 && known(w);
    !word(&head) && !word(&tail)
}

/// Section numbering, to tell a heading from a numbered line in a table or a list.
#[derive(Default)]
struct Numbering {
    /// The numbers of the last heading, per level.
    last: Vec<u32>,
    /// The last appendix letter seen.
    letter: Option<char>,
}

/// A heading's number split into parts: `3.2` → [3, 2]; an appendix `B.1` → letter and [1].
fn parse_number(token: &str) -> Option<(Option<char>, Vec<u32>)> {
    let t = token.strip_suffix('.').unwrap_or(token);
    let mut parts = t.split('.');
    let first = parts.next()?;
    let (letter, mut nums) = if first.len() == 1 && first.chars().all(|c| c.is_ascii_uppercase()) {
        (first.chars().next(), vec![])
    } else if !first.is_empty() && first.len() <= 2 && first.chars().all(|c| c.is_ascii_digit()) {
        (None, vec![first.parse().ok()?])
    } else {
        return None;
    };
    for p in parts {
        if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        nums.push(p.parse().ok()?);
    }
    (nums.len() + usize::from(letter.is_some()) <= 4).then_some((letter, nums))
}

/// Text that can be a heading's title: short, mostly letters, capitalised, not a sentence.
fn title_like(rest: &str) -> bool {
    let words = rest.split_whitespace().count();
    let visible: Vec<char> = rest.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = visible.iter().filter(|c| c.is_alphabetic()).count();
    (1..=12).contains(&words)
        && letters * 10 >= visible.len() * 6
        && rest.chars().next().is_some_and(|c| c.is_uppercase())
        && !rest.trim_end().ends_with([',', ';', '.'])
        || rest.trim_end().ends_with("etc.")
}

impl Numbering {
    /// The heading a line would be, without taking it.
    fn peek(&self, line: &Line, body: f32) -> Option<(Option<char>, Vec<u32>, String)> {
        if line.size < body - 0.6 || line.text.chars().count() > 90 {
            return None;
        }
        let text = line.text.trim();
        let (token, rest) = text.split_once(char::is_whitespace)?;
        let (letter, nums) = parse_number(token)?;
        let rest = rest.trim();
        title_like(rest).then(|| (letter, nums, rest.to_string()))
    }

    /// The heading this line is, if it is one; takes its number.
    fn heading(
        &mut self,
        line: &Line,
        body: f32,
        numbered_doc: bool,
        in_appendix: bool,
    ) -> Option<Heading> {
        let text = line.text.trim();
        if let Some((letter, nums, rest)) = self.peek(line, body)
            && self.fits(letter, &nums, in_appendix)
        {
            let named = is_named(&rest);
            // A numbered line in the body font is a heading only where the numbering runs on.
            if letter.is_some() && !in_appendix && !named {
                return None;
            }
            self.take(letter, &nums);
            let level = (nums.len() + usize::from(letter.is_some())).max(1) as u8;
            let number = text.split_whitespace().next().unwrap_or("");
            return Some(Heading {
                level,
                title: rest,
                number: Some(number.trim_end_matches('.').to_string()),
            });
        }
        let bare = text.trim_end_matches([':', '.']).trim();
        if is_named(bare) && line.size >= body - 0.6 {
            return Some(Heading {
                level: 1,
                title: bare.to_string(),
                number: None,
            });
        }
        // Without numbered sections, a short line set larger than the body is a heading
        // (the first one on the first page is the title, which the document already has).
        if !numbered_doc
            && line.size >= body * 1.2
            && title_like(bare)
            && bare.chars().filter(|c| c.is_alphabetic()).count() >= 3
        {
            return Some(Heading {
                level: 1,
                title: bare.to_string(),
                number: None,
            });
        }
        None
    }

    /// Whether a number continues the document's numbering: the next section (a skipped one
    /// allowed), or a subsection of the current one.
    fn fits(&self, letter: Option<char>, nums: &[u32], in_appendix: bool) -> bool {
        if let Some(l) = letter {
            let next = match self.letter {
                None => l == 'A',
                Some(prev) => l == prev || (l as u8) == prev as u8 + 1,
            };
            return in_appendix && next && (nums.is_empty() || Some(l) == self.letter);
        }
        let Some((&top, subs)) = nums.split_first() else {
            return false;
        };
        let cur = self.last.first().copied().unwrap_or(0);
        if subs.is_empty() {
            return top > cur && top <= cur + 2 || (cur == 0 && top == 0);
        }
        if top != cur {
            return false;
        }
        // 3.2 after 3 or 3.1; 3.2.1 after 3.2.
        let depth = subs.len();
        let prev = self.last.get(depth).copied().unwrap_or(0);
        let parent_ok = self
            .last
            .get(1..depth)
            .is_none_or(|p| p == &subs[..depth - 1])
            || depth == 1;
        parent_ok && subs[depth - 1] > prev && subs[depth - 1] <= prev + 2
    }

    fn take(&mut self, letter: Option<char>, nums: &[u32]) {
        if let Some(l) = letter {
            self.letter = Some(l);
            return;
        }
        let mut last = nums.to_vec();
        // A new section resets its subsections' counters.
        last.truncate(nums.len());
        self.last = last;
    }
}

fn is_named(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    NAMED.contains(&t.as_str())
}

/// At most this many captions and figure fragments wait between the two halves of a
/// paragraph that a figure interrupted.
const MAX_DEFERRED: usize = 40;

/// Text assembled block by block. A paragraph that stops mid-sentence is held back: when the
/// next paragraph of body text continues it (a lowercase start), the two are one paragraph
/// that a figure, a caption or a page break cut, and the captions in between follow it.
struct Builder<'a> {
    vocab: &'a HashSet<String>,
    blocks: Vec<String>,
    paragraph: String,
    outline: Vec<Heading>,
    interrupted: Option<String>,
    deferred: Vec<String>,
}

/// A caption, or a scrap of a figure's text (a few words, no sentence).
fn is_aside(p: &str) -> bool {
    is_caption(p) || (p.split_whitespace().count() <= 8 && !ends_sentence(p))
}

impl<'a> Builder<'a> {
    fn new(vocab: &'a HashSet<String>) -> Self {
        Builder {
            vocab,
            blocks: vec![],
            paragraph: String::new(),
            outline: vec![],
            interrupted: None,
            deferred: vec![],
        }
    }

    fn end_paragraph(&mut self) {
        let p = std::mem::take(&mut self.paragraph).trim().to_string();
        if p.is_empty() {
            return;
        }
        if self.interrupted.is_some() && is_aside(&p) && self.deferred.len() < MAX_DEFERRED {
            self.deferred.push(p);
            return;
        }
        let p = match self.interrupted.take() {
            Some(mut first) if p.chars().next().is_some_and(char::is_lowercase) => {
                join_line(&mut first, &p, self.vocab);
                first
            }
            Some(first) => {
                self.blocks.push(first);
                self.blocks.append(&mut self.deferred);
                p
            }
            None => p,
        };
        if !ends_sentence(&p) && !is_aside(&p) {
            self.interrupted = Some(p);
        } else {
            self.blocks.push(p);
            self.blocks.append(&mut self.deferred);
        }
    }

    /// Whatever is held back goes out as it stands.
    fn flush(&mut self) {
        self.end_paragraph();
        if let Some(p) = self.interrupted.take() {
            self.blocks.push(p);
        }
        self.blocks.append(&mut self.deferred);
    }

    fn heading(&mut self, h: Heading) {
        self.flush();
        self.blocks.push(h.line());
        self.outline.push(h);
    }

    fn push_line(&mut self, text: &str) {
        let text = text.trim();
        if self.paragraph.is_empty() {
            self.paragraph.push_str(text);
        } else {
            join_line(&mut self.paragraph, text, self.vocab);
        }
    }

    fn finish(mut self) -> Structured {
        self.flush();
        Structured {
            text: self.blocks.join("\n\n"),
            outline: self.outline,
        }
    }
}

/// Appends a line to a paragraph: after a space, or straight on where a line-end hyphen
/// broke a word (the hyphen goes unless the halves make a compound).
fn join_line(p: &mut String, text: &str, vocab: &HashSet<String>) {
    let hyphenated = p.ends_with('-')
        && p[..p.len() - 1]
            .chars()
            .last()
            .is_some_and(char::is_alphabetic)
        && text.chars().next().is_some_and(char::is_lowercase);
    if hyphenated {
        let prefix = p[..p.len() - 1]
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or("")
            .to_string();
        let suffix = text.split_whitespace().next().unwrap_or("");
        if is_one_word(&prefix, suffix, vocab) {
            p.pop();
        }
        p.push_str(text);
    } else {
        p.push(' ');
        p.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn hyphens_are_removed_only_inside_words() {
        let v = vocab(&["information", "english", "to", "german", "trained"]);
        assert!(is_one_word("infor", "mation", &v));
        assert!(!is_one_word("English", "to-German", &v));
        assert!(!is_one_word("pre", "trained", &v));
        // Neither half is a word: a word broken by hyphenation, even if seen only here.
        assert!(is_one_word("computa", "tional", &v));
        assert!(is_one_word("in", "spired", &v));
    }

    #[test]
    fn numbers_that_run_on_are_headings() {
        let mut n = Numbering::default();
        assert!(n.fits(None, &[1], false));
        n.take(None, &[1]);
        assert!(n.fits(None, &[1, 1], false));
        n.take(None, &[1, 1]);
        assert!(n.fits(None, &[2], false));
        assert!(!n.fits(None, &[7], false), "a table row, not section 7");
        assert!(!n.fits(None, &[3, 1], false));
        assert!(!n.fits(Some('A'), &[], false));
        assert!(n.fits(Some('A'), &[], true));
    }

    proptest::proptest! {
        #[test]
        fn any_layout_is_structured_without_panic(
            lines in proptest::collection::vec(
                (-100f32..900.0, -100f32..900.0, 0.5f32..40.0, "[A-Za-z0-9 .,:\\-\\[\\]•()]{0,40}"),
                0..200,
            ),
            pages in 1usize..4,
        ) {
            let mut ps = vec![Page { width: 595.0, height: 842.0, lines: vec![] }; pages];
            for (i, (x, y, size, text)) in lines.into_iter().enumerate() {
                ps[i % pages].lines.push(Line { x0: x, x1: x + text.len() as f32 * size * 0.5, y, size, text });
            }
            let started = std::time::Instant::now();
            let s = structure(&ps);
            proptest::prop_assert!(started.elapsed() < std::time::Duration::from_secs(2));
            for h in &s.outline {
                proptest::prop_assert!(h.level >= 1 && !h.title.is_empty());
            }
        }
    }

    #[test]
    fn page_numbers() {
        for t in ["12", "- 3 -", "Page 4", "5 of 10", "iv"] {
            assert!(is_page_number(t), "{t}");
        }
        for t in ["12 monkeys", "Introduction", "3 of"] {
            assert!(!is_page_number(t), "{t}");
        }
    }
}
