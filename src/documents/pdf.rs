//! The PDF layout of a document: the blocks a contract template renders to, set on A4 pages
//! with printpdf. Word wrap, page breaks between lines (a heading is never left alone at the
//! foot of a page, a table row or a signature block never split), tables with a repeated
//! header row, a footer with the agreement number, the terms version and "page n of N".
//!
//! Documents composed in code rather than from a template (the monthly reports) are set by
//! the same engine from [`Part`]s: the markup's blocks plus a framed notice, tables aligned
//! per column and a bar chart, with a footer text of their own ([`render_report`]).
//!
//! Text is set glyph by glyph without shaping, so it must be NFC (the markup normalises it).
//! Each character is drawn with the first font that has a glyph for it: Noto Sans, then the
//! CJK font; a character neither has is an error, never a blank box.
//!
//! The bytes depend only on the input: fonts are registered under fixed ids, the document
//! dates are the agreement's, and the trailer `/ID` is derived from the caller's seed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use chrono::NaiveDate;
use printpdf::{
    Codepoint, Color, FontId, Line, LinePoint, Op, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, TextRenderingMode,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::markup::Block;

const NOTO_SANS_REGULAR: &[u8] = include_bytes!("fonts/NotoSans-Regular.ttf");
const NOTO_SANS_BOLD: &[u8] = include_bytes!("fonts/NotoSans-Bold.ttf");
/// Noto Sans SC cut to GB 2312 and the built-in texts (`scripts/subset-cjk-font.sh`).
const NOTO_SANS_SC_SUBSET: &[u8] = include_bytes!("fonts/NotoSansSC-Subset.otf");

/// Why a document could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The CJK font is not installed or not readable.
    #[error("{0}")]
    FontMissing(String),
    /// No font has a glyph for a character of the text.
    #[error("no font has a glyph for {ch:?} (U+{code:04X})", code = *.ch as u32)]
    NoGlyph { ch: char },
    /// lopdf could not write the document.
    #[error("writing the PDF failed: {0}")]
    Write(String),
}

/// One font face registered in every document under a fixed id (also its subset tag).
struct Face {
    id: &'static str,
    font: ParsedFont,
    units_per_em: f32,
    /// Glyph id and advance (font units) of each character met so far, or none when the face
    /// lacks it. A cmap lookup in a CJK face costs microseconds; documents look up the same
    /// few hundred characters again and again.
    glyphs: RwLock<HashMap<char, Option<(u16, u16)>>>,
}

impl Face {
    fn parse(id: &'static str, bytes: &[u8], index: usize) -> Result<Face, String> {
        let mut warnings = Vec::new();
        let font = ParsedFont::from_bytes(bytes, index, &mut warnings)
            .ok_or_else(|| format!("not a font face (index {index})"))?;
        let units_per_em = f32::from(font.pdf_font_metrics.units_per_em.max(1));
        Ok(Face {
            id,
            font,
            units_per_em,
            glyphs: RwLock::new(HashMap::new()),
        })
    }

    /// The glyph id and advance (font units) of `c`, if the face has it.
    fn metrics(&self, c: char) -> Option<(u16, u16)> {
        if let Some(known) = self.glyphs.read().ok().and_then(|g| g.get(&c).copied()) {
            return known;
        }
        let found = self
            .font
            .lookup_glyph_index(c as u32)
            .filter(|g| *g != 0)
            .map(|g| (g, self.font.get_horizontal_advance(g)));
        if let Ok(mut glyphs) = self.glyphs.write() {
            glyphs.insert(c, found);
        }
        found
    }

    fn glyph(&self, c: char) -> Option<u16> {
        self.metrics(c).map(|(g, _)| g)
    }

    /// The advance of `c` in points at `size`, if the face has it.
    fn advance(&self, c: char, size: f32) -> Option<f32> {
        self.metrics(c)
            .map(|(_, a)| f32::from(a) * size / self.units_per_em)
    }
}

/// A file the CJK face is read from instead of the built-in subset (`documents.cjk_font`).
#[derive(Debug, Clone)]
pub struct CjkSource {
    pub path: PathBuf,
    /// The face in a collection (`.ttc`): 2 is Simplified Chinese in Noto Sans CJK.
    pub index: usize,
}

/// The faces documents are set in. Noto Sans and a subset of Noto Sans SC (GB 2312 and every
/// character of the built-in texts, made by `scripts/subset-cjk-font.sh`) are built in, so
/// Chinese documents need nothing installed. A configured CJK file replaces the subset: it is
/// read from disk the first time a document needs it (a full face is about 20 MB) and kept
/// for the life of the process; while it is missing, each Chinese document looks for it
/// again, so installing the font needs no restart.
pub struct Fonts {
    sans: OnceLock<(Face, Face)>,
    /// `None`: the built-in subset.
    cjk_source: Option<CjkSource>,
    cjk: OnceLock<Face>,
    /// Held while the CJK face is read, so simultaneous first documents read it once.
    cjk_loading: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("cjk_source", &self.cjk_source)
            .finish()
    }
}

/// What [`Fonts::cjk_status`] says of the built-in face.
pub const BUILT_IN_CJK: &str = "built-in Noto Sans SC subset";

impl Fonts {
    /// `cjk_source`: a CJK font file to use instead of the built-in subset.
    pub fn new(cjk_source: Option<CjkSource>) -> Arc<Fonts> {
        Arc::new(Fonts {
            sans: OnceLock::new(),
            cjk_source,
            cjk: OnceLock::new(),
            cjk_loading: std::sync::Mutex::new(()),
        })
    }

    /// Where the CJK face comes from, or why it cannot be had (checked at start, without
    /// parsing it).
    pub fn cjk_status(&self) -> Result<String, String> {
        match &self.cjk_source {
            None => Ok(BUILT_IN_CJK.into()),
            Some(src) if src.path.is_file() => Ok(src.path.display().to_string()),
            Some(src) => Err(format!(
                "the CJK font {} is missing (install it, or leave documents.cjk_font empty \
                 for the built-in face)",
                src.path.display()
            )),
        }
    }

    fn sans(&self) -> &(Face, Face) {
        self.sans.get_or_init(|| {
            (
                Face::parse("NOTOSR", NOTO_SANS_REGULAR, 0).expect("the built-in Noto Sans parses"),
                Face::parse("NOTOSB", NOTO_SANS_BOLD, 0).expect("the built-in Noto Sans parses"),
            )
        })
    }

    /// The CJK face, read on first use.
    fn cjk(&self) -> Result<&Face, PdfError> {
        if let Some(face) = self.cjk.get() {
            return Ok(face);
        }
        let _loading = self
            .cjk_loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(face) = self.cjk.get() {
            return Ok(face);
        }
        let face = match &self.cjk_source {
            None => Face::parse("NOTOCJ", NOTO_SANS_SC_SUBSET, 0)
                .expect("the built-in Noto Sans SC subset parses"),
            Some(src) => {
                self.cjk_status().map_err(PdfError::FontMissing)?;
                let bytes = std::fs::read(&src.path).map_err(|e| {
                    PdfError::FontMissing(format!(
                        "the CJK font {} is unreadable: {e}",
                        src.path.display()
                    ))
                })?;
                Face::parse("NOTOCJ", &bytes, src.index).map_err(|e| {
                    PdfError::FontMissing(format!("the CJK font {}: {e}", src.path.display()))
                })?
            }
        };
        Ok(self.cjk.get_or_init(|| face))
    }
}

/// One party's signature block, as the document context gives it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Signature {
    pub party: String,
    pub organisation: String,
    /// Empty until the party has signed.
    pub signed_by: String,
    pub signed_at: String,
}

/// What a document shows besides its blocks.
#[derive(Debug, Clone)]
pub struct Layout<'a> {
    pub lang: &'a str,
    pub blocks: &'a [Block],
    pub signatures: &'a [Signature],
    /// The agreement number and terms version, in every page's footer.
    pub number: &'a str,
    pub terms_version: i64,
    /// The document's date (its metadata dates).
    pub date: NaiveDate,
    /// Distinguishes this document from every other in the trailer `/ID`: agreement, version,
    /// kind and language.
    pub id_seed: &'a str,
}

/// One block of a document composed in code rather than from a template ([`ReportLayout`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A block as the markup has it, set as in agreement documents.
    Block(Block),
    /// What a reader must not miss (figures that can still change): bold, centred, in a
    /// tinted frame across the page.
    Notice(String),
    /// A table of figures, each column aligned its own way.
    Table(Grid),
    /// A bar chart, never split across pages (a heading above it keeps with it).
    BarChart(BarChart),
}

/// A table whose columns are aligned each its own way (figures to the right), set a size
/// smaller than an agreement's tables so that six columns of amounts fit across A4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Per column; a column without one is aligned left.
    pub align: Vec<Align>,
}

