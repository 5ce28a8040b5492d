//! Passage vectors, kept in the library beside the index (`vectors/`): side data built from the
//! stored texts by a model, read by the search's meaning stage.
//!
//! - `model.json` names the model the vectors came from; vectors of another model are never
//!   mixed in (`update --embed` starts them over).
//! - `vectors.bin` holds every vector ever embedded, keyed by a digest of the exact text that
//!   was embedded (title + passage): an unchanged passage — in an unchanged document, an
//!   earlier version, or after `update --reindex` — is never embedded again. Records are
//!   appended and synced at checkpoints, so a killed update keeps what it finished and the
//!   next one continues; a torn last record is cut off on open. Values are f16: half the
//!   size of f32, and its rounding (2⁻¹¹ relative) moves a cosine by about 10⁻⁴.
//! - `layout.bin` says which passages and sentences each current document has (record, byte
//!   range in its text, and the digest of that text), written whole and atomically at every
//!   checkpoint.
//! - `scan.bin` ([`scan`]) is what a search reads: the current passages' vectors in int8,
//!   mapped, made from the two above when an embedding ends.

pub mod scan;

pub use scan::{Nearest, Vectors};

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use half::f16;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

const MAGIC: &[u8; 8] = b"rlvec01\n";
const LAYOUT_MAGIC: &[u8; 8] = b"rllay02\n";
/// The layout before sentences: read as documents without them, which the next update gives.
const LAYOUT_MAGIC_1: &[u8; 8] = b"rllay01\n";

#[derive(Debug, Error)]
pub enum VectorError {
    #[error("cannot use the passage vectors in {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the library's passage vectors were made by the model {have}, not {want}: run `rl-search update --embed` to embed the library again with {want}"
    )]
    OtherModel { have: String, want: String },
    #[error(transparent)]
    Write(#[from] crate::store::StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VectorError + '_ {
    move |source| VectorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The key of an embedded text.
pub type Key = [u8; 16];

pub fn key(text: &str) -> Key {
    Sha256::digest(text.as_bytes())[..16]
        .try_into()
        .expect("16 bytes")
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelInfo {
    pub id: String,
    pub dim: usize,
}

/// The vectors folder of a library.
pub fn dir(library: &Path) -> PathBuf {
    library.join("vectors")
}

/// The model the library's vectors came from, if it has any.
pub fn model_of(library: &Path) -> Option<ModelInfo> {
    let bytes = std::fs::read(dir(library).join("model.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The library's current layout by document id (empty when it has none).
pub fn layout(library: &Path) -> HashMap<String, DocPassages> {
    let Some(model) = model_of(library) else {
        return HashMap::new();
    };
    let dir = dir(library);
    let records = std::fs::metadata(dir.join("vectors.bin"))
        .map(|m| (m.len().saturating_sub(12) as usize / record_len(model.dim)) as u32)
        .unwrap_or(0);
    read_layout(&dir.join("layout.bin"), records)
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.id.clone(), d))
        .collect()
}

/// One passage of a document in the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub record: u32,
    pub start: u32,
    pub end: u32,
}

/// A document's passages and sentences, and the digest of the text their ranges are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocPassages {
    pub id: String,
    pub text_key: Key,
    pub passages: Vec<Placed>,
    /// Empty for a document laid out before sentences were embedded (and one without text).
    pub sentences: Vec<Placed>,
}

/// The writer's side: looks vectors up by key and appends new ones.
pub struct VectorStore {
    dir: PathBuf,
    dim: usize,
    keys: HashMap<Key, u32>,
    file: File,
    pending: Vec<u8>,
    count: u32,
}

fn record_len(dim: usize) -> usize {
    16 + 2 * dim
}

impl VectorStore {
    /// Opens (or creates) the library's vectors for `model`. Vectors of another model are an
    /// error unless `replace`, which starts them over.
    pub fn open(
        library: &Path,
        model: &ModelInfo,
        replace: bool,
    ) -> Result<VectorStore, VectorError> {
        let dir = dir(library);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        match model_of(library) {
            Some(have) if have == *model => {}
            Some(have) if !replace => {
                return Err(VectorError::OtherModel {
                    have: have.id,
                    want: model.id.clone(),
                });
            }
            _ => {
                for f in ["vectors.bin", "layout.bin", "scan.bin"] {
                    let _ = std::fs::remove_file(dir.join(f));
                }
                crate::store::atomic_write(
                    &dir.join("model.json"),
                    &serde_json::to_vec_pretty(model).expect("json"),
                )?;
            }
        }
        let path = dir.join("vectors.bin");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut bytes = vec![];
        file.read_to_end(&mut bytes).map_err(io(&path))?;
        let rec = record_len(model.dim);
        if bytes.len() < MAGIC.len() + 4 || &bytes[..8] != MAGIC {
            bytes.clear();
            bytes.extend_from_slice(MAGIC);
            bytes.extend_from_slice(&(model.dim as u32).to_le_bytes());
            file.set_len(0).map_err(io(&path))?;
            file.write_all(&bytes).map_err(io(&path))?;
        }
        let body = &bytes[12..];
        let count = body.len() / rec;
        // A record torn by a kill is cut off; what was synced before it stays.
        file.set_len((12 + count * rec) as u64).map_err(io(&path))?;
        let mut keys = HashMap::with_capacity(count);
        for i in 0..count {
            let k: Key = body[i * rec..i * rec + 16].try_into().expect("16 bytes");
            keys.insert(k, i as u32);
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0)).map_err(io(&path))?;
        Ok(VectorStore {
            dir,
            dim: model.dim,
            keys,
            file,
            pending: vec![],
            count: count as u32,
        })
    }

    pub fn get(&self, k: &Key) -> Option<u32> {
        self.keys.get(k).copied()
    }

    /// Adds a vector (written at the next [`VectorStore::checkpoint`]); its record number.
    pub fn push(&mut self, k: Key, v: &[f32]) -> u32 {
        if let Some(&r) = self.keys.get(&k) {
            return r;
        }
        debug_assert_eq!(v.len(), self.dim);
        self.pending.extend_from_slice(&k);
        for x in v {
            self.pending
                .extend_from_slice(&f16::from_f32(*x).to_bits().to_le_bytes());
        }
        let r = self.count;
        self.keys.insert(k, r);
        self.count += 1;
        r
    }

    /// Ends an embedding: a last checkpoint, then the scan file searches read, made for
    /// `layout`.
    pub fn finish(&mut self, model: &ModelInfo, layout: &[DocPassages]) -> Result<(), VectorError> {
        self.checkpoint(layout)?;
        let records = Records::open(&self.dir, self.dim).ok_or_else(|| {
            io(&self.dir.join("vectors.bin"))(std::io::Error::other("cannot map the file"))
        })?;
        scan::write(&self.dir, model, layout, |r| records.get(r))
    }

    /// Writes the new vectors and syncs them, then the layout of the documents done so far.
    pub fn checkpoint(&mut self, layout: &[DocPassages]) -> Result<(), VectorError> {
        let path = self.dir.join("vectors.bin");
        self.file.write_all(&self.pending).map_err(io(&path))?;
        self.file.sync_data().map_err(io(&path))?;
        self.pending.clear();
        write_layout(&self.dir, layout)
    }
}

