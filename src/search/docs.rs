//! Stored documents as one search reads them: each at most once. Feedback reads the best
//! hits' bodies and the snippets read them again; a paper's body is a decompressed block of
//! up to 100 KB, so the second read is a map lookup.

use std::collections::HashMap;
use std::rc::Rc;

use tantivy::{DocAddress, Searcher, TantivyDocument};

use super::SearchError;

pub struct Docs<'s> {
    searcher: &'s Searcher,
    read: HashMap<DocAddress, Rc<TantivyDocument>>,
}

impl<'s> Docs<'s> {
    pub fn new(searcher: &'s Searcher) -> Docs<'s> {
        Docs {
            searcher,
            read: HashMap::new(),
        }
    }

    pub fn searcher(&self) -> &'s Searcher {
        self.searcher
    }

    /// The stored fields of the document at `addr`.
    pub fn get(&mut self, addr: DocAddress) -> Result<Rc<TantivyDocument>, SearchError> {
        if let Some(d) = self.read.get(&addr) {
            return Ok(d.clone());
        }
        let d = Rc::new(self.searcher.doc::<TantivyDocument>(addr)?);
        self.read.insert(addr, d.clone());
        Ok(d)
    }
}