/// Bars side by side in each group, one colour per series, on a value axis from zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    /// The series' names, for the legend, in the order of each group's values.
    pub series: Vec<String>,
    pub groups: Vec<BarGroup>,
    /// Groups the digits of the axis' figures (`.` in Vietnamese, `,` in English).
    pub digit_group: char,
}

/// One group of bars: a month, say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarGroup {
    /// Under the bars, with `note` (may be empty) on a second line beneath: a year where it
    /// changes, so that twelve labels fit side by side.
    pub label: String,
    pub note: String,
    /// One per series; a value below zero is drawn as zero.
    pub values: Vec<i64>,
}

/// A document composed of [`Part`]s, with a footer text of its own.
#[derive(Debug, Clone)]
pub struct ReportLayout<'a> {
    pub lang: &'a str,
    pub parts: &'a [Part],
    /// At the left of every page's footer ("page n of N" is at the right).
    pub footer: &'a str,
    /// The document's date (its metadata dates).
    pub date: NaiveDate,
    /// Distinguishes this document from every other in the trailer `/ID`.
    pub id_seed: &'a str,
}

/// A block as the engine reads it: a template's blocks are borrowed as they are, so
/// agreement documents are set without copying them into parts.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Block(&'a Block),
    Notice(&'a str),
    Grid(&'a Grid),
    Chart(&'a BarChart),
}

impl Part {
    fn item(&self) -> Item<'_> {
        match self {
            Part::Block(b) => Item::Block(b),
            Part::Notice(t) => Item::Notice(t),
            Part::Table(g) => Item::Grid(g),
            Part::BarChart(c) => Item::Chart(c),
        }
    }
}

/// Everything one render sets: the items, the signature blocks, the footer and metadata.
struct Content<'a> {
    lang: &'a str,
    items: Vec<Item<'a>>,
    signatures: &'a [Signature],
    /// The footer's left text.
    footer: String,
    subject: &'a str,
    date: NaiveDate,
    id_seed: &'a str,
}

impl Content<'_> {
    /// The markup block at `i`, if item `i` is one.
    fn block(&self, i: usize) -> Option<&Block> {
        match self.items.get(i) {
            Some(Item::Block(b)) => Some(*b),
            _ => None,
        }
    }
}

/// Labels the layout writes itself, per language.
struct Labels {
    footer: fn(&str, i64) -> String,
    page: fn(usize, usize) -> String,
    signed: &'static str,
    signed_at: &'static str,
    unsigned: &'static str,
}

fn labels(lang: &str) -> Labels {
    match lang {
        "vi" => Labels {
            footer: |n, v| format!("Số {n} — Điều khoản chuyển đổi phiên bản {v}"),
            page: |p, t| format!("Trang {p}/{t}"),
            signed: "Đã ký điện tử",
            signed_at: "Ngày ký:",
            unsigned: "(Chưa ký)",
        },
        "zh" => Labels {
            footer: |n, v| format!("编号 {n} — 转化条款第 {v} 版"),
            page: |p, t| format!("第 {p} 页，共 {t} 页"),
            signed: "已电子签署",
            signed_at: "签署日期：",
            unsigned: "（尚未签署）",
        },
        _ => Labels {
            footer: |n, v| format!("No. {n} — Conversion terms version {v}"),
            page: |p, t| format!("Page {p} of {t}"),
            signed: "Signed electronically",
            signed_at: "Date:",
            unsigned: "(Not yet signed)",
        },
    }
}

// A4 in points, and the page's geometry.
const PAGE_W: f32 = 595.276;
const PAGE_H: f32 = 841.89;
const MM: f32 = 2.834_646;
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = 20.0 * MM;
const TOP: f32 = 20.0 * MM;
const BOTTOM: f32 = 22.0 * MM;
const FOOTER_Y: f32 = 12.0 * MM;
const WIDTH: f32 = PAGE_W - LEFT - RIGHT;

const BODY: f32 = 10.5;
const LEADING: f32 = 1.45;
const TITLE: f32 = 14.5;
const HEADING: f32 = 11.0;
const TABLE: f32 = 10.0;
const FOOTER: f32 = 8.0;
const PARAGRAPH_GAP: f32 = 5.0;
const HEADING_GAP: f32 = 9.0;
const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 3.0;
/// The text size of a [`Grid`].
const GRID: f32 = 9.0;
const NOTICE_PAD: f32 = 6.0;
/// A bar chart's height, legend and labels included, and the size of its text.
const CHART_HEIGHT: f32 = 200.0;
const CHART_TEXT: f32 = 7.5;
/// The series' colours: a dark blue and an orange, told apart in grey print too (about 35%
/// and 65% luminance).
const CHART_COLOURS: [(f32, f32, f32); 3] =
    [(0.16, 0.33, 0.56), (0.93, 0.58, 0.20), (0.6, 0.6, 0.6)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular,
    Bold,
}

/// A run of text drawn in one face, as glyphs (each with the text it stands for, for the
/// PDF's ToUnicode map, so the text can be searched and copied).
struct Run {
    face: usize,
    glyphs: Vec<Codepoint>,
    width: f32,
}

/// The faces of one document, in fallback order, per style.
struct Faces<'f> {
    /// 0: Noto Sans Regular, 1: Noto Sans Bold, 2: CJK (if the text needs it).
    faces: Vec<&'f Face>,
}

impl<'f> Faces<'f> {
    /// The faces `text` needs; the CJK face only when some character is not in Noto Sans.
    fn for_text<'a>(
        fonts: &'f Fonts,
        text: impl Iterator<Item = &'a str>,
    ) -> Result<Faces<'f>, PdfError> {
        let (regular, bold) = fonts.sans();
        let mut faces = vec![regular, bold];
        for s in text {
            for c in s.chars() {
                if c.is_control() || regular.glyph(c).is_some() && bold.glyph(c).is_some() {
                    continue;
                }
                if faces.len() == 2 {
                    faces.push(fonts.cjk()?);
                }
                if faces[2].glyph(c).is_none() {
                    return Err(PdfError::NoGlyph { ch: c });
                }
            }
        }
        Ok(Faces { faces })
    }

    /// The face index that draws `c` in `style`.
    fn face_of(&self, c: char, style: Style) -> usize {
        let first = match style {
            Style::Regular => 0,
            Style::Bold => 1,
        };
        if self.faces[first].glyph(c).is_some() || self.faces.len() < 3 {
            first
        } else {
            2
        }
    }

    fn advance(&self, c: char, style: Style, size: f32) -> f32 {
        let face = self.face_of(c, style);
        self.faces[face].advance(c, size).unwrap_or(0.0)
    }

    fn width(&self, text: &str, style: Style, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, style, size)).sum()
    }

    /// `text` split into runs of one face each.
    fn runs(&self, text: &str, style: Style, size: f32) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for c in text.chars() {
            let face = self.face_of(c, style);
            let Some((gid, advance)) = self.faces[face].metrics(c) else {
                continue;
            };
            let w = f32::from(advance) * size / self.faces[face].units_per_em;
            let glyph = Codepoint::with_cid(gid, 0.0, c.to_string());
            match runs.last_mut() {
                Some(run) if run.face == face => {
                    run.glyphs.push(glyph);
                    run.width += w;
                }
                _ => runs.push(Run {
                    face,
                    glyphs: vec![glyph],
                    width: w,
                }),
            }
        }
        runs
    }
}

use super::markup::is_cjk;

/// Punctuation a line must not start with.
fn no_break_before(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '」'
            | '』'
            | '》'
            | '〉'
            | '】'
            | '”'
            | '’'
            | '%'
            | '％'
            | ','
            | '.'
            | ';'
            | ':'
            | ')'
            | '!'
            | '?'
    )
}

/// A currency sign written after its amount.
fn is_currency_sign(c: char) -> bool {
    matches!(c, '₫' | '€' | '¥' | '$' | '₩' | '฿' | '₭' | '៛')
}

/// Punctuation a line must not end with.
fn no_break_after(c: char) -> bool {
    matches!(c, '（' | '「' | '『' | '《' | '〈' | '【' | '“' | '‘' | '(')
}

