//! Reads back the PDFs usefirst writes, with lopdf and nothing installed on the machine: the
//! page count, the fonts (embedded? subset? searchable?), and each page's text lines with
//! their positions and extents, decoded through each font's ToUnicode map and measured with
//! its glyph widths.
//!
//! Shared by the library's unit tests (`#[path]` from `src/`) and the API suite, so both read
//! a document the same way. It follows the PDF text model (text and line matrices, `Td`, `Tm`,
//! `TJ` adjustments, `cm` and `q`/`Q`), which is all a viewer needs to place text; it draws
//! nothing, so it says nothing of how a page looks: the rasterising check is the system test.

#![allow(dead_code)]

use std::collections::HashMap;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

/// One font resource of the document.
#[derive(Debug, Clone)]
pub struct FontInfo {
    /// `/BaseFont`, with its `ABCDEF+` subset tag when there is one.
    pub name: String,
    pub subtype: String,
    /// The font program is in the file (`FontFile`, `FontFile2` or `FontFile3`).
    pub embedded: bool,
    /// The name carries a subset tag: six capital letters and a `+`.
    pub subset: bool,
    /// It has a `/ToUnicode` map, so its text can be searched and copied.
    pub to_unicode: bool,
}

/// One run of text as drawn: one text object (`BT`…`ET`), which is one line of the document.
#[derive(Debug, Clone)]
pub struct TextLine {
    /// Left end of the first glyph and right end of the last, in points from the left edge.
    pub x_min: f32,
    pub x_max: f32,
    /// The baseline, in points from the bottom edge.
    pub y: f32,
    /// The font size of the first run.
    pub size: f32,
    pub text: String,
}

/// One page: its text lines in the order they are drawn.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub lines: Vec<TextLine>,
}

impl Page {
    /// The lines as a person reads them: top to bottom; lines on one baseline (table cells,
    /// side-by-side signature blocks) left to right, joined by one space. As `pdftotext
    /// -layout` prints a page, with runs of spaces made one.
    pub fn rows(&self) -> Vec<String> {
        let mut lines: Vec<&TextLine> = self.lines.iter().collect();
        lines.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x_min.total_cmp(&b.x_min)));
        let mut rows: Vec<(f32, Vec<&str>)> = Vec::new();
        for line in lines {
            match rows.last_mut() {
                Some((y, texts)) if (*y - line.y).abs() < 1.0 => texts.push(&line.text),
                _ => rows.push((line.y, vec![&line.text])),
            }
        }
        rows.into_iter()
            .map(|(_, t)| t.join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// The text in drawing order, a line of text per line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&line.text);
            out.push('\n');
        }
        out
    }
}

/// A document read back.
#[derive(Debug, Clone)]
pub struct Pdf {
    pub pages: Vec<Page>,
    pub fonts: Vec<FontInfo>,
}

