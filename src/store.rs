//! The library on disk. Per document: its metadata record (`docs/ID.json`), its raw bytes
//! (`raw/ID-HASH.EXT`) and its extracted text (`text/ID-HASH.txt`). Content files are named by
//! their hash and written before the record that points at them, and every file is written to a
//! temporary name and renamed, so a crash at any moment leaves the last good state readable.
//! A lock file keeps two updates from writing at once.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("library {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "library {0} is being updated by another rl-search (pid {1}); try again when it ends, or pass --wait"
    )]
    Locked(PathBuf, String),
    #[error("{path} is damaged ({reason}); run `rl-search update` to fetch it again")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "a record names the stored file {name:?}, which is not a file name inside the library; run `rl-search update` to fetch it again"
    )]
    BadName { name: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a document stands after its latest attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A good copy is stored (the latest attempt may still have failed: see `last_error`).
    Ok,
    /// No good copy: every attempt so far failed.
    Failed,
    /// Not fetched yet.
    #[default]
    Pending,
}

/// One fetched resource of a document.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SourceRecord {
    pub url: String,
    pub final_url: String,
    pub http_status: u16,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: String,
    pub bytes: u64,
    /// File name under `raw/`.
    pub raw_file: String,
    /// The version of the resource held, where the site names versions (an arXiv PDF:
    /// `2001.08361v2`); a known current version is not asked for again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Everything rl-search knows about one link.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DocRecord {
    pub id: String,
    pub url: String,
    pub link_text: String,
    pub section: String,
    /// The list's tags for the link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// When the service the list came from saved it, and its read state there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<crate::list::Saved>,
    pub kind: String,
    pub title: String,
    pub author: Option<String>,
    pub published: Option<String>,
    pub description: Option<String>,
    pub state: State,
    /// Text too short to be the real content; a note says why.
    pub thin: bool,
    pub note: Option<String>,
    pub http_status: Option<u16>,
    pub bytes: u64,
    pub text_chars: usize,
    pub text_sha256: Option<String>,
    /// File name under `text/`.
    pub text_file: Option<String>,
    /// When the stored copy was downloaded (RFC 3339).
    pub fetched_at: Option<String>,
    /// When the link was last checked, successfully or not.
    pub checked_at: Option<String>,
    pub last_error: Option<String>,
    pub sources: Vec<SourceRecord>,
    /// The text's headings, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outline: Vec<crate::extract::Heading>,
    /// The extractor version that made the stored text (see [`crate::extract::VERSION`]).
    #[serde(default)]
    pub extractor: u32,
    /// Earlier versions of the document, oldest first; the record itself is the current one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Version>,
    /// Since when every refresh has failed (RFC 3339); `None` while it succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
}

/// An earlier version of a document: what a refresh replaced, kept with its files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Version {
    /// Numbered from 1, the oldest; numbers stay when older versions are dropped.
    pub version: u32,
    pub title: String,
    pub fetched_at: Option<String>,
    pub http_status: Option<u16>,
    pub bytes: u64,
    pub words: usize,
    pub text_sha256: Option<String>,
    pub text_file: Option<String>,
    pub sources: Vec<SourceRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outline: Vec<crate::extract::Heading>,
}

impl DocRecord {
    /// The current version's number.
    pub fn current_version(&self) -> u32 {
        self.versions.last().map_or(1, |v| v.version + 1)
    }

    /// How many of the oldest versions go to keep at most `keep` (the current one counted).
    pub fn versions_over(&self, keep: Option<usize>) -> usize {
        keep.map_or(0, |k| {
            self.versions.len().saturating_sub(k.saturating_sub(1))
        })
    }

    /// Drops the oldest versions beyond `keep` (see [`DocRecord::versions_over`]).
    pub fn bound_versions(&mut self, keep: Option<usize>) {
        let drop = self.versions_over(keep);
        self.versions.drain(..drop);
    }

    /// The current copy as a [`Version`] (to be kept when a newer one replaces it).
    pub fn as_version(&self, words: usize) -> Version {
        Version {
            version: self.current_version(),
            title: self.title.clone(),
            fetched_at: self.fetched_at.clone(),
            http_status: self.http_status,
            bytes: self.bytes,
            words,
            text_sha256: self.text_sha256.clone(),
            text_file: self.text_file.clone(),
            sources: self.sources.clone(),
            outline: self.outline.clone(),
        }
    }

