//! The BERT encoder, run over the weights where they lie: `model.safetensors` is mapped and
//! every matrix is read in place — nothing is copied, so loading costs no more than mapping
//! the file (a search that loads the model used to spend 50 ms copying 90 MB of weights into
//! fresh memory).
//!
//! Texts of a batch are packed end to end, not padded: every step except attention works on
//! all tokens at once, and attention runs per text and head over that text's own tokens, so a
//! batch of uneven texts costs only its tokens and no mask is needed. The matrix products are
//! `gemm`'s (the kernels candle uses, with AVX-512 where the CPU has it); the rest — layer
//! norm, a rational erf for GELU, softmax with a polynomial exp — are plain loops written for
//! the compiler to vectorise, run on every core.
//!
//! The network is the one of Devlin et al. (2019) as Hugging Face's `BertModel` computes it
//! (post-layer-norm, absolute positions, token type 0); a test checks it against
//! candle-transformers' implementation on a random model.

use std::collections::HashMap;
use std::path::Path;

use memmap2::Mmap;
use rayon::prelude::*;
use serde::Deserialize;

use super::EmbedError;

/// `config.json` of a BERT model: what the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "one")]
    pub type_vocab_size: usize,
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

impl BertConfig {
    /// Whether the encoder can run this network: the reason when it cannot.
    pub fn check(&self) -> Result<(), String> {
        let c = self;
        match c.hidden_act.as_str() {
            "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu" => {}
            other => return Err(format!("the activation {other:?} is not supported")),
        }
        if c.position_embedding_type
            .as_deref()
            .is_some_and(|p| p != "absolute")
        {
            return Err("only absolute position embeddings are supported".into());
        }
        if c.num_attention_heads == 0 || !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        for (name, v) in [
            ("hidden_size", c.hidden_size),
            ("vocab_size", c.vocab_size),
            ("max_position_embeddings", c.max_position_embeddings),
            ("intermediate_size", c.intermediate_size),
        ] {
            if v == 0 {
                return Err(format!("{name} is 0"));
            }
        }
        Ok(())
    }
}

fn gelu() -> String {
    "gelu".into()
}
fn one() -> usize {
    1
}
fn eps() -> f64 {
    1e-12
}

/// Where a parameter's values are: an offset into the mapped file, or a copy (weights stored
/// as f16 or bf16, or not aligned for f32).
#[derive(Debug, Clone, Copy)]
enum Slot {
    Mapped { at: usize, len: usize },
    Owned { index: usize, len: usize },
}

struct Linear {
    /// `out × in`, row-major (PyTorch's layout).
    weight: Slot,
    bias: Slot,
    out: usize,
    inp: usize,
}

