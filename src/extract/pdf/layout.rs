//! Where the text stands on the page: pdf-extract reports every glyph with its position and
//! size; this collects them into lines (fragments of one baseline), page by page, in the order
//! the content stream draws them. What the lines mean is decided in `structure`.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// One run of text on one baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Left and right edges, in points from the page's left.
    pub x0: f32,
    pub x1: f32,
    /// Baseline, in points from the page's top.
    pub y: f32,
    /// Font size in points (the median of the line's glyphs).
    pub size: f32,
    pub text: String,
}

/// One page's lines, in drawing order.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub width: f32,
    pub height: f32,
    pub lines: Vec<Line>,
}

/// Glyphs kept at most: a PDF that draws more is cut short rather than exhausting memory
/// (ten million glyphs is a 3,000-page book).
const MAX_GLYPHS: usize = 10_000_000;

/// A horizontal gap wider than this many font sizes splits a baseline into fragments:
/// a column gutter or a table cell, never a space between words.
const FRAGMENT_GAP: f32 = 1.5;

/// Collects lines from pdf-extract's glyph stream.
#[derive(Default)]
pub struct Collector {
    pub pages: Vec<Page>,
    page_height: f32,
    current: Option<Open>,
    glyphs: usize,
    /// Set when the glyph budget ran out.
    pub truncated: bool,
}

/// The line being collected.
struct Open {
    x0: f32,
    end: f32,
    y: f32,
    sizes: Vec<f32>,
    text: String,
}

impl Collector {
    fn close_line(&mut self) {
        let Some(open) = self.current.take() else {
            return;
        };
        let text = open.text.trim_end().to_string();
        if text.trim().is_empty() {
            return;
        }
        let mut sizes = open.sizes;
        sizes.sort_by(f32::total_cmp);
        let size = sizes[sizes.len() / 2];
        if let Some(page) = self.pages.last_mut() {
            page.lines.push(Line {
                x0: open.x0,
                x1: open.end.max(open.x0),
                y: open.y,
                size,
                text,
            });
        }
    }

    /// The lines of every page, once the document has been read.
    pub fn finish(mut self) -> Vec<Page> {
        self.close_line();
        self.pages
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.close_line();
        self.page_height = (media_box.ury - media_box.lly) as f32;
        self.pages.push(Page {
            width: (media_box.urx - media_box.llx) as f32,
            height: self.page_height,
            lines: vec![],
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.close_line();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        if self.glyphs >= MAX_GLYPHS {
            self.truncated = true;
            return Ok(());
        }
        self.glyphs += 1;
        // Rotated text (the arXiv stamp in the margin, rotated table headers) is not prose.
        if trm.m12.abs() > 0.01 * trm.m11.abs().max(1e-9) || trm.m11 <= 0.0 {
            return Ok(());
        }
        let size = (font_size * (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt()) as f32;
        if !size.is_finite() || size <= 0.0 {
            return Ok(());
        }
        let x = trm.m31 as f32;
        let y = self.page_height - trm.m32 as f32;
        let end = x + width as f32 * size;
        if !x.is_finite() || !y.is_finite() {
            return Ok(());
        }
        let same_line = self.current.as_ref().is_some_and(|o| {
            // Half the larger size: superscripts and subscripts stay on their line.
            let tolerance = 0.5 * size.max(*o.sizes.last().unwrap_or(&size));
            (y - o.y).abs() <= tolerance.max(1.0)
                && x >= o.end - size
                && x <= o.end + FRAGMENT_GAP * size
        });
        if !same_line {
            self.close_line();
        }
        let open = self.current.get_or_insert_with(|| Open {
            x0: x,
            end: x,
            y,
            sizes: vec![],
            text: String::new(),
        });
        let is_space = char.trim().is_empty();
        if !is_space {
            // A gap wider than a tenth of the font size is a space (pdf-extract's rule).
            if !open.text.is_empty() && !open.text.ends_with(' ') && x > open.end + 0.1 * size {
                open.text.push(' ');
            }
            open.text.push_str(char);
            open.sizes.push(size);
            if open.sizes.len() == 1 {
                // The baseline of a line is its first real glyph's, not a leading space's.
                open.y = y;
                open.x0 = x;
            }
        } else if !open.text.is_empty() && !open.text.ends_with(' ') {
            open.text.push(' ');
        }
        open.end = open.end.max(end);
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Reads a PDF into pages of lines.
pub fn read(bytes: &[u8]) -> Result<Vec<Page>, OutputError> {
    let mut doc = lopdf::Document::load_mem(bytes)?;
    if doc.is_encrypted() {
        // Many PDFs are "encrypted" with an empty password only to set permissions.
        doc.decrypt("")?;
    }
    let mut collector = Collector::default();
    pdf_extract::output_doc(&doc, &mut collector)?;
    Ok(collector.finish())
}
