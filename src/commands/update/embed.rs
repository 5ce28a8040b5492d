//! The last step of an update, when a model is set: the documents' passages as vectors. The
//! lexical index is committed before it, so the library is searchable at once; this step
//! reads the documents from the index (the texts that were indexed), cuts them into passages,
//! and embeds only the passages whose exact text has no vector yet — an unchanged document
//! costs a lookup, a changed one its changed passages. Vectors are synced and the layout
//! written every [`CHECKPOINT`]: an interrupted update (Ctrl-C, kill) keeps what it did and
//! the next one continues.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

use crate::embed::Model;
use crate::index::{LibraryIndex, stored_str};
use crate::passages;
use crate::store::Store;
use crate::vectors::{self, DocPassages, ModelInfo, Placed, VectorStore};

/// How often new vectors are synced to disk.
const CHECKPOINT: Duration = Duration::from_secs(15);
/// Passages embedded in one call (the model batches them by length inside).
const CHUNK: usize = 64;

/// What the step did.
#[derive(Debug, Default)]
pub struct EmbedReport {
    pub model: String,
    pub documents: usize,
    pub passages: usize,
    pub sentences: usize,
    /// Texts embedded now (passages and sentences).
    pub embedded: usize,
    pub seconds: f64,
}

/// A passage or sentence to place: its range, the text to embed, and that text's key (hashed
/// once).
type Unit = (std::ops::Range<usize>, String, vectors::Key);

/// A document whose passages or sentences need vectors: its id, the digest of its text, and
/// its units.
struct Todo {
    id: String,
    text_key: vectors::Key,
    passages: Vec<Unit>,
    sentences: Vec<Unit>,
}

/// Embeds what the library lacks with the model in `model_dir`. `replace`: vectors of another
/// model are dropped and the library embedded again (`update --embed`).
pub fn embed_library(
    store: &Store,
    model_dir: &Path,
    replace: bool,
    tty: bool,
) -> Result<EmbedReport> {
    let started = Instant::now();
    crate::embed::keep_freed_memory();
    let model = Model::load(model_dir)?;
    let info = ModelInfo {
        id: model.id().to_string(),
        dim: model.dim(),
    };
    let mut vs = VectorStore::open(store.root(), &info, replace)?;
    let old = vectors::layout(store.root());
    let Some(lib) = LibraryIndex::open_existing(&store.tantivy_dir())? else {
        return Ok(EmbedReport::default());
    };
    let hashes = lib.indexed_hashes()?;
    let searcher = lib.searcher()?;
    let f = lib.fields;
    let read = |id: &str| -> Result<Option<TantivyDocument>> {
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(f.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(
            &q,
            &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
        )?;
        Ok(match top.first() {
            Some((_, addr)) => Some(searcher.doc(*addr)?),
            None => None,
        })
    };
    let mut ids: Vec<&String> = hashes.keys().collect();
    ids.sort();
    // Documents whose text is the one their units were placed in keep them (a layout from
    // before sentences were embedded gets its sentences; its passages' vectors are found).
    let mut layout: Vec<DocPassages> = vec![];
    let mut todo: Vec<Todo> = vec![];
    let mut waiting = 0;
    for id in ids {
        let text_key = vectors::key(&hashes[id]);
        if let Some(d) = old.get(id.as_str())
            && d.text_key == text_key
            && (!d.sentences.is_empty() || d.passages.is_empty())
        {
            layout.push(d.clone());
            continue;
        }
        let Some(doc) = read(id)? else { continue };
        let title = stored_str(&doc, f.title);
        let body = stored_str(&doc, f.body);
        let mut units = |ranges: Vec<std::ops::Range<usize>>| -> Vec<Unit> {
            ranges
                .into_iter()
                .map(|r| {
                    let text = passages::embedding_text(title, &body[r.clone()]);
                    let k = vectors::key(&text);
                    if vs.get(&k).is_none() {
                        waiting += 1;
                    }
                    (r, text, k)
                })
                .collect()
        };
        let passages = units(passages::cut(body));
        let sentences = units(passages::sentences(body));
        todo.push(Todo {
            id: id.clone(),
            text_key,
            passages,
            sentences,
        });
    }
    let bar = if tty && waiting > 0 {
        ProgressBar::with_draw_target(Some(waiting as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "embedding {bar:30} {pos}/{len} passages and sentences, {per_sec}, {eta} left",
        )
        .expect("static template"),
    );
    let mut report = EmbedReport {
        model: info.id.clone(),
        ..Default::default()
    };
    let mut last_checkpoint = Instant::now();
    // Embedded in chunks across documents; a document joins the layout when all its
    // units have vectors.
    let mut queue: Vec<(String, vectors::Key)> = vec![];
    for t in &todo {
        for (_, text, k) in t.passages.iter().chain(&t.sentences) {
            if vs.get(k).is_none() && !queue.iter().any(|(_, q)| q == k) {
                queue.push((text.clone(), *k));
            }
        }
        if queue.len() >= CHUNK {
            embed_chunk(&model, &mut vs, &mut queue, &bar, &mut report)?;
        }
        if last_checkpoint.elapsed() >= CHECKPOINT {
            embed_chunk(&model, &mut vs, &mut queue, &bar, &mut report)?;
            vs.checkpoint(&done(&layout, &todo, &vs))?;
            last_checkpoint = Instant::now();
        }
    }
    embed_chunk(&model, &mut vs, &mut queue, &bar, &mut report)?;
    let mut all = done(&layout, &todo, &vs);
    all.sort_by(|a, b| a.id.cmp(&b.id));
    // The scan file is rewritten only when what a search sees changed (at 100k documents it
    // is 115 MB), or when it is missing, damaged or of an older format.
    let same = all.len() == old.len() && all.iter().all(|d| old.get(&d.id) == Some(d));
    if same && vectors::scan::fits(&vectors::dir(store.root()), &info) {
        vs.checkpoint(&all)?;
    } else {
        vs.finish(&info, &all)?;
    }
    bar.finish_and_clear();
    report.documents = all.len();
    report.passages = all.iter().map(|d| d.passages.len()).sum();
    report.sentences = all.iter().map(|d| d.sentences.len()).sum();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn embed_chunk(
    model: &Model,
    vs: &mut VectorStore,
    queue: &mut Vec<(String, vectors::Key)>,
    bar: &ProgressBar,
    report: &mut EmbedReport,
) -> Result<()> {
    if queue.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = queue.iter().map(|(t, _)| t.as_str()).collect();
    let vectors = model
        .embed_passages(&texts)
        .context("cannot embed the library's passages")?;
    for ((_, k), v) in queue.iter().zip(&vectors) {
        vs.push(*k, v);
    }
    report.embedded += queue.len();
    bar.inc(queue.len() as u64);
    queue.clear();
    Ok(())
}

/// The layout of every document whose units all have vectors.
fn done(kept: &[DocPassages], todo: &[Todo], vs: &VectorStore) -> Vec<DocPassages> {
    let place = |units: &[Unit]| -> Option<Vec<Placed>> {
        units
            .iter()
            .map(|(r, _, k)| {
                Some(Placed {
                    record: vs.get(k)?,
                    start: r.start as u32,
                    end: r.end as u32,
                })
            })
            .collect()
    };
    let mut out: Vec<DocPassages> = kept.to_vec();
    for t in todo {
        if let (Some(passages), Some(sentences)) = (place(&t.passages), place(&t.sentences)) {
            out.push(DocPassages {
                id: t.id.clone(),
                text_key: t.text_key,
                passages,
                sentences,
            });
        }
    }
    out
}
