//! PDF → text with pdf-extract, contained: it panics on real and damaged files, so every call
//! runs under `catch_unwind` on its own thread with a time limit, and a panic becomes a one-line
//! error for that document. Its output gets NFKC and de-hyphenation.

use std::cell::Cell;
use std::panic;
use std::sync::{Once, mpsc};
use std::time::Duration;

use thiserror::Error;

/// A PDF that takes longer than this is given up on (its thread is left to finish alone).
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
#[derive(Debug, Default)]
pub struct PdfDoc {
    pub title: Option<String>,
    pub author: Option<String>,
    pub text: String,
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

/// Extracts a PDF's text on a worker thread, bounded by `timeout`.
pub fn extract(bytes: Vec<u8>, timeout: Duration) -> Result<PdfDoc, PdfError> {
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
    let raw = pdf_extract::extract_text_from_mem(bytes)
        .map_err(|e| PdfError::Unreadable(e.to_string()))?;
    let text = crate::extract::text::tidy(&crate::extract::text::normalize_pdf_text(&raw));
    let (title, author) = info_fields(bytes);
    Ok(PdfDoc {
        title: title.filter(|t| meaningful_title(t)),
        author,
        text,
    })
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
    fn titles_that_are_file_names_are_dropped() {
        assert!(!meaningful_title("paper.pdf"));
        assert!(!meaningful_title("Microsoft Word - draft7.docx"));
        assert!(!meaningful_title("untitled"));
        assert!(meaningful_title("Scaling Laws for Neural Language Models"));
    }
}
