//! Charts drawn on the server as SVG, for pages that show figures: bars (grouped or stacked,
//! upright or lying) and lines over months. Pure: values in, markup out. The page sets the
//! markup as it is (it is escaped here) and always puts a table of the same figures beside
//! it, so the chart is never the only way to read a number.
//!
//! What a chart must never do: write a caller's text unescaped, rely on colour alone (lines
//! also differ by dash, series are named in a legend), or have a fixed width (the `viewBox`
//! scales it to its box; the width is 100 %). Every chart is `role="img"` with an
//! `aria-label`, a `<title>` and a `<desc>`; each bar and point carries its own `<title>`.
//! Numbers are written by the caller's function, so a chart reads `1.500` in Vietnamese and
//! `1,500` in English, or an amount with its currency.

use std::fmt::Write;

/// Colours of the series, in order: each at least 4.5:1 against white (text-level contrast,
/// more than the 3:1 graphics need) and told apart from its neighbours.
pub const PALETTE: [&str; 6] = [
    "#0b5cad", "#b34700", "#2e7d32", "#6a3d9a", "#8f1d5e", "#00677a",
];

/// Dash patterns of line series, in order, so lines differ without colour.
const DASHES: [&str; 6] = ["", "6 4", "2 3", "10 3 2 3", "1 5", "8 6"];

const INK: &str = "#1b2430";
const MUTED: &str = "#4d5a68";
const GRID: &str = "#dde3ea";
const AXIS: &str = "#767f8a";
const FONT: f64 = 13.0;
/// A rough width of one character at [`FONT`], to leave room for labels.
const CHAR: f64 = 7.4;

/// One named row of values, one per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Series {
        Series {
            name: name.into(),
            values: values.into_iter().collect(),
        }
    }
}

/// What a chart shows: a title and a sentence that says what it is, the labels (months,
/// provinces), the series and how a value is written.
pub struct Chart<'a> {
    pub title: &'a str,
    pub desc: &'a str,
    pub labels: &'a [String],
    pub series: &'a [Series],
    /// Writes a value in the page's language (a count, a percentage, an amount).
    pub format: &'a dyn Fn(f64) -> String,
    /// The values are whole numbers (counts): the axis steps by at least one.
    pub whole: bool,
}

/// How the bars of several series stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bars {
    /// One bar per label, the series on top of each other (else side by side).
    pub stacked: bool,
    /// Bars lie along the value axis, one row per label: for long labels (provinces, fields)
    /// and many of them; the chart grows with its rows.
    pub horizontal: bool,
}

/// Text for an SVG text node or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A number for an SVG coordinate: at most two decimals, no `-0`.
fn n(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        "0".into()
    } else if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The axis: from `lo` to `hi` in `step`s, round numbers (1, 2 or 5 × 10ⁿ), about five steps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
}

impl Scale {
    fn of(min: f64, max: f64, whole: bool) -> Scale {
        let min = if min.is_finite() { min.min(0.0) } else { 0.0 };
        let max = if max.is_finite() { max.max(0.0) } else { 0.0 };
        let span = max - min;
        let mut step = if span <= 0.0 {
            1.0
        } else {
            let rough = span / 5.0;
            let mag = 10f64.powf(rough.log10().floor());
            let f = rough / mag;
            let nice = if f <= 1.0 {
                1.0
            } else if f <= 2.0 {
                2.0
            } else if f <= 5.0 {
                5.0
            } else {
                10.0
            };
            nice * mag
        };
        if whole {
            step = step.max(1.0).round();
        }
        let lo = (min / step).floor() * step;
        let mut hi = (max / step).ceil() * step;
        if hi <= lo {
            hi = lo + step;
        }
        Scale { lo, hi, step }
    }

    fn ticks(&self) -> Vec<f64> {
        let count = ((self.hi - self.lo) / self.step).round() as i64;
        (0..=count.min(50))
            .map(|i| self.lo + i as f64 * self.step)
            .collect()
    }

    /// Where `v` falls between 0 (`lo`) and 1 (`hi`).
    fn at(&self, v: f64) -> f64 {
        (v - self.lo) / (self.hi - self.lo)
    }
}

