//! Sentence embeddings, in-process: a sentence-transformers model of the BERT family, read
//! from a folder in the Hugging Face layout (`config.json`, `tokenizer.json`,
//! `model.safetensors`, `1_Pooling/config.json`), run on the CPU by [`bert`] (pure Rust, over
//! the mapped weights, with `gemm`'s matrix kernels). Texts are tokenised without the
//! tokenizer's own padding and truncation (all-MiniLM-L6-v2 ships one that cuts at 128 word
//! pieces, which costs 0.02 nDCG@10 on SciFact) and cut at the model's `max_seq_length`; the
//! output is pooled (mean or CLS, as the pooling config says) and L2-normalised, so a dot
//! product is the cosine.
//!
//! What differs between models is configuration, not code: pooling from
//! `1_Pooling/config.json`, the length from `sentence_bert_config.json`, and the prefixes some
//! models need (`query: ` / `passage: ` for e5, an instruction for bge queries) from the
//! `prompts` of `config_sentence_transformers.json` or an `rl-search.json` beside them.

pub mod bert;
mod config;
pub mod tiny;
mod wordpiece;

use std::path::{Path, PathBuf};

use thiserror::Error;
use tokenizers::Tokenizer;

pub use config::{ModelConfig, Pooling};

/// Word pieces run through the network together, at most: texts are packed end to end (not
/// padded) up to this many, so a call with many short sentences makes fewer, larger matrix
/// products than a fixed count of texts would (a text longer than this runs alone).
pub const BATCH_TOKENS: usize = 8_192;

#[derive(Debug, Error)]
pub enum EmbedError {
    #[error(
        "{dir} is not a sentence-transformers model folder: {what} is missing (`rl-search model pull` downloads one)"
    )]
    Missing { dir: PathBuf, what: String },
    #[error("cannot read {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("the tokenizer failed: {0}")]
    Tokenize(String),
}

/// A loaded model.
pub struct Model {
    bert: bert::Bert,
    tokenizer: Tokens,
    config: ModelConfig,
}

/// BERT's own tokenizer when the model has one (read in 2 ms), the general one otherwise.
enum Tokens {
    WordPiece(wordpiece::WordPiece),
    General(Box<Tokenizer>),
}

impl Model {
    /// Loads the model in `dir`.
    pub fn load(dir: &Path) -> Result<Model, EmbedError> {
        let (config, tokenizer_json) = ModelConfig::read(dir)?;
        let bert = bert::Bert::load(&dir.join("model.safetensors"), &config.bert)?;
        let tokenizer = load_tokenizer(
            &dir.join("tokenizer.json"),
            &tokenizer_json,
            config.max_tokens,
        )?;
        bert.prefetch();
        Ok(Model {
            bert,
            tokenizer,
            config,
        })
    }

    /// What identifies the model's vectors: a library keeps this with its vectors and never
    /// mixes them with another model's.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// The number of dimensions of a vector.
    pub fn dim(&self) -> usize {
        self.config.bert.hidden_size
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Vectors for search queries (with the model's query prefix, if it has one).
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed(texts, &self.config.query_prefix)
    }

    /// Vectors for passages of documents (with the model's passage prefix, if any).
    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed(texts, &self.config.passage_prefix)
    }

