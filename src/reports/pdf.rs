//! Reports as PDF, in Vietnamese or English: the tables and a bar chart, in the layout of the
//! agreement documents (`typeset::pdf`).
//!
//! This module only words and formats: every figure comes from [`MonthlyReport::tables`]
//! (and the chart from `by_month`, which its last table also lists), so the PDF cannot show a
//! figure the CSV and XLSX lack. Columns of ids and keys are left off the page, where they
//! only take width from the names beside them; the data formats keep them. It never reads the
//! clock: the dates the file carries are the report's, so the same report gives the same bytes.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use unicode_normalization::UnicodeNormalization;

use super::{measure_label, Cell, Month, MonthlyReport, Table};
use crate::typeset::format;
use crate::typeset::markup::Block;
use crate::typeset::pdf::{
    grouped, render_report, Align, BarChart, BarGroup, Fonts, Grid, Part, PdfError, Rendered,
    ReportLayout, Verify,
};

/// Column keys left off the page (ids for machines).
const MACHINE_COLUMNS: [&str; 2] = ["key", "technology_id"];

/// Tables whose `measure` column holds a measure's key, printed as its label.
const MEASURE_TABLES: [&str; 3] = ["summary", "decisions", "amounts"];

/// The report as a PDF in `lang` (`vi`; any other language is English), with its page count;
/// with `verify`, the code to check it printed in every footer and as a QR code.
pub fn render(
    fonts: &Fonts,
    report: &MonthlyReport,
    lang: &str,
    verify: Option<Verify<'_>>,
) -> Result<Rendered, PdfError> {
    let lang = if lang == "vi" { "vi" } else { "en" };
    let parts = parts(report, lang);
    let footer = footer(report, lang);
    // The trailer /ID stands for the report's content, language and code: serialising it
    // gives every figure, the month and when it was read.
    let content = serde_json::to_string(report)
        .unwrap_or_else(|_| format!("{}:{}", report.month, report.generated_at.to_rfc3339()));
    let code = verify.map(|v| v.code).unwrap_or_default();
    let seed = format!("report:{lang}:{code}:{content}");
    render_report(
        fonts,
        &ReportLayout {
            lang,
            parts: &parts,
            footer: &footer,
            date: report.generated_at.date_naive(),
            id_seed: &seed,
            verify,
        },
    )
}

/// What the report's pages hold, in order: title, period line, the provisional notice, then
/// each table under its title, the chart above the month-by-month table.
fn parts(report: &MonthlyReport, lang: &str) -> Vec<Part> {
    let vi = lang == "vi";
    let mut parts = vec![
        Part::Block(Block::Title(title(report, lang))),
        Part::Block(Block::Paragraph(period_line(report, lang))),
    ];
    if report.provisional {
        parts.push(Part::Notice(
            if vi {
                "Số liệu tạm tính: tháng chưa kết thúc, các số liệu còn có thể thay đổi."
            } else {
                "Provisional: the month has not ended, and its figures can still change."
            }
            .into(),
        ));
    }
    for table in report.tables() {
        parts.push(Part::Block(Block::Heading(table.title(lang).into())));
        if table.name == "by_month" && !report.by_month.is_empty() {
            parts.push(Part::BarChart(chart(report, lang)));
        }
        if table.rows.is_empty() {
            let nothing = if vi {
                "Không có số liệu."
            } else {
                "No figures."
            };
            parts.push(Part::Block(Block::Paragraph(nothing.into())));
        } else {
            parts.push(Part::Table(grid(&table, lang)));
        }
    }
    parts
}

/// "Báo cáo chuyển giao công nghệ tháng 10/2026", "Technology conversion report, October 2026".
fn title(report: &MonthlyReport, lang: &str) -> String {
    if lang == "vi" {
        format!(
            "Báo cáo chuyển giao công nghệ tháng {}",
            month_name(report.first_day, lang)
        )
    } else {
        format!(
            "Technology conversion report, {}",
            month_name(report.first_day, lang)
        )
    }
}