    /// The record as it was at an earlier version: that version's title, date, text, outline
    /// and sources, with the link's own fields (id, URL, section) as they are now.
    pub fn at_version(&self, v: &Version) -> DocRecord {
        DocRecord {
            title: v.title.clone(),
            fetched_at: v.fetched_at.clone(),
            http_status: v.http_status,
            bytes: v.bytes,
            text_sha256: v.text_sha256.clone(),
            text_file: v.text_file.clone(),
            outline: v.outline.clone(),
            sources: v.sources.clone(),
            ..self.clone()
        }
    }

    /// Every file (under `raw/` and `text/`) the record and its versions use.
    pub fn files(&self) -> (HashSet<&str>, HashSet<&str>) {
        let mut raw: HashSet<&str> = self.sources.iter().map(|s| s.raw_file.as_str()).collect();
        let mut text: HashSet<&str> = self.text_file.as_deref().into_iter().collect();
        for v in &self.versions {
            raw.extend(v.sources.iter().map(|s| s.raw_file.as_str()));
            text.extend(v.text_file.as_deref());
        }
        (raw, text)
    }
}

/// The lists the library was built from and their links, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub lists: Vec<String>,
    pub entries: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub id: String,
    pub url: String,
    pub link_text: String,
    pub section: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<crate::list::Saved>,
}

impl ManifestEntry {
    /// A list's link as the library records it, under id `id`.
    pub fn listed(e: &crate::list::Entry, id: String) -> ManifestEntry {
        ManifestEntry {
            id,
            url: e.url.clone(),
            link_text: e.link_text.clone(),
            section: e.section.clone(),
            tags: e.tags.clone(),
            saved: e.saved.clone(),
        }
    }
}

/// The last search's query and the ids it printed, so `read 2` means the second hit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LastSearch {
    pub query: String,
    pub ids: Vec<String>,
}

/// A short id that stays the same for a URL across updates and machines: the first 8 hex
/// digits of its SHA-256 (what [`assign_ids`] gives unless those 8 digits are taken).
#[cfg(test)]
fn doc_id(url: &str) -> String {
    hex(&Sha256::digest(url.as_bytes()))[..8].to_string()
}

/// Ids for a list's URLs, unique within the library. 8 hex digits collide about once in
/// 100,000 URLs, so a URL whose short id is taken by another gets a longer prefix of its
/// hash (10, 12, … digits). A URL keeps the id `previous` gave it, so ids never change
/// between updates.
pub fn assign_ids<'a>(
    urls: impl IntoIterator<Item = &'a str>,
    previous: Option<&Manifest>,
) -> Vec<String> {
    use std::collections::HashMap;
    let mut owner: HashMap<String, String> = HashMap::new(); // id -> url
    let mut kept: HashMap<&str, &str> = HashMap::new(); // url -> id
    if let Some(m) = previous {
        for e in &m.entries {
            owner.insert(e.id.clone(), e.url.clone());
            kept.insert(e.url.as_str(), e.id.as_str());
        }
    }
    let mut out = vec![];
    for url in urls {
        let id = match kept.get(url) {
            Some(id) => id.to_string(),
            None => {
                let full = hex(&Sha256::digest(url.as_bytes()));
                let id = (8..=full.len())
                    .step_by(2)
                    .map(|n| full[..n].to_string())
                    .find(|c| owner.get(c).is_none_or(|u| u == url))
                    .unwrap_or(full);
                owner.insert(id.clone(), url.to_string());
                id
            }
        };
        out.push(id);
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Held while an update writes; released on drop (and by the OS if the process dies).
pub struct LockGuard {
    _file: File,
}

/// The library directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// Whether reading may write: a damaged record is set aside and its rebuilt copy saved.
    /// Off for the web reader, where a page view must not change the library.
    repairs_on_disk: bool,
}

/// Whether `name` (from a record) is a plain file name: one normal path component, no
/// separator, not `.`/`..` or hidden, so joining it to a library folder stays inside it.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':'])
        && Path::new(name).components().count() == 1
        && matches!(
            Path::new(name).components().next(),
            Some(std::path::Component::Normal(_))
        )
}