/// The lowest and highest values the axis must reach: per bar when stacked (positives and
/// negatives stack apart).
fn extent(chart: &Chart, stacked: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for i in 0..chart.labels.len() {
        let values = chart
            .series
            .iter()
            .map(|s| s.values.get(i).copied().unwrap_or(0.0))
            .filter(|v| v.is_finite());
        if stacked {
            let (neg, pos) = values.fold((0.0, 0.0), |(neg, pos), v| {
                if v < 0.0 {
                    (neg + v, pos)
                } else {
                    (neg, pos + v)
                }
            });
            lo = lo.min(neg);
            hi = hi.max(pos);
        } else {
            for v in values {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    (lo, hi)
}

fn value(chart: &Chart, series: usize, label: usize) -> f64 {
    chart.series[series]
        .values
        .get(label)
        .copied()
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

/// The opening of the chart (`<svg>`, its title and description) and its legend when it has
/// more than one series; returns the height the legend takes.
fn open(out: &mut String, chart: &Chart, width: f64, height: f64, lines: bool) -> f64 {
    let title = escape(chart.title);
    let _ = write!(
        out,
        r#"<svg class="chart" role="img" aria-label="{title}" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="{FONT}"><title>{title}</title><desc>{desc}</desc><rect width="{w}" height="{h}" fill="white"/>"#,
        w = n(width),
        h = n(height),
        desc = escape(chart.desc),
    );
    if chart.series.len() < 2 {
        return 0.0;
    }
    // The legend: a swatch and the series' name, in rows that fit the width.
    let (mut x, mut y) = (8.0, 8.0);
    for (i, s) in chart.series.iter().enumerate() {
        let name = clip(&s.name, 40);
        let w = 22.0 + name.chars().count() as f64 * CHAR + 16.0;
        if x + w > width && x > 8.0 {
            x = 8.0;
            y += 20.0;
        }
        let colour = PALETTE[i % PALETTE.len()];
        if lines {
            let _ = write!(
                out,
                r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3" stroke-dasharray="{}"/>"#,
                n(x),
                n(y + 7.0),
                n(x + 16.0),
                n(y + 7.0),
                DASHES[i % DASHES.len()]
            );
        } else {
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="14" height="14" fill="{colour}"/>"#,
                n(x),
                n(y)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" fill="{INK}">{}</text>"#,
            n(x + 22.0),
            n(y + 12.0),
            escape(&name)
        );
        x += w;
    }
    y + 24.0
}

/// Every `k`-th label is written so that written labels do not overlap in slots of `slot`.
fn label_every(labels: &[String], slot: f64) -> usize {
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * CHAR + 6.0;
    ((widest / slot.max(1.0)).ceil() as usize).max(1)
}

/// A bar chart: upright (labels along the bottom) or lying (labels on the left).
pub fn bars(chart: &Chart, how: Bars) -> String {
    if how.horizontal {
        return lying_bars(chart, how.stacked);
    }
    let (width, height) = (560.0, 300.0);
    let mut out = String::with_capacity(4096);
    let top = open(&mut out, chart, width, height, false) + 10.0;
    let (lo, hi) = extent(chart, how.stacked);
    let scale = Scale::of(lo, hi, chart.whole);
    let ticks = scale.ticks();
    let tick_text: Vec<String> = ticks.iter().map(|t| (chart.format)(*t)).collect();
    let left = 10.0
        + tick_text
            .iter()
            .map(|t| t.chars().count())
            .max()
            .unwrap_or(1) as f64
            * CHAR;
    let (right, bottom) = (width - 10.0, height - 28.0);
    let y = |v: f64| bottom - scale.at(v) * (bottom - top);
    grid_upright(&mut out, &ticks, &tick_text, left, right, &y);
    let count = chart.labels.len().max(1);
    let slot = (right - left) / count as f64;
    let every = label_every(chart.labels, slot);
    let groups = if how.stacked {
        1
    } else {
        chart.series.len().max(1)
    };
    let bar = (slot * 0.8 / groups as f64).min(48.0);
    for (i, label) in chart.labels.iter().enumerate() {
        let mid = left + slot * (i as f64 + 0.5);
        let start = mid - bar * groups as f64 / 2.0;
        let (mut up, mut down) = (0.0, 0.0);
        for s in 0..chart.series.len() {
            let v = value(chart, s, i);
            let (from, to, x) = if how.stacked {
                let from = if v < 0.0 { down } else { up };
                if v < 0.0 {
                    down += v;
                } else {
                    up += v;
                }
                (from, from + v, start)
            } else {
                (0.0, v, start + bar * s as f64)
            };
            let (y0, y1) = (y(from).min(y(to)), y(from).max(y(to)));
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="white" stroke-width="1"><title>{}</title></rect>"#,
                n(x),
                n(y0),
                n(bar),
                n(y1 - y0),
                PALETTE[s % PALETTE.len()],
                point_title(chart, s, label, v)
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
                n(mid),
                n(bottom + 18.0),
                escape(label)
            );
        }
    }
    axis_line(&mut out, left, right, y(0.0));
    out.push_str("</svg>");
    out
}

/// The `<title>` of a bar or a point: the label, the series (when there are several) and the
/// value written.
fn point_title(chart: &Chart, s: usize, label: &str, v: f64) -> String {
    if chart.series.len() > 1 {
        escape(&format!(
            "{label}, {}: {}",
            chart.series[s].name,
            (chart.format)(v)
        ))
    } else {
        escape(&format!("{label}: {}", (chart.format)(v)))
    }
}

fn grid_upright(
    out: &mut String,
    ticks: &[f64],
    text: &[String],
    left: f64,
    right: f64,
    y: &dyn Fn(f64) -> f64,
) {
    for (t, label) in ticks.iter().zip(text) {
        let at = y(*t);
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}"/><text x="{}" y="{}" text-anchor="end" fill="{MUTED}">{}</text>"#,
            n(left),
            n(at),
            n(right),
            n(at),
            n(left - 6.0),
            n(at + 4.0),
            escape(label)
        );
    }
}

fn axis_line(out: &mut String, left: f64, right: f64, at: f64) {
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1.5"/>"#,
        n(left),
        n(at),
        n(right),
        n(at)
    );
}