fn write_layout(dir: &Path, docs: &[DocPassages]) -> Result<(), VectorError> {
    let mut out = Vec::from(&LAYOUT_MAGIC[..]);
    out.extend_from_slice(&(docs.len() as u32).to_le_bytes());
    for d in docs {
        let id = d.id.as_bytes();
        out.extend_from_slice(&(id.len() as u16).to_le_bytes());
        out.extend_from_slice(id);
        out.extend_from_slice(&d.text_key);
        for units in [&d.passages, &d.sentences] {
            out.extend_from_slice(&(units.len() as u32).to_le_bytes());
            for p in units {
                for x in [p.record, p.start, p.end] {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
    }
    Ok(crate::store::atomic_write(&dir.join("layout.bin"), &out)?)
}

/// `vectors.bin` read by record (mapped): for making the scan file, and for checking vectors
/// against a model (`examples/embed_bench.rs`).
pub struct Records {
    map: memmap2::Mmap,
    dim: usize,
}

impl Records {
    /// The records of the vectors folder `dir` ([`dir`]), each of `dim` values.
    pub fn open(dir: &Path, dim: usize) -> Option<Records> {
        let f = File::open(dir.join("vectors.bin")).ok()?;
        // SAFETY: records are only ever appended; the bytes of those already synced (all a
        // layout names) do not change while mapped.
        let map = unsafe { memmap2::Mmap::map(&f) }.ok()?;
        (map.len() >= 12 && &map[..8] == MAGIC).then_some(Records { map, dim })
    }

    /// The record with the key `k`, if any (a scan of every key: for tools, not searches).
    pub fn find(&self, k: &Key) -> Option<u32> {
        let rec = record_len(self.dim);
        (0..(self.map.len().saturating_sub(12) / rec))
            .find(|i| &self.map[12 + i * rec..12 + i * rec + 16] == k)
            .map(|i| i as u32)
    }

    pub fn get(&self, record: u32) -> Option<Vec<f32>> {
        let at = 12 + record as usize * record_len(self.dim) + 16;
        let bytes = self.map.get(at..at + 2 * self.dim)?;
        Some(
            bytes
                .chunks_exact(2)
                .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32())
                .collect(),
        )
    }
}

fn read_layout(path: &Path, records: u32) -> Option<Vec<DocPassages>> {
    let b = std::fs::read(path).ok()?;
    if b.len() < 12 {
        return None;
    }
    let with_sentences = match &b[..8] {
        m if m == LAYOUT_MAGIC => true,
        m if m == LAYOUT_MAGIC_1 => false,
        _ => return None,
    };
    let mut at = 8;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(at..at + n)?;
        at += n;
        Some(s)
    };
    let u32_of = |s: &[u8]| u32::from_le_bytes(s.try_into().expect("4 bytes"));
    let n = u32_of(take(4)?) as usize;
    let mut docs = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
        let id = String::from_utf8(take(len)?.to_vec()).ok()?;
        let text_key: Key = take(16)?.try_into().ok()?;
        let mut units = [vec![], vec![]];
        for list in units.iter_mut().take(if with_sentences { 2 } else { 1 }) {
            let m = u32_of(take(4)?) as usize;
            list.reserve(m.min(10_000));
            for _ in 0..m {
                let p = Placed {
                    record: u32_of(take(4)?),
                    start: u32_of(take(4)?),
                    end: u32_of(take(4)?),
                };
                // A layout that names a record past the file's end is not this file's.
                if p.record >= records {
                    return None;
                }
                list.push(p);
            }
        }
        let [passages, sentences] = units;
        docs.push(DocPassages {
            id,
            text_key,
            passages,
            sentences,
        });
    }
    Some(docs)
}