struct Norm {
    gamma: Slot,
    beta: Slot,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

#[derive(Clone, Copy)]
enum Activation {
    Gelu,
    GeluTanh,
    Relu,
}

pub struct Bert {
    map: Mmap,
    owned: Vec<Vec<f32>>,
    word: Slot,
    position: Slot,
    token_type: Slot,
    embed_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    eps: f32,
    act: Activation,
    max_positions: usize,
}

/// Finds a parameter by name and shape.
type Get<'a> = dyn FnMut(&str, &[usize]) -> Result<Slot, EmbedError> + 'a;

#[derive(Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

impl Bert {
    /// Maps `model.safetensors` and finds each parameter (with or without the `bert.` prefix
    /// some checkpoints have).
    pub fn load(path: &Path, c: &BertConfig) -> Result<Bert, EmbedError> {
        let bad = |reason: String| EmbedError::Config {
            path: path.to_path_buf(),
            reason,
        };
        // Checked when the folder's configuration was read (naming config.json); again here
        // for any other caller, since the shapes below rely on it.
        c.check().map_err(bad)?;
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        // SAFETY: mapped read-only; a weights file changed under a running process is the
        // user's doing, as with any memory-mapped file.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| bad(e.to_string()))?;
        let header_len = map
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| bad("not a safetensors file".into()))?;
        let header = map
            .get(8..8usize.saturating_add(header_len))
            .ok_or_else(|| bad("not a safetensors file: its header is cut".into()))?;
        let mut entries: HashMap<String, serde_json::Value> =
            serde_json::from_slice(header).map_err(|e| bad(format!("its header: {e}")))?;
        entries.remove("__metadata__");
        let base = 8 + header_len;
        let mut owned: Vec<Vec<f32>> = vec![];
        let prefix = if entries.contains_key("embeddings.word_embeddings.weight") {
            ""
        } else {
            "bert."
        };
        let mut get = |name: &str, shape: &[usize]| -> Result<Slot, EmbedError> {
            let full = format!("{prefix}{name}");
            // Old checkpoints call layer norm's parameters gamma and beta.
            let alias = full.replace(".weight", ".gamma").replace(".bias", ".beta");
            let v = entries
                .get(&full)
                .or_else(|| {
                    full.contains("LayerNorm")
                        .then(|| entries.get(&alias))
                        .flatten()
                })
                .ok_or_else(|| bad(format!("the parameter {full} is missing")))?;
            let e: Entry = serde_json::from_value(v.clone())
                .map_err(|err| bad(format!("the parameter {full}: {err}")))?;
            if e.shape != shape {
                return Err(bad(format!(
                    "the parameter {full} has the shape {:?}, the configuration says {shape:?}",
                    e.shape
                )));
            }
            let past_end = || bad(format!("the parameter {full} lies past the file's end"));
            let start = base.checked_add(e.data_offsets[0]).ok_or_else(past_end)?;
            let end = base.checked_add(e.data_offsets[1]).ok_or_else(past_end)?;
            let bytes = map.get(start..end).ok_or_else(past_end)?;
            let width = match e.dtype.as_str() {
                "F32" => 4,
                "F16" | "BF16" => 2,
                d => return Err(bad(format!("the parameter {full} is {d}, not a float"))),
            };
            // The shape matches the configuration's, whose product may be anything.
            let len = shape
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .filter(|n| n.checked_mul(width) == Some(bytes.len()))
                .ok_or_else(|| bad(format!("the parameter {full} has the wrong size")))?;
            if width == 4
                && (map.as_ptr() as usize + start).is_multiple_of(4)
                && cfg!(target_endian = "little")
            {
                return Ok(Slot::Mapped { at: start, len });
            }
            let values: Vec<f32> = match e.dtype.as_str() {
                "F32" => bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
                "F16" => bytes
                    .chunks_exact(2)
                    .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                    .collect(),
                _ => bytes
                    .chunks_exact(2)
                    .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                    .collect(),
            };
            owned.push(values);
            Ok(Slot::Owned {
                index: owned.len() - 1,
                len,
            })
        };
        let h = c.hidden_size;
        let linear =
            |get: &mut Get, name: &str, out: usize, inp: usize| -> Result<Linear, EmbedError> {
                Ok(Linear {
                    weight: get(&format!("{name}.weight"), &[out, inp])?,
                    bias: get(&format!("{name}.bias"), &[out])?,
                    out,
                    inp,
                })
            };
        let norm = |get: &mut Get, name: &str| -> Result<Norm, EmbedError> {
            Ok(Norm {
                gamma: get(&format!("{name}.weight"), &[h])?,
                beta: get(&format!("{name}.bias"), &[h])?,
            })
        };
        let word = get("embeddings.word_embeddings.weight", &[c.vocab_size, h])?;
        let position = get(
            "embeddings.position_embeddings.weight",
            &[c.max_position_embeddings, h],
        )?;
        let token_type = get(
            "embeddings.token_type_embeddings.weight",
            &[c.type_vocab_size.max(1), h],
        )?;
        let embed_norm = norm(&mut get, "embeddings.LayerNorm")?;
        let mut layers = vec![];
        for i in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let i_size = c.intermediate_size;
            layers.push(Layer {
                query: linear(&mut get, &format!("{p}.attention.self.query"), h, h)?,
                key: linear(&mut get, &format!("{p}.attention.self.key"), h, h)?,
                value: linear(&mut get, &format!("{p}.attention.self.value"), h, h)?,
                attn_out: linear(&mut get, &format!("{p}.attention.output.dense"), h, h)?,
                attn_norm: norm(&mut get, &format!("{p}.attention.output.LayerNorm"))?,
                up: linear(&mut get, &format!("{p}.intermediate.dense"), i_size, h)?,
                down: linear(&mut get, &format!("{p}.output.dense"), h, i_size)?,
                out_norm: norm(&mut get, &format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            map,
            owned,
            word,
            position,
            token_type,
            embed_norm,
            layers,
            hidden: h,
            heads: c.num_attention_heads,
            eps: c.layer_norm_eps as f32,
            act: match c.hidden_act.as_str() {
                "relu" => Activation::Relu,
                "gelu" => Activation::Gelu,
                _ => Activation::GeluTanh,
            },
            max_positions: c.max_position_embeddings,
        })
    }