impl Pdf {
    /// Parses `bytes`; panics with the reason when lopdf cannot (a test that reads back a
    /// document it made has nothing else to do then).
    pub fn read(bytes: &[u8]) -> Pdf {
        let doc = Document::load_mem(bytes).unwrap_or_else(|e| panic!("not a readable PDF: {e}"));
        let mut fonts: HashMap<ObjectId, FontInfo> = HashMap::new();
        let mut pages = Vec::new();
        for (_, page_id) in doc.get_pages() {
            let page_fonts = doc
                .get_page_fonts(page_id)
                .unwrap_or_else(|e| panic!("page fonts: {e}"));
            let mut by_name: HashMap<Vec<u8>, PageFont<'_>> = HashMap::new();
            for (name, dict) in page_fonts {
                if let Some(id) = font_object_id(&doc, page_id, &name) {
                    fonts.entry(id).or_insert_with(|| font_info(&doc, dict));
                }
                by_name.insert(name, PageFont::new(&doc, dict));
            }
            let content = doc
                .get_and_decode_page_content(page_id)
                .unwrap_or_else(|e| panic!("page content: {e}"));
            pages.push(read_page(&content, &by_name));
        }
        let mut fonts: Vec<(ObjectId, FontInfo)> = fonts.into_iter().collect();
        fonts.sort_by_key(|(id, _)| *id);
        Pdf {
            pages,
            fonts: fonts.into_iter().map(|(_, f)| f).collect(),
        }
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The whole text in drawing order, pages separated by a form feed (as `pdftotext`).
    pub fn text(&self) -> String {
        self.pages
            .iter()
            .map(Page::text)
            .collect::<Vec<_>>()
            .join("\u{c}")
    }

    /// Every page's rows (see [`Page::rows`]), one after the other.
    pub fn rows(&self) -> Vec<String> {
        self.pages.iter().flat_map(Page::rows).collect()
    }

    /// The text with every run of white space made one space.
    pub fn words(&self) -> String {
        self.text().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Exactly `expected` fonts, each embedded, subset and with a ToUnicode map.
    pub fn assert_fonts_embedded_and_subset(&self, expected: usize, at: &str) {
        assert_eq!(self.fonts.len(), expected, "{at}: {:#?}", self.fonts);
        for font in &self.fonts {
            assert!(
                font.embedded && font.subset && font.to_unicode,
                "{at}: {font:?}"
            );
        }
    }
}

/// What the page's text operators need of a font: how to decode a string and how wide each
/// code is (thousandths of the font size).
struct PageFont<'a> {
    encoding: Option<Encoding<'a>>,
    /// Two-byte codes (`Type0`/`Identity-H`) or one-byte codes.
    two_byte: bool,
    widths: HashMap<u32, f32>,
    default_width: f32,
}

impl<'a> PageFont<'a> {
    fn new(doc: &'a Document, font: &'a Dictionary) -> PageFont<'a> {
        let two_byte = name_of(font, b"Subtype").as_deref() == Some("Type0");
        let mut widths = HashMap::new();
        let mut default_width = 1000.0;
        if two_byte {
            let descendant = font
                .get(b"DescendantFonts")
                .ok()
                .and_then(|o| resolve(doc, o).as_array().ok())
                .and_then(|a| a.first())
                .and_then(|o| resolve(doc, o).as_dict().ok());
            if let Some(cid) = descendant {
                if let Ok(dw) = cid.get(b"DW") {
                    default_width = number(resolve(doc, dw)).unwrap_or(1000.0);
                }
                if let Ok(w) = cid.get(b"W").and_then(|o| resolve(doc, o).as_array()) {
                    cid_widths(doc, w, &mut widths);
                }
            }
        } else {
            let first = font
                .get(b"FirstChar")
                .ok()
                .and_then(|o| number(resolve(doc, o)))
                .unwrap_or(0.0) as u32;
            if let Ok(w) = font.get(b"Widths").and_then(|o| resolve(doc, o).as_array()) {
                for (i, o) in w.iter().enumerate() {
                    if let Some(n) = number(resolve(doc, o)) {
                        widths.insert(first + i as u32, n);
                    }
                }
            }
            default_width = 0.0;
        }
        PageFont {
            encoding: font.get_font_encoding(doc).ok(),
            two_byte,
            widths,
            default_width,
        }
    }

    fn decode(&self, bytes: &[u8]) -> String {
        match &self.encoding {
            Some(e) => Document::decode_text(e, bytes).unwrap_or_default(),
            None => String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// The advance of `bytes` in thousandths of the font size.
    fn advance(&self, bytes: &[u8]) -> f32 {
        let width = |code: u32| *self.widths.get(&code).unwrap_or(&self.default_width);
        if self.two_byte {
            bytes
                .chunks(2)
                .map(|c| width(u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0))))
                .sum()
        } else {
            bytes.iter().map(|b| width(u32::from(*b))).sum()
        }
    }
}

/// `/W [c [w1 w2 …] c_first c_last w …]` into code → width.
fn cid_widths(doc: &Document, w: &[Object], out: &mut HashMap<u32, f32>) {
    let mut i = 0;
    while i < w.len() {
        let Some(first) = number(resolve(doc, &w[i])) else {
            return;
        };
        match w.get(i + 1).map(|o| resolve(doc, o)) {
            Some(Object::Array(list)) => {
                for (k, o) in list.iter().enumerate() {
                    if let Some(n) = number(resolve(doc, o)) {
                        out.insert(first as u32 + k as u32, n);
                    }
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(n)) = (
                    number(last),
                    w.get(i + 2).and_then(|o| number(resolve(doc, o))),
                ) else {
                    return;
                };
                for code in first as u32..=last as u32 {
                    out.insert(code, n);
                }
                i += 3;
            }
            None => return,
        }
    }
}

/// A 2×3 affine matrix `[a b c d e f]`, as PDF writes them.
#[derive(Debug, Clone, Copy)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn translate(x: f32, y: f32) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, x, y])
    }

    /// `self` then `then`: `self × then` in PDF's row-vector convention.
    fn then(self, then: Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = then.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn apply(self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }
}

