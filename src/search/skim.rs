//! The analyzer snippets are cut with: the index's own (`en_stem`: words, long ones dropped,
//! lower-cased, English-stemmed) with one filter before the stemmer that blanks every word
//! which cannot stem to a marked term, so only the few that can are stemmed. Stemming was
//! two thirds of a search on the seed library (2,200 instructions a word).
//!
//! Why it is exact: the English Snowball stemmer works on suffixes and keeps a word's first two
//! letters — but for `dying`, `lying`, `tying` (→ `die`, `lie`, `tie`), so a second letter `y`
//! counts as `i` — or leaves fewer than two (`oed` → `o`). Checked on all 35,734 words of the
//! SciFact corpus against Snowball's reference implementation. So a word whose key (first
//! letter, second letter with `y` as `i`) starts no marked term cannot stem to one; when a
//! term is shorter than two letters nothing is skipped. Only ASCII words are skipped; any
//! other is stemmed as before. A blank token matches no term and keeps its offsets, so the
//! snippet generator scores and cuts exactly as with the index's analyzer.

use std::collections::HashSet;
use std::sync::Arc;

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// The analyzer for marking `terms` (stems, as the index has them).
pub fn analyzer<'a>(terms: impl IntoIterator<Item = &'a str>) -> TextAnalyzer {
    let mut starts: Option<HashSet<[u8; 2]>> = Some(HashSet::new());
    for t in terms {
        match (key(t.as_bytes()), starts.as_mut()) {
            (Some(k), Some(set)) => {
                set.insert(k);
            }
            // A one-letter stem: any word might stem to it.
            (None, _) => starts = None,
            _ => {}
        }
    }
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(BlankUnmatchable {
            starts: starts.map(Arc::new),
        })
        .filter(Stemmer::new(Language::English))
        .build()
}

/// What the stemmer keeps of a word: its first letter, and its second with `y` read as `i`.
fn key(b: &[u8]) -> Option<[u8; 2]> {
    match b {
        [a, b'y', ..] => Some([*a, b'i']),
        [a, b, ..] => Some([*a, *b]),
        _ => None,
    }
}

/// Blanks ASCII words of 3 letters or more whose key starts no term (shorter words are never
/// stemmed, so they pass as they are); `None`: blanks nothing.
#[derive(Clone)]
struct BlankUnmatchable {
    starts: Option<Arc<HashSet<[u8; 2]>>>,
}

impl TokenFilter for BlankUnmatchable {
    type Tokenizer<T: Tokenizer> = BlankUnmatchableFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> Self::Tokenizer<T> {
        BlankUnmatchableFilter {
            inner: tokenizer,
            starts: self.starts,
        }
    }
}

#[derive(Clone)]
pub struct BlankUnmatchableFilter<T> {
    inner: T,
    starts: Option<Arc<HashSet<[u8; 2]>>>,
}

impl<T: Tokenizer> Tokenizer for BlankUnmatchableFilter<T> {
    type TokenStream<'a> = BlankUnmatchableStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        BlankUnmatchableStream {
            inner: self.inner.token_stream(text),
            starts: self.starts.as_deref(),
        }
    }
}

pub struct BlankUnmatchableStream<'a, S> {
    inner: S,
    starts: Option<&'a HashSet<[u8; 2]>>,
}

impl<S: TokenStream> TokenStream for BlankUnmatchableStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.inner.advance() {
            return false;
        }
        let Some(starts) = self.starts else {
            return true;
        };
        let text = &mut self.inner.token_mut().text;
        if text.len() >= 3
            && text.is_ascii()
            && key(text.as_bytes()).is_some_and(|k| !starts.contains(&k))
        {
            text.clear();
        }
        true
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
        let mut out = vec![];
        let mut s = a.token_stream(text);
        while let Some(t) = s.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to));
        }
        out
    }

    /// The property the filter rests on, over words chosen to stress the stemmer's rules and
    /// its exceptions: the stem keeps the word's first two letters.
    #[test]
    fn the_english_stemmer_keeps_the_first_two_letters() {
        let words = "dying lying tying skies skis idly gently ugly early only singly sky news \
            howe atlas cosmos bias andes generously communication arsenal yelling yes young \
            ayes boys saying hopping hoping caresses ponies ties caress cats feed agreed \
            plastered bled motoring sing conflated troubled sized hopping tanned falling \
            hissing fizzed failing filing happy sky relational conditional rational valenci \
            hesitanci digitizer conformabli radicalli differentli vileli analogousli \
            vietnamization predication operator feudalism decisiveness hopefulness \
            callousness formaliti sensitiviti sensibiliti triplicate formative formalize \
            electriciti electrical hopeful goodness revival allowance inference airliner \
            gyroscopic adjustable defensible irritant replacement adjustment dependent \
            adoption homologou communism activate angulariti homologous effective bowdlerize \
            probate rate cease controll roll xylophone yttrium aa abc transformers scaling \
            inning outing canning herring earring proceed exceed succeed oed cry dye";
        let mut stem = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        for w in words.split_whitespace() {
            let s = &tokens(&mut stem, w)[0].0;
            if s.len() >= 2 {
                assert_eq!(key(s.as_bytes()), key(w.as_bytes()), "{w} → {s}");
            }
        }
    }

    /// Same terms, same offsets as the index's analyzer for every word that could match.
    #[test]
    fn words_that_can_match_are_stemmed_as_the_index_does() {
        let text = "Scaling laws: the models SCALED, scales and Über-scaling; dying skies, oed.";
        let mut full = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        let want = tokens(&mut full, text);
        let mut skim = analyzer(["scale", "law", "die"]);
        let got = tokens(&mut skim, text);
        assert_eq!(want.len(), got.len());
        for (w, g) in want.iter().zip(&got) {
            assert_eq!((w.1, w.2), (g.1, g.2), "offsets");
            if ["scale", "law", "die"].contains(&w.0.as_str()) {
                assert_eq!(w.0, g.0);
            } else {
                assert!(g.0.is_empty() || g.0 == w.0, "{w:?} {g:?}");
            }
        }
        assert!(got.iter().any(|t| t.0 == "scale"));
        assert!(
            got.iter().any(|t| t.0 == "die"),
            "dying → die though \"dy\" ≠ \"di\""
        );
        assert!(got.iter().any(|t| t.0.is_empty()), "the rest is blanked");
        // A one-letter term (`oed` → `o`): nothing can be skipped.
        let mut all = analyzer(["o"]);
        assert_eq!(tokens(&mut all, text), want);
    }
}
