//! Sentence embeddings, in-process: a sentence-transformers model of the BERT family, read
//! from a folder in the Hugging Face layout (`config.json`, `tokenizer.json`,
//! `model.safetensors`, `1_Pooling/config.json`), run on the CPU with candle (pure Rust, the
//! model code is candle-transformers' BERT, as in candle's own BERT example). Texts are
//! tokenised without the tokenizer's own padding and truncation (all-MiniLM-L6-v2 ships one
//! that cuts at 128 word pieces, which costs 0.02 nDCG@10 on SciFact), cut at the model's
//! `max_seq_length`, sorted by length and padded on the right per batch; the output is
//! pooled (mean or CLS, as the pooling config says) and L2-normalised, so a dot product is
//! the cosine.
//!
//! What differs between models is configuration, not code: pooling from
//! `1_Pooling/config.json`, the length from `sentence_bert_config.json`, and the prefixes some
//! models need (`query: ` / `passage: ` for e5, an instruction for bge queries) from the
//! `prompts` of `config_sentence_transformers.json` or an `rl-search.json` beside them.

mod config;
pub mod tiny;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::BertModel;
use thiserror::Error;
use tokenizers::Tokenizer;

pub use config::{ModelConfig, Pooling};

/// Texts run through the network together; sorted by length first, so padding is small.
pub const BATCH: usize = 32;

#[derive(Debug, Error)]
pub enum EmbedError {
    #[error(
        "{dir} is not a sentence-transformers model folder: {what} is missing (`rl-search model pull` downloads one)"
    )]
    Missing { dir: PathBuf, what: String },
    #[error("cannot read {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("cannot load the weights in {path}: {source}")]
    Weights {
        path: PathBuf,
        source: candle_core::Error,
    },
    #[error("the model failed on a batch of text: {0}")]
    Run(#[from] candle_core::Error),
    #[error("the tokenizer failed: {0}")]
    Tokenize(String),
}

/// A loaded model.
pub struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    config: ModelConfig,
    device: Device,
}

impl Model {
    /// Loads the model in `dir`.
    pub fn load(dir: &Path) -> Result<Model, EmbedError> {
        let config = ModelConfig::read(dir)?;
        // The tokenizer's JSON is parsed on a second core while the weights are read: the two
        // take 18 and 50 ms of a search's model load.
        let (tokenizer, bert) = std::thread::scope(|s| {
            let tokenizer = s.spawn(|| load_tokenizer(dir, config.max_tokens));
            let bert = load_weights(dir, &config);
            let tokenizer = tokenizer.join().unwrap_or_else(|_| {
                Err(EmbedError::Tokenize(
                    "the tokenizer could not be read".into(),
                ))
            });
            (tokenizer, bert)
        });
        Ok(Model {
            bert: bert?,
            tokenizer: tokenizer?,
            config,
            device: Device::Cpu,
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

    fn embed(&self, texts: &[&str], prefix: &str) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut encoded = Vec::with_capacity(texts.len());
        for t in texts {
            let e = self
                .tokenizer
                .encode(format!("{prefix}{t}"), true)
                .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
            encoded.push(e.get_ids().to_vec());
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![vec![]; texts.len()];
        for batch in order.chunks(BATCH) {
            let vectors = self.run_batch(batch.iter().map(|&i| encoded[i].as_slice()))?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One forward pass over texts of similar length, padded on the right.
    fn run_batch<'a>(
        &self,
        ids: impl Iterator<Item = &'a [u32]> + Clone,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let n = ids.clone().count();
        let len = ids.clone().map(<[u32]>::len).max().unwrap_or(0).max(1);
        let mut flat = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for seq in ids {
            flat.extend_from_slice(seq);
            flat.extend(std::iter::repeat_n(0, len - seq.len()));
            mask.extend(std::iter::repeat_n(1u32, seq.len()));
            mask.extend(std::iter::repeat_n(0u32, len - seq.len()));
        }
        let input = Tensor::from_vec(flat, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = input.zeros_like()?;
        let hidden = self.bert.forward(&input, &types, Some(&mask))?;
        let pooled = match self.config.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let sum = hidden.broadcast_mul(&m)?.sum(1)?;
                let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
                sum.broadcast_div(&count)?
            }
        };
        let norm = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        Ok(pooled.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}

fn load_tokenizer(dir: &Path, max_tokens: usize) -> Result<Tokenizer, EmbedError> {
    let path = dir.join("tokenizer.json");
    let bad = |e: &dyn std::fmt::Display| EmbedError::Config {
        path: path.clone(),
        reason: e.to_string(),
    };
    let mut tokenizer = Tokenizer::from_file(&path).map_err(|e| bad(&e))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: max_tokens,
            ..Default::default()
        }))
        .map_err(|e| bad(&e))?;
    Ok(tokenizer)
}

fn load_weights(dir: &Path, config: &ModelConfig) -> Result<BertModel, EmbedError> {
    let weights = dir.join("model.safetensors");
    // Safety: the weights file is mapped read-only; a file changed under a running search
    // is the user's doing, as with any memory-mapped index.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &Device::Cpu) }
        .map_err(|source| EmbedError::Weights {
            path: weights.clone(),
            source,
        })?;
    BertModel::load(vb, &config.bert).map_err(|source| EmbedError::Weights {
        path: weights.clone(),
        source,
    })
}

/// Keeps glibc from handing each large buffer back to the system when it is freed: every
/// layer of every batch allocates megabytes of activations, and mapping them afresh each time
/// cost a third of the embedding speed (7.1 against 10 passages a second, measured on 2 cores).
/// For a process that embeds many passages (an update); a search embeds one query and pays
/// more for the bigger heap than it saves.
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
