//! The Tantivy index: schema, the one writer, upsert by document id, one commit per update.
//! Each indexed document carries the hash of the text it was built from, so an update can see
//! what a crash left unindexed and repair it.

use std::collections::HashMap;
use std::path::Path;

use tantivy::collector::DocSetCollector;
use tantivy::directory::MmapDirectory;
use tantivy::query::AllQuery;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexWriter, TantivyDocument, Term, doc};
use thiserror::Error;

/// Memory for the writer's in-RAM segment before it flushes; plenty for a reading list.
const WRITER_HEAP: usize = 64 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum IndexError {
    #[error("search index at {path}: {source}; run `rl-search update --reindex` to rebuild it")]
    Tantivy {
        path: String,
        #[source]
        source: tantivy::TantivyError,
    },
}

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub url: Field,
    pub host: Field,
    pub kind: Field,
    pub title: Field,
    pub link_text: Field,
    pub section: Field,
    pub author: Field,
    pub body: Field,
    /// sha256 of the text the entry was built from.
    pub hash: Field,
}

/// What gets indexed for one document.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    pub id: String,
    pub url: String,
    pub host: String,
    pub kind: String,
    pub title: String,
    pub link_text: String,
    pub section: String,
    pub author: String,
    pub body: String,
    pub hash: String,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let stemmed = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        url: b.add_text_field("url", STRING | STORED),
        host: b.add_text_field("host", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        title: b.add_text_field("title", stemmed.clone()),
        link_text: b.add_text_field("link_text", stemmed.clone()),
        section: b.add_text_field("section", stemmed.clone()),
        author: b.add_text_field("author", stemmed.clone()),
        body: b.add_text_field("body", stemmed),
        hash: b.add_text_field("hash", STRING | STORED),
    };
    (b.build(), fields)
}

/// An opened index.
pub struct LibraryIndex {
    pub index: Index,
    pub fields: Fields,
    path: String,
}

impl LibraryIndex {
    /// Opens the index in `dir` for an update; an index that cannot be opened (damaged, or
    /// built by another version with another schema) is set aside and rebuilt from the stored
    /// text, which is the source of truth. Returns whether it was rebuilt.
    pub fn open_for_update(dir: &Path) -> Result<(Self, bool), IndexError> {
        match Self::open_or_create(dir) {
            Ok(lib) => Ok((lib, false)),
            Err(_) => {
                let aside = dir.with_extension(format!("broken-{}", std::process::id()));
                let _ = std::fs::rename(dir, &aside);
                let _ = std::fs::remove_dir_all(&aside);
                Ok((Self::open_or_create(dir)?, true))
            }
        }
    }

    /// Opens the index in `dir`, creating it when absent.
    pub fn open_or_create(dir: &Path) -> Result<Self, IndexError> {
        let (schema, fields) = schema();
        let path = dir.display().to_string();
        let err = |source| IndexError::Tantivy {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(tantivy::TantivyError::IoError(e.into())))?;
        let mmap = MmapDirectory::open(dir).map_err(|e| err(e.into()))?;
        let index = Index::open_or_create(mmap, schema).map_err(err)?;
        Ok(LibraryIndex {
            index,
            fields,
            path,
        })
    }

    /// Opens an existing index for reading; `None` when there is none yet.
    pub fn open_existing(dir: &Path) -> Result<Option<Self>, IndexError> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        Self::open_or_create(dir).map(Some)
    }

    fn err(&self, source: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy {
            path: self.path.clone(),
            source,
        }
    }

    /// Number of searchable documents.
    pub fn num_docs(&self) -> Result<u64, IndexError> {
        let reader = self.index.reader().map_err(|e| self.err(e))?;
        Ok(reader.searcher().num_docs())
    }

    /// id → text hash of every indexed document.
    pub fn indexed_hashes(&self) -> Result<HashMap<String, String>, IndexError> {
        let reader = self.index.reader().map_err(|e| self.err(e))?;
        let searcher = reader.searcher();
        let addrs = searcher
            .search(&AllQuery, &DocSetCollector)
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for addr in addrs {
            let doc: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
            let get = |f| {
                doc.get_first(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            out.insert(get(self.fields.id), get(self.fields.hash));
        }
        Ok(out)
    }

    /// Starts the one writer of an update.
    pub fn writer(&self) -> Result<Writer<'_>, IndexError> {
        let writer = self.index.writer(WRITER_HEAP).map_err(|e| self.err(e))?;
        Ok(Writer {
            lib: self,
            writer,
            changes: 0,
        })
    }
}

/// The single writer: upserts and deletes, then one commit.
pub struct Writer<'a> {
    lib: &'a LibraryIndex,
    writer: IndexWriter,
    changes: usize,
}

impl Writer<'_> {
    /// Replaces the document with this id (delete by the untokenised id, then add).
    pub fn upsert(&mut self, d: &IndexDoc) -> Result<(), IndexError> {
        let f = &self.lib.fields;
        self.writer.delete_term(Term::from_field_text(f.id, &d.id));
        self.writer
            .add_document(doc!(
                f.id => d.id.as_str(),
                f.url => d.url.as_str(),
                f.host => d.host.as_str(),
                f.kind => d.kind.as_str(),
                f.title => d.title.as_str(),
                f.link_text => d.link_text.as_str(),
                f.section => d.section.as_str(),
                f.author => d.author.as_str(),
                f.body => d.body.as_str(),
                f.hash => d.hash.as_str(),
            ))
            .map_err(|e| self.lib.err(e))?;
        self.changes += 1;
        Ok(())
    }

    pub fn delete(&mut self, id: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.lib.fields.id, id));
        self.changes += 1;
    }

    /// Commits once (if anything changed) and waits for merges, so the next search opens few
    /// segments. Returns the number of changes committed.
    pub fn finish(mut self) -> Result<usize, IndexError> {
        if self.changes > 0 {
            self.writer.commit().map_err(|e| self.lib.err(e))?;
        }
        self.writer
            .wait_merging_threads()
            .map_err(|e| self.lib.err(e))?;
        Ok(self.changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_replaces_and_hashes_are_readable() {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryIndex::open_or_create(dir.path()).unwrap();
        let mut w = lib.writer().unwrap();
        let mut d = IndexDoc {
            id: "a1".into(),
            title: "First".into(),
            body: "alpha".into(),
            hash: "h1".into(),
            ..Default::default()
        };
        w.upsert(&d).unwrap();
        w.finish().unwrap();
        let mut w = lib.writer().unwrap();
        d.hash = "h2".into();
        w.upsert(&d).unwrap();
        w.finish().unwrap();
        assert_eq!(lib.num_docs().unwrap(), 1);
        assert_eq!(lib.indexed_hashes().unwrap()["a1"], "h2");
    }
}
