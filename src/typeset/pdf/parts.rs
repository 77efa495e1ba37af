//! The parts reports add to the markup's blocks: a framed notice kept on one page, and a bar
//! chart with its legend, value axis and labels, never split across pages; with the digit
//! grouping its axis figures are written in.

use printpdf::{Op, PaintMode, Pt};

use super::pages::{grey, rgb, Pages};
use super::text::{wrap, Faces, Style};
use super::*;

/// The lines of a notice.
fn notice_lines(faces: &Faces<'_>, text: &str) -> Vec<String> {
    wrap(faces, text, Style::Bold, BODY, WIDTH - 2.0 * NOTICE_PAD)
}

pub(super) fn notice_height(faces: &Faces<'_>, text: &str) -> f32 {
    notice_lines(faces, text).len() as f32 * BODY * LEADING + 2.0 * NOTICE_PAD
}

/// A notice: bold lines, centred in an amber frame across the page, kept on one page.
pub(super) fn notice(pages: &mut Pages<'_>, text: &str) {
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
pub(super) fn axis_step(max: i64) -> i64 {
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
pub(super) fn bar_chart(pages: &mut Pages<'_>, chart: &BarChart) {
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
