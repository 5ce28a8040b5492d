//! Why a search found nothing, when the reason is a filter: `--kind papr` or `host:arxiv.com`
//! selects no document at all, whatever the words. The user gets a note naming the filter and
//! the values the library does have, rather than a bare "no documents match".

use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::SearchError;
use super::plan::NamedFilter;

/// Values listed in a note at most (a library can have hundreds of hosts).
const LISTED: usize = 12;

/// A note for each filter that no document satisfies on its own.
pub fn notes(searcher: &Searcher, named: &[NamedFilter]) -> Result<Vec<String>, SearchError> {
    let mut out = vec![];
    for f in named {
        if searcher.search(&*f.query, &Count)? > 0 {
            continue;
        }
        let Some(field) = f.field else {
            // A section is matched by its words, so there is no list of values to offer.
            out.push(format!(
                "no document's {} has the words {:?}",
                f.what, f.value
            ));
            continue;
        };
        let have = values(searcher, field)?;
        let mut note = format!("no document has {} {:?}; ", f.what, f.value);
        if have.is_empty() {
            note.push_str(&format!("no document has any {}", f.what));
        } else {
            let more = if have.len() > LISTED { ", …" } else { "" };
            let shown: Vec<&str> = have.iter().take(LISTED).map(String::as_str).collect();
            note.push_str(&format!(
                "the library's {}s: {}{more}",
                f.what,
                shown.join(", ")
            ));
        }
        out.push(note);
    }
    Ok(out)
}

/// The values of an untokenised field that some live document has, the most common first.
fn values(searcher: &Searcher, field: Field) -> Result<Vec<String>, SearchError> {
    let mut seen: std::collections::HashMap<String, u64> = Default::default();
    for seg in searcher.segment_readers() {
        let inverted = seg.inverted_index(field)?;
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(|e| SearchError::Index(e.into()))?;
        while terms.advance() {
            if let Ok(v) = std::str::from_utf8(terms.key()) {
                *seen.entry(v.to_string()).or_default() += u64::from(terms.value().doc_freq);
            }
        }
    }
    let mut counted: Vec<(u64, String)> = seen.into_iter().map(|(v, n)| (n, v)).collect();
    counted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    // The term dictionary still holds values of deleted documents until segments merge: keep
    // only those a live document has (one count each, for the values that can be shown).
    let mut out = vec![];
    for (_, v) in counted {
        if out.len() > LISTED {
            break;
        }
        let q = TermQuery::new(Term::from_field_text(field, &v), IndexRecordOption::Basic);
        if searcher.search(&q, &Count)? > 0 {
            out.push(v);
        }
    }
    Ok(out)
}
