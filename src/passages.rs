//! Documents cut into passages for meaning search: about [`WORDS`] words each, along
//! paragraphs (the extractor's blank lines, which follow the outline), a paragraph longer
//! than a passage cut at sentence ends, and each passage after the first repeating the last
//! sentence before it, so a thought split at a boundary is whole in one of the two. Each
//! passage is embedded with the document's title in front: a passage deep in a paper still
//! says what it is about. A model reads at most 256 word pieces, about 190 words; 200 words
//! of text plus a title fits nearly always, and the rest is cut by the tokenizer.

use std::ops::Range;

/// Words in a passage, about.
pub const WORDS: usize = 200;
/// Passages kept per document: 1,000 × 200 words is a book; past that the end of a document
/// is searched by its words only.
pub const MAX_PASSAGES: usize = 1_000;
/// Longest overlap carried into the next passage, in words.
const OVERLAP_WORDS: usize = 40;

/// The byte ranges of `text`'s passages, in order; none for a text without words.
pub fn cut(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = vec![];
    // Units: paragraphs, and sentences of paragraphs too long for one passage.
    let mut units: Vec<Range<usize>> = vec![];
    for para in ranges_split(text, "\n\n") {
        let words = text[para.clone()].split_whitespace().count();
        if words == 0 {
            continue;
        }
        if words <= WORDS {
            units.push(para);
        } else {
            units.extend(passage_sentences(text, para));
        }
    }
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut count = 0;
    let mut last_unit: Option<Range<usize>> = None;
    for u in units {
        let n = text[u.clone()].split_whitespace().count();
        if count > 0 && count + n > WORDS {
            out.push(start.unwrap_or(0)..end);
            if out.len() >= MAX_PASSAGES {
                return out;
            }
            // The last sentence before the cut opens the next passage, when it is short.
            let carry = last_unit
                .as_ref()
                .and_then(|l| passage_sentences(text, l.clone()).pop())
                .filter(|s| text[(*s).clone()].split_whitespace().count() <= OVERLAP_WORDS);
            match carry {
                Some(s) => {
                    count = text[s.clone()].split_whitespace().count();
                    start = Some(s.start);
                }
                None => {
                    count = 0;
                    start = None;
                }
            }
        }
        if start.is_none() {
            start = Some(u.start);
        }
        end = u.end;
        count += n;
        last_unit = Some(u);
    }
    if count > 0 {
        out.push(start.unwrap_or(0)..end);
    }
    out.truncate(MAX_PASSAGES);
    out
}

/// Sentences embedded per document, at most: past that a document is matched sentence by
/// sentence only in its first part (its passages still cover [`MAX_PASSAGES`]).
pub const MAX_SENTENCES: usize = 5_000;
/// A sentence shorter than this (in words) joins the next one: "Results." or a figure's
/// label says too little on its own.
const SHORT_SENTENCE: usize = 6;
/// Longest sentence, in words; a longer run (a table, a reference list) is cut.
const SENTENCE_WORDS: usize = 80;

/// The byte ranges of `text`'s sentences, for matching a query against each claim a document
/// makes (a passage's vector blends its sentences). A sentence ends at `.`, `!` or `?`
/// followed by a space and a character that is not a lower-case letter, so "e.g. this" and
/// "et al. found" stay whole; paragraphs always end one.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = vec![];
    for para in ranges_split(text, "\n\n") {
        let first = out.len();
        let mut pending: Option<Range<usize>> = None;
        for s in stops(text, para, true) {
            let r = match pending.take() {
                Some(p) => p.start..s.end,
                None => s,
            };
            if text[r.clone()].split_whitespace().count() < SHORT_SENTENCE {
                pending = Some(r);
                continue;
            }
            push_capped(text, r, SENTENCE_WORDS, &mut out);
        }
        if let Some(p) = pending {
            // A short last sentence joins the one before it, in the same paragraph.
            if out.len() > first {
                let last = out.pop().expect("a sentence of this paragraph");
                push_capped(text, last.start..p.end, SENTENCE_WORDS, &mut out);
            } else {
                push_capped(text, p, SENTENCE_WORDS, &mut out);
            }
        }
        if out.len() >= MAX_SENTENCES {
            out.truncate(MAX_SENTENCES);
            break;
        }
    }
    out
}

/// The sentences of a range, ended after `.`, `!` or `?` and a space — with `strict`, only
/// where what follows is not a lower-case letter ([`sentences`]); empty ones left out.
fn stops(text: &str, r: Range<usize>, strict: bool) -> Vec<Range<usize>> {
    let s = &text[r.clone()];
    let mut out = vec![];
    let mut from = 0;
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices(' ') {
        let ends = i > 0 && matches!(bytes[i - 1], b'.' | b'!' | b'?');
        let next_lower = || {
            s[i..]
                .trim_start()
                .chars()
                .next()
                .is_some_and(char::is_lowercase)
        };
        if ends && !(strict && next_lower()) {
            out.push(trim(text, r.start + from..r.start + i));
            from = i + 1;
        }
    }
    out.push(trim(text, r.start + from..r.end));
    out.retain(|x| !x.is_empty());
    out
}