/// Bars lying along the value axis, one row per label, the value written at each bar's end.
fn lying_bars(chart: &Chart, stacked: bool) -> String {
    let width = 560.0;
    let groups = if stacked {
        1
    } else {
        chart.series.len().max(1)
    };
    let row = 10.0 + 16.0 * groups as f64;
    let mut out = String::with_capacity(4096);
    // The legend's height is known only once it is written; write the rest after.
    let mut head = String::new();
    let legend = {
        let mut probe = String::new();
        open(&mut probe, chart, width, 0.0, false)
    };
    let top = legend + 8.0;
    let rows = chart.labels.len().max(1) as f64;
    let height = top + rows * row + 30.0;
    open(&mut head, chart, width, height, false);
    out.push_str(&head);
    let (lo, hi) = extent(chart, stacked);
    let scale = Scale::of(lo, hi, chart.whole);
    let ticks = scale.ticks();
    let tick_text: Vec<String> = ticks.iter().map(|t| (chart.format)(*t)).collect();
    let label_chars = chart
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1)
        .min(22);
    let left = 10.0 + label_chars as f64 * CHAR;
    // Room after the longest bar for its value.
    let widest_value = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter())
        .map(|v| (chart.format)(*v).chars().count())
        .max()
        .unwrap_or(1) as f64
        * CHAR;
    let right = width - 10.0 - widest_value;
    let bottom = top + rows * row;
    let x = |v: f64| left + scale.at(v) * (right - left);
    for (t, label) in ticks.iter().zip(&tick_text) {
        let at = x(*t);
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}"/><text x="{}" y="{}" text-anchor="middle" fill="{MUTED}">{}</text>"#,
            n(at),
            n(top),
            n(at),
            n(bottom),
            n(at),
            n(bottom + 18.0),
            escape(label)
        );
    }
    let bar = 14.0;
    for (i, label) in chart.labels.iter().enumerate() {
        let row_top = top + row * i as f64 + 5.0;
        let mid = row_top + (row - 10.0) / 2.0;
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" fill="{INK}">{}<title>{}</title></text>"#,
            n(left - 6.0),
            n(mid + 4.0),
            escape(&clip(label, 22)),
            escape(label)
        );
        let (mut pos, mut neg) = (0.0, 0.0);
        for s in 0..chart.series.len() {
            let v = value(chart, s, i);
            let (from, to, y) = if stacked {
                let from = if v < 0.0 { neg } else { pos };
                if v < 0.0 {
                    neg += v;
                } else {
                    pos += v;
                }
                (from, from + v, row_top)
            } else {
                (0.0, v, row_top + 16.0 * s as f64)
            };
            let (x0, x1) = (x(from).min(x(to)), x(from).max(x(to)));
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{bar}" fill="{}" stroke="white" stroke-width="1"><title>{}</title></rect>"#,
                n(x0),
                n(y),
                n(x1 - x0),
                PALETTE[s % PALETTE.len()],
                point_title(chart, s, label, v)
            );
            if !stacked {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" fill="{INK}">{}</text>"#,
                    n(x1 + 4.0),
                    n(y + 11.5),
                    escape(&(chart.format)(v))
                );
            }
        }
        if stacked {
            let total: f64 = (0..chart.series.len()).map(|s| value(chart, s, i)).sum();
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" fill="{INK}">{}</text>"#,
                n(x(pos) + 4.0),
                n(row_top + 11.5),
                escape(&(chart.format)(total))
            );
        }
    }
    let zero = x(0.0);
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1.5"/>"#,
        n(zero),
        n(top),
        n(zero),
        n(bottom)
    );
    out.push_str("</svg>");
    out
}

