//! Tables: column widths shared out from each column's natural width (never narrower than its
//! longest word where the page allows), rows wrapped to their columns, what of a table must
//! stay together, and a header row repeated on every page the table continues on.

use super::pages::Pages;
use super::text::{pieces, wrap, Faces, Style};
use super::*;

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
pub(super) struct TableLayout {
    size: f32,
    widths: Vec<f32>,
    head: Vec<Vec<String>>,
    body: Vec<Vec<Vec<String>>>,
}

impl TableLayout {
    pub(super) fn new(
        faces: &Faces<'_>,
        header: &[String],
        rows: &[Vec<String>],
        size: f32,
    ) -> TableLayout {
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
    pub(super) fn keep(&self) -> f32 {
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
pub(super) fn table(
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
