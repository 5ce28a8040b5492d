//! BERT's tokenizer, read from `tokenizer.json` in a few milliseconds: the `tokenizers` crate
//! takes 15–20 ms to build its general pipeline from the same file — the largest part of a
//! search's model load — where a BERT model needs one vocabulary and four rules.
//!
//! It is used only when the file describes exactly that pipeline (`BertNormalizer`,
//! `BertPreTokenizer`, a `WordPiece` model, `[CLS] text [SEP]` around it, special tokens
//! matched as written); anything else goes through the `tokenizers` crate. The steps are
//! those of the crate's own implementation, on the same Unicode tables (`unicode_categories`,
//! `unicode-normalization-alignments`), and a test compares the two on random text.

use rustc_hash::FxHashMap;

use serde::Deserialize;
use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::UnicodeNormalization;

pub struct WordPiece {
    vocab: FxHashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    prefix: String,
    max_chars: usize,
    clean_text: bool,
    chinese: bool,
    strip_accents: bool,
    lowercase: bool,
    /// Special tokens as they may appear in the text, longest first.
    specials: Vec<(String, u32)>,
}

#[derive(Deserialize)]
struct File {
    normalizer: Option<Normalizer>,
    pre_tokenizer: Option<Typed>,
    post_processor: Option<serde_json::Value>,
    model: Model,
    #[serde(default)]
    added_tokens: Vec<Added>,
}

#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Normalizer {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "yes")]
    clean_text: bool,
    #[serde(default = "yes")]
    handle_chinese_chars: bool,
    #[serde(default)]
    strip_accents: Option<bool>,
    #[serde(default = "yes")]
    lowercase: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Model {
    #[serde(rename = "type")]
    kind: String,
    unk_token: String,
    #[serde(default = "hashes")]
    continuing_subword_prefix: String,
    #[serde(default = "hundred")]
    max_input_chars_per_word: usize,
    #[serde(deserialize_with = "vocabulary")]
    vocab: FxHashMap<String, u32>,
}

