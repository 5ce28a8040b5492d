//! A model folder's configuration: the network (`config.json`), pooling
//! (`1_Pooling/config.json`), length (`sentence_bert_config.json`), prefixes
//! (`config_sentence_transformers.json` prompts, or `rl-search.json`), and an id that
//! tells one model's vectors from another's.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::bert::BertConfig;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::EmbedError;

/// How token vectors become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    Mean,
    Cls,
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The folder's name and a digest of its configuration and weights.
    pub id: String,
    pub bert: BertConfig,
    pub pooling: Pooling,
    /// Word pieces a text is cut at.
    pub max_tokens: usize,
    pub query_prefix: String,
    pub passage_prefix: String,
}

#[derive(Deserialize, Default)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

#[derive(Deserialize, Default)]
struct SentenceBert {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize, Default)]
struct SentenceTransformers {
    #[serde(default)]
    prompts: std::collections::HashMap<String, String>,
}

/// `rl-search.json` in a model folder: what the folder's own files do not say.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Overrides {
    query_prefix: Option<String>,
    passage_prefix: Option<String>,
    pooling: Option<Pooling>,
    max_tokens: Option<usize>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, EmbedError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| EmbedError::Config {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EmbedError::Config {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

impl ModelConfig {
    /// The folder's configuration, and the bytes of its `tokenizer.json` (read once: they
    /// go into the model's id and then into the tokenizer).
    pub fn read(dir: &Path) -> Result<(ModelConfig, Vec<u8>), EmbedError> {
        for what in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !dir.join(what).is_file() {
                return Err(EmbedError::Missing {
                    dir: dir.to_path_buf(),
                    what: what.to_string(),
                });
            }
        }
        let bytes = |f: &str| {
            let path = dir.join(f);
            std::fs::read(&path).map_err(|e| EmbedError::Config {
                path,
                reason: e.to_string(),
            })
        };
        let (config_json, tokenizer_json) = (bytes("config.json")?, bytes("tokenizer.json")?);
        let bert: BertConfig = serde_json::from_slice(&config_json)
            .map_err(|e| format!("not a model configuration ({e})"))
            .and_then(|c: BertConfig| c.check().map(|()| c))
            .map_err(|reason| EmbedError::Config {
                path: dir.join("config.json"),
                reason,
            })?;
        let pooling_file: PoolingFile =
            read_json(&dir.join("1_Pooling/config.json"))?.unwrap_or_default();
        let sbert: SentenceBert =
            read_json(&dir.join("sentence_bert_config.json"))?.unwrap_or_default();
        let st: SentenceTransformers =
            read_json(&dir.join("config_sentence_transformers.json"))?.unwrap_or_default();
        let over: Overrides = read_json(&dir.join("rl-search.json"))?.unwrap_or_default();
        let pooling = over.pooling.unwrap_or(
            if pooling_file.pooling_mode_cls_token && !pooling_file.pooling_mode_mean_tokens {
                Pooling::Cls
            } else {
                Pooling::Mean
            },
        );
        let max_tokens = over
            .max_tokens
            .or(sbert.max_seq_length)
            .unwrap_or(256)
            .min(bert.max_position_embeddings)
            .max(8);
        let prompt = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| st.prompts.get(*k).cloned())
                .unwrap_or_default()
        };
        let query_prefix = over.query_prefix.unwrap_or_else(|| prompt(&["query"]));
        let passage_prefix = over
            .passage_prefix
            .unwrap_or_else(|| prompt(&["passage", "document"]));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let digest = digest(
            dir,
            &[&config_json, &tokenizer_json],
            &[
                &query_prefix,
                &passage_prefix,
                &format!("{pooling:?}{max_tokens}"),
            ],
        )?;
        let config = ModelConfig {
            id: format!("{name}@{digest}"),
            bert,
            pooling,
            max_tokens,
            query_prefix,
            passage_prefix,
        };
        Ok((config, tokenizer_json))
    }
}

/// 16 hex digits over the configuration, the weights' header and samples of their bytes:
/// the same for the same model on any machine, different for other weights, and read in
/// milliseconds (hashing 90 MB of weights at every search would not be).
fn digest(dir: &Path, files: &[&[u8]], extra: &[&str]) -> Result<String, EmbedError> {
    let io = |path: &Path, e: std::io::Error| EmbedError::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut h = Sha256::new();
    for f in files {
        h.update(f);
    }
    for e in extra {
        h.update(e.as_bytes());
        h.update([0]);
    }
    let p = dir.join("model.safetensors");
    let mut file = std::fs::File::open(&p).map_err(|e| io(&p, e))?;
    let len = file.metadata().map_err(|e| io(&p, e))?.len();
    h.update(len.to_le_bytes());
    const SAMPLE: u64 = 64 * 1024;
    for at in [0, len / 3, 2 * len / 3, len.saturating_sub(SAMPLE)] {
        let mut buf = vec![0u8; SAMPLE.min(len - at.min(len)) as usize];
        file.seek(SeekFrom::Start(at)).map_err(|e| io(&p, e))?;
        file.read_exact(&mut buf).map_err(|e| io(&p, e))?;
        h.update(&buf);
    }
    Ok(h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