/// What was found damaged and what was done about it in this process, for the command layer to
/// report once (see [`take_repairs`]).
static REPAIRS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Damaged records found (and repaired) since the last call: one line each.
pub fn take_repairs() -> Vec<String> {
    std::mem::take(&mut *REPAIRS.lock().unwrap_or_else(|e| e.into_inner()))
}

impl Store {
    /// Opens a library, creating its folders when `create` is set.
    pub fn open(root: &Path, create: bool) -> Result<Store, StoreError> {
        let store = Store {
            root: root.to_path_buf(),
            repairs_on_disk: true,
        };
        if create {
            for dir in ["docs", "raw", "text", "tantivy"] {
                let p = root.join(dir);
                fs::create_dir_all(&p).map_err(io_err(&p))?;
            }
        }
        Ok(store)
    }

    /// The same library, read without writing: damaged records are rebuilt in memory only.
    pub fn read_only(mut self) -> Store {
        self.repairs_on_disk = false;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tantivy_dir(&self) -> PathBuf {
        self.root.join("tantivy")
    }

    /// Takes the writer's lock; fails at once if another process holds it, unless `wait`.
    pub fn lock(&self, wait: bool) -> Result<LockGuard, StoreError> {
        let path = self.root.join(".lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) if wait => file.lock().map_err(io_err(&path))?,
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked(
                    self.root.clone(),
                    if holder.is_empty() {
                        "unknown".into()
                    } else {
                        holder.into()
                    },
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
        }
        file.set_len(0).map_err(io_err(&path))?;
        write!(file, "{}", std::process::id()).map_err(io_err(&path))?;
        self.remove_stale_temp_files();
        Ok(LockGuard { _file: file })
    }

    /// Temporary files a killed writer left behind; only safe to remove under the lock.
    fn remove_stale_temp_files(&self) {
        for dir in ["", "docs", "raw", "text"] {
            let Ok(entries) = fs::read_dir(self.root.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                if name.to_string_lossy().contains(".tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }

    pub fn load_manifest(&self) -> Result<Option<Manifest>, StoreError> {
        self.read_json(&self.root.join("library.json"))
    }

    pub fn save_manifest(&self, m: &Manifest) -> Result<(), StoreError> {
        self.write_json(&self.root.join("library.json"), m)
    }

    /// When each link was last checked (id → RFC 3339), written once per update; records hold
    /// the time of their last change.
    pub fn load_checked(&self) -> std::collections::HashMap<String, String> {
        self.read_json(&self.root.join("checked.json"))
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub fn save_checked(
        &self,
        checked: &std::collections::HashMap<String, String>,
    ) -> Result<(), StoreError> {
        self.write_json(&self.root.join("checked.json"), checked)
    }

    /// The last search, if one was recorded and is readable.
    pub fn load_last_search(&self) -> Result<Option<LastSearch>, StoreError> {
        Ok(self
            .read_json(&self.root.join("last-search.json"))
            .ok()
            .flatten())
    }

    /// Records the last search. Written in place, without the temp file and fsync of
    /// `atomic_write`: it is a convenience on the search path (creating a file costs more
    /// than the query), and a torn copy only means "no last search".
    pub fn save_last_search(&self, last: &LastSearch) -> Result<(), StoreError> {
        let path = self.root.join("last-search.json");
        let bytes = serde_json::to_vec(last).expect("serialises");
        fs::write(&path, bytes).map_err(io_err(&path))
    }

    /// A document's record. A damaged one (unreadable JSON) is handled the same way for every
    /// command: set aside as `docs/ID.json.damaged`, rebuilt from the stored text where there
    /// is one (the next update fetches the link again in full, since the rebuilt record has
    /// no validators), and reported once through [`take_repairs`].
    pub fn load_record(&self, id: &str) -> Result<Option<DocRecord>, StoreError> {
        let path = self.root.join("docs").join(format!("{id}.json"));
        match self.read_json(&path) {
            Err(StoreError::Corrupt { path, reason }) => self.repair(id, &path, &reason),
            other => other,
        }
    }

    fn repair(&self, id: &str, path: &Path, reason: &str) -> Result<Option<DocRecord>, StoreError> {
        let aside = path.with_extension("json.damaged");
        let moved = self.repairs_on_disk && fs::rename(path, &aside).is_ok();
        let entry = self
            .load_manifest()
            .ok()
            .flatten()
            .and_then(|m| m.entries.into_iter().find(|e| e.id == id));
        // The newest text stored for this id is the last one indexed.
        let newest = |dir: &str| {
            fs::read_dir(self.root.join(dir))
                .ok()?
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(&format!("{id}-"))
                })
                .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
        };
        let rebuilt = match (entry, newest("text")) {
            (Some(e), Some(text_file)) => {
                let text = self.read_text(&text_file)?;
                let kind = match newest("raw") {
                    Some(raw) if raw.ends_with(".pdf") => "pdf",
                    _ => "page",
                };
                let rec = DocRecord {
                    id: id.to_string(),
                    url: e.url.clone(),
                    title: if e.link_text.is_empty() {
                        e.url.clone()
                    } else {
                        e.link_text.clone()
                    },
                    link_text: e.link_text,
                    section: e.section,
                    kind: kind.to_string(),
                    state: State::Ok,
                    note: Some("rebuilt from the stored text after its record was damaged".into()),
                    text_chars: text.chars().count(),
                    text_sha256: Some(sha256_hex(text.as_bytes())),
                    text_file: Some(text_file),
                    ..Default::default()
                };
                // A read-only library still gets the rebuilt record for this run.
                if self.repairs_on_disk {
                    let _ = self.write_json(path, &rec);
                }
                Some(rec)
            }
            _ => None,
        };
        let what = match (&rebuilt, moved) {
            (Some(_), _) => {
                "rebuilt it from the stored text; the next update fetches the link again"
            }
            (None, true) => {
                "nothing stored to rebuild it from; the next update fetches the link again"
            }
            (None, false) if !self.repairs_on_disk => {
                "left as it is (this reader does not write); run `rl-search update`"
            }
            (None, false) => "could not set it aside (read-only library?); run `rl-search update`",
        };
        REPAIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!(
                "{} was damaged ({reason}): {what}{}",
                path.display(),
                if moved {
                    format!(" (the damaged file is kept as {})", aside.display())
                } else {
                    String::new()
                }
            ));
        Ok(rebuilt)
    }

    /// Saves a record and then removes the content files its previous version used.
    pub fn save_record(
        &self,
        rec: &DocRecord,
        previous: Option<&DocRecord>,
    ) -> Result<(), StoreError> {
        self.write_json(
            &self.root.join("docs").join(format!("{}.json", rec.id)),
            rec,
        )?;
        // Only after the record that no longer needs them is safely written: a crash before
        // this leaves unused files, never a record pointing at a missing one.
        if let Some(prev) = previous {
            let (raw_now, text_now) = rec.files();
            let (raw_then, text_then) = prev.files();
            for f in raw_then.difference(&raw_now) {
                self.remove_inside("raw", f);
            }
            for f in text_then.difference(&text_now) {
                self.remove_inside("text", f);
            }
        }
        Ok(())
    }

    /// Removes a record and every file it and its versions use.
    pub fn remove_record(&self, rec: &DocRecord) -> Result<(), StoreError> {
        let path = self.root.join("docs").join(format!("{}.json", rec.id));
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        let (raw, text) = rec.files();
        for f in raw {
            self.remove_inside("raw", f);
        }
        for f in text {
            self.remove_inside("text", f);
        }
        Ok(())
    }

    /// Bytes on disk of a record's earlier versions (files the current copy does not share).
    pub fn version_bytes(&self, rec: &DocRecord) -> u64 {
        let current = DocRecord {
            versions: vec![],
            ..rec.clone()
        };
        let (raw_now, text_now) = current.files();
        let (raw, text) = rec.files();
        let size = |dir: &str, f: &str| {
            fs::metadata(self.root.join(dir).join(f))
                .map(|m| m.len())
                .unwrap_or(0)
        };
        raw.difference(&raw_now)
            .map(|f| size("raw", f))
            .sum::<u64>()
            + text
                .difference(&text_now)
                .map(|f| size("text", f))
                .sum::<u64>()
    }

    /// All stored records, in no particular order; damaged ones are repaired as
    /// [`Store::load_record`] does.
    pub fn records(&self) -> Vec<DocRecord> {
        let Ok(dir) = fs::read_dir(self.root.join("docs")) else {
            return vec![];
        };
        dir.filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json").map(str::to_string)
            })
            .filter_map(|id| self.load_record(&id).ok().flatten())
            .collect()
    }

    /// Stores raw bytes under a content-addressed name and returns that name.
    pub fn write_raw(
        &self,
        id: &str,
        sha: &str,
        ext: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let name = format!("{id}-{}.{ext}", &sha[..16]);
        let path = self.root.join("raw").join(&name);
        if !path.exists() {
            atomic_write(&path, bytes)?;
        }
        Ok(name)
    }

    pub fn read_raw(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.raw_path(name)?;
        fs::read(&path).map_err(io_err(&path))
    }

    /// Where the stored original `name` is; an error for a name that would lead outside the
    /// library's `raw` folder.
    pub fn raw_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        self.inside("raw", name)
    }

    /// Removes a stored file a record no longer needs; a name that would lead outside the
    /// library is never followed.
    fn remove_inside(&self, dir: &str, name: &str) {
        if let Ok(path) = self.inside(dir, name) {
            let _ = fs::remove_file(path);
        }
    }

    /// `dir/name` inside the library, when `name` is a plain file name.
    fn inside(&self, dir: &str, name: &str) -> Result<PathBuf, StoreError> {
        if !plain_file_name(name) {
            return Err(StoreError::BadName {
                name: name.to_string(),
            });
        }
        Ok(self.root.join(dir).join(name))
    }

    /// Stores extracted text under a content-addressed name and returns that name.
    pub fn write_text(&self, id: &str, sha: &str, text: &str) -> Result<String, StoreError> {
        let name = format!("{id}-{}.txt", &sha[..16]);
        let path = self.root.join("text").join(&name);
        if !path.exists() {
            atomic_write(&path, text.as_bytes())?;
        }
        Ok(name)
    }

    pub fn read_text(&self, name: &str) -> Result<String, StoreError> {
        let path = self.inside("text", name)?;
        fs::read_to_string(&path).map_err(io_err(&path))
    }

    fn read_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &Path,
    ) -> Result<Option<T>, StoreError> {
        match fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(path)(e)),
        }
    }

    fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(value).expect("records serialise");
        atomic_write(path, &bytes)
    }
}

