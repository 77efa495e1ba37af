//! Page assembly: the pages being filled top to bottom, the drawing operations (lines of text,
//! rules, rectangles) at a place on them, the page breaks between lines, and the rules that
//! keep a heading with what follows it. `set` walks a document's items in order and calls
//! the part that sets each.

use printpdf::{
    Color, FontId, Line, LinePoint, Op, PaintMode, PdfFontHandle, Point, Pt, Rect, Rgb, TextItem,
    TextRenderingMode,
};

use super::parts::{bar_chart, notice, notice_height};
use super::signatures::{signatures, signatures_height};
use super::table::{table, TableLayout};
use super::text::{wrap, Faces, Style};
use super::*;

/// Pages being filled, top to bottom.
pub(super) struct Pages<'f> {
    pub(super) faces: &'f Faces<'f>,
    pub(super) done: Vec<Vec<Op>>,
    pub(super) ops: Vec<Op>,
    /// Distance from the top of the page to the top of the next thing drawn.
    pub(super) y: f32,
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

    pub(super) fn room(&self) -> f32 {
        PAGE_H - BOTTOM - self.y
    }

    pub(super) fn new_page(&mut self) {
        self.done.push(std::mem::take(&mut self.ops));
        self.y = TOP;
    }

    /// Starts a new page unless `height` fits on this one (or this one is still empty).
    pub(super) fn ensure(&mut self, height: f32) {
        if height > self.room() && self.y > TOP {
            self.new_page();
        }
    }

    /// Skips `gap` down, unless at the top of a page.
    pub(super) fn gap(&mut self, gap: f32) {
        if self.y > TOP {
            self.y += gap;
        }
    }

    /// Draws one line of text whose top is at `top` (from the page top), starting at `x`.
    pub(super) fn text(
        &mut self,
        x: f32,
        top: f32,
        text: &str,
        style: Style,
        size: f32,
        align: Align,
    ) {
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

    pub(super) fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, thickness: f32) {
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
    pub(super) fn rect(&mut self, x: f32, top: f32, width: f32, height: f32, mode: PaintMode) {
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

    pub(super) fn shade(&mut self, x: f32, top: f32, width: f32, height: f32) {
        self.ops.push(Op::SetFillColor { col: grey(0.92) });
        self.rect(x, top, width, height, PaintMode::Fill);
        self.ops.push(Op::SetFillColor { col: grey(0.0) });
    }

    pub(super) fn frame(&mut self, x: f32, top: f32, width: f32, height: f32) {
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

pub(super) fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

pub(super) fn rgb((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
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

/// Sets the items on pages and returns the ops of each page.
pub(super) fn set(faces: &Faces<'_>, content: &Content<'_>) -> Vec<Vec<Op>> {
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