    /// The word pieces the model reads for `text` (cut at its length), special tokens included.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        Ok(match &self.tokenizer {
            Tokens::WordPiece(w) => w.encode(text, self.config.max_tokens),
            Tokens::General(g) => g
                .encode(text, true)
                .map_err(|e| EmbedError::Tokenize(e.to_string()))?
                .get_ids()
                .to_vec(),
        })
    }

    fn embed(&self, texts: &[&str], prefix: &str) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut encoded = Vec::with_capacity(texts.len());
        for t in texts {
            encoded.push(self.token_ids(&format!("{prefix}{t}"))?);
        }
        let mut out = Vec::with_capacity(texts.len());
        let (mut from, mut tokens) = (0, 0);
        for (i, t) in encoded.iter().enumerate() {
            if i > from && tokens + t.len() > BATCH_TOKENS {
                out.extend(self.run_batch(&encoded[from..i]));
                (from, tokens) = (i, 0);
            }
            tokens += t.len();
        }
        if from < encoded.len() {
            out.extend(self.run_batch(&encoded[from..]));
        }
        Ok(out)
    }

    /// One forward pass, then each text's vector: pooled over its tokens, unit length.
    fn run_batch(&self, ids: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let texts: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        let hidden = self.bert.forward(&texts);
        let h = self.dim();
        let mut at = 0;
        let mut out = Vec::with_capacity(ids.len());
        for t in &texts {
            let rows = &hidden[at * h..(at + t.len()) * h];
            at += t.len();
            let mut v = vec![0f32; h];
            match self.config.pooling {
                Pooling::Cls => v.copy_from_slice(&rows[..h.min(rows.len())]),
                Pooling::Mean => {
                    for r in rows.chunks_exact(h) {
                        for (s, x) in v.iter_mut().zip(r) {
                            *s += x;
                        }
                    }
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            for x in &mut v {
                *x /= norm;
            }
            out.push(v);
        }
        out
    }
}

/// The tokenizer `json` (the bytes of the file at `path`) describes.
fn load_tokenizer(path: &Path, json: &[u8], max_tokens: usize) -> Result<Tokens, EmbedError> {
    let bad = |e: &dyn std::fmt::Display| EmbedError::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(w) = wordpiece::WordPiece::from_json(json) {
        return Ok(Tokens::WordPiece(w));
    }
    // The crate's own message names its internal types; what the user can act on is this.
    let mut tokenizer = Tokenizer::from_bytes(json).map_err(|_| {
        bad(&"not a tokenizer file rl-search can read (download the model again: `rl-search model pull`)")
    })?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: max_tokens,
            ..Default::default()
        }))
        .map_err(|e| bad(&e))?;
    Ok(Tokens::General(Box::new(tokenizer)))
}

/// Keeps glibc from handing each large buffer back to the system when it is freed: every
/// batch allocates tens of megabytes of activations, and mapping them afresh each time cost a
/// third of the embedding speed (measured with candle's encoder: 7.1 against 10 passages a
/// second on 2 cores). For a process that embeds many passages (an update); a search embeds
/// one query and pays more for the bigger heap than it saves.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // Safety: mallopt only tunes the allocator's thresholds; any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

/// The dot product of two vectors (their cosine, for the normalised vectors of [`Model`]).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &[&str] = &[
        "zebra",
        "query",
        "passage",
        ":",
        "stripes",
        "attention",
        "is",
        "all",
        "you",
        "need",
        "a",
        "the",
    ];

    #[test]
    fn vectors_are_unit_length_and_padding_does_not_change_them() {
        let dir = tempfile::tempdir().unwrap();
        tiny::write(dir.path(), WORDS).unwrap();
        let m = Model::load(dir.path()).unwrap();
        assert_eq!(m.dim(), 32);
        let short = "zebra stripes";
        let long = "attention is all you need, the zebra stripes all you need is attention";
        let alone = m.embed_passages(&[short]).unwrap().remove(0);
        // In a batch with a longer text, the short one is padded on the right: same vector.
        let batch = m.embed_passages(&[long, short]).unwrap();
        let norm: f32 = alone.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        for (a, b) in alone.iter().zip(&batch[1]) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        assert!(
            dot(&alone, &batch[0]) < 0.9999,
            "different texts, different vectors"
        );
        // The same model folder has the same id; another model another.
        assert_eq!(Model::load(dir.path()).unwrap().id(), m.id());
        let other = tempfile::tempdir().unwrap();
        tiny::write(other.path(), WORDS).unwrap();
        assert_ne!(
            Model::load(other.path()).unwrap().id(),
            m.id(),
            "random weights differ"
        );
    }

    #[test]
    fn prefixes_and_pooling_come_from_configuration() {
        let dir = tempfile::tempdir().unwrap();
        tiny::write(dir.path(), WORDS).unwrap();
        std::fs::write(
            dir.path().join("rl-search.json"),
            br#"{"query_prefix": "query: ", "passage_prefix": "passage: ", "pooling": "cls"}"#,
        )
        .unwrap();
        let m = Model::load(dir.path()).unwrap();
        assert_eq!(m.config().pooling, Pooling::Cls);
        assert_eq!(m.config().query_prefix, "query: ");
        let q = m.embed_queries(&["zebra"]).unwrap().remove(0);
        let p = m.embed_passages(&["zebra"]).unwrap().remove(0);
        assert!(dot(&q, &p) < 0.9999, "the prefixes make the texts differ");
    }

    #[test]
    fn a_folder_that_is_not_a_model_says_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let e = Model::load(dir.path()).err().unwrap().to_string();
        assert!(
            e.contains("config.json is missing") && e.contains("model pull"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
}