    /// Maps every weight the first forward pass reads in one call per matrix, rather than
    /// fault them in during it (a search's whole process, SciFact: about 47 → 37 ms inside
    /// the command). The word embeddings are left alone: a query reads a few of their 30,522
    /// rows.
    pub fn prefetch(&self) {
        let mut slots = vec![
            self.position,
            self.token_type,
            self.embed_norm.gamma,
            self.embed_norm.beta,
        ];
        for l in &self.layers {
            for lin in [&l.query, &l.key, &l.value, &l.attn_out, &l.up, &l.down] {
                slots.extend([lin.weight, lin.bias]);
            }
            for n in [&l.attn_norm, &l.out_norm] {
                slots.extend([n.gamma, n.beta]);
            }
        }
        for s in slots {
            if let Slot::Mapped { at, len } = s {
                #[cfg(target_os = "linux")]
                let advice = memmap2::Advice::PopulateRead;
                #[cfg(not(target_os = "linux"))]
                let advice = memmap2::Advice::WillNeed;
                // Advice only: on an older kernel the pages fault in as before.
                let _ = self.map.advise_range(advice, at, 4 * len);
            }
        }
    }

    fn get(&self, s: Slot) -> &[f32] {
        match s {
            Slot::Mapped { at, len } => {
                let bytes = &self.map[at..at + 4 * len];
                // Checked at load: aligned, little-endian f32.
                bytemuck::cast_slice(bytes)
            }
            Slot::Owned { index, len } => &self.owned[index][..len],
        }
    }

    /// The last layer's output for each text (token ids, each at most the model's positions
    /// long), the texts' rows one after another: `Σ len × hidden` values.
    pub fn forward(&self, texts: &[&[u32]]) -> Vec<f32> {
        let h = self.hidden;
        // Each text's first row and its number of tokens (cut at the model's positions).
        let spans: Vec<(usize, usize)> = texts
            .iter()
            .scan(0, |at, t| {
                let s = (*at, t.len().min(self.max_positions));
                *at += s.1;
                Some(s)
            })
            .collect();
        let rows: usize = spans.iter().map(|s| s.1).sum();
        let mut x = vec![0f32; rows * h];
        let (word, pos, typ) = (
            self.get(self.word),
            self.get(self.position),
            &self.get(self.token_type)[..h],
        );
        let vocab = word.len() / h;
        for (t, &(start, len)) in texts.iter().zip(&spans) {
            for (p, &id) in t[..len].iter().enumerate() {
                let id = (id as usize).min(vocab - 1);
                let w = &word[id * h..(id + 1) * h];
                let q = &pos[p * h..(p + 1) * h];
                let row = &mut x[(start + p) * h..(start + p + 1) * h];
                for (((o, a), b), c) in row.iter_mut().zip(w).zip(q).zip(typ) {
                    *o = a + b + c;
                }
            }
        }
        // A query (a few dozen tokens) runs on the calling thread alone: waking a pool of
        // threads costs more than it gives, and a search ranks words on the other core.
        let wide = rows >= 128;
        self.layer_norm(&mut x, &self.embed_norm, wide);
        let mut q = vec![0f32; rows * h];
        let mut k = vec![0f32; rows * h];
        let mut v = vec![0f32; rows * h];
        let mut ctx = vec![0f32; rows * h];
        let mut tmp = vec![0f32; rows * h];
        let mut up = vec![];
        for layer in &self.layers {
            self.linear(&x, rows, &layer.query, &mut q, wide);
            self.linear(&x, rows, &layer.key, &mut k, wide);
            self.linear(&x, rows, &layer.value, &mut v, wide);
            self.attention(&q, &k, &v, &spans, &mut ctx, wide);
            self.linear(&ctx, rows, &layer.attn_out, &mut tmp, wide);
            add(&mut x, &tmp);
            self.layer_norm(&mut x, &layer.attn_norm, wide);
            up.resize(rows * layer.up.out, 0.0);
            self.linear(&x, rows, &layer.up, &mut up, wide);
            activate(&mut up, self.act, wide);
            self.linear(&up, rows, &layer.down, &mut tmp, wide);
            add(&mut x, &tmp);
            self.layer_norm(&mut x, &layer.out_norm, wide);
        }
        x
    }