/// `v` at unit length (tests make vectors as a model would).
#[cfg(test)]
fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A three-dimensional model, for stores made in a test.
    fn tiny() -> ModelInfo {
        ModelInfo {
            id: "tiny@1".into(),
            dim: 3,
        }
    }

    fn layout_of(library: &Path) -> Vec<DocPassages> {
        let mut l: Vec<DocPassages> = layout(library).into_values().collect();
        l.sort_by(|a, b| a.id.cmp(&b.id));
        l
    }

    #[test]
    fn a_layout_from_before_sentences_reads_as_documents_without_them() {
        let (lib, model) = (tempfile::tempdir().unwrap(), tiny());
        let mut s = VectorStore::open(lib.path(), &model, false).unwrap();
        let a = s.push(key("alpha"), &unit(&[1.0, 0.0, 0.0]));
        s.checkpoint(&[]).unwrap();
        // The first layout format: no sentence lists.
        let mut old = Vec::from(&LAYOUT_MAGIC_1[..]);
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(&2u16.to_le_bytes());
        old.extend_from_slice(b"d1");
        old.extend_from_slice(&key("d1 text"));
        old.extend_from_slice(&1u32.to_le_bytes());
        for x in [a, 0, 5] {
            old.extend_from_slice(&x.to_le_bytes());
        }
        std::fs::write(lib.path().join("vectors/layout.bin"), old).unwrap();
        let got = layout_of(lib.path());
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].passages,
            [Placed {
                record: a,
                start: 0,
                end: 5
            }]
        );
        assert!(got[0].sentences.is_empty());
        // Searches of such a library use the passages alone.
        let v = Vectors::open(lib.path()).unwrap();
        assert!(!v.has_sentences());
        assert_eq!(v.best_sentence(0, &[1.0, 0.0, 0.0]), None);
    }

    #[test]
    fn vectors_are_kept_by_text_and_a_torn_record_is_cut_off() {
        let (lib, model) = (tempfile::tempdir().unwrap(), tiny());
        let mut s = VectorStore::open(lib.path(), &model, false).unwrap();
        let a = s.push(key("alpha"), &unit(&[1.0, 0.0, 0.0]));
        let b = s.push(key("beta"), &unit(&[0.0, 1.0, 0.2]));
        assert_eq!(
            s.push(key("alpha"), &[9.0, 9.0, 9.0]),
            a,
            "a known text is not stored again"
        );
        let layout = vec![
            DocPassages {
                id: "d1".into(),
                text_key: key("d1 text"),
                passages: vec![Placed {
                    record: a,
                    start: 0,
                    end: 5,
                }],
                sentences: vec![Placed {
                    record: b,
                    start: 0,
                    end: 2,
                }],
            },
            DocPassages {
                id: "d2".into(),
                text_key: key("d2 text"),
                passages: vec![Placed {
                    record: b,
                    start: 3,
                    end: 9,
                }],
                sentences: vec![],
            },
        ];
        s.checkpoint(&layout).unwrap();
        drop(s);
        // A kill in the middle of a record.
        let path = lib.path().join("vectors/vectors.bin");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[7u8; 20]).unwrap();
        drop(f);
        let s = VectorStore::open(lib.path(), &model, false).unwrap();
        assert_eq!(s.get(&key("beta")), Some(b));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 12 + 2 * 22);

        assert_eq!(
            layout_of(lib.path()),
            layout,
            "the layout reads back as written"
        );
        let v = Vectors::open(lib.path()).unwrap();
        let near = v.nearest(&unit(&[0.1, 1.0, 0.0]), 5);
        assert_eq!(v.id(near[0].doc), "d2");
        assert_eq!(near[0].passage, 3..9);
        assert!((near[0].score - 0.99).abs() < 0.02, "{}", near[0].score);

        // Another model's vectors are never mixed in.
        let other = ModelInfo {
            id: "other@2".into(),
            dim: 3,
        };
        let e = VectorStore::open(lib.path(), &other, false).err().unwrap();
        assert!(e.to_string().contains("update --embed"), "{e}");
        let s = VectorStore::open(lib.path(), &other, true).unwrap();
        assert_eq!(s.get(&key("alpha")), None, "started over");
    }
}