/// The unbreakable pieces of `text`: words, single CJK characters with the punctuation that
/// clings to them, each with whether a space precedes it.
fn pieces(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut space = false;
    let mut word = String::new();
    let push = |out: &mut Vec<(bool, String)>, space: &mut bool, word: &mut String| {
        if !word.is_empty() {
            out.push((*space, std::mem::take(word)));
            *space = false;
        }
    };
    for c in text.chars() {
        if c == ' ' {
            push(&mut out, &mut space, &mut word);
            space = true;
            continue;
        }
        // An amount stays on one line with its currency sign: `1.500.000 ₫`.
        if space && word.is_empty() && is_currency_sign(c) {
            if let Some((spaced, last)) = out.pop() {
                word = last;
                word.push(' ');
                space = spaced;
            }
        }
        // Without a space, a line breaks only between two CJK characters (never inside a
        // number or a Latin word next to them: `2027年4月14日` stays whole).
        let last = word.chars().last();
        let glue_to_previous = no_break_before(c)
            || last.is_some_and(no_break_after)
            || !(is_cjk(c) && last.is_some_and(is_cjk));
        if !glue_to_previous {
            push(&mut out, &mut space, &mut word);
        }
        word.push(c);
    }
    push(&mut out, &mut space, &mut word);
    out
}

/// `text` broken into lines no wider than `width`.
fn wrap(faces: &Faces<'_>, text: &str, style: Style, size: f32, width: f32) -> Vec<String> {
    let space = faces.advance(' ', style, size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_w = 0.0;
    for (spaced, piece) in pieces(text) {
        let w = faces.width(&piece, style, size);
        let gap = if spaced && !line.is_empty() {
            space
        } else {
            0.0
        };
        if !line.is_empty() && line_w + gap + w > width {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        } else if gap > 0.0 {
            line.push(' ');
            line_w += gap;
        }
        if w <= width {
            line.push_str(&piece);
            line_w += w;
            continue;
        }
        // A piece wider than the line (a long address): broken between characters.
        for c in piece.chars() {
            let cw = faces.advance(c, style, size);
            if !line.is_empty() && line_w + cw > width {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                line_w = 0.0;
            }
            if line.is_empty() && c == ' ' {
                continue;
            }
            line.push(c);
            line_w += cw;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where a line sits: from the left edge, about the centre, or up to the right edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Pages being filled, top to bottom.
struct Pages<'f> {
    faces: &'f Faces<'f>,
    done: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// Distance from the top of the page to the top of the next thing drawn.
    y: f32,
}

impl<'f> Pages<'f> {
    fn new(faces: &'f Faces<'f>) -> Pages<'f> {
        Pages {
            faces,
            done: Vec::new(),
            ops: Vec::new(),
            y: TOP,
        }
    }

    fn room(&self) -> f32 {
        PAGE_H - BOTTOM - self.y
    }

    fn new_page(&mut self) {
        self.done.push(std::mem::take(&mut self.ops));
        self.y = TOP;
    }

    /// Starts a new page unless `height` fits on this one (or this one is still empty).
    fn ensure(&mut self, height: f32) {
        if height > self.room() && self.y > TOP {
            self.new_page();
        }
    }

    /// Skips `gap` down, unless at the top of a page.
    fn gap(&mut self, gap: f32) {
        if self.y > TOP {
            self.y += gap;
        }
    }

    /// Draws one line of text whose top is at `top` (from the page top), starting at `x`.
    fn text(&mut self, x: f32, top: f32, text: &str, style: Style, size: f32, align: Align) {
        let runs = self.faces.runs(text, style, size);
        let total: f32 = runs.iter().map(|r| r.width).sum();
        let x = match align {
            Align::Left => x,
            Align::Center => x - total / 2.0,
            Align::Right => x - total,
        };
        // Baseline: the line's top plus the ascent, taken as 0.8 of the size plus half the
        // extra leading.
        let baseline = PAGE_H - top - size * (0.8 + (LEADING - 1.0) / 2.0);
        self.ops.push(Op::StartTextSection);
        let mut first = true;
        let mut prev_width = 0.0;
        for run in runs {
            let face = self.faces.faces[run.face];
            // The CJK face has no bold weight: bold CJK text is drawn filled and stroked.
            let faux_bold = style == Style::Bold && run.face == 2;
            self.ops.push(Op::SetFont {
                font: PdfFontHandle::External(FontId(face.id.into())),
                size: Pt(size),
            });
            if faux_bold {
                self.ops.push(Op::SetTextRenderingMode {
                    mode: TextRenderingMode::FillStroke,
                });
                self.ops.push(Op::SetOutlineThickness {
                    pt: Pt(size / 30.0),
                });
            }
            // The cursor moves relative to the start of the previous run.
            let pos = if first {
                Point {
                    x: Pt(x),
                    y: Pt(baseline),
                }
            } else {
                Point {
                    x: Pt(prev_width),
                    y: Pt(0.0),
                }
            };
            self.ops.push(Op::SetTextCursor { pos });
            self.ops.push(Op::ShowText {
                items: vec![TextItem::GlyphIds(run.glyphs)],
            });
            if faux_bold {
                self.ops.push(Op::SetTextRenderingMode {
                    mode: TextRenderingMode::Fill,
                });
            }
            first = false;
            prev_width = run.width;
        }
        self.ops.push(Op::EndTextSection);
    }

    fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, thickness: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(PAGE_H - y1),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x2),
                            y: Pt(PAGE_H - y2),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    /// A rectangle whose top-left corner is `top` below the page top, filled or stroked.
    fn rect(&mut self, x: f32, top: f32, width: f32, height: f32, mode: PaintMode) {
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(PAGE_H - top - height),
                width: Pt(width),
                height: Pt(height),
                mode: Some(mode),
                winding_order: None,
            },
        });
    }

    fn shade(&mut self, x: f32, top: f32, width: f32, height: f32) {
        self.ops.push(Op::SetFillColor { col: grey(0.92) });
        self.rect(x, top, width, height, PaintMode::Fill);
        self.ops.push(Op::SetFillColor { col: grey(0.0) });
    }

    fn frame(&mut self, x: f32, top: f32, width: f32, height: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Pt(0.5) });
        self.rect(x, top, width, height, PaintMode::Stroke);
    }

    /// Lines of one style set one after another, breaking pages between lines.
    fn lines(&mut self, lines: &[String], style: Style, size: f32, align: Align) {
        self.lines_keeping(lines, style, size, align, 0.0);
    }

    /// As [`Pages::lines`], with the last two lines kept on the page of what follows them,
    /// which needs `after` of room (signature blocks never stand alone on a page).
    fn lines_keeping(
        &mut self,
        lines: &[String],
        style: Style,
        size: f32,
        align: Align,
        after: f32,
    ) {
        let h = size * LEADING;
        let tail = lines.len().saturating_sub(2);
        for (j, line) in lines.iter().enumerate() {
            if j == tail && after > 0.0 {
                self.ensure((lines.len() - j) as f32 * h + PARAGRAPH_GAP + after);
            }
            self.ensure(h);
            let x = match align {
                Align::Left => LEFT,
                Align::Center => LEFT + WIDTH / 2.0,
                Align::Right => LEFT + WIDTH,
            };
            self.text(x, self.y, line, style, size, align);
            self.y += h;
        }
    }

    fn finish(mut self) -> Vec<Vec<Op>> {
        if !self.ops.is_empty() || self.done.is_empty() {
            self.done.push(self.ops);
        }
        self.done
    }
}

fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

/// Column widths for a table: each column's natural width, shared out to the full width.
fn column_widths(
    faces: &Faces<'_>,
    header: &[String],
    rows: &[Vec<String>],
    size: f32,
) -> Vec<f32> {
    let n = header.len().max(1);
    let pad = 2.0 * CELL_PAD_X;
    let mut natural = vec![0.0f32; n];
    let mut longest_word = vec![0.0f32; n];
    for (i, cell) in header.iter().enumerate().take(n) {
        natural[i] = natural[i].max(faces.width(cell, Style::Bold, size) + pad);
        // A heading's words count too: a narrow column of figures under "Hạng" must not
        // break the word in two.
        for (_, word) in pieces(cell) {
            let w = faces.width(&word, Style::Bold, size) + pad;
            longest_word[i] = longest_word[i].max(w);
        }
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(n) {
            natural[i] = natural[i].max(faces.width(cell, Style::Regular, size) + pad);
            for (_, word) in pieces(cell) {
                let w = faces.width(&word, Style::Regular, size) + pad;
                longest_word[i] = longest_word[i].max(w);
            }
        }
    }
    let total: f32 = natural.iter().sum();
    if total <= WIDTH {
        let extra = (WIDTH - total) / n as f32;
        return natural.iter().map(|w| w + extra).collect();
    }
    // Too wide: every column keeps room for its longest word (as far as the page allows),
    // the rest is shared in proportion to the natural widths.
    let floor: Vec<f32> = longest_word
        .iter()
        .map(|w| w.min(WIDTH / n as f32))
        .collect();
    let left = WIDTH - floor.iter().sum::<f32>();
    let want: Vec<f32> = natural
        .iter()
        .zip(&floor)
        .map(|(n, f)| (n - f).max(0.0))
        .collect();
    let want_total: f32 = want.iter().sum::<f32>().max(1.0);
    floor
        .iter()
        .zip(&want)
        .map(|(f, w)| f + left * w / want_total)
        .collect()
}

