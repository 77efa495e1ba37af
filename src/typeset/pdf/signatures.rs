//! The parties' signature blocks, side by side and kept on one page with the end of the text
//! before them, and the footer written on every page once the page count is known.

use printpdf::Op;

use super::pages::{grey, Pages};
use super::text::{wrap, Faces, Style};
use super::*;

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
pub(super) fn signatures_height(faces: &Faces<'_>, lang: &str, signatures: &[Signature]) -> f32 {
    if signatures.is_empty() {
        return 0.0;
    }
    3.0 * PARAGRAPH_GAP + signature_columns(faces, lang, signatures).1
}

/// The parties' signature blocks side by side, kept on one page.
pub(super) fn signatures(pages: &mut Pages<'_>, lang: &str, signatures: &[Signature]) {
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
/// `verify`, when given, is a line of its own under the footer's, across the page.
pub(super) fn footers(
    pages: &mut [Vec<Op>],
    faces: &Faces<'_>,
    lang: &str,
    left: &str,
    verify: Option<&str>,
) {
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
        if let Some(line) = verify {
            p.text(
                LEFT,
                top + FOOTER * LEADING,
                line,
                Style::Regular,
                FOOTER,
                Align::Left,
            );
        }
        p.ops.push(Op::SetFillColor { col: grey(0.0) });
        *ops = p.ops;
    }
}
