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