/// A table's rows wrapped to its columns.
struct TableLayout {
    size: f32,
    widths: Vec<f32>,
    head: Vec<Vec<String>>,
    body: Vec<Vec<Vec<String>>>,
}

impl TableLayout {
    fn new(faces: &Faces<'_>, header: &[String], rows: &[Vec<String>], size: f32) -> TableLayout {
        let widths = column_widths(faces, header, rows, size);
        let wrap_row = |cells: &[String], style: Style| -> Vec<Vec<String>> {
            cells
                .iter()
                .zip(&widths)
                .map(|(cell, w)| wrap(faces, cell, style, size, w - 2.0 * CELL_PAD_X))
                .collect()
        };
        let head = wrap_row(header, Style::Bold);
        let body = rows.iter().map(|r| wrap_row(r, Style::Regular)).collect();
        TableLayout {
            size,
            widths,
            head,
            body,
        }
    }

    fn row_height(&self, cells: &[Vec<String>]) -> f32 {
        cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * self.size * LEADING
            + 2.0 * CELL_PAD_Y
    }

    /// What must stay together at the table's start: all of a short table (under a third of
    /// a page), else the header row with the first row.
    fn keep(&self) -> f32 {
        let head = self.row_height(&self.head);
        let whole: f32 = head + self.body.iter().map(|r| self.row_height(r)).sum::<f32>();
        if whole <= (PAGE_H - TOP - BOTTOM) / 3.0 {
            whole
        } else {
            head + self.body.first().map_or(0.0, |r| self.row_height(r))
        }
    }
}

/// Sets a table, repeating its header row at the top of each page it continues on. Column
/// `i` is aligned as `align[i]`, left where `align` has no entry.
fn table(
    pages: &mut Pages<'_>,
    header: &[String],
    rows: &[Vec<String>],
    align: &[Align],
    size: f32,
) {
    let t = TableLayout::new(pages.faces, header, rows, size);
    let h = size * LEADING;
    let draw = |pages: &mut Pages<'_>, cells: &[Vec<String>], style: Style| {
        let row_h = t.row_height(cells);
        let mut x = LEFT;
        if style == Style::Bold {
            pages.shade(LEFT, pages.y, WIDTH, row_h);
        }
        for (c, (lines, w)) in cells.iter().zip(&t.widths).enumerate() {
            pages.frame(x, pages.y, *w, row_h);
            let align = align.get(c).copied().unwrap_or(Align::Left);
            let at = match align {
                Align::Left => x + CELL_PAD_X,
                Align::Center => x + w / 2.0,
                Align::Right => x + w - CELL_PAD_X,
            };
            for (i, line) in lines.iter().enumerate() {
                let top = pages.y + CELL_PAD_Y + i as f32 * h;
                pages.text(at, top, line, style, size, align);
            }
            x += w;
        }
        pages.y += row_h;
    };
    pages.ensure(t.keep());
    draw(pages, &t.head, Style::Bold);
    for cells in &t.body {
        if t.row_height(cells) > pages.room() && pages.y > TOP {
            pages.new_page();
            draw(pages, &t.head, Style::Bold);
        }
        draw(pages, cells, Style::Regular);
    }
}