/// The vocabulary, in a map made big enough at once: JSON does not say how many entries
/// follow, and growing a map of 30,522 words rehashes it a dozen times on every model load.
fn vocabulary<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FxHashMap<String, u32>, D::Error> {
    struct Words;
    impl<'de> serde::de::Visitor<'de> for Words {
        type Value = FxHashMap<String, u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of word pieces to ids")
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut m: M,
        ) -> Result<Self::Value, M::Error> {
            // BERT's vocabularies hold about 30,000 pieces.
            let mut out = FxHashMap::with_capacity_and_hasher(
                m.size_hint().unwrap_or(32_768),
                Default::default(),
            );
            while let Some((k, v)) = m.next_entry()? {
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Words)
}

fn hashes() -> String {
    "##".into()
}
fn hundred() -> usize {
    100
}

#[derive(Deserialize)]
struct Added {
    id: u32,
    content: String,
    #[serde(default)]
    single_word: bool,
    #[serde(default)]
    lstrip: bool,
    #[serde(default)]
    rstrip: bool,
    #[serde(default)]
    normalized: bool,
}

impl WordPiece {
    /// The tokenizer `json` describes, if it is BERT's (`None`: another pipeline).
    pub fn from_json(json: &[u8]) -> Option<WordPiece> {
        let f: File = serde_json::from_slice(json).ok()?;
        let n = f.normalizer?;
        if n.kind != "BertNormalizer"
            || f.pre_tokenizer?.kind != "BertPreTokenizer"
            || f.model.kind != "WordPiece"
        {
            return None;
        }
        let (cls, sep) = cls_sep(&f.post_processor?)?;
        let mut specials = vec![];
        for a in &f.added_tokens {
            // Tokens matched after normalisation, or only as whole words: not this reader's.
            if a.normalized || a.single_word || a.lstrip || a.rstrip {
                return None;
            }
            // An empty token would match everywhere (and never move past its match).
            if !a.content.is_empty() {
                specials.push((a.content.clone(), a.id));
            }
        }
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Some(WordPiece {
            unk: *f.model.vocab.get(&f.model.unk_token)?,
            vocab: f.model.vocab,
            cls,
            sep,
            prefix: f.model.continuing_subword_prefix,
            max_chars: f.model.max_input_chars_per_word,
            clean_text: n.clean_text,
            chinese: n.handle_chinese_chars,
            strip_accents: n.strip_accents.unwrap_or(n.lowercase),
            lowercase: n.lowercase,
            specials,
        })
    }

    /// Token ids of `text` with `[CLS]` and `[SEP]`, at most `max_len` of them (the text's
    /// end is cut, as the `tokenizers` crate's truncation does).
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let room = max_len.saturating_sub(2);
        let mut ids = vec![];
        let mut rest = text;
        while !rest.is_empty() && ids.len() < room {
            // The earliest special token written in the text (the longest at a tie).
            let found = self
                .specials
                .iter()
                .filter_map(|(s, id)| rest.find(s.as_str()).map(|at| (at, s.len(), *id)))
                .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let (plain, special) = match found {
                Some((at, len, id)) => (&rest[..at], Some((len, id, at))),
                None => (rest, None),
            };
            self.plain(plain, &mut ids);
            match special {
                Some((len, id, at)) => {
                    ids.push(id);
                    rest = &rest[at + len..];
                }
                None => rest = "",
            }
        }
        ids.truncate(room);
        let mut out = Vec::with_capacity(ids.len() + 2);
        out.push(self.cls);
        out.extend(ids);
        out.push(self.sep);
        out
    }

    /// Normalises, splits and word-pieces text without special tokens.
    fn plain(&self, text: &str, ids: &mut Vec<u32>) {
        let mut s = String::with_capacity(text.len());
        for c in text.chars() {
            if self.clean_text {
                if c == '\0' || c == '\u{fffd}' || is_control(c) {
                    continue;
                }
                if is_whitespace(c) {
                    s.push(' ');
                    continue;
                }
            }
            if self.chinese && is_chinese(c) {
                s.push(' ');
                s.push(c);
                s.push(' ');
            } else {
                s.push(c);
            }
        }
        if self.strip_accents {
            s = s
                .as_str()
                .nfd()
                .map(|(c, _)| c)
                .filter(|c| !c.is_mark_nonspacing())
                .collect();
        }
        if self.lowercase {
            s = s.chars().flat_map(char::to_lowercase).collect();
        }
        for word in s.split(char::is_whitespace).filter(|w| !w.is_empty()) {
            // Each punctuation character is a word of its own.
            let mut start = 0;
            for (i, c) in word.char_indices() {
                if c.is_ascii_punctuation() || c.is_punctuation() {
                    if start < i {
                        self.word(&word[start..i], ids);
                    }
                    self.word(&word[i..i + c.len_utf8()], ids);
                    start = i + c.len_utf8();
                }
            }
            if start < word.len() {
                self.word(&word[start..], ids);
            }
        }
    }

    /// Greedy longest-match-first word pieces; a word with a part not in the vocabulary is
    /// one unknown token.
    fn word(&self, word: &str, ids: &mut Vec<u32>) {
        if word.chars().count() > self.max_chars {
            ids.push(self.unk);
            return;
        }
        let mut pieces = vec![];
        let mut start = 0;
        let mut buf = String::new();
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                let piece = if start > 0 {
                    buf.clear();
                    buf.push_str(&self.prefix);
                    buf.push_str(&word[start..end]);
                    buf.as_str()
                } else {
                    &word[start..end]
                };
                if let Some(&id) = self.vocab.get(piece) {
                    found = Some(id);
                    break;
                }
                end -= word[start..end].chars().last().map_or(1, char::len_utf8);
            }
            match found {
                Some(id) => pieces.push(id),
                None => {
                    ids.push(self.unk);
                    return;
                }
            }
            start = end;
        }
        ids.extend(pieces);
    }
}