/// The footer of every page, marked while the figures are provisional.
fn footer(report: &MonthlyReport, lang: &str) -> String {
    let month = month_name(report.first_day, lang);
    match (lang == "vi", report.provisional) {
        (true, false) => format!("Báo cáo tháng {month}"),
        (true, true) => format!("Báo cáo tháng {month} (tạm tính)"),
        (false, false) => format!("Report for {month}"),
        (false, true) => format!("Report for {month} (provisional)"),
    }
}

/// `10/2026`, `October 2026`.
fn month_name(first_day: NaiveDate, lang: &str) -> String {
    if lang == "vi" {
        format!("{:02}/{}", first_day.month(), first_day.year())
    } else {
        first_day.format("%B %Y").to_string()
    }
}

/// The report's time zone and when its figures were read, in that zone (the report's own
/// instant, so the line is the same however often the PDF is made). The month's days need no
/// line of their own: the title names the month, and its days are those of the zone.
fn period_line(report: &MonthlyReport, lang: &str) -> String {
    let (zone, read_at) = local(report.generated_at, &report.time_zone);
    let time = read_at.format("%H:%M");
    let day = format::date(lang, read_at.date());
    if lang == "vi" {
        format!("Múi giờ {zone} · Số liệu lấy lúc {time} ngày {day}")
    } else {
        format!("Time zone {zone} · Figures read at {time} on {day}")
    }
}

/// `at` in the zone named `zone`; in UTC, and saying so, if the name is not one chrono-tz
/// knows (the report is still worth printing).
fn local(at: DateTime<Utc>, zone: &str) -> (String, chrono::NaiveDateTime) {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => (zone.to_string(), at.with_timezone(&tz).naive_local()),
        Err(_) => ("UTC".to_string(), at.naive_utc()),
    }
}

/// A table for the page: machine columns left off, measures by their labels, values formatted
/// for `lang`, figures aligned right.
fn grid(table: &Table, lang: &str) -> Grid {
    let shown: Vec<usize> = (0..table.keys.len())
        .filter(|&i| !MACHINE_COLUMNS.contains(&table.keys[i]))
        .collect();
    let headings = table.headings(lang);
    let header = shown
        .iter()
        .map(|&i| headings.get(i).copied().unwrap_or_default().to_string())
        .collect();
    let align = shown
        .iter()
        .map(|&i| {
            let figure = table
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .any(|c| matches!(c, Cell::Int(_) | Cell::Money(..) | Cell::Decimal(_)));
            if figure {
                Align::Right
            } else {
                Align::Left
            }
        })
        .collect();
    let rows = table
        .rows
        .iter()
        .map(|row| {
            shown
                .iter()
                .map(|&i| {
                    let cell = row.get(i).unwrap_or(&Cell::Empty);
                    match (table.keys[i], cell) {
                        ("measure", Cell::Text(key)) if MEASURE_TABLES.contains(&table.name) => {
                            let label = measure_label(key, lang);
                            if label.is_empty() {
                                key.clone()
                            } else {
                                label.to_string()
                            }
                        }
                        ("month", Cell::Text(m)) if table.name == "by_month" => Month::parse(m)
                            .map_or_else(|| m.clone(), |m| month_name(m.first_day(), lang)),
                        _ => value(cell, lang),
                    }
                })
                .collect()
        })
        .collect();
    Grid {
        header,
        rows,
        align,
    }
}

/// A cell's value as the page writes it.
fn value(cell: &Cell, lang: &str) -> String {
    match cell {
        // Names come from the database as they were typed; the layout sets text glyph by
        // glyph and needs it composed (NFC), as the markup gives documents.
        Cell::Text(t) => t.nfc().collect(),
        Cell::Int(n) => integer(*n, lang),
        Cell::Money(currency, minor) => format::money(*currency, *minor),
        Cell::Decimal(d) => d
            .parse::<Decimal>()
            .map_or_else(|_| d.clone(), |rate| format::percent(lang, rate)),
        Cell::Empty => "—".into(),
    }
}

