//! The library's log of what its updates found: pages new, changed (which words, which
//! paragraph), failing since when, recovered, no longer listed. `changes.jsonl` in the library,
//! one line per update and one per event, appended once at the end of an update and never
//! rewritten, so a killed update loses at most its own lines; a torn last line is skipped on
//! reading. `rl-search changes`, the web reader's `/changes` and its Atom feed read it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

const FILE: &str = "changes.jsonl";
/// The words of an added paragraph a summary keeps.
const SUMMARY_WORDS: usize = 30;

/// What happened to a document in one update, in the order a reader wants them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Changed,
    #[default]
    New,
    Failing,
    Recovered,
    Removed,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Changed,
        Kind::New,
        Kind::Failing,
        Kind::Recovered,
        Kind::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Changed => "changed",
            Kind::Failing => "failing",
            Kind::Recovered => "recovered",
            Kind::Removed => "removed",
        }
    }
}

/// One document's change, as the update saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: Kind,
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub title: String,
    /// The version the update stored (new, changed, recovered with new text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The version it replaced (changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_added: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_removed: Option<usize>,
    /// The start of the biggest added paragraph (changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Why it fails (failing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Failing since (failing, recovered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

impl Event {
    pub fn new(kind: Kind, id: &str, url: &str, title: &str) -> Event {
        Event {
            kind,
            id: id.to_string(),
            url: url.to_string(),
            title: title.to_string(),
            ..Default::default()
        }
    }

    /// What to call the document: its title, else its link.
    pub fn name(&self) -> &str {
        if self.title.is_empty() {
            &self.url
        } else {
            &self.title
        }
    }
}

/// "1 changed, 2 failing": the events counted by kind, in reading order ("" for none).
pub fn tally(events: &[Event]) -> String {
    Kind::ALL
        .into_iter()
        .filter_map(|k| {
            let n = events.iter().filter(|e| e.kind == k).count();
            (n > 0).then(|| format!("{n} {}", k.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One update: when it ended, what it counted, and its events. Its log line holds all but
/// the events, which follow it a line each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// RFC 3339, seconds: also what makes feed entries' ids stable.
    pub at: String,
    pub links: usize,
    pub unchanged: usize,
    /// Links failing after the update (newly or still).
    #[serde(default)]
    pub failing: usize,
    #[serde(default)]
    pub requests: u64,
    #[serde(skip)]
    pub events: Vec<Event>,
}

impl Update {
    pub fn count(&self, kind: Kind) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }
}

/// A line of the log: an update's header, or one of its events (which follow their header).
#[derive(Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "lowercase")]
enum Line {
    Update(Update),
    Event {
        at: String,
        #[serde(flatten)]
        event: Event,
    },
}

fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// Appends one update to the library's log, in one write, synced.
pub fn append(root: &Path, update: &Update) -> std::io::Result<()> {
    let mut out = Vec::new();
    let header = Line::Update(Update {
        events: vec![],
        ..update.clone()
    });
    serde_json::to_writer(&mut out, &header)?;
    out.push(b'\n');
    for e in &update.events {
        let line = Line::Event {
            at: update.at.clone(),
            event: e.clone(),
        };
        serde_json::to_writer(&mut out, &line)?;
        out.push(b'\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path(root))?;
    // A line torn by a killed update ends here, so that this update's lines start whole.
    if ends_torn(&mut f)? {
        out.insert(0, b'\n');
    }
    f.write_all(&out)?;
    f.sync_data()
}

fn ends_torn(f: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if f.metadata()?.len() == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Every update in the log, oldest first. Lines that do not parse (a torn last line, a line
/// from a newer version) are skipped; an event without its header gets one.
pub fn read(root: &Path) -> Vec<Update> {
    let Ok(text) = std::fs::read_to_string(path(root)) else {
        return vec![];
    };
    let mut out: Vec<Update> = vec![];
    for line in text.lines() {
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Update(u)) => out.push(u),
            Ok(Line::Event { at, event }) => match out.last_mut() {
                Some(u) if u.at == at => u.events.push(event),
                _ => out.push(Update {
                    at,
                    events: vec![event],
                    ..Default::default()
                }),
            },
            Err(_) => {}
        }
    }
    out
}

/// Words added and removed between two texts (as `history` counts them), and the start of
/// the biggest added paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub added: usize,
    pub removed: usize,
    pub summary: Option<String>,
}

/// A diff gives up refining after this long: a rewritten 1 MB page still gets an answer.
const DIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Words added and removed from `old` to `new`.
pub fn word_changes(old: &str, new: &str) -> (usize, usize) {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_words(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        if change.value().trim().is_empty() {
            continue;
        }
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    (added, removed)
}

/// A text as one line per paragraph, blank lines dropped: what paragraph diffs compare.
pub fn paragraph_lines(t: &str) -> String {
    t.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

pub fn delta(old: &str, new: &str) -> Delta {
    let (old_p, new_p) = (paragraph_lines(old), paragraph_lines(new));
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(&old_p, &new_p);
    let biggest = diff
        .iter_all_changes()
        .filter(|c| c.tag() == ChangeTag::Insert)
        .map(|c| (c.value().split_whitespace().count(), c.value()))
        .fold(None, |best: Option<(usize, &str)>, (w, line)| match best {
            Some((b, _)) if b >= w => best,
            _ => Some((w, line)),
        });
    let summary = biggest.map(|(w, line)| {
        let mut s = line
            .split_whitespace()
            .take(SUMMARY_WORDS)
            .collect::<Vec<_>>()
            .join(" ");
        if w > SUMMARY_WORDS {
            s.push('…');
        }
        s
    });
    let (added, removed) = word_changes(old, new);
    Delta {
        added,
        removed,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_added_removed_and_the_biggest_new_paragraph() {
        let old = "Title\n\nFirst paragraph stays.\n\nThis one goes away now.\n";
        let new = "Title\n\nFirst paragraph stays.\n\nA new paragraph with seven words here.\n\nShort one.\n";
        let d = delta(old, new);
        assert_eq!(d.added, 9);
        assert_eq!(d.removed, 5, "{d:?}");
        assert_eq!(
            d.summary.as_deref(),
            Some("A new paragraph with seven words here.")
        );
        assert_eq!(delta(old, old).added, 0);
    }

    #[test]
    fn the_log_round_trips_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = Event::new(Kind::Changed, "abcd1234", "https://e.org/", "Ünïcode 标题");
        e.words_added = Some(3);
        let u = Update {
            at: "2026-12-02T06:00:00Z".into(),
            links: 3,
            unchanged: 2,
            failing: 0,
            requests: 4,
            events: vec![e],
        };
        append(dir.path(), &u).unwrap();
        // A second update killed mid-write.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap()
            .write_all(b"{\"line\":\"update\",\"at\":\"2026-12-0")
            .unwrap();
        assert_eq!(read(dir.path()), vec![u.clone()]);
        // The next update's lines start on a line of their own, whatever the last one was.
        let later = Update {
            at: "2026-12-03T06:00:00Z".into(),
            events: vec![],
            ..u.clone()
        };
        append(dir.path(), &later).unwrap();
        assert_eq!(read(dir.path()), vec![u, later]);
    }
}