/// The ids put before and after a single text, if the post-processor is BERT's.
fn cls_sep(p: &serde_json::Value) -> Option<(u32, u32)> {
    let id = |v: &serde_json::Value| v.get(1)?.as_u64().map(|x| x as u32);
    match p.get("type")?.as_str()? {
        "BertProcessing" => Some((id(p.get("cls")?)?, id(p.get("sep")?)?)),
        "TemplateProcessing" => {
            let single = p.get("single")?.as_array()?;
            let special = |v: &serde_json::Value| -> Option<u32> {
                let name = v.get("SpecialToken")?.get("id")?.as_str()?;
                let ids = p.get("special_tokens")?.get(name)?.get("ids")?.as_array()?;
                if ids.len() != 1 {
                    return None;
                }
                ids[0].as_u64().map(|x| x as u32)
            };
            let [first, middle, last] = single.as_slice() else {
                return None;
            };
            if middle.get("Sequence")?.get("id")?.as_str()? != "A" {
                return None;
            }
            Some((special(first)?, special(last)?))
        }
        _ => None,
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "the",
        "model",
        "make",
        "things",
        "up",
        "un",
        "##able",
        "##s",
        "##ing",
        "run",
        "attention",
        "é",
        "e",
        "caf",
        "##e",
        "café",
        "naive",
        "日",
        "本",
        "!",
        "?",
        "-",
        "'",
        "(",
        ")",
        "a",
        "##a",
        "ß",
        "ss",
        "σ",
        "ς",
        "i̇",
        "1",
        "##1",
        "2024",
    ];

    fn both() -> (WordPiece, tokenizers::Tokenizer, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        crate::embed::tiny::write(dir.path(), WORDS).unwrap();
        let json = std::fs::read(dir.path().join("tokenizer.json")).unwrap();
        let fast = WordPiece::from_json(&json).expect("a BERT tokenizer");
        let mut slow = tokenizers::Tokenizer::from_bytes(&json).unwrap();
        slow.with_padding(None);
        (fast, slow, dir)
    }

    fn slow_ids(t: &mut tokenizers::Tokenizer, text: &str, max: usize) -> Vec<u32> {
        t.with_truncation(Some(tokenizers::TruncationParams {
            max_length: max,
            ..Default::default()
        }))
        .unwrap();
        t.encode(text, true).unwrap().get_ids().to_vec()
    }

    #[test]
    fn known_texts_tokenise_as_the_tokenizers_crate_does() {
        let (fast, mut slow, _dir) = both();
        for text in [
            "Unable to run the model!",
            "  Café  naïve\u{301} 日本 runs\t(2024) [CLS] [SEP]x [MASK]",
            "STRASSE Straße ΣΑΣ İstanbul \u{0}\u{fffd}\u{200b}zero\u{7}width",
            "unrunnable---!!?? a'a ##a",
            &"a".repeat(150),
            "",
        ] {
            for max in [4, 16, 64] {
                assert_eq!(
                    fast.encode(text, max),
                    slow_ids(&mut slow, text, max),
                    "{text:?} at {max}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn random_text_tokenises_as_the_tokenizers_crate_does(
            parts in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(WORDS.to_vec()).prop_map(String::from),
                    proptest::sample::select(vec![
                        " ", "  ", "\t", "\n", "\u{a0}", "\u{3000}", "[CLS]", "[UNK]", "[PAD]",
                        "\u{301}", "\u{200d}", "\u{feff}", "😀", "🇫🇷", "Ⅻ", "ﬁ", "İ", "Å", "ǅ",
                        "\u{e000}", "\u{1f}", "¿", "«", "»", "—", "…", "・", "٪", "אב", "ك",
                    ]).prop_map(String::from),
                    "\\PC{0,6}",
                ],
                0..24,
            ),
            max in 3usize..40,
        ) {
            let (fast, mut slow, _dir) = both();
            let text = parts.concat();
            prop_assert_eq!(fast.encode(&text, max), slow_ids(&mut slow, &text, max), "{:?}", text);
        }
    }
}
