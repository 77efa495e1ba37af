//! The QR code a document carries in the first page's top right corner: the link to check it,
//! drawn as filled rectangles (one per run of dark modules in a row), so no image is embedded
//! and the bytes stay the same for the same link.

use printpdf::{Op, PaintMode, Pt, Rect};
use qrcode::{Color, EcLevel, QrCode};

use super::pages::grey;
use super::*;

/// The code's side, in points (about 16 mm), and how far below the page's top edge it starts:
/// it sits in the top margin, with four modules' quiet room above the text.
const SIDE: f32 = 44.0;
const FROM_TOP: f32 = 5.0;

/// Draws the QR code of `text` on the page whose operations are `ops`.
pub(super) fn draw(ops: &mut Vec<Op>, text: &str) -> Result<(), PdfError> {
    // Level M: a smudge or a fold on paper still reads.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Write(format!("the QR code of {text}: {e}")))?;
    let n = code.width();
    let colors = code.to_colors();
    let module = SIDE / n as f32;
    let left = LEFT + WIDTH - SIDE;
    ops.push(Op::SetFillColor { col: grey(0.0) });
    for (y, row) in colors.chunks(n).enumerate() {
        let mut x = 0;
        while x < n {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && row[x] == Color::Dark {
                x += 1;
            }
            let top = FROM_TOP + y as f32 * module;
            ops.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(left + start as f32 * module),
                    y: Pt(PAGE_H - top - module),
                    width: Pt((x - start) as f32 * module),
                    height: Pt(module),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            });
        }
    }
    Ok(())
}