fn rgb((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

/// The lines of a notice.
fn notice_lines(faces: &Faces<'_>, text: &str) -> Vec<String> {
    wrap(faces, text, Style::Bold, BODY, WIDTH - 2.0 * NOTICE_PAD)
}

fn notice_height(faces: &Faces<'_>, text: &str) -> f32 {
    notice_lines(faces, text).len() as f32 * BODY * LEADING + 2.0 * NOTICE_PAD
}

/// A notice: bold lines, centred in an amber frame across the page, kept on one page.
fn notice(pages: &mut Pages<'_>, text: &str) {
    let lines = notice_lines(pages.faces, text);
    let height = notice_height(pages.faces, text);
    pages.ensure(height);
    let top = pages.y;
    pages.ops.push(Op::SetFillColor {
        col: rgb((1.0, 0.94, 0.78)),
    });
    pages.ops.push(Op::SetOutlineColor {
        col: rgb((0.80, 0.45, 0.0)),
    });
    pages.ops.push(Op::SetOutlineThickness { pt: Pt(1.2) });
    pages.rect(LEFT, top, WIDTH, height, PaintMode::FillStroke);
    pages.ops.push(Op::SetOutlineColor { col: grey(0.0) });
    pages.ops.push(Op::SetFillColor {
        col: rgb((0.45, 0.2, 0.0)),
    });
    for (j, line) in lines.iter().enumerate() {
        let line_top = top + NOTICE_PAD + j as f32 * BODY * LEADING;
        pages.text(
            LEFT + WIDTH / 2.0,
            line_top,
            line,
            Style::Bold,
            BODY,
            Align::Center,
        );
    }
    pages.ops.push(Op::SetFillColor { col: grey(0.0) });
    pages.y = top + height;
}

/// `n` with its digits grouped by `sep` in threes: `1.811`, `-12,500`.
pub fn grouped(n: i64, sep: char) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// The axis step for values up to `max`: the smallest 1, 2 or 5 × 10^k that reaches `max`
/// in at most six steps, so the chart has between two and seven gridlines.
fn axis_step(max: i64) -> i64 {
    let mut magnitude: i64 = 1;
    loop {
        for m in [1, 2, 5] {
            let step = magnitude.saturating_mul(m);
            if max <= step.saturating_mul(6) {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// A bar chart: a legend above, the value axis with its gridlines at the left, the groups'
/// labels under their bars. It needs [`CHART_HEIGHT`] and is never split across pages.
fn bar_chart(pages: &mut Pages<'_>, chart: &BarChart) {
    let faces = pages.faces;
    pages.ensure(CHART_HEIGHT);
    let top = pages.y;
    let line_h = CHART_TEXT * LEADING;
    let colour = |j: usize| rgb(CHART_COLOURS[j % CHART_COLOURS.len()]);

    // The legend, a swatch before each name, from the left edge.
    let swatch = CHART_TEXT;
    let mut x = LEFT;
    for (j, name) in chart.series.iter().enumerate() {
        pages.ops.push(Op::SetFillColor { col: colour(j) });
        pages.rect(
            x,
            top + (line_h - swatch) / 2.0,
            swatch,
            swatch,
            PaintMode::Fill,
        );
        pages.ops.push(Op::SetFillColor { col: grey(0.0) });
        x += swatch + 4.0;
        pages.text(x, top, name, Style::Regular, CHART_TEXT, Align::Left);
        x += faces.width(name, Style::Regular, CHART_TEXT) + 14.0;
    }

    let max = chart
        .groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(0);
    let step = axis_step(max);
    let steps = (max / step + i64::from(max % step != 0)).max(1);
    let axis_top = step.saturating_mul(steps);
    let ticks: Vec<(i64, String)> = (0..=steps)
        .map(|k| {
            let v = step.saturating_mul(k);
            (v, grouped(v, chart.digit_group))
        })
        .collect();
    let axis_w = ticks
        .iter()
        .map(|(_, t)| faces.width(t, Style::Regular, CHART_TEXT))
        .fold(0.0, f32::max)
        + 6.0;
    let plot_left = LEFT + axis_w;
    let plot_w = WIDTH - axis_w;
    let plot_top = top + line_h + 10.0;
    let plot_bottom = top + CHART_HEIGHT - 2.0 * line_h - 4.0;
    let plot_h = plot_bottom - plot_top;
    let y_of = |v: i64| plot_bottom - plot_h * (v.max(0) as f32 / axis_top as f32);

    pages.ops.push(Op::SetOutlineColor { col: grey(0.82) });
    for (v, label) in &ticks {
        let y = y_of(*v);
        if *v > 0 {
            pages.rule(plot_left, y, plot_left + plot_w, y, 0.4);
        }
        pages.ops.push(Op::SetFillColor { col: grey(0.35) });
        pages.text(
            plot_left - 4.0,
            y - line_h / 2.0,
            label,
            Style::Regular,
            CHART_TEXT,
            Align::Right,
        );
        pages.ops.push(Op::SetFillColor { col: grey(0.0) });
    }

    let n = chart.groups.len().max(1) as f32;
    let group_w = plot_w / n;
    let series = chart.series.len().max(1) as f32;
    // Bars fill about three quarters of their group's width, never wider than 18 pt each.
    let bar_w = (group_w * 0.75 / series).min(18.0);
    for (i, g) in chart.groups.iter().enumerate() {
        let centre = plot_left + (i as f32 + 0.5) * group_w;
        let first = centre - bar_w * series / 2.0;
        for (j, v) in g.values.iter().enumerate() {
            let y = y_of(*v);
            if y < plot_bottom {
                pages.ops.push(Op::SetFillColor { col: colour(j) });
                pages.rect(
                    first + j as f32 * bar_w,
                    y,
                    bar_w,
                    plot_bottom - y,
                    PaintMode::Fill,
                );
            }
        }
        pages.ops.push(Op::SetFillColor { col: grey(0.0) });
        pages.text(
            centre,
            plot_bottom + 3.0,
            &g.label,
            Style::Regular,
            CHART_TEXT,
            Align::Center,
        );
        if !g.note.is_empty() {
            pages.ops.push(Op::SetFillColor { col: grey(0.35) });
            pages.text(
                centre,
                plot_bottom + 3.0 + line_h,
                &g.note,
                Style::Regular,
                CHART_TEXT,
                Align::Center,
            );
            pages.ops.push(Op::SetFillColor { col: grey(0.0) });
        }
    }
    // The axes over the bars' feet.
    pages.ops.push(Op::SetOutlineColor { col: grey(0.3) });
    pages.rule(plot_left, plot_bottom, plot_left + plot_w, plot_bottom, 0.8);
    pages.rule(plot_left, plot_top, plot_left, plot_bottom, 0.8);
    pages.ops.push(Op::SetOutlineColor { col: grey(0.0) });
    pages.y = top + CHART_HEIGHT;
}

/// What must stay on one page at the start of item `i`: a heading above it keeps this much
/// with it, so it is never left alone at a page foot.
fn keep_at_start(faces: &Faces<'_>, content: &Content<'_>, i: usize) -> f32 {
    match content.items.get(i) {
        Some(Item::Block(Block::Paragraph(text))) => {
            let lines = wrap(faces, text, Style::Regular, BODY, WIDTH).len();
            let h = BODY * LEADING;
            // A paragraph of two lines or fewer before the signatures goes with them.
            if lines <= 2 && matches!(content.block(i + 1), Some(Block::Signatures)) {
                lines as f32 * h
                    + PARAGRAPH_GAP
                    + signatures_height(faces, content.lang, content.signatures)
            } else {
                lines.min(2) as f32 * h
            }
        }
        Some(Item::Block(Block::Table { header, rows })) => {
            TableLayout::new(faces, header, rows, TABLE).keep()
        }
        Some(Item::Block(Block::Signatures)) => {
            signatures_height(faces, content.lang, content.signatures)
        }
        Some(Item::Grid(g)) => TableLayout::new(faces, &g.header, &g.rows, GRID).keep(),
        Some(Item::Notice(text)) => notice_height(faces, text),
        Some(Item::Chart(_)) => CHART_HEIGHT,
        _ => 0.0,
    }
}

const SIGNATURE_GAP: f32 = 10.0 * MM;

/// The lines of each party's signature block, and the height of the tallest.
fn signature_columns(
    faces: &Faces<'_>,
    lang: &str,
    signatures: &[Signature],
) -> (Vec<Vec<(String, Style)>>, f32) {
    let l = labels(lang);
    let n = signatures.len().max(1) as f32;
    let col = (WIDTH - SIGNATURE_GAP * (n - 1.0)) / n;
    let columns: Vec<Vec<(String, Style)>> = signatures
        .iter()
        .map(|s| {
            let mut lines = vec![(s.party.to_uppercase(), Style::Bold)];
            for line in wrap(faces, &s.organisation, Style::Regular, BODY, col) {
                lines.push((line, Style::Regular));
            }
            lines.push((String::new(), Style::Regular));
            if s.signed_at.is_empty() {
                lines.push((l.unsigned.to_string(), Style::Regular));
                lines.push((String::new(), Style::Regular));
                lines.push((String::new(), Style::Regular));
            } else {
                lines.push((l.signed.to_string(), Style::Regular));
                for line in wrap(faces, &s.signed_by, Style::Bold, BODY, col) {
                    lines.push((line, Style::Bold));
                }
                // "Date: 10 January 2027", "签署日期：2027年1月10日" (no space after "：").
                let sep = if l.signed_at.ends_with('：') {
                    ""
                } else {
                    " "
                };
                lines.push((
                    format!("{}{sep}{}", l.signed_at, s.signed_at),
                    Style::Regular,
                ));
            }
            lines
        })
        .collect();
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(0) as f32 * BODY * LEADING;
    (columns, tallest)
}

/// The room the signature blocks take, with the space above them.
fn signatures_height(faces: &Faces<'_>, lang: &str, signatures: &[Signature]) -> f32 {
    if signatures.is_empty() {
        return 0.0;
    }
    3.0 * PARAGRAPH_GAP + signature_columns(faces, lang, signatures).1
}

/// The parties' signature blocks side by side, kept on one page.
fn signatures(pages: &mut Pages<'_>, lang: &str, signatures: &[Signature]) {
    if signatures.is_empty() {
        return;
    }
    let (columns, tallest) = signature_columns(pages.faces, lang, signatures);
    let n = signatures.len() as f32;
    let col = (WIDTH - SIGNATURE_GAP * (n - 1.0)) / n;
    let h = BODY * LEADING;
    pages.gap(3.0 * PARAGRAPH_GAP);
    pages.ensure(tallest);
    let top = pages.y;
    for (i, lines) in columns.iter().enumerate() {
        let centre = LEFT + i as f32 * (col + SIGNATURE_GAP) + col / 2.0;
        for (j, (line, style)) in lines.iter().enumerate() {
            if !line.is_empty() {
                pages.text(
                    centre,
                    top + j as f32 * h,
                    line,
                    *style,
                    BODY,
                    Align::Center,
                );
            }
        }
    }
    pages.y = top + tallest;
}

/// Footers on every page, now that the page count is known.
fn footers(pages: &mut [Vec<Op>], faces: &Faces<'_>, lang: &str, left: &str) {
    let l = labels(lang);
    let total = pages.len();
    let top = PAGE_H - FOOTER_Y - FOOTER * LEADING;
    for (i, ops) in pages.iter_mut().enumerate() {
        let mut p = Pages {
            faces,
            done: Vec::new(),
            ops: std::mem::take(ops),
            y: 0.0,
        };
        let rule_y = top - 2.0;
        p.ops.push(Op::SetOutlineColor { col: grey(0.6) });
        p.rule(LEFT, rule_y, LEFT + WIDTH, rule_y, 0.4);
        p.ops.push(Op::SetOutlineColor { col: grey(0.0) });
        p.ops.push(Op::SetFillColor { col: grey(0.35) });
        p.text(LEFT, top, left, Style::Regular, FOOTER, Align::Left);
        let page = (l.page)(i + 1, total);
        p.text(
            LEFT + WIDTH,
            top,
            &page,
            Style::Regular,
            FOOTER,
            Align::Right,
        );
        p.ops.push(Op::SetFillColor { col: grey(0.0) });
        *ops = p.ops;
    }
}

/// Sets the items on pages and returns the ops of each page.
fn set(faces: &Faces<'_>, content: &Content<'_>) -> Vec<Vec<Op>> {
    let mut pages = Pages::new(faces);
    let mut after_title = false;
    for (i, item) in content.items.iter().enumerate() {
        let block = match *item {
            Item::Block(block) => block,
            Item::Notice(text) => {
                notice(&mut pages, text);
                pages.y += 2.0 * PARAGRAPH_GAP;
                after_title = false;
                continue;
            }
            Item::Grid(grid) => {
                table(&mut pages, &grid.header, &grid.rows, &grid.align, GRID);
                pages.y += PARAGRAPH_GAP;
                after_title = false;
                continue;
            }
            Item::Chart(chart) => {
                bar_chart(&mut pages, chart);
                pages.y += PARAGRAPH_GAP;
                after_title = false;
                continue;
            }
        };
        match block {
            Block::Banner(text) => {
                let lines = wrap(faces, text, Style::Bold, HEADING, WIDTH);
                pages.lines(&lines, Style::Bold, HEADING, Align::Center);
                // A short rule under the last banner line, as under a national motto.
                if !matches!(content.block(i + 1), Some(Block::Banner(_))) {
                    let y = pages.y + 2.0;
                    let half = 22.0 * MM;
                    let centre = LEFT + WIDTH / 2.0;
                    pages.rule(centre - half, y, centre + half, y, 0.6);
                    pages.y += 2.0 * PARAGRAPH_GAP;
                }
                continue;
            }
            Block::Title(text) => {
                let lines = wrap(faces, text, Style::Bold, TITLE, WIDTH);
                pages.gap(HEADING_GAP);
                pages.lines(&lines, Style::Bold, TITLE, Align::Center);
                pages.y += PARAGRAPH_GAP / 2.0;
                after_title = true;
                continue;
            }
            Block::Heading(text) => {
                let lines = wrap(faces, text, Style::Bold, HEADING, WIDTH);
                // Keep the heading with the start of what follows.
                let next = keep_at_start(faces, content, i + 1);
                pages.gap(HEADING_GAP);
                pages.ensure(lines.len() as f32 * HEADING * LEADING + 3.0 + next);
                pages.lines(&lines, Style::Bold, HEADING, Align::Left);
                pages.y += 3.0;
            }
            Block::Paragraph(text) => {
                // The line right under the title (the agreement number) is centred with it.
                let align = if after_title {
                    Align::Center
                } else {
                    Align::Left
                };
                let lines = wrap(faces, text, Style::Regular, BODY, WIDTH);
                let after = match content.block(i + 1) {
                    Some(Block::Signatures) => {
                        signatures_height(faces, content.lang, content.signatures)
                    }
                    _ => 0.0,
                };
                pages.lines_keeping(&lines, Style::Regular, BODY, align, after);
                pages.y += if after_title {
                    2.0 * PARAGRAPH_GAP
                } else {
                    PARAGRAPH_GAP
                };
            }
            Block::Table { header, rows } => {
                table(&mut pages, header, rows, &[], TABLE);
                pages.y += PARAGRAPH_GAP;
            }
            Block::Signatures => signatures(&mut pages, content.lang, content.signatures),
        }
        after_title = false;
    }
    pages.finish()
}

/// Every piece of text the document will draw (to find the faces it needs).
fn all_text<'a>(content: &'a Content<'_>, footer: &'a [String]) -> Vec<&'a str> {
    let l = labels(content.lang);
    let mut out: Vec<&str> = footer.iter().map(String::as_str).collect();
    if !content.signatures.is_empty()
        || content
            .items
            .iter()
            .any(|it| matches!(it, Item::Block(Block::Signatures)))
    {
        out.extend([l.signed, l.signed_at, l.unsigned]);
    }
    for item in &content.items {
        match *item {
            Item::Block(
                Block::Banner(t) | Block::Title(t) | Block::Heading(t) | Block::Paragraph(t),
            ) => out.push(t),
            Item::Block(Block::Table { header, rows }) => {
                out.extend(header.iter().map(String::as_str));
                out.extend(rows.iter().flatten().map(String::as_str));
            }
            Item::Block(Block::Signatures) => {}
            Item::Notice(t) => out.push(t),
            Item::Grid(g) => {
                out.extend(g.header.iter().map(String::as_str));
                out.extend(g.rows.iter().flatten().map(String::as_str));
            }
            Item::Chart(c) => {
                out.extend(c.series.iter().map(String::as_str));
                for g in &c.groups {
                    out.extend([g.label.as_str(), g.note.as_str()]);
                }
                // The axis' figures are digits and the separator: the sans face has them.
            }
        }
    }
    for s in content.signatures {
        out.extend([
            s.party.as_str(),
            s.organisation.as_str(),
            s.signed_by.as_str(),
            s.signed_at.as_str(),
        ]);
    }
    out
}

fn pdf_date(d: NaiveDate) -> printpdf::OffsetDateTime {
    let midnight = d
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0);
    printpdf::OffsetDateTime::from_unix_timestamp(midnight)
        .unwrap_or_else(|_| printpdf::OffsetDateTime::epoch())
}

/// Deflates every stream not compressed yet (page contents, font programs, ToUnicode maps)
/// at zlib's fastest level. lopdf's own `compress` uses the best level, which took a third of
/// a document's time; the fast level halves a Vietnamese document's time for about 13% more
/// bytes (`benches/pdf.rs`), well inside the size targets.
fn compress(pdf: &mut lopdf::Document) -> Result<(), PdfError> {
    use std::io::Write;
    for object in pdf.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&stream.content)
            .and_then(|_| z.finish())
            .map_err(|e| PdfError::Write(e.to_string()))
            .map(|deflated| {
                if deflated.len() < stream.content.len() {
                    stream.dict.set("Filter", "FlateDecode");
                    stream.set_content(deflated);
                }
            })?;
    }
    Ok(())
}

/// A set document: its bytes and page count.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// Sets `layout` with `fonts` and writes the PDF.
pub fn render(fonts: &Fonts, layout: &Layout<'_>) -> Result<Rendered, PdfError> {
    let l = labels(layout.lang);
    let content = Content {
        lang: layout.lang,
        items: layout.blocks.iter().map(Item::Block).collect(),
        signatures: layout.signatures,
        footer: (l.footer)(layout.number, layout.terms_version),
        subject: layout.number,
        date: layout.date,
        id_seed: layout.id_seed,
    };
    write(fonts, &content)
}

/// Sets a document composed of parts (a report) with `fonts` and writes the PDF: the same
/// pages, fonts and determinism as an agreement's, with `layout.footer` in the footer.
pub fn render_report(fonts: &Fonts, layout: &ReportLayout<'_>) -> Result<Rendered, PdfError> {
    let content = Content {
        lang: layout.lang,
        items: layout.parts.iter().map(Part::item).collect(),
        signatures: &[],
        footer: layout.footer.to_string(),
        subject: layout.footer,
        date: layout.date,
        id_seed: layout.id_seed,
    };
    write(fonts, &content)
}

fn write(fonts: &Fonts, content: &Content<'_>) -> Result<Rendered, PdfError> {
    let l = labels(content.lang);
    // The footer texts of the longest page label (for the glyph check).
    let footer = [content.footer.clone(), (l.page)(1, 1)];
    let faces = Faces::for_text(fonts, all_text(content, &footer).into_iter())?;
    let mut page_ops = set(&faces, content);
    footers(&mut page_ops, &faces, content.lang, &content.footer);
    let count = page_ops.len();

    let title = content
        .items
        .iter()
        .find_map(|it| match it {
            Item::Block(Block::Title(t)) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut doc = PdfDocument::new(&title);
    let date = pdf_date(content.date);
    doc.metadata.info.creation_date = date;
    doc.metadata.info.modification_date = date;
    doc.metadata.info.metadata_date = date;
    doc.metadata.info.subject = content.subject.to_string();
    doc.metadata.info.producer = "usefirst".into();
    doc.metadata.info.creator = "usefirst".into();
    for face in &faces.faces {
        doc.resources
            .fonts
            .map
            .insert(FontId(face.id.into()), PdfFont::new(face.font.clone()));
    }
    doc.pages = page_ops
        .into_iter()
        .map(|ops| PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), ops))
        .collect();

    let opts = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut pdf = doc.to_lopdf_document(&opts, &mut warnings);
    drop(doc);
    let id = Sha256::digest(content.id_seed.as_bytes());
    let id = lopdf::Object::String(id[..16].to_vec(), lopdf::StringFormat::Hexadecimal);
    pdf.trailer
        .set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    if let Ok(info) = pdf
        .trailer
        .get(b"Info")
        .and_then(lopdf::Object::as_reference)
    {
        if let Ok(dict) = pdf
            .get_object_mut(info)
            .and_then(lopdf::Object::as_dict_mut)
        {
            dict.remove(b"GTS_PDFXVersion");
        }
    }
    compress(&mut pdf)?;
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(Rendered {
        bytes,
        pages: count,
    })
}

/// The PDF reader the tests of documents and reports read their output with (lopdf only).
#[cfg(test)]
#[path = "../../tests/support/pdf_reader.rs"]
pub(crate) mod reader;

#[cfg(test)]
mod tests {
    use super::reader::Pdf;

    use super::*;
    use crate::documents::format::LANGS;
    use crate::documents::templates::{sample_context, ContractTemplates, KINDS};

    /// The built-in faces, Chinese included: what a machine with nothing installed has.
    fn fonts() -> Arc<Fonts> {
        Fonts::new(None)
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
    }

    /// The blocks and signatures of the shipped template for `kind` and `lang`.
    fn sample(kind: &str, lang: &str) -> (Vec<Block>, Vec<Signature>) {
        let templates =
            ContractTemplates::load(Some(std::path::Path::new("contract-templates"))).unwrap();
        let ctx = sample_context(kind, lang, true);
        let blocks = templates.render(kind, lang, &ctx).unwrap();
        let signatures = serde_json::from_value(ctx["signatures"].clone()).unwrap();
        (blocks, signatures)
    }

    fn layout<'a>(lang: &'a str, blocks: &'a [Block], signatures: &'a [Signature]) -> Layout<'a> {
        Layout {
            lang,
            blocks,
            signatures,
            number: "UF-2026-000123",
            terms_version: 2,
            date: day(),
            id_seed: "agreement-1:7:trial-agreement",
        }
    }

    /// The PDF's text in reading order with the footers taken out and the lines joined as
    /// the markup joins them (no space between two CJK characters).
    fn text_of(pdf: &[u8], lang: &str) -> String {
        let raw = Pdf::read(pdf).text();
        let l = labels(lang);
        let footer = (l.footer)("UF-2026-000123", 2);
        let mut out = String::new();
        for line in raw.lines().map(str::trim) {
            let is_page_label = (1..=99).any(|t| (1..=t).any(|p| line == (l.page)(p, t)));
            if line.is_empty() || line == footer || is_page_label {
                continue;
            }
            let joins_cjk =
                out.chars().last().is_some_and(is_cjk) && line.chars().next().is_some_and(is_cjk);
            if !out.is_empty() && !joins_cjk {
                out.push(' ');
            }
            out.push_str(line);
        }
        out
    }

    #[test]
    fn every_kind_and_language_holds_its_text_in_embedded_subset_fonts() {
        let fonts = fonts();
        for kind in KINDS {
            for lang in LANGS {
                let (blocks, signatures) = sample(kind, lang);
                let rendered = render(&fonts, &layout(lang, &blocks, &signatures)).unwrap();
                let at = format!("{kind}.{lang}");
                let text = text_of(&rendered.bytes, lang);
                // Every block, every table cell, every value inserted into them.
                for block in &blocks {
                    match block {
                        Block::Table { header, rows } => {
                            for cell in header.iter().chain(rows.iter().flatten()) {
                                assert!(
                                    text.contains(cell.as_str()),
                                    "{at}: cell {cell:?} missing"
                                );
                            }
                        }
                        Block::Signatures => {}
                        b => {
                            let t = b.text();
                            assert!(text.contains(&t), "{at}: {t:?} missing from\n{text}");
                        }
                    }
                }
                for value in [
                    "UF-2026-000123",
                    "Viện Nghiên cứu Cơ khí",
                    "Công ty TNHH Cơ khí Bình Dương",
                    "0100100079",
                    "1.500.000.000 ₫",
                    "5.000.000 ₫",
                    "Nguyễn Văn An",
                ] {
                    assert!(text.contains(value), "{at}: {value} missing");
                }
                let date = crate::documents::format::date(lang, day());
                assert!(text.contains(&date), "{at}: {date} missing");
                let signed = crate::documents::format::date(
                    lang,
                    NaiveDate::from_ymd_opt(2027, 1, 10).unwrap(),
                );
                let sep = if lang == "zh" { "" } else { " " };
                let signed_on = format!("{}{sep}{signed}", labels(lang).signed_at);
                assert!(text.contains(&signed_on), "{at}: {signed_on}");
                assert!(
                    text.contains(labels(lang).unsigned),
                    "{at}: the unsigned party"
                );
                // Footer on every page: the number, the terms version, page n of N.
                let raw = Pdf::read(&rendered.bytes).text();
                let l = labels(lang);
                for p in 1..=rendered.pages {
                    assert!(raw.contains(&(l.page)(p, rendered.pages)), "{at}: page {p}");
                }
                assert_eq!(
                    raw.matches(&(l.footer)("UF-2026-000123", 2)).count(),
                    rendered.pages,
                    "{at}: a footer on every page"
                );
                assert_eq!(
                    Pdf::read(&rendered.bytes).page_count(),
                    rendered.pages,
                    "{at}"
                );

                let expected = if lang == "zh" { 3 } else { 2 };
                Pdf::read(&rendered.bytes).assert_fonts_embedded_and_subset(expected, &at);
            }
        }
    }

    #[test]
    fn the_same_input_gives_the_same_bytes_and_another_seed_others() {
        let (blocks, signatures) = sample("trial-agreement", "zh");
        let one = render(&fonts(), &layout("zh", &blocks, &signatures)).unwrap();
        let two = render(&fonts(), &layout("zh", &blocks, &signatures)).unwrap();
        assert!(one.bytes == two.bytes, "two renders differ");
        let mut other = layout("zh", &blocks, &signatures);
        other.id_seed = "agreement-1:8:trial-agreement";
        let three = render(&fonts(), &other).unwrap();
        assert!(three.bytes != one.bytes);
        let text = String::from_utf8_lossy(&one.bytes);
        assert!(!text.contains("GTS_PDFXVersion"));
    }

    #[test]
    fn sixty_clauses_wrap_across_pages_without_losing_a_line() {
        let fonts = fonts();
        let mut blocks = vec![Block::Title("HỢP ĐỒNG DÙNG THỬ CÔNG NGHỆ".into())];
        let mut lines = 0;
        for i in 1..=60 {
            blocks.push(Block::Heading(format!("Điều {i}. Điều khoản số {i}")));
            // Paragraphs of one to eight lines.
            let words = 14 * (1 + i % 8);
            let text: Vec<String> = (0..words)
                .map(|w| format!("từ{i}x{w} trách nhiệm"))
                .collect();
            let text = text.join(" ");
            let faces = Faces::for_text(&fonts, [text.as_str()].into_iter()).unwrap();
            lines += wrap(&faces, &text, Style::Regular, BODY, WIDTH).len() + 1;
            blocks.push(Block::Paragraph(text));
        }
        blocks.push(Block::Signatures);
        let (_, signatures) = sample("trial-agreement", "vi");
        let rendered = render(&fonts, &layout("vi", &blocks, &signatures)).unwrap();
        // The page count read back is the one laid out, and about what the lines need.
        assert_eq!(Pdf::read(&rendered.bytes).page_count(), rendered.pages);
        let per_page = ((PAGE_H - TOP - BOTTOM) / (BODY * LEADING)) as usize;
        let least = lines.div_ceil(per_page);
        assert!(
            (least..=least + least / 3 + 1).contains(&rendered.pages),
            "{} pages for {lines} lines ({per_page} a page)",
            rendered.pages
        );
        let text = text_of(&rendered.bytes, "vi");
        for block in &blocks[1..blocks.len() - 1] {
            let t = block.text();
            assert!(text.contains(&t), "lost: {t}");
        }
        let raw = Pdf::read(&rendered.bytes).text();
        // The signature blocks share their page with the end of the last clause.
        let last_page = raw.split('\u{c}').rfind(|p| !p.trim().is_empty()).unwrap();
        assert!(
            last_page.contains("từ60x69"),
            "signatures alone: {last_page}"
        );
        // No heading is the last thing on a page.
        for page in raw.split('\u{c}').filter(|p| !p.trim().is_empty()) {
            let body: Vec<&str> = page
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("Số UF-") && !l.starts_with("Trang "))
                .collect();
            let last = body.last().copied().unwrap_or_default();
            assert!(
                !last.starts_with("Điều "),
                "a heading alone at a page foot: {last}"
            );
        }
    }

    #[test]
    fn signature_blocks_never_stand_alone_on_a_page() {
        let fonts = fonts();
        let (_, signatures) = sample("trial-agreement", "vi");
        // However the clauses before them fall, the last one ends on the signatures' page.
        for n in 10..=45 {
            let mut blocks = vec![Block::Title("HỢP ĐỒNG".into())];
            for i in 0..n {
                blocks.push(Block::Paragraph(format!("Dòng số {i} của hợp đồng.")));
            }
            blocks.push(Block::Paragraph(
                "Hợp đồng có hiệu lực khi cả hai bên ký, và mỗi bên giữ một bản điện tử có giá trị như nhau; mã băm của văn bản được lưu để đối chiếu khi cần. Điều khoản cuối cùng kết thúc tại đây."
                    .into(),
            ));
            blocks.push(Block::Signatures);
            let rendered = render(&fonts, &layout("vi", &blocks, &signatures)).unwrap();
            let raw = Pdf::read(&rendered.bytes).text();
            let last_page = raw.split('\u{c}').rfind(|p| !p.trim().is_empty()).unwrap();
            assert!(
                last_page.contains("kết thúc tại đây"),
                "{n} lines: the signatures are alone on page {}: {last_page}",
                rendered.pages
            );
        }
    }

    /// The last line of each page's body (footer left out).
    fn page_feet(pdf: &[u8]) -> Vec<String> {
        let raw = Pdf::read(pdf).text();
        raw.split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .map(|page| {
                let body: Vec<&str> = page
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        !l.is_empty() && !l.starts_with("Số UF-") && !l.starts_with("Trang ")
                    })
                    .collect();
                body.last().copied().unwrap_or_default().to_string()
            })
            .collect()
    }

    #[test]
    fn a_heading_stays_with_a_short_table_and_with_the_closing_clause() {
        let fonts = fonts();
        let (_, signatures) = sample("trial-agreement", "vi");
        let table = Block::Table {
            header: vec!["Hạn thanh toán".into(), "Khoản".into(), "Số tiền".into()],
            rows: (1..=6)
                .map(|k| {
                    vec![
                        format!("20/0{k}/2027"),
                        format!("Kỳ {k}/6"),
                        "250.000.000 ₫".into(),
                    ]
                })
                .collect(),
        };
        for n in 10..=45 {
            let mut blocks = vec![Block::Title("HỢP ĐỒNG".into())];
            for i in 0..n {
                blocks.push(Block::Paragraph(format!("Dòng số {i} của hợp đồng.")));
            }
            blocks.push(Block::Heading("Điều 4. Lịch thanh toán".into()));
            blocks.push(table.clone());
            for i in 0..n {
                blocks.push(Block::Paragraph(format!("Dòng tiếp theo số {i}.")));
            }
            blocks.push(Block::Heading("Điều 11. Hiệu lực".into()));
            blocks.push(Block::Paragraph(
                "Hợp đồng có hiệu lực khi cả hai bên ký.".into(),
            ));
            blocks.push(Block::Signatures);
            let rendered = render(&fonts, &layout("vi", &blocks, &signatures)).unwrap();
            for foot in page_feet(&rendered.bytes) {
                assert!(
                    !foot.starts_with("Điều "),
                    "{n} lines: a heading alone at a page foot"
                );
            }
        }
    }

    #[test]
    fn a_character_no_font_has_is_refused_and_a_missing_cjk_font_named() {
        let blocks = vec![Block::Paragraph("Ký hiệu 𓀀 không có trong phông".into())];
        let err = render(&fonts(), &layout("vi", &blocks, &[])).unwrap_err();
        assert!(matches!(err, PdfError::NoGlyph { ch: '𓀀' }), "{err}");

        let without = Fonts::new(Some(CjkSource {
            path: "/nonexistent/NotoSansCJK.ttc".into(),
            index: 2,
        }));
        assert!(without.cjk_status().is_err());
        let (blocks, signatures) = sample("trial-agreement", "zh");
        let err = render(&without, &layout("zh", &blocks, &signatures)).unwrap_err();
        assert!(
            matches!(&err, PdfError::FontMissing(m) if m.contains("/nonexistent/NotoSansCJK.ttc")),
            "{err}"
        );
        // Vietnamese and English need only the built-in fonts.
        let (blocks, signatures) = sample("trial-agreement", "vi");
        assert!(render(&without, &layout("vi", &blocks, &signatures)).is_ok());

        // A font installed while the service runs is found by the next Chinese document.
        let dir = tempfile::tempdir().unwrap();
        let later = dir.path().join("NotoSansSC.otf");
        let fonts = Fonts::new(Some(CjkSource {
            path: later.clone(),
            index: 0,
        }));
        let (blocks, signatures) = sample("trial-agreement", "zh");
        let zh = layout("zh", &blocks, &signatures);
        assert!(matches!(render(&fonts, &zh), Err(PdfError::FontMissing(_))));
        std::fs::write(&later, NOTO_SANS_SC_SUBSET).unwrap();
        assert_eq!(fonts.cjk_status().unwrap(), later.display().to_string());
        assert!(render(&fonts, &zh).is_ok());
    }

    #[test]
    fn the_built_in_chinese_face_covers_gb2312_level_one_and_every_built_in_text() {
        let fonts = fonts();
        assert_eq!(fonts.cjk_status().unwrap(), BUILT_IN_CJK);
        let cjk = fonts.cjk().unwrap();
        // GB 2312 level 1: the 3,755 common hanzi, 啊 (B0A1) to 座 (D7F9), in pinyin order;
        // their code points are scattered, so the list the subset was made from is the
        // reference, and a sample of it is checked by code point here.
        let chars = include_str!("fonts/NotoSansSC-Subset.chars.txt");
        let hanzi: Vec<char> = chars.chars().filter(|c| is_cjk(*c)).collect();
        assert!(hanzi.len() >= 3755, "{} hanzi in the list", hanzi.len());
        for c in [
            '啊', '座', '甲', '乙', '方', '合', '同', '试', '用', '转', '让', '页', '共',
        ] {
            assert!(cjk.glyph(c).is_some(), "{c} missing");
        }
        let missing: Vec<char> = chars
            .chars()
            .filter(|c| is_cjk(*c) && cjk.glyph(*c).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "listed but not in the face: {missing:?}"
        );
        // Every character of the shipped zh templates, in one face or the other.
        for kind in KINDS {
            let (blocks, signatures) = sample(kind, "zh");
            assert!(
                render(&fonts, &layout("zh", &blocks, &signatures)).is_ok(),
                "{kind}.zh"
            );
        }
    }

    #[test]
    fn chart_axes_step_by_one_two_or_five_and_figures_are_grouped() {
        for (max, step) in [
            (0, 1),
            (6, 1),
            (7, 2),
            (104, 20),
            (120, 20),
            (121, 50),
            (2_412, 500),
        ] {
            assert_eq!(axis_step(max), step, "{max}");
        }
        assert!(axis_step(i64::MAX) > 0);
        assert_eq!(grouped(1_811, '.'), "1.811");
        assert_eq!(grouped(-1_234_567, ','), "-1,234,567");
        assert_eq!(grouped(999, ','), "999");
        assert_eq!(grouped(i64::MIN, '.'), "-9.223.372.036.854.775.808");
    }

    #[test]
    fn a_bar_chart_keeps_with_its_heading_and_is_never_split() {
        let fonts = fonts();
        let chart = BarChart {
            series: vec!["Bắt đầu dùng thử".into(), "Chuyển giao".into()],
            groups: (1..=12)
                .map(|m| BarGroup {
                    label: format!("T{m}"),
                    note: if m == 1 { "2026".into() } else { String::new() },
                    values: vec![60 + 4 * m, 30 + 2 * m],
                })
                .collect(),
            digit_group: '.',
        };
        let mut moved = 0;
        for n in 20..=50 {
            let mut parts = vec![Part::Block(Block::Title("Báo cáo".into()))];
            for i in 0..n {
                parts.push(Part::Block(Block::Paragraph(format!("Dòng số {i}."))));
            }
            parts.push(Part::Notice("Số liệu tạm tính".into()));
            parts.push(Part::Block(Block::Heading("Theo tháng".into())));
            parts.push(Part::BarChart(chart.clone()));
            parts.push(Part::Block(Block::Paragraph("Dòng cuối.".into())));
            let layout = ReportLayout {
                lang: "vi",
                parts: &parts,
                footer: "Báo cáo tháng 10/2026",
                date: day(),
                id_seed: "report",
            };
            let rendered = render_report(&fonts, &layout).unwrap();
            let raw = Pdf::read(&rendered.bytes).text();
            assert_eq!(
                raw.matches("Báo cáo tháng 10/2026").count(),
                rendered.pages,
                "{n}: the footer text on every page"
            );
            let page = raw
                .split('\u{c}')
                .find(|p| p.contains("Theo tháng"))
                .unwrap();
            // The heading, the legend, the axis and every label on one page.
            for text in ["Bắt đầu dùng thử", "Chuyển giao", "T5", "T12", "100"] {
                assert!(
                    page.contains(text),
                    "{n}: {text} not with the heading: {page}"
                );
            }
            let first = raw.split('\u{c}').next().unwrap_or_default();
            moved += usize::from(!first.contains("Theo tháng"));
        }
        assert!(moved > 0, "no chart was moved to the next page");
    }

    #[test]
    fn lines_break_between_words_and_keep_amounts_and_cjk_punctuation_whole() {
        let fonts = fonts();
        let text = "phí bảo hiểm 500.000.000 ₫，保费 10.000.000 ₫，分担如下：甲方、乙方。";
        let faces = Faces::for_text(&fonts, [text].into_iter()).unwrap();
        for width in [100.0, 120.0, 150.0, 200.0, 400.0] {
            let lines = wrap(&faces, text, Style::Regular, BODY, width);
            for line in &lines {
                assert!(
                    !line.starts_with('₫') && !line.starts_with('，') && !line.starts_with('。'),
                    "{lines:?}"
                );
                let w = faces.width(line, Style::Regular, BODY);
                assert!(w <= width + 0.01, "{line:?} is {w} wide, more than {width}");
            }
            // Lines break only at a space or between two CJK characters: joined back as the
            // markup joins lines, the text is exactly what it was.
            let mut joined = String::new();
            for line in &lines {
                let cjk_seam = joined.chars().last().is_some_and(is_cjk)
                    && line.chars().next().is_some_and(is_cjk);
                if !joined.is_empty() && !cjk_seam {
                    joined.push(' ');
                }
                joined.push_str(line);
            }
            assert_eq!(joined, text, "{lines:?}");
        }
    }
}
