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

use chrono::NaiveDate;
use serde::Deserialize;

use super::markup::Block;

mod fonts;
mod pages;
mod parts;
mod qr;
mod signatures;
mod table;
mod text;
mod write;

pub use fonts::{CjkSource, Fonts, BUILT_IN_CJK};
pub use parts::grouped;
pub use write::{render, render_report, Rendered};

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
    /// Where anyone can check the document: a QR code on the first page and a line under
    /// every page's footer.
    pub verify: Option<Verify<'a>>,
}

/// The link a document carries to be checked by anyone, and its code as printed.
#[derive(Debug, Clone, Copy)]
pub struct Verify<'a> {
    /// `{public_url}/verify/{code}`: the QR code's text.
    pub url: &'a str,
    /// The code in groups, as a person would type it (`7K3M-0QRS-…`).
    pub code: &'a str,
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
    /// The code anyone can check the document with, printed in every footer and as a QR code.
    pub verify: Option<Verify<'a>>,
}

/// Where a line sits: from the left edge, about the centre, or up to the right edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
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
    verify: Option<Verify<'a>>,
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

/// Labels the layout writes itself, per language (the tests of documents set from templates
/// read them too).
pub(crate) struct Labels {
    pub(crate) footer: fn(&str, i64) -> String,
    pub(crate) page: fn(usize, usize) -> String,
    pub(crate) signed: &'static str,
    pub(crate) signed_at: &'static str,
    pub(crate) unsigned: &'static str,
    /// The line under the footer naming where to check the document and its code.
    pub(crate) verify: fn(&str, &str) -> String,
}

pub(crate) fn labels(lang: &str) -> Labels {
    match lang {
        "vi" => Labels {
            footer: |n, v| format!("Số {n} — Điều khoản chuyển đổi phiên bản {v}"),
            page: |p, t| format!("Trang {p}/{t}"),
            signed: "Đã ký điện tử",
            signed_at: "Ngày ký:",
            unsigned: "(Chưa ký)",
            verify: |url, code| format!("Kiểm tra tài liệu này tại {url} — mã {code}"),
        },
        "zh" => Labels {
            footer: |n, v| format!("编号 {n} — 转化条款第 {v} 版"),
            page: |p, t| format!("第 {p} 页，共 {t} 页"),
            signed: "已电子签署",
            signed_at: "签署日期：",
            unsigned: "（尚未签署）",
            verify: |url, code| format!("核验本文件：{url} — 验证码 {code}"),
        },
        _ => Labels {
            footer: |n, v| format!("No. {n} — Conversion terms version {v}"),
            page: |p, t| format!("Page {p} of {t}"),
            signed: "Signed electronically",
            signed_at: "Date:",
            unsigned: "(Not yet signed)",
            verify: |url, code| format!("Check this document at {url} — code {code}"),
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

/// The PDF reader the tests of documents and reports read their output with (lopdf only).
#[cfg(test)]
#[path = "../../../tests/support/pdf_reader.rs"]
pub(crate) mod reader;

#[cfg(test)]
pub(crate) mod tests;