/// A whole number with its digits grouped as the language groups them: `1.811`, `1,811`.
fn integer(n: i64, lang: &str) -> String {
    grouped(n, digit_group(lang))
}

fn digit_group(lang: &str) -> char {
    if lang == "vi" {
        '.'
    } else {
        ','
    }
}

/// Trials started and conversions per month, the year under the first month and each January.
fn chart(report: &MonthlyReport, lang: &str) -> BarChart {
    let groups = report
        .by_month
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (label, note) = match Month::parse(&p.month) {
                Some(m) => {
                    let label = if lang == "vi" {
                        format!("T{}", m.month)
                    } else {
                        m.first_day().format("%b").to_string()
                    };
                    let note = if i == 0 || m.month == 1 {
                        m.year.to_string()
                    } else {
                        String::new()
                    };
                    (label, note)
                }
                None => (p.month.clone(), String::new()),
            };
            BarGroup {
                label,
                note,
                values: vec![p.trials_started, p.conversions],
            }
        })
        .collect();
    BarChart {
        series: vec![
            measure_label("trials_started", lang).to_string(),
            measure_label("conversions", lang).to_string(),
        ],
        groups,
        digit_group: digit_group(lang),
    }
}

#[cfg(test)]
#[path = "../../tests/support/qr_reader.rs"]
mod qr_reader;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::sample;
    use super::qr_reader;
    use super::*;
    use crate::typeset::pdf::reader::Pdf;

    fn fonts() -> Arc<Fonts> {
        // Vietnamese and English reports need only the built-in faces.
        Fonts::new(None)
    }

    /// The text of the PDF, its lines joined by spaces.
    fn text_of(pdf: &[u8]) -> String {
        let raw = Pdf::read(pdf).text();
        raw.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The PDF's lines as laid out, runs of spaces made one: a table row of one-line cells
    /// reads as one line.
    fn rows_of(pdf: &[u8]) -> Vec<String> {
        Pdf::read(pdf).rows()
    }

    #[test]
    fn both_languages_hold_the_title_the_figures_as_formatted_every_table_and_the_legend() {
        let report = sample::report();
        let fonts = fonts();
        // Rows as the page lays them out, then values anywhere in the text.
        type Expected<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);
        let expected: [Expected; 2] = [
            (
                "vi",
                &[
                    "Yêu cầu dùng thử 148 131 17 2.412",
                    "Bắt đầu dùng thử 102 97 5 1.811",
                    "Rút yêu cầu 6 9 -3 118",
                    "Đã quyết định 82 81 1.388",
                    "Tỷ lệ chuyển giao 62,2% 58,02% 57,78%",
                    "Giá trị chuyển giao VND 61.250.000.000 ₫ 55.900.000.000 ₫ 5.350.000.000 ₫ 987.300.000.000 ₫",
                    "Giá trị chuyển giao CNY ¥1,245,000.00 ¥0.00 ¥1,245,000.00 ¥9,870,500.00",
                    "Bồi thường đã chi trả VND 145.000.000 ₫ 262.500.000 ₫ -117.500.000 ₫ 3.180.000.000 ₫",
                    "Nông nghiệp 52 39 20 31",
                    "11/2025 60 30",
                    "10/2026 104 52",
                ],
                &[
                    "Báo cáo chuyển giao công nghệ tháng 10/2026",
                    "Múi giờ Asia/Ho_Chi_Minh · Số liệu lấy lúc 07:00 ngày 01/11/2026",
                    "Hỗ trợ phí từ ngân sách",
                    "Viện Công nghệ Sinh học Hà Nội",
                    "Cảm biến độ ẩm đất không dây",
                    "Wireless soil moisture sensor",
                    "Bình Dương",
                    "Hạng",
                    "T11",
                    "Báo cáo tháng 10/2026",
                    "Trang 1/",
                ],
            ),
            (
                "en",
                &[
                    "Trial requests 148 131 17 2,412",
                    "Trials started 102 97 5 1,811",
                    "Withdrawals 6 9 -3 118",
                    "Decided 82 81 1,388",
                    "Conversion rate 62.2% 58.02% 57.78%",
                    "Value of conversions VND 61.250.000.000 ₫ 55.900.000.000 ₫ 5.350.000.000 ₫ 987.300.000.000 ₫",
                    "Value of conversions CNY ¥1,245,000.00 ¥0.00 ¥1,245,000.00 ¥9,870,500.00",
                    "Nông nghiệp 52 39 20 31",
                    "November 2025 60 30",
                    "October 2026 104 52",
                ],
                &[
                    "Technology conversion report, October 2026",
                    "Time zone Asia/Ho_Chi_Minh · Figures read at 07:00 on 1 November 2026",
                    "Public subsidy",
                    "Rank",
                    "Nov",
                    "Report for October 2026",
                    "Page 1 of",
                ],
            ),
        ];
        for (lang, rows, values) in expected {
            let rendered = render(&fonts, &report, lang, None).unwrap();
            let laid_out = rows_of(&rendered.bytes);
            for row in rows {
                assert!(
                    laid_out.iter().any(|l| l.contains(row)),
                    "{lang}: row {row:?} missing from\n{}",
                    laid_out.join("\n")
                );
            }
            let text = text_of(&rendered.bytes);
            for value in values {
                assert!(
                    text.contains(value),
                    "{lang}: {value:?} missing from\n{text}"
                );
            }
            for table in report.tables() {
                let title = table.title(lang);
                assert!(text.contains(title), "{lang}: table {title:?} missing");
            }
            // The legend: both series' names on one line above the chart.
            let legend = format!(
                "{} {}",
                measure_label("trials_started", lang),
                measure_label("conversions", lang)
            );
            assert!(
                laid_out.iter().any(|l| l == &legend),
                "{lang}: legend {legend:?}"
            );
            // Keys stay in the data formats: neither measure keys nor ids are printed.
            for key in [
                "trials_started",
                "conversion_value",
                "inst-1",
                "tech-2",
                "agriculture",
            ] {
                assert!(!text.contains(key), "{lang}: {key} printed");
            }
            assert!(
                !text.contains("Số liệu tạm tính") && !text.contains("Provisional"),
                "{lang}"
            );
            assert_eq!(
                Pdf::read(&rendered.bytes).page_count(),
                rendered.pages,
                "{lang}"
            );
        }
    }

    #[test]
    fn the_provisional_notice_and_footer_mark_only_a_month_not_ended() {
        let mut report = sample::report();
        report.provisional = true;
        let fonts = fonts();
        for (lang, notice, footer) in [
            (
                "vi",
                "Số liệu tạm tính: tháng chưa kết thúc",
                "Báo cáo tháng 10/2026 (tạm tính)",
            ),
            (
                "en",
                "Provisional: the month has not ended",
                "Report for October 2026 (provisional)",
            ),
        ] {
            let rendered = render(&fonts, &report, lang, None).unwrap();
            let text = text_of(&rendered.bytes);
            assert_eq!(text.matches(notice).count(), 1, "{lang}: {text}");
            assert_eq!(
                text.matches(footer).count(),
                rendered.pages,
                "{lang}: a footer a page"
            );
            let final_ = render(&fonts, &sample::report(), lang, None).unwrap();
            let text = text_of(&final_.bytes);
            assert!(!text.contains(notice) && !text.contains(footer), "{lang}");
        }
    }

    #[test]
    fn fonts_are_embedded_and_subset() {
        for lang in ["vi", "en"] {
            let rendered = render(&fonts(), &sample::report(), lang, None).unwrap();
            Pdf::read(&rendered.bytes)
                .assert_fonts_embedded_and_subset(2, &format!("{lang}: regular and bold"));
        }
    }

    /// A report issued with a code carries it as documents do: the QR code on the first page
    /// reads as the link, every page prints the link and the code, in each language; another
    /// code, other bytes.
    #[test]
    fn a_report_carries_its_check_link_as_a_qr_code_and_in_print() {
        let fonts = fonts();
        let report = sample::report();
        let url = "https://usefirst.example.vn/verify/7K3M0QRS1TVW9XYZ2AB4";
        let code = "7K3M-0QRS-1TVW-9XYZ-2AB4";
        for lang in ["vi", "en"] {
            let rendered = render(&fonts, &report, lang, Some(Verify { url, code })).unwrap();
            assert_eq!(
                qr_reader::first_page_qr(&rendered.bytes).as_deref(),
                Some(url),
                "{lang}: the QR code"
            );
            let raw = Pdf::read(&rendered.bytes).text();
            let line = (crate::typeset::pdf::labels(lang).verify)(url, code);
            assert_eq!(
                raw.matches(&line).count(),
                rendered.pages,
                "{lang}: {line} on every page"
            );
            let other = Verify {
                url: "https://usefirst.example.vn/verify/0000000000000000000Z",
                code: "0000-0000-0000-0000-000Z",
            };
            let another = render(&fonts, &report, lang, Some(other)).unwrap();
            assert!(another.bytes != rendered.bytes, "{lang}");
            let plain = render(&fonts, &report, lang, None).unwrap();
            assert_eq!(qr_reader::first_page_qr(&plain.bytes), None, "{lang}");
        }
    }

    #[test]
    fn the_same_report_gives_the_same_bytes_and_another_report_other_bytes() {
        let fonts = fonts();
        let report = sample::report();
        let one = render(&fonts, &report, "vi", None).unwrap();
        let two = render(&fonts, &report, "vi", None).unwrap();
        assert!(one.bytes == two.bytes, "two renders differ");
        let mut changed = report.clone();
        changed.counts.requests.cumulative += 1;
        let three = render(&fonts, &changed, "vi", None).unwrap();
        assert!(three.bytes != one.bytes);
        // The /ID stands for the content: another report, another /ID.
        let id = |pdf: &[u8]| {
            let text = String::from_utf8_lossy(pdf);
            let at = text.find("/ID").expect("a trailer /ID");
            text[at..at + 40].to_string()
        };
        assert_ne!(id(&one.bytes), id(&three.bytes));
    }

    #[test]
    fn a_month_without_series_or_breakdowns_still_renders() {
        let mut report = sample::report();
        report.by_month.clear();
        report.by_institute.clear();
        report.by_field.clear();
        report.by_province.clear();
        report.top_by_trials.clear();
        report.top_by_conversions.clear();
        report.amounts.clear();
        for (lang, nothing) in [("vi", "Không có số liệu."), ("en", "No figures.")] {
            let rendered = render(&fonts(), &report, lang, None).unwrap();
            assert_eq!(Pdf::read(&rendered.bytes).page_count(), rendered.pages);
            let text = text_of(&rendered.bytes);
            // amounts, three breakdowns, two top tens and the series.
            assert_eq!(text.matches(nothing).count(), 7, "{lang}: {text}");
            for table in report.tables() {
                assert!(
                    text.contains(table.title(lang)),
                    "{lang}: {}",
                    table.title(lang)
                );
            }
            // No chart without a series: no month of 2025 is labelled.
            assert!(!text.contains("2025"), "{lang}: {text}");
        }
    }

    #[test]
    fn every_line_lies_within_the_margins() {
        // A4 is 595.3 pt wide; the margins are 25 mm at the left and 20 mm at the right.
        let (left, right) = (25.0 * 2.834_646 - 0.5, 595.276 - 20.0 * 2.834_646 + 0.5);
        for lang in ["vi", "en"] {
            let rendered = render(&fonts(), &sample::report(), lang, None).unwrap();
            let pdf = Pdf::read(&rendered.bytes);
            let mut lines = 0;
            for line in pdf.pages.iter().flat_map(|p| &p.lines) {
                assert!(
                    line.x_min >= left && line.x_max <= right,
                    "{lang}: {line:?} outside {left}..{right}"
                );
                // Measured, not assumed: a line of text has a width.
                assert!(line.x_max > line.x_min, "{lang}: {line:?}");
                lines += 1;
            }
            assert!(lines > 250, "{lang}: {lines} lines");
        }
    }
}
