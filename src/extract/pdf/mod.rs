//! PDF → text with pdf-extract, contained: it panics on real and damaged files, so every call
//! runs under `catch_unwind` in a worker process (or thread) with a time limit, and a panic
//! becomes a one-line error for that document. The glyphs' positions and sizes give the text
//! its structure (`layout`, `structure`); lopdf's own extractor is the fallback.

mod layout;
mod structure;

use std::cell::Cell;
use std::panic;
use std::sync::{Once, mpsc};
use std::time::Duration;

use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// A PDF that takes longer than this is given up on: its worker process is killed (a worker
/// thread, in programs that use the library without the binary, is left to finish alone).
pub const DEFAULT_PDF_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
pub enum PdfError {
    #[error("the PDF could not be read: {0}")]
    Unreadable(String),
    #[error("the PDF extractor crashed on this file ({0})")]
    Panicked(String),
    #[error("PDF extraction took longer than {0:?}")]
    TimedOut(Duration),
}

/// The text and the metadata title of a PDF.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PdfDoc {
    pub title: Option<String>,
    pub author: Option<String>,
    pub text: String,
    /// Section headings found in the text.
    #[serde(default)]
    pub outline: Vec<crate::extract::Heading>,
}

thread_local! {
    /// Set while pdf-extract runs on this thread: its panics are expected and reported as
    /// errors, so the default hook must not print a backtrace banner over the progress bar.
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
}

fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// The binary to run as `EXE __pdf-worker` for each PDF, once the program has said so.
static WORKER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Extract PDFs in child processes of `exe` (`exe __pdf-worker`) from now on: a timed-out or
/// crashed extraction is then killed, not left running. The binary calls this at start.
pub fn use_worker_process(exe: std::path::PathBuf) {
    let _ = WORKER.set(exe);
}

/// What a worker process writes back.
#[derive(serde::Serialize, serde::Deserialize)]
enum WorkerAnswer {
    Done(PdfDoc),
    Unreadable(String),
    Panicked(String),
}

/// The worker's side: a PDF on stdin, its answer as JSON on stdout.
pub fn worker_main() -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut bytes = vec![];
    std::io::stdin().read_to_end(&mut bytes)?;
    install_quiet_hook();
    QUIET_PANICS.with(|q| q.set(true));
    let answer = match panic::catch_unwind(|| extract_contained(&bytes)) {
        Ok(Ok(doc)) => WorkerAnswer::Done(doc),
        Ok(Err(PdfError::Panicked(m))) => WorkerAnswer::Panicked(m),
        Ok(Err(PdfError::Unreadable(m))) => WorkerAnswer::Unreadable(m),
        Ok(Err(e)) => WorkerAnswer::Unreadable(e.to_string()),
        Err(p) => WorkerAnswer::Panicked(panic_message(&p)),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &answer).map_err(std::io::Error::other)?;
    out.flush()
}

/// Runs one extraction in a worker process; kills it when `timeout` passes.
fn extract_in_process(
    exe: &std::path::Path,
    bytes: std::sync::Arc<Vec<u8>>,
    timeout: Duration,
) -> Result<PdfDoc, PdfError> {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(exe)
        .arg("__pdf-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| PdfError::Unreadable(format!("cannot start a PDF worker: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    // Both pipes on their own threads: a big PDF fills one while the other waits.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let reader = std::thread::spawn(move || {
        let mut out = vec![];
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PdfError::TimedOut(timeout));
            }
        }
    };
    let _ = writer.join();
    let out = reader.join().unwrap_or_default();
    match serde_json::from_slice::<WorkerAnswer>(&out) {
        Ok(WorkerAnswer::Done(doc)) => Ok(doc),
        Ok(WorkerAnswer::Unreadable(m)) => Err(PdfError::Unreadable(m)),
        Ok(WorkerAnswer::Panicked(m)) => Err(PdfError::Panicked(m)),
        Err(_) => Err(PdfError::Panicked(format!(
            "the worker process ended with {status}"
        ))),
    }
}

/// Extracts a PDF's text on a worker thread, bounded by `timeout`.
/// The bytes are shared with the worker thread, not copied: a PDF can be tens of megabytes.
pub fn extract(
    bytes: impl Into<std::sync::Arc<Vec<u8>>>,
    timeout: Duration,
) -> Result<PdfDoc, PdfError> {
    let bytes: std::sync::Arc<Vec<u8>> = bytes.into();
    if let Some(exe) = WORKER.get() {
        return extract_in_process(exe, bytes, timeout);
    }
    install_quiet_hook();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("pdf-extract".into())
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            QUIET_PANICS.with(|q| q.set(true));
            let result = panic::catch_unwind(|| extract_contained(&bytes));
            let result = result.unwrap_or_else(|p| Err(PdfError::Panicked(panic_message(&p))));
            let _ = tx.send(result);
        })
        .map_err(|e| PdfError::Unreadable(format!("cannot start a worker thread: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(PdfError::TimedOut(timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(PdfError::Panicked(
            "worker thread ended without an answer".into(),
        )),
    }
}