/// Makes a rename in `path`'s folder durable: the new name is in the folder's own data,
/// which a crash can lose unless the folder is flushed too.
#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    File::open(dir.unwrap_or(Path::new(".")))?.sync_all()
}

/// Other systems cannot open a folder to flush it; their rename is as durable as it gets.
#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Writes to a temporary file in the same folder, flushes it to disk, then renames it over
/// the target and flushes the folder: readers see the old file or the new one, never half of
/// one, and after a crash the rename has happened or not.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let write = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(path)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_stable() {
        assert_eq!(
            doc_id("https://arxiv.org/abs/2001.08361"),
            doc_id("https://arxiv.org/abs/2001.08361")
        );
        assert_eq!(doc_id("https://a.example/").len(), 8);
        assert_ne!(doc_id("https://a.example/"), doc_id("https://b.example/"));
    }

    #[test]
    fn colliding_short_ids_get_longer_and_stay_put() {
        // Find two URLs whose 8-digit ids collide.
        let mut seen = std::collections::HashMap::new();
        let (a, b) = (0..)
            .find_map(|i| {
                let u = format!("https://h.example/{i}");
                seen.insert(doc_id(&u), u.clone()).map(|prev| (prev, u))
            })
            .unwrap();
        let ids = assign_ids([a.as_str(), b.as_str()], None);
        assert_eq!(ids[0].len(), 8);
        assert_eq!(ids[1].len(), 10);
        assert!(sha256_hex(b.as_bytes()).starts_with(&ids[1]));
        // Next update, in the other order: each URL keeps its id.
        let m = Manifest {
            lists: vec![],
            entries: vec![
                ManifestEntry {
                    id: ids[0].clone(),
                    url: a.clone(),
                    link_text: String::new(),
                    section: String::new(),
                    tags: vec![],
                    saved: None,
                },
                ManifestEntry {
                    id: ids[1].clone(),
                    url: b.clone(),
                    link_text: String::new(),
                    section: String::new(),
                    tags: vec![],
                    saved: None,
                },
            ],
        };
        let again = assign_ids([b.as_str(), a.as_str()], Some(&m));
        assert_eq!(again, vec![ids[1].clone(), ids[0].clone()]);
    }

    #[test]
    fn records_round_trip_and_old_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), true).unwrap();
        let sha1 = sha256_hex(b"one");
        let t1 = store.write_text("abcd1234", &sha1, "one").unwrap();
        let rec1 = DocRecord {
            id: "abcd1234".into(),
            text_file: Some(t1.clone()),
            ..Default::default()
        };
        store.save_record(&rec1, None).unwrap();
        let sha2 = sha256_hex(b"two");
        let t2 = store.write_text("abcd1234", &sha2, "two").unwrap();
        let rec2 = DocRecord {
            text_file: Some(t2.clone()),
            ..rec1.clone()
        };
        store.save_record(&rec2, Some(&rec1)).unwrap();
        assert_eq!(store.read_text(&t2).unwrap(), "two");
        assert!(store.read_text(&t1).is_err(), "replaced text is removed");
        assert_eq!(store.records().len(), 1);
    }

    #[test]
    fn second_lock_fails_fast() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), true).unwrap();
        let _held = store.lock(false).unwrap();
        let err = store.lock(false).err().unwrap();
        assert!(err.to_string().contains("being updated"), "{err}");
    }

    /// Issue 20: file names come from records, which are files a user (or damage) can
    /// change; none may lead outside the library's folders, for reading or for removal.
    #[test]
    fn file_names_from_records_stay_inside_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("lib"), true).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
        let outside = dir.path().join("secret.txt").display().to_string();
        for name in [
            outside.as_str(),
            "../secret.txt",
            "../../secret.txt",
            "..",
            ".",
            "",
            "a/b.txt",
        ] {
            let e = store.read_text(name).unwrap_err();
            assert!(matches!(e, StoreError::BadName { .. }), "{name}: {e}");
            assert!(store.read_raw(name).is_err(), "{name}");
            assert!(!e.to_string().contains('\n'));
        }
        let rec = DocRecord {
            id: "abcd1234".into(),
            text_file: Some("../../secret.txt".into()),
            sources: vec![SourceRecord {
                raw_file: outside.clone(),
                ..Default::default()
            }],
            ..Default::default()
        };
        store.remove_record(&rec).unwrap();
        assert!(
            dir.path().join("secret.txt").exists(),
            "removal never follows such a name"
        );
    }

    /// Issue 20: a page view in the web reader repaired a damaged record on disk, without
    /// the writer's lock. A read-only store rebuilds it in memory and writes nothing.
    #[test]
    fn a_read_only_store_rebuilds_a_damaged_record_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), true).unwrap();
        let t = store
            .write_text("abcd1234", &sha256_hex(b"kept"), "kept")
            .unwrap();
        store
            .save_manifest(&Manifest {
                lists: vec![],
                entries: vec![ManifestEntry {
                    id: "abcd1234".into(),
                    url: "https://a.example/".into(),
                    link_text: "A".into(),
                    section: String::new(),
                    tags: vec![],
                    saved: None,
                }],
            })
            .unwrap();
        let path = dir.path().join("docs/abcd1234.json");
        std::fs::write(&path, b"{ damaged").unwrap();
        let ro = store.clone().read_only();
        let rec = ro
            .load_record("abcd1234")
            .unwrap()
            .expect("rebuilt in memory");
        assert_eq!(rec.text_file.as_deref(), Some(t.as_str()));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{ damaged",
            "the file is untouched"
        );
        assert!(!dir.path().join("docs/abcd1234.json.damaged").exists());
        // The writer's store repairs it on disk.
        store.load_record("abcd1234").unwrap().unwrap();
        assert!(dir.path().join("docs/abcd1234.json.damaged").exists());
        take_repairs();
    }
}