/// Pushes `r`, cut into runs of at most `max` words.
fn push_capped(text: &str, r: Range<usize>, max: usize, out: &mut Vec<Range<usize>>) {
    let words: Vec<(usize, &str)> = text[r.clone()]
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
        .collect();
    if words.len() <= max {
        out.push(r);
        return;
    }
    for chunk in words.chunks(max) {
        let (first, _) = chunk[0];
        let (last, w) = chunk[chunk.len() - 1];
        out.push(first..last + w.len());
    }
}

/// The text a passage is embedded as: the title, then the passage on one line.
pub fn embedding_text(title: &str, passage: &str) -> String {
    let body = passage.split_whitespace().collect::<Vec<_>>().join(" ");
    let title = title.trim();
    if title.is_empty() {
        body
    } else {
        format!("{title}. {body}")
    }
}

/// Ranges of `text` between occurrences of `sep`, trimmed of whitespace.
fn ranges_split<'a>(text: &'a str, sep: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at > text.len() {
            return None;
        }
        let end = text[at..].find(sep).map_or(text.len(), |i| at + i);
        let r = trim(text, at..end);
        at = end + sep.len();
        Some(r)
    })
}

fn trim(text: &str, r: Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let tail = s.len() - s.trim_end().len();
    (r.start + lead)..(r.end - tail).max(r.start + lead)
}

/// Sentences of a range (after `.`, `!` or `?` and a space), each at most [`WORDS`] words: a
/// run-on "sentence" (a table, a list of references) is cut by word count.
fn passage_sentences(text: &str, r: Range<usize>) -> Vec<Range<usize>> {
    let mut out = vec![];
    for s in stops(text, r, false) {
        push_capped(text, s, WORDS, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize, tag: &str) -> String {
        (0..n)
            .map(|i| format!("{tag}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn sentences_end_at_stops_before_a_capital_and_short_ones_join_the_next() {
        let text = "Results. Mice fed e.g. rice grew by 20% over six weeks. Rats did not grow at all. \
                    Fine.\n\nA second paragraph is its own sentence here";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            [
                "Results. Mice fed e.g. rice grew by 20% over six weeks.",
                "Rats did not grow at all. Fine.",
                "A second paragraph is its own sentence here",
            ]
        );
        let long = format!("{}.", words(200, "w"));
        let cut_up = sentences(&long);
        assert_eq!(cut_up.len(), 3, "a run-on sentence is cut by words");
        assert!(sentences("   ").is_empty());
        // Any script: ranges stay on character boundaries.
        let cjk = "这是一个句子。 これは文です! Ещё одно предложение? مرحبا بالعالم. 🎉🎉 done";
        for r in sentences(cjk) {
            assert!(cjk.get(r).is_some());
        }
    }

    #[test]
    fn short_texts_are_one_passage_and_empty_ones_none() {
        assert_eq!(cut("A title\n\nAn abstract of a paper."), vec![0..32]);
        assert!(cut("  \n\n ").is_empty());
    }

    #[test]
    fn paragraphs_are_kept_together_and_long_ones_cut_at_sentences() {
        let p1 = format!("{}.", words(120, "a"));
        let p2 = format!("{}.", words(120, "b"));
        let long: String = (0..12)
            .map(|i| format!("{}. ", words(30, &format!("s{i}x"))))
            .collect();
        let text = format!("{p1}\n\n{p2}\n\n{long}");
        let ps = cut(&text);
        // p1 alone (p1 + p2 would be 240 words), then p2 with the start of the long one.
        assert_eq!(&text[ps[0].clone()], p1);
        assert!(text[ps[1].clone()].starts_with("a0 ") || text[ps[1].clone()].starts_with("b0"));
        for p in &ps {
            let n = text[p.clone()].split_whitespace().count();
            assert!(n <= WORDS + OVERLAP_WORDS, "{n} words");
            assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end));
        }
        // Every word of the text is in some passage.
        for w in text.split_whitespace() {
            assert!(ps.iter().any(|p| text[p.clone()].contains(w)), "{w}");
        }
        // Consecutive passages share the sentence at the cut.
        let last_words = |r: &Range<usize>| {
            text[r.clone()]
                .split_whitespace()
                .last()
                .unwrap()
                .to_string()
        };
        assert!(
            ps.windows(2)
                .any(|w| text[w[1].clone()].contains(&last_words(&w[0])))
        );
    }

    #[test]
    fn any_script_and_run_on_text_is_cut_on_character_boundaries() {
        let text = "注意力机制 ".repeat(700) + "\n\n" + &"مرحبا بالعالم ".repeat(300);
        let ps = cut(&text);
        assert!(ps.len() >= 3, "{}", ps.len());
        for p in ps {
            assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end));
        }
        assert_eq!(embedding_text(" T ", "a\n b"), "T. a b");
    }
}