fn extract_contained(bytes: &[u8]) -> Result<PdfDoc, PdfError> {
    let (title, author) = info_fields(bytes);
    let title = title.filter(|t| meaningful_title(t));
    // Structured text from the glyphs' positions, when the glyphs read as words.
    let laid_out = panic::catch_unwind(|| layout::read(bytes));
    let primary = match laid_out {
        Ok(Ok(pages)) => {
            let s = structure::structure(&pages);
            let text: String = s.text.nfkc().collect();
            if !garbled(&text) {
                return Ok(PdfDoc {
                    title,
                    author,
                    text: crate::extract::text::tidy(&text),
                    outline: s
                        .outline
                        .into_iter()
                        .map(|mut h| {
                            h.title = h.title.nfkc().collect();
                            h
                        })
                        .collect(),
                });
            }
            Ok(Ok(text))
        }
        Ok(Err(e)) => Ok(Err(e)),
        Err(p) => Err(p),
    };
    let raw = match primary {
        Ok(Ok(text)) if !garbled(&text) => text,
        // Empty, split into letters (Chrome/Google Docs prints), an error or a panic: lopdf's
        // own extraction reads those files differently; keep whichever is better.
        other => {
            let fallback = lopdf_text(bytes);
            match (other, fallback) {
                (Ok(Ok(text)), Some(fb)) => {
                    if quality(&fb) > quality(&text) {
                        fb
                    } else {
                        text
                    }
                }
                (Ok(Ok(text)), None) => text,
                (_, Some(fb)) => fb,
                (Ok(Err(e)), None) => return Err(PdfError::Unreadable(e.to_string())),
                (Err(p), None) => return Err(PdfError::Panicked(panic_message(&p))),
            }
        }
    };
    let text = crate::extract::text::tidy(&crate::extract::text::normalize_pdf_text(&raw));
    Ok(PdfDoc {
        title,
        author,
        text,
        outline: vec![],
    })
}

/// Text by lopdf's extractor, page by page; `None` when it finds nothing.
pub fn lopdf_text(bytes: &[u8]) -> Option<String> {
    let doc = lopdf::Document::load_mem(bytes).ok()?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).ok()?;
    (!text.trim().is_empty()).then_some(text)
}

/// Share of words that are a single letter: near 0.1 in English prose, far higher when an
/// extractor has split words into letters.
fn single_letter_share(text: &str) -> f64 {
    let (mut words, mut singles) = (0usize, 0usize);
    for w in text.split_whitespace() {
        words += 1;
        if w.chars().count() == 1 && w.chars().all(char::is_alphabetic) {
            singles += 1;
        }
    }
    if words == 0 {
        1.0
    } else {
        singles as f64 / words as f64
    }
}

/// Empty or split into letters.
pub fn garbled(text: &str) -> bool {
    text.split_whitespace().count() < 5 || single_letter_share(text) > 0.3
}

/// Higher is better: words that look like words.
fn quality(text: &str) -> f64 {
    let words = text.split_whitespace().count() as f64;
    words * (1.0 - single_letter_share(text))
}

/// Title and Author from the document information dictionary.
fn info_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(doc) = lopdf::Document::load_mem(bytes) else {
        return (None, None);
    };
    let Some(info) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| o.as_reference().ok())
        .and_then(|r| doc.get_dictionary(r).ok())
    else {
        return (None, None);
    };
    let field = |key: &[u8]| {
        info.get(key)
            .ok()
            .and_then(|o| o.as_str().ok())
            .map(decode_pdf_string)
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
    };
    (field(b"Title"), field(b"Author"))
}

/// PDF text strings are UTF-16BE with a BOM, or PDFDocEncoding (close enough to Latin-1).
fn decode_pdf_string(b: &[u8]) -> String {
    if b.starts_with(&[0xfe, 0xff]) {
        let units: Vec<u16> = b[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        b.iter().map(|&c| c as char).collect()
    }
}

/// Metadata titles are often a file name or the authoring tool's placeholder.
fn meaningful_title(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let junk = [
        "untitled",
        "microsoft word",
        ".doc",
        ".pdf",
        ".tex",
        ".dvi",
        "title",
    ];
    t.chars().filter(|c| c.is_alphabetic()).count() >= 4
        && t.split_whitespace().count() >= 2
        && !junk
            .iter()
            .any(|j| lower == *j || lower.ends_with(j) || lower.starts_with("microsoft word"))
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    msg.lines().next().unwrap_or("").chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = extract(
            b"%PDF-1.4\n garbage garbage".to_vec(),
            Duration::from_secs(20),
        );
        assert!(err.is_err());
        let err = extract(Vec::new(), Duration::from_secs(20));
        assert!(err.is_err());
    }

    #[test]
    fn split_letters_count_as_garbled() {
        assert!(garbled("T h e q u i c k b r o w n f o x"));
        assert!(garbled(""));
        assert!(!garbled("The quick brown fox jumps over a lazy dog."));
    }

    #[test]
    fn titles_that_are_file_names_are_dropped() {
        assert!(!meaningful_title("paper.pdf"));
        assert!(!meaningful_title("Microsoft Word - draft7.docx"));
        assert!(!meaningful_title("untitled"));
        assert!(meaningful_title("Scaling Laws for Neural Language Models"));
    }
}