/// A line per series over the labels (months), each point marked and titled.
pub fn lines(chart: &Chart) -> String {
    let (width, height) = (560.0, 300.0);
    let mut out = String::with_capacity(4096);
    let top = open(&mut out, chart, width, height, true) + 10.0;
    let (lo, hi) = extent(chart, false);
    let scale = Scale::of(lo, hi, chart.whole);
    let ticks = scale.ticks();
    let tick_text: Vec<String> = ticks.iter().map(|t| (chart.format)(*t)).collect();
    let left = 10.0
        + tick_text
            .iter()
            .map(|t| t.chars().count())
            .max()
            .unwrap_or(1) as f64
            * CHAR;
    let (right, bottom) = (width - 10.0, height - 28.0);
    let y = |v: f64| bottom - scale.at(v) * (bottom - top);
    grid_upright(&mut out, &ticks, &tick_text, left, right, &y);
    let count = chart.labels.len().max(1);
    let slot = (right - left) / count as f64;
    let every = label_every(chart.labels, slot);
    let x = |i: usize| left + slot * (i as f64 + 0.5);
    for (i, label) in chart.labels.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
                n(x(i)),
                n(bottom + 18.0),
                escape(label)
            );
        }
    }
    axis_line(&mut out, left, right, y(0.0));
    for s in 0..chart.series.len() {
        let colour = PALETTE[s % PALETTE.len()];
        let points: Vec<String> = (0..chart.labels.len())
            .map(|i| format!("{},{}", n(x(i)), n(y(value(chart, s, i)))))
            .collect();
        let dash = DASHES[s % DASHES.len()];
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2.5"{}/>"#,
            points.join(" "),
            if dash.is_empty() {
                String::new()
            } else {
                format!(r#" stroke-dasharray="{dash}""#)
            }
        );
        for (i, label) in chart.labels.iter().enumerate() {
            let v = value(chart, s, i);
            let _ = write!(
                out,
                r#"<circle cx="{}" cy="{}" r="4" fill="{colour}"><title>{}</title></circle>"#,
                n(x(i)),
                n(y(v)),
                point_title(chart, s, label, v)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(v: f64) -> String {
        // A Vietnamese count: dots between thousands.
        let s = format!("{}", v as i64);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        out
    }

    fn months() -> Vec<String> {
        (1..=12).map(|m| format!("{m:02}/26")).collect()
    }

    /// Parses as XML: every tag closed, every entity known.
    fn well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(at) = rest.find('<') {
            let text = &rest[..at];
            for (i, _) in text.match_indices('&') {
                let ent = &text[i..text[i..].find(';').map(|e| i + e + 1).unwrap_or(text.len())];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#x27;"].contains(&ent),
                    "bad entity {ent}"
                );
            }
            let end = rest[at..].find('>').expect("tag closed") + at;
            let tag = &rest[at + 1..end];
            assert!(!tag.contains('<'), "a < inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "left open: {stack:?}");
    }

    #[test]
    fn axis_steps_are_round_and_cover_the_values() {
        assert_eq!(
            Scale::of(0.0, 97.0, true),
            Scale {
                lo: 0.0,
                hi: 100.0,
                step: 20.0
            }
        );
        assert_eq!(
            Scale::of(0.0, 3.0, true),
            Scale {
                lo: 0.0,
                hi: 3.0,
                step: 1.0
            }
        );
        // Nothing to show: one step, not a division by zero.
        assert_eq!(
            Scale::of(0.0, 0.0, true),
            Scale {
                lo: 0.0,
                hi: 1.0,
                step: 1.0
            }
        );
        let rate = Scale::of(0.0, 0.625, false);
        assert!(rate.step < 1.0 && rate.hi >= 0.625 && rate.lo == 0.0);
        let neg = Scale::of(-30.0, 120.0, true);
        assert!(neg.lo <= -30.0 && neg.hi >= 120.0);
        assert!(neg.ticks().contains(&0.0));
        for (lo, hi) in [(0.0, 1.0), (0.0, 7.0), (0.0, 1_234_567.0), (-5.0, 5.0)] {
            let s = Scale::of(lo, hi, false);
            let t = s.ticks();
            assert!(t.len() >= 2 && t.len() <= 12, "{lo}..{hi}: {t:?}");
            assert!(s.lo <= lo && s.hi >= hi);
        }
        let odd = Scale::of(f64::NAN, f64::INFINITY, true);
        assert_eq!(odd.ticks(), vec![0.0, 1.0]);
    }

    /// Each chart is an accessible, scalable image: role, name, title and description, a
    /// viewBox and a 100 % width; the caller's text is escaped; values are written by the
    /// caller's function.
    #[test]
    fn charts_are_named_scalable_and_escaped() {
        let labels = months();
        let series = [
            Series::new("Bắt đầu <dùng thử>", (1..=12).map(|m| (m * 150) as f64)),
            Series::new("Chuyển giao & \"ký\"", (1..=12).map(|m| (m * 40) as f64)),
        ];
        let chart = Chart {
            title: "Dùng thử & chuyển giao <12 tháng>",
            desc: "Số dùng thử bắt đầu và chuyển giao mỗi tháng",
            labels: &labels,
            series: &series,
            format: &count,
            whole: true,
        };
        for svg in [
            bars(&chart, Bars::default()),
            bars(
                &chart,
                Bars {
                    stacked: true,
                    horizontal: false,
                },
            ),
            bars(
                &chart,
                Bars {
                    stacked: false,
                    horizontal: true,
                },
            ),
            bars(
                &chart,
                Bars {
                    stacked: true,
                    horizontal: true,
                },
            ),
            lines(&chart),
        ] {
            well_formed(&svg);
            assert!(svg.starts_with("<svg class=\"chart\" role=\"img\" aria-label=\"Dùng thử &amp; chuyển giao &lt;12 tháng&gt;\""), "{svg}");
            assert!(svg.contains(r#"viewBox="0 0 560 "#));
            assert!(svg.contains(r#"width="100%""#));
            assert!(!svg.contains(r#"height="100%""#));
            assert!(svg.contains("<title>Dùng thử &amp; chuyển giao &lt;12 tháng&gt;</title>"));
            assert!(svg.contains("<desc>Số dùng thử bắt đầu và chuyển giao mỗi tháng</desc>"));
            // The legend names both series, escaped.
            assert!(svg.contains("Bắt đầu &lt;dùng thử&gt;"));
            assert!(svg.contains("Chuyển giao &amp; &quot;ký&quot;"));
            assert!(!svg.contains("<dùng"));
            // 12 × 150 = 1.800: the values and the axis in the caller's writing.
            assert!(svg.contains("1.800"), "{svg}");
            assert!(svg.contains("12/26"));
        }
    }

    /// One bar per value when side by side, its height in proportion; stacked bars sit on top
    /// of each other; every bar names its label, series and value.
    #[test]
    fn bars_stand_in_proportion() {
        let labels: Vec<String> = vec!["A".into(), "B".into()];
        let series = [Series::new("x", [50.0, 100.0])];
        let chart = Chart {
            title: "t",
            desc: "d",
            labels: &labels,
            series: &series,
            format: &count,
            whole: true,
        };
        let svg = bars(&chart, Bars::default());
        let heights: Vec<f64> = svg
            .match_indices("<rect x=")
            .map(|(at, _)| {
                let tag = &svg[at..at + svg[at..].find('>').unwrap()];
                let h = tag.split("height=\"").nth(1).unwrap();
                h[..h.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(heights.len(), 2, "{svg}");
        assert!((heights[1] - 2.0 * heights[0]).abs() < 0.1, "{heights:?}");
        assert!(svg.contains("<title>A: 50</title>") && svg.contains("<title>B: 100</title>"));
        // A single series has no legend.
        assert!(!svg.contains(r#"width="14" height="14""#));

        let two = [Series::new("x", [1.0, 2.0]), Series::new("y", [3.0, 4.0])];
        let chart = Chart {
            series: &two,
            ..chart
        };
        let stacked = bars(
            &chart,
            Bars {
                stacked: true,
                horizontal: true,
            },
        );
        // Lying and stacked: the total after each row.
        assert!(stacked.contains(">4</text>") && stacked.contains(">6</text>"));
        assert!(stacked.contains("<title>B, y: 4</title>"));
        let lying = bars(
            &chart,
            Bars {
                stacked: false,
                horizontal: true,
            },
        );
        // Lying rows grow the chart: two rows of two bars.
        let height = |svg: &str| -> f64 {
            let v = svg.split("viewBox=\"0 0 560 ").nth(1).unwrap();
            v[..v.find('"').unwrap()].parse().unwrap()
        };
        assert!(height(&lying) > height(&stacked));
    }

    /// Lines differ by dash as well as colour; each point is titled.
    #[test]
    fn lines_differ_without_colour() {
        let labels = months();
        let series = [
            Series::new("a", (0..12).map(f64::from)),
            Series::new("b", (0..12).map(|v| f64::from(v) * 2.0)),
        ];
        let chart = Chart {
            title: "t",
            desc: "d",
            labels: &labels,
            series: &series,
            format: &|v| format!("{v:.1}%"),
            whole: false,
        };
        let svg = lines(&chart);
        well_formed(&svg);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 24);
        assert!(svg.contains(r#"stroke-dasharray="6 4""#));
        assert!(svg.contains("<title>12/26, b: 22.0%</title>"));
    }

    #[test]
    fn empty_and_odd_values_still_draw() {
        let labels: Vec<String> = vec![];
        let chart = Chart {
            title: "t",
            desc: "d",
            labels: &labels,
            series: &[],
            format: &count,
            whole: true,
        };
        for svg in [
            bars(&chart, Bars::default()),
            lines(&chart),
            bars(
                &chart,
                Bars {
                    horizontal: true,
                    stacked: false,
                },
            ),
        ] {
            well_formed(&svg);
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
        let labels: Vec<String> = vec!["a".into(), "b".into()];
        let series = [Series::new("x", [f64::NAN, -3.0])];
        let chart = Chart {
            labels: &labels,
            series: &series,
            ..chart
        };
        let svg = bars(&chart, Bars::default());
        well_formed(&svg);
        assert!(!svg.contains("NaN"));
    }

    /// The palette is dark enough on white for text and graphics (WCAG contrast ≥ 4.5).
    #[test]
    fn palette_contrasts_with_white() {
        fn lum(hex: &str) -> f64 {
            let c = |i: usize| {
                let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
        }
        for colour in PALETTE.iter().chain([INK, MUTED].iter()) {
            let ratio = 1.05 / (lum(colour) + 0.05);
            assert!(ratio >= 4.5, "{colour}: {ratio}");
        }
        assert!(1.05 / (lum(AXIS) + 0.05) >= 3.0);
    }
}
