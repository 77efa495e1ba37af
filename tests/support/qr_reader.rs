//! Reads the QR code on a document's first page the way a phone would, short of a camera: the
//! filled rectangles drawn in the page's top margin (where only the code is) are painted into
//! a greyscale picture, with white room around it, and `rqrr` finds and decodes the code in
//! that picture. Nothing is taken from how usefirst drew it but the page.
//!
//! Shared by the library's unit tests (`#[path]` from `src/`), the API suite and the browser
//! walk.

#![allow(dead_code)]

use lopdf::{Document, Object};

/// The A4 page's height and top margin, in points (everything above the margin's lower edge is
/// the code's).
const PAGE_H: f32 = 841.89;
const TOP: f32 = 56.7;

fn number(o: &Object) -> f32 {
    match o {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        _ => f32::NAN,
    }
}

/// The filled rectangles `(x, y, w, h)` of the first page's top margin.
fn marks(bytes: &[u8]) -> Vec<(f32, f32, f32, f32)> {
    let doc = Document::load_mem(bytes).unwrap_or_else(|e| panic!("not a readable PDF: {e}"));
    let (_, first) = doc.get_pages().into_iter().next().expect("a page");
    let content = doc
        .get_and_decode_page_content(first)
        .unwrap_or_else(|e| panic!("page content: {e}"));
    content
        .operations
        .iter()
        .filter(|op| op.operator == "re" && op.operands.len() == 4)
        .map(|op| {
            let v: Vec<f32> = op.operands.iter().map(number).collect();
            (v[0], v[1], v[2], v[3])
        })
        .filter(|(_, y, _, h)| y + h > PAGE_H - TOP + 0.5 && *h > 0.0)
        .collect()
}

/// The text of the QR code on the first page of the PDF `bytes`; `None` when there is no
/// code there, or it does not decode.
pub fn first_page_qr(bytes: &[u8]) -> Option<String> {
    let marks = marks(bytes);
    if marks.is_empty() {
        return None;
    }
    let module = marks.iter().map(|m| m.3).fold(f32::INFINITY, f32::min);
    let left = marks.iter().map(|m| m.0).fold(f32::INFINITY, f32::min);
    let top = marks
        .iter()
        .map(|m| m.1 + m.3)
        .fold(f32::NEG_INFINITY, f32::max);
    let right = marks
        .iter()
        .map(|m| m.0 + m.2)
        .fold(f32::NEG_INFINITY, f32::max);
    let bottom = marks.iter().map(|m| m.1).fold(f32::INFINITY, f32::min);
    // Four pixels a module, four modules of white room on every side.
    let scale = 4.0 / module;
    let quiet = 16usize;
    let w = ((right - left) * scale).round() as usize + 2 * quiet;
    let h = ((top - bottom) * scale).round() as usize + 2 * quiet;
    let mut pixels = vec![255u8; w * h];
    for (x, y, mw, mh) in &marks {
        let x0 = ((x - left) * scale).round() as usize + quiet;
        let x1 = ((x + mw - left) * scale).round() as usize + quiet;
        let y0 = ((top - (y + mh)) * scale).round() as usize + quiet;
        let y1 = ((top - y) * scale).round() as usize + quiet;
        for py in y0..y1.min(h) {
            for px in x0..x1.min(w) {
                pixels[py * w + px] = 0;
            }
        }
    }
    decode_grey(w, h, &pixels)
}

/// The text of the first QR code found in a greyscale picture (`w` × `h`, row by row).
pub fn decode_grey(w: usize, h: usize, pixels: &[u8]) -> Option<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    img.detect_grids()
        .into_iter()
        .find_map(|g| g.decode().ok().map(|(_, text)| text))
}
