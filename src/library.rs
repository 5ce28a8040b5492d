//! The library as a search sees it: the index and the side data built from it, taken
//! together at one moment. A [`Snapshot`] pairs a searcher with the side data that fits that
//! searcher's segments (tantivy's warmer keys its per-segment data the same way), so a search
//! never mixes an index commit with side data made for another one — and side data that did
//! not fit a moment ago (an update between its commit and its neighbours file) is looked for
//! again by the next snapshot, not cached as missing.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::Searcher;

use crate::index::{IndexError, LibraryIndex};
use crate::neighbours::Neighbours;
use crate::vectors::Vectors;

/// An opened library: the index, and the side data last found to fit it.
pub struct Library {
    pub index: LibraryIndex,
    neighbours: Mutex<Option<Arc<Neighbours>>>,
    /// The passage vectors, and the time and size of the scan file they were read from.
    vectors: Mutex<Option<(FileStamp, Option<Arc<Vectors>>)>>,
}

/// A file's modification time and size, `None` when it is absent.
type FileStamp = Option<(std::time::SystemTime, u64)>;

/// One consistent view for one search: a searcher and the side data made for its segments.
pub struct Snapshot<'a> {
    pub index: &'a LibraryIndex,
    pub searcher: Searcher,
    /// Each document's nearest documents (`None`: not computed for these segments).
    pub neighbours: Option<Arc<Neighbours>>,
    /// The passage vectors, when asked for and the library has them.
    pub vectors: Option<Arc<Vectors>>,
}

impl Library {
    pub fn new(index: LibraryIndex) -> Library {
        Library {
            index,
            neighbours: Mutex::new(None),
            vectors: Mutex::new(None),
        }
    }

    /// Opens the library's index in `dir` for reading; `None` when there is none yet.
    pub fn open_existing(dir: &Path) -> Result<Option<Library>, IndexError> {
        Ok(LibraryIndex::open_existing(dir)?.map(Library::new))
    }

    /// An empty library in memory (for checking a query before there is anything to search).
    pub fn in_ram() -> Library {
        Library::new(LibraryIndex::in_ram())
    }

    /// Sees the latest commit.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.index.reload()
    }

    /// The current searcher with the side data that fits it.
    pub fn snapshot(&self) -> Result<Snapshot<'_>, IndexError> {
        let searcher = self.index.searcher()?;
        let neighbours = self.neighbours_for(&searcher);
        Ok(Snapshot {
            index: &self.index,
            searcher,
            neighbours,
            vectors: None,
        })
    }

    /// A snapshot with the passage vectors too (read again when an update rewrote them).
    pub fn snapshot_with_vectors(&self) -> Result<Snapshot<'_>, IndexError> {
        let mut snap = self.snapshot()?;
        snap.vectors = self.vectors();
        Ok(snap)
    }

    fn vectors(&self) -> Option<Arc<Vectors>> {
        let root = self.index.dir()?.parent()?;
        let stamp = std::fs::metadata(crate::vectors::dir(root).join("scan.bin"))
            .and_then(|m| Ok((m.modified()?, m.len())))
            .ok();
        let mut slot = self.vectors.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, v)) = slot.as_ref()
            && *seen == stamp
        {
            return v.clone();
        }
        let v = Vectors::open(root).map(Arc::new);
        *slot = Some((stamp, v.clone()));
        v
    }

    /// The neighbours file if it was made for `searcher`'s segments. A cached file that no
    /// longer fits is dropped and the folder read again (opening reads only the header).
    fn neighbours_for(&self, searcher: &Searcher) -> Option<Arc<Neighbours>> {
        let dir = self.index.dir()?;
        let mut slot = self.neighbours.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = slot.as_ref().filter(|n| n.fits(searcher)) {
            return Some(n.clone());
        }
        *slot = Neighbours::open(dir)
            .filter(|n| n.fits(searcher))
            .map(Arc::new);
        slot.clone()
    }
}

impl Snapshot<'_> {
    /// A view of an index without side data (an index in memory, or a test's).
    pub fn bare(index: &LibraryIndex) -> Result<Snapshot<'_>, IndexError> {
        Ok(Snapshot {
            index,
            searcher: index.searcher()?,
            neighbours: None,
            vectors: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDoc;

    fn add(index: &LibraryIndex, docs: &[(&str, &str)]) {
        let mut w = index.writer().unwrap();
        for (id, body) in docs {
            w.upsert(&IndexDoc {
                id: id.to_string(),
                body: body.to_string(),
                ..Default::default()
            })
            .unwrap();
        }
        w.finish().unwrap();
    }

    /// Issue 20: a search that landed between an update's commit and its neighbours file
    /// cached the old file, which no longer fitted, and ranked without document expansion
    /// until a restart. A snapshot now takes side data only when it fits, and looks again.
    #[test]
    fn side_data_written_after_a_commit_is_seen_by_the_next_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::new(LibraryIndex::open_or_create(dir.path()).unwrap());
        add(
            &lib.index,
            &[
                ("a", "kv cache keys values"),
                ("b", "kv cache of keys"),
                ("c", "bread"),
            ],
        );
        crate::neighbours::refresh(&lib.index, dir.path()).unwrap();
        assert!(lib.snapshot().unwrap().neighbours.is_some());

        // An update commits; a search runs before its neighbours file is written.
        add(&lib.index, &[("d", "paged kv cache")]);
        lib.reload().unwrap();
        let between = lib.snapshot().unwrap();
        assert!(
            between.neighbours.is_none(),
            "the old file does not fit the new segments"
        );

        // The update writes the file: the next search uses it, with no reload or restart.
        crate::neighbours::refresh(&lib.index, dir.path()).unwrap();
        let after = lib.snapshot().unwrap();
        let near = after.neighbours.expect("the new file is picked up");
        assert!(near.fits(&after.searcher));
    }

    #[test]
    fn an_index_in_memory_has_no_side_data() {
        let lib = Library::in_ram();
        assert!(lib.snapshot().unwrap().neighbours.is_none());
    }
}