/// The text lines of one page's content.
fn read_page(content: &Content, fonts: &HashMap<Vec<u8>, PageFont<'_>>) -> Page {
    let mut page = Page::default();
    let mut ctm = Matrix::IDENTITY;
    let mut saved: Vec<Matrix> = Vec::new();
    let mut tm = Matrix::IDENTITY;
    let mut tlm = Matrix::IDENTITY;
    let mut font: Option<&PageFont<'_>> = None;
    let mut size = 0.0_f32;
    let (mut char_spacing, mut word_spacing, mut scale) = (0.0_f32, 0.0_f32, 1.0_f32);
    let mut current: Option<TextLine> = None;

    for op in &content.operations {
        let nums: Vec<f32> = op.operands.iter().filter_map(number).collect();
        match op.operator.as_str() {
            "q" => saved.push(ctm),
            "Q" => ctm = saved.pop().unwrap_or(Matrix::IDENTITY),
            "cm" if nums.len() == 6 => {
                ctm = Matrix([nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]]).then(ctm)
            }
            "BT" => {
                tm = Matrix::IDENTITY;
                tlm = Matrix::IDENTITY;
            }
            "ET" => page.lines.extend(current.take()),
            "Tf" => {
                font = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|n| fonts.get(n));
                size = nums.first().copied().unwrap_or(0.0);
            }
            "Tc" => char_spacing = nums.first().copied().unwrap_or(0.0),
            "Tw" => word_spacing = nums.first().copied().unwrap_or(0.0),
            "Tz" => scale = nums.first().copied().unwrap_or(100.0) / 100.0,
            "Td" | "TD" if nums.len() == 2 => {
                tlm = Matrix::translate(nums[0], nums[1]).then(tlm);
                tm = tlm;
            }
            "Tm" if nums.len() == 6 => {
                tlm = Matrix([nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]]);
                tm = tlm;
            }
            "Tj" | "TJ" => {
                let Some(f) = font else { continue };
                let items: Vec<&Object> = match op.operands.first() {
                    Some(Object::Array(items)) => items.iter().collect(),
                    Some(s) => vec![s],
                    None => continue,
                };
                for item in items {
                    match item {
                        Object::String(bytes, _) => {
                            let (x0, y0) = tm.then(ctm).apply(0.0, 0.0);
                            let spaces = bytes.iter().filter(|b| **b == b' ').count() as f32;
                            let codes = if f.two_byte {
                                bytes.len().div_ceil(2)
                            } else {
                                bytes.len()
                            } as f32;
                            let advance = (f.advance(bytes) / 1000.0 * size
                                + char_spacing * codes
                                + if f.two_byte {
                                    0.0
                                } else {
                                    word_spacing * spaces
                                })
                                * scale;
                            tm = Matrix::translate(advance, 0.0).then(tm);
                            let (x1, _) = tm.then(ctm).apply(0.0, 0.0);
                            let text = f.decode(bytes);
                            let line = current.get_or_insert_with(|| TextLine {
                                x_min: x0,
                                x_max: x0,
                                y: y0,
                                size,
                                text: String::new(),
                            });
                            line.x_min = line.x_min.min(x0);
                            line.x_max = line.x_max.max(x1);
                            line.text.push_str(&text);
                        }
                        other => {
                            if let Some(n) = number(other) {
                                let shift = -n / 1000.0 * size * scale;
                                tm = Matrix::translate(shift, 0.0).then(tm);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    page.lines.extend(current.take());
    page
}

fn font_object_id(doc: &Document, page_id: ObjectId, name: &[u8]) -> Option<ObjectId> {
    let page = doc.get_dictionary(page_id).ok()?;
    let resources = resolve(doc, page.get(b"Resources").ok()?).as_dict().ok()?;
    let fonts = resolve(doc, resources.get(b"Font").ok()?).as_dict().ok()?;
    fonts.get(name).ok()?.as_reference().ok()
}

fn font_info(doc: &Document, font: &Dictionary) -> FontInfo {
    let name = name_of(font, b"BaseFont").unwrap_or_default();
    let subtype = name_of(font, b"Subtype").unwrap_or_default();
    // A Type0 font's program hangs off its descendant's descriptor.
    let descriptor_owner = if subtype == "Type0" {
        font.get(b"DescendantFonts")
            .ok()
            .and_then(|o| resolve(doc, o).as_array().ok())
            .and_then(|a| a.first())
            .and_then(|o| resolve(doc, o).as_dict().ok())
    } else {
        Some(font)
    };
    let embedded = descriptor_owner
        .and_then(|d| d.get(b"FontDescriptor").ok())
        .and_then(|o| resolve(doc, o).as_dict().ok())
        .is_some_and(|d| {
            [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
                .iter()
                .any(|k| d.has(k))
        });
    let tag = name.as_bytes();
    let subset = tag.len() > 7 && tag[6] == b'+' && tag[..6].iter().all(u8::is_ascii_uppercase);
    FontInfo {
        subset,
        embedded,
        to_unicode: font.has(b"ToUnicode"),
        name,
        subtype,
    }
}

fn name_of(dict: &Dictionary, key: &[u8]) -> Option<String> {
    dict.get(key)
        .ok()
        .and_then(|o| o.as_name().ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(object),
        _ => object,
    }
}

fn number(object: &Object) -> Option<f32> {
    match object {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}
