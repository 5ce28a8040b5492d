//! Text analysis, the bottom layer every other use of words builds on: the index writer
//! registers [`TOKENIZER`] on its fields; the ranking, feedback, snippets and nearest documents
//! turn text into the index's terms with [`analyze`], weigh them with [`idf`] and skip
//! [`STOP_WORDS`]. One place, so the index and every reader of it agree on what a word is.

use tantivy::tokenizer::TextAnalyzer;

/// The analyzer of every text field (and of queries and highlighting): words, lower-cased,
/// English-stemmed; Tantivy registers it in every index.
pub const TOKENIZER: &str = "en_stem";

/// Lucene's English stop words (the list Anserini's BM25 runs use).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Context words are never these (a longer list than the query's: here only content counts).
pub const CONTEXT_STOP_WORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "have", "his", "how", "its", "may", "new", "now", "see", "way",
    "who", "did", "get", "use", "that", "with", "this", "from", "they", "will", "would", "there",
    "their", "what", "about", "which", "when", "make", "like", "time", "just", "know", "take",
    "into", "your", "some", "could", "them", "than", "then", "these", "other", "only", "also",
    "more", "most", "such", "been", "were", "each", "where", "does", "here", "very", "over",
];

/// The tokens of `text` as the index has them (lower-cased, stemmed).
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

/// BM25's inverse document frequency (Lucene's, never negative).
pub fn idf(num_docs: f32, df: f32) -> f32 {
    (1.0 + (num_docs - df + 0.5) / (df + 0.5)).ln()
}

/// What to look for in a body to place the snippet: the start of each query word (its first
/// three quarters, so "scaling" also finds "scaled"), lowercased; operators and fields dropped.
pub fn needles(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric() && c != ':' && c != '-')
        .filter(|w| !w.starts_with('-') && *w != "OR" && *w != "AND")
        .map(|w| w.rsplit(':').next().unwrap_or(w).to_lowercase())
        .filter(|w| w.chars().count() >= 3)
        .map(|w| {
            let keep = (w.chars().count() * 3 / 4).max(3);
            w.chars().take(keep).collect()
        })
        .collect()
}

/// `text` lower-cased for finding `needles` (from [`needles`]) in it by byte offset, or
/// `None` when lower-casing would move offsets (a few characters, such as `İ`, change
/// length). For ASCII needles the text is lower-cased byte by byte — the same matches as
/// Unicode lower-casing once no character changes length, at a fraction of the cost on a
/// 100 KB paper (std's `to_lowercase` leaves its fast path at the first curly quote).
pub fn lower_for(text: &str, needles: &[String]) -> Option<String> {
    if !needles.iter().all(|n| n.is_ascii()) {
        let lower = text.to_lowercase();
        return (lower.len() == text.len()).then_some(lower);
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = next_non_ascii(bytes, i) {
        let c = text[at..].chars().next()?;
        if c.to_lowercase().map(char::len_utf8).sum::<usize>() != c.len_utf8() {
            return None;
        }
        i = at + c.len_utf8();
    }
    Some(text.to_ascii_lowercase())
}

/// The first byte at or after `from` that is not ASCII, eight bytes at a time.
fn next_non_ascii(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        if word & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&x| x >= 0x80).map(|p| i + p)
}

/// [`analyze`] for long runs of text: each distinct word is stemmed once. Feedback reads
/// thousands of words of context, a few hundred of them different, and stemming costs some
/// two thousand instructions a word. The words are cut and lower-cased as the index's
/// analyzer does (its stemmer sees one word at a time either way), so the terms are the same.
pub struct CachedAnalyzer {
    words: TextAnalyzer,
    stem: TextAnalyzer,
    seen: std::collections::HashMap<String, Option<String>>,
}

impl CachedAnalyzer {
    /// `stem` is the index's analyzer for the field (see [`TOKENIZER`]).
    pub fn new(stem: TextAnalyzer) -> CachedAnalyzer {
        use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer};
        CachedAnalyzer {
            words: TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .build(),
            stem,
            seen: Default::default(),
        }
    }

    pub fn analyze(&mut self, text: &str) -> Vec<String> {
        let mut out = vec![];
        let mut stream = self.words.token_stream(text);
        while let Some(t) = stream.next() {
            let term = match self.seen.get(&t.text) {
                Some(term) => term.clone(),
                None => {
                    let term = analyze(&mut self.stem, &t.text).into_iter().next();
                    self.seen.insert(t.text.clone(), term.clone());
                    term
                }
            };
            out.extend(term);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_casing_keeps_offsets_or_says_it_cannot() {
        let ascii = ["laws".to_string()];
        let wide = ["über".to_string()];
        assert_eq!(
            lower_for("Scaling LAWS", &ascii).as_deref(),
            Some("scaling laws")
        );
        // ASCII needles match what Unicode lower-casing would give them, offsets kept.
        let text = "“Scaling LAWS” — ÜBER Σ";
        let fast = lower_for(text, &ascii).unwrap();
        let full = text.to_lowercase();
        assert_eq!(fast.len(), text.len());
        assert_eq!(
            fast.match_indices("laws").collect::<Vec<_>>(),
            full.match_indices("laws").collect::<Vec<_>>()
        );
        assert_eq!(lower_for("ÜBER", &wide).as_deref(), Some("über"));
        assert_eq!(lower_for("İstanbul laws", &ascii), None);
        assert_eq!(lower_for("İstanbul", &wide), None);
        let long = format!("{}İ", "a".repeat(37));
        assert_eq!(
            lower_for(&long, &ascii),
            None,
            "found past the 8-byte steps"
        );
    }

    #[test]
    fn the_cached_analyzer_gives_the_index_terms() {
        let index = tantivy::tokenizer::TokenizerManager::default()
            .get(TOKENIZER)
            .unwrap();
        let text = "Scaling laws: models SCALED and scaling; Über-Modelle, naïve dying 3.5B \
            pneumonoultramicroscopicsilicovolcanoconiosislongerthanforty words";
        let mut cached = CachedAnalyzer::new(index.clone());
        let want = analyze(&mut index.clone(), text);
        assert_eq!(cached.analyze(text), want);
        assert_eq!(cached.analyze(text), want, "and again from the cache");
    }
}