    /// `out = x · Wᵀ + b` for `rows` rows.
    fn linear(&self, x: &[f32], rows: usize, l: &Linear, out: &mut [f32], wide: bool) {
        let (w, b) = (self.get(l.weight), self.get(l.bias));
        // What the unsafe call below relies on (a handful of compares per matrix product).
        assert_eq!(x.len(), rows * l.inp);
        assert_eq!(out.len(), rows * l.out);
        for r in out.chunks_exact_mut(l.out) {
            r.copy_from_slice(b);
        }
        // SAFETY: the shapes are those of the slices (checked at load and just above): x is
        // rows × inp row-major, w is out × inp row-major (read as its transpose), out is
        // rows × out row-major.
        unsafe {
            gemm::gemm(
                rows,
                l.out,
                l.inp,
                out.as_mut_ptr(),
                1,
                l.out as isize,
                true,
                x.as_ptr(),
                1,
                l.inp as isize,
                w.as_ptr(),
                l.inp as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                if wide {
                    gemm::Parallelism::Rayon(rayon::current_num_threads())
                } else {
                    gemm::Parallelism::None
                },
            );
        }
    }

    /// Self-attention of each text's tokens among themselves, every head, in parallel.
    fn attention(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        spans: &[(usize, usize)],
        ctx: &mut [f32],
        wide: bool,
    ) {
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        // Each (text, head) writes its own columns of its own rows: hand out row blocks per
        // text, and within a text let one task do every head.
        let mut blocks: Vec<(&(usize, usize), &mut [f32])> = vec![];
        let mut rest = ctx;
        for s in spans {
            let (mine, more) = rest.split_at_mut(s.1 * h);
            blocks.push((s, mine));
            rest = more;
        }
        let one = |(&(start, len), out): (&(usize, usize), &mut [f32])| {
            if len == 0 {
                return;
            }
            let mut p = vec![0f32; len * len];
            for head in 0..self.heads {
                let off = start * h + head * d;
                // SAFETY: scores (len × len) = q_h (len × d, row stride h) · k_hᵀ, all inside
                // the rows of this text.
                unsafe {
                    gemm::gemm(
                        len,
                        len,
                        d,
                        p.as_mut_ptr(),
                        1,
                        len as isize,
                        false,
                        q.as_ptr().add(off),
                        1,
                        h as isize,
                        k.as_ptr().add(off),
                        h as isize,
                        1,
                        0.0,
                        scale,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
                for row in p.chunks_exact_mut(len) {
                    softmax(row);
                }
                // SAFETY: ctx_h (len × d, row stride h) = p · v_h.
                unsafe {
                    gemm::gemm(
                        len,
                        d,
                        len,
                        out.as_mut_ptr().add(head * d),
                        1,
                        h as isize,
                        false,
                        p.as_ptr(),
                        1,
                        len as isize,
                        v.as_ptr().add(off),
                        1,
                        h as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            }
        };
        if wide {
            blocks.into_par_iter().for_each(one);
        } else {
            blocks.into_iter().for_each(one);
        }
    }

    fn layer_norm(&self, x: &mut [f32], n: &Norm, wide: bool) {
        let (g, b, eps) = (self.get(n.gamma), self.get(n.beta), self.eps);
        let rows = |rows: &mut [f32]| {
            for r in rows.chunks_exact_mut(self.hidden) {
                layer_norm_row(r, g, b, eps);
            }
        };
        if wide {
            x.par_chunks_mut(self.hidden * 16).for_each(rows);
        } else {
            rows(x);
        }
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

fn layer_norm_row(r: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = r.len() as f32;
    let mean = r.iter().sum::<f32>() / n;
    let var = r.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((x, g), b) in r.iter_mut().zip(g).zip(b) {
        *x = (*x - mean) * inv * g + b;
    }
}

fn activate(x: &mut [f32], act: Activation, wide: bool) {
    let run = |c: &mut [f32]| match act {
        Activation::Gelu => simd::gelu(c),
        Activation::GeluTanh => {
            for v in c {
                let t = (0.797_884_6 * (*v + 0.044_715 * *v * *v * *v)).tanh();
                *v = 0.5 * *v * (1.0 + t);
            }
        }
        Activation::Relu => {
            for v in c {
                *v = v.max(0.0);
            }
        }
    };
    if wide {
        x.par_chunks_mut(16 * 1024).for_each(run);
    } else {
        run(x);
    }
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    for x in row.iter_mut() {
        *x -= max;
    }
    simd::exp(row);
    let sum: f32 = row.iter().sum();
    let inv = 1.0 / sum;
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// exp and erf as branch-free polynomials, compiled twice: for the CPU the binary targets and,
/// chosen at run time, for AVX2 with FMA — where they run eight values at a time. Scalar erf
/// and exp took a quarter of the embedding time in candle's encoder.
mod simd {
    macro_rules! dispatch {
        ($name:ident, $body:ident) => {
            pub fn $name(x: &mut [f32]) {
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn wide(x: &mut [f32]) {
                        $body(x)
                    }
                    // SAFETY: the CPU has AVX2 and FMA, checked just above.
                    return unsafe { wide(x) };
                }
                $body(x)
            }
        };
    }
    dispatch!(gelu, gelu_body);
    dispatch!(exp, exp_body);

    #[inline(always)]
    pub(super) fn exp_body(x: &mut [f32]) {
        for v in x {
            *v = exp1(*v);
        }
    }

    #[inline(always)]
    pub(super) fn gelu_body(x: &mut [f32]) {
        for v in x {
            *v = 0.5 * *v * (1.0 + erf1(*v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }

    /// Cephes' expf: e^x = 2^n · e^r with |r| ≤ ln2/2, e^r by a degree-6 polynomial; relative
    /// error about 10⁻⁷. Below −87 the result stays at e⁻⁸⁷ ≈ 10⁻³⁸ (nothing, to a softmax).
    #[inline(always)]
    pub(super) fn exp1(x: f32) -> f32 {
        let x = x.clamp(-87.0, 88.0);
        let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
        let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
        let mut p = 1.987_569_1e-4;
        p = p * r + 1.398_199_9e-3;
        p = p * r + 8.333_452e-3;
        p = p * r + 4.166_579_6e-2;
        p = p * r + 1.666_666_5e-1;
        p = p * r + 0.5;
        let y = p * r * r + r + 1.0;
        y * f32::from_bits(((n as i32 + 127) as u32) << 23)
    }

    /// erf as a ratio of polynomials in x² (the approximation Eigen and XLA use), exact to a
    /// few units in the last place on [−4, 4], ±1 beyond.
    #[inline(always)]
    pub(super) fn erf1(x: f32) -> f32 {
        let x = x.clamp(-4.0, 4.0);
        let x2 = x * x;
        let mut p = -2.726_142_3e-10;
        p = p * x2 + 2.770_681_4e-8;
        p = p * x2 + -2.101_024_1e-6;
        p = p * x2 + -5.692_506_4e-5;
        p = p * x2 + -7.349_906_3e-4;
        p = p * x2 + -2.954_6e-3;
        p = p * x2 + -1.609_603_3e-2;
        let mut q = -1.456_607_2e-5;
        q = q * x2 + -2.133_740_6e-4;
        q = q * x2 + -1.682_827e-3;
        q = q * x2 + -7.373_329e-3;
        q = q * x2 + -1.426_474e-2;
        x * p / q
    }
}

#[cfg(test)]
mod tests {
    use super::simd::{erf1, exp1};

    /// erf by its Taylor series in f64 (exact enough for |x| ≤ 4).
    fn erf_ref(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_and_exp_are_exact_to_float_precision() {
        let mut worst_erf: f64 = 0.0;
        let mut worst_exp: f64 = 0.0;
        for i in -6000..=6000 {
            let x = i as f32 / 1000.0;
            let want = if x.abs() <= 4.0 {
                erf_ref(x as f64)
            } else {
                x.signum() as f64
            };
            worst_erf = worst_erf.max((erf1(x) as f64 - want).abs());
            let x = i as f32 / 100.0;
            let e = (x as f64).exp();
            if e > 1e-30 {
                worst_exp = worst_exp.max(((exp1(x) as f64 - e) / e).abs());
            }
        }
        assert!(worst_erf < 1e-6, "erf off by {worst_erf}");
        assert!(worst_exp < 1e-6, "exp off by {worst_exp}");
        assert!(exp1(-200.0) < 1e-37);
    }

    /// Rewrites a safetensors file: each tensor's values through `convert` (a dtype name and
    /// the bytes of one f32), and `pad` extra spaces in the header (which shifts the data).
    fn rewrite(path: &std::path::Path, dtype: &str, convert: fn(f32) -> Vec<u8>, pad: usize) {
        let bytes = std::fs::read(path).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        let data = &bytes[8 + n..];
        let (mut out_header, mut out_data) = (serde_json::Map::new(), vec![]);
        for (name, v) in header {
            let [a, b] = [0, 1].map(|i| v["data_offsets"][i].as_u64().unwrap() as usize);
            let start = out_data.len();
            for c in data[a..b].chunks_exact(4) {
                out_data.extend(convert(f32::from_le_bytes(c.try_into().unwrap())));
            }
            out_header.insert(
                name,
                serde_json::json!({"dtype": dtype, "shape": v["shape"], "data_offsets": [start, out_data.len()]}),
            );
        }
        let mut head = serde_json::to_vec(&out_header).unwrap();
        head.extend(std::iter::repeat_n(b' ', pad));
        let mut out = (head.len() as u64).to_le_bytes().to_vec();
        out.extend(head);
        out.extend(out_data);
        std::fs::write(path, out).unwrap();
    }

    #[test]
    fn half_precision_and_unaligned_weights_load_as_copies() {
        use crate::embed::Model;
        let dir = tempfile::tempdir().unwrap();
        crate::embed::tiny::write(dir.path(), &["zebra", "stripes", "attention"]).unwrap();
        let text = ["zebra stripes and attention"];
        let want = Model::load(dir.path())
            .unwrap()
            .embed_passages(&text)
            .unwrap();
        let weights = dir.path().join("model.safetensors");
        let original = std::fs::read(&weights).unwrap();
        // Data that starts one byte off a multiple of four cannot be read in place.
        rewrite(&weights, "F32", |x| x.to_le_bytes().to_vec(), 1);
        let got = Model::load(dir.path())
            .unwrap()
            .embed_passages(&text)
            .unwrap();
        assert_eq!(got, want, "the copy computes what the mapped weights do");
        std::fs::write(&weights, &original).unwrap();
        rewrite(
            &weights,
            "F16",
            |x| half::f16::from_f32(x).to_le_bytes().to_vec(),
            0,
        );
        let half = Model::load(dir.path())
            .unwrap()
            .embed_passages(&text)
            .unwrap();
        let cos: f32 = half[0].iter().zip(&want[0]).map(|(a, b)| a * b).sum();
        assert!(cos > 0.999, "f16 weights: cosine {cos}");
    }

    #[test]
    fn damaged_weights_are_named_in_one_line() {
        use crate::embed::Model;
        let dir = tempfile::tempdir().unwrap();
        crate::embed::tiny::write(dir.path(), &["zebra"]).unwrap();
        let weights = dir.path().join("model.safetensors");
        let bytes = std::fs::read(&weights).unwrap();
        std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
        let e = Model::load(dir.path()).err().unwrap().to_string();
        assert!(
            e.contains("model.safetensors") && e.contains("past the file's end"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        std::fs::write(&weights, b"not a model").unwrap();
        let e = Model::load(dir.path()).err().unwrap().to_string();
        assert!(e.contains("model.safetensors") && !e.contains('\n'), "{e}");
        // A configuration that does not fit the weights names the parameter.
        std::fs::write(&weights, &bytes).unwrap();
        let config = dir.path().join("config.json");
        let c = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            c.replace("\"intermediate_size\": 64", "\"intermediate_size\": 65"),
        )
        .unwrap();
        let e = Model::load(dir.path()).err().unwrap().to_string();
        assert!(
            e.contains("intermediate.dense.weight") && e.contains("[65, 32]"),
            "{e}"
        );
    }

    /// The encoder against candle-transformers' BERT on a random model: two texts of
    /// different lengths, packed here, padded and masked there.
    #[test]
    fn the_encoder_computes_what_candles_bert_computes() {
        use candle_core::{DType, Device, Tensor};
        let dir = tempfile::tempdir().unwrap();
        let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        crate::embed::tiny::write(dir.path(), &words).unwrap();
        let config = std::fs::read(dir.path().join("config.json")).unwrap();
        let ours: super::BertConfig = serde_json::from_slice(&config).unwrap();
        let bert = super::Bert::load(&dir.path().join("model.safetensors"), &ours).unwrap();
        let a: Vec<u32> = vec![2, 9, 14, 30, 7, 22, 41, 3];
        let b: Vec<u32> = vec![2, 12, 3];
        let packed = bert.forward(&[&a, &b]);

        let theirs: candle_transformers::models::bert::Config =
            serde_json::from_slice(&config).unwrap();
        let weights = dir.path().join("model.safetensors");
        let vb = unsafe {
            candle_nn::VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &Device::Cpu)
        }
        .unwrap();
        let reference = candle_transformers::models::bert::BertModel::load(vb, &theirs).unwrap();
        let mut padded = b.clone();
        padded.resize(a.len(), 0);
        let ids =
            Tensor::from_vec([a.clone(), padded].concat(), (2, a.len()), &Device::Cpu).unwrap();
        let mask: Vec<u32> = [vec![1; a.len()], vec![1, 1, 1], vec![0; a.len() - 3]].concat();
        let mask = Tensor::from_vec(mask, (2, a.len()), &Device::Cpu).unwrap();
        let out = reference
            .forward(&ids, &ids.zeros_like().unwrap(), Some(&mask))
            .unwrap()
            .to_vec3::<f32>()
            .unwrap();
        let h = 32;
        let mut worst: f32 = 0.0;
        for (t, text) in [(0, &a), (1, &b)] {
            let start = if t == 0 { 0 } else { a.len() };
            for i in 0..text.len() {
                for j in 0..h {
                    worst = worst.max((packed[(start + i) * h + j] - out[t][i][j]).abs());
                }
            }
        }
        assert!(worst < 1e-4, "differs from candle's BERT by {worst}");
    }
}
