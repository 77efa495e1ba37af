//! Reports as XLSX: a sheet per table and a native chart of trials and conversions by month.
//!
//! This module owns the workbook's layout: a title row, a bold frozen header row of the
//! table's headings in the reader's language, the rows, and the chart on the `by_month` sheet
//! drawn from that sheet's own cells (so it moves with the data if someone edits them). It
//! renders only what [`MonthlyReport::tables`] describes and never computes a figure. Money
//! stays integer minor units, as in JSON and CSV; nothing here goes through a float
//! inexactly: a value a double (or Excel's 15 displayed digits) cannot hold exactly is written
//! as its exact text instead.

use anyhow::Context;
use rust_xlsxwriter::{
    Chart, ColNum, DocProperties, ExcelDateTime, Format, FormatBorder, RowNum, Workbook, Worksheet,
};

use super::{measure_label, Cell, MonthlyReport, Table};

/// The title row, then the header row; data starts below them.
const TITLE_ROW: RowNum = 0;
const HEADER_ROW: RowNum = 1;
const FIRST_DATA_ROW: RowNum = 2;

/// Excel shows at most 15 significant digits of a number; an integer past this would be
/// displayed (and, past 2^53, stored) rounded.
const EXACT_INTEGER: i64 = 999_999_999_999_999;

/// The sheet the chart is drawn from and placed on.
const CHART_SHEET: &str = "by_month";

/// The report as an XLSX workbook in `lang` (`vi`, otherwise English).
pub fn workbook(report: &MonthlyReport, lang: &str) -> Result<Vec<u8>, anyhow::Error> {
    let title = report_title(report, lang);
    let mut book = Workbook::new();
    // Without a fixed creation time the library stamps the clock's, and the same report would
    // give different bytes on every download.
    let properties = DocProperties::new()
        .set_title(title.as_str())
        .set_creation_datetime(&excel_time(report)?);
    book.set_properties(&properties);

    let styles = Styles::new();
    for table in report.tables() {
        let mut sheet = Worksheet::new();
        sheet
            .set_name(table.name)
            .with_context(|| format!("naming the sheet {}", table.name))?;
        write_table(&mut sheet, &table, &title, lang, &styles)
            .with_context(|| format!("writing the sheet {}", table.name))?;
        if table.name == CHART_SHEET {
            insert_chart(&mut sheet, &table, lang).context("drawing the chart by month")?;
        }
        book.push_worksheet(sheet);
    }
    book.save_to_buffer().context("assembling the workbook")
}

/// "Báo cáo chuyển giao tháng 2026-10 (tạm tính)" / "Conversion report 2026-10 (provisional)".
fn report_title(report: &MonthlyReport, lang: &str) -> String {
    let (base, provisional) = if lang == "vi" {
        (
            format!("Báo cáo chuyển giao tháng {}", report.month),
            " (tạm tính)",
        )
    } else {
        (
            format!("Conversion report {}", report.month),
            " (provisional)",
        )
    };
    if report.provisional {
        base + provisional
    } else {
        base
    }
}

/// `generated_at` (UTC) as the workbook's creation time.
fn excel_time(report: &MonthlyReport) -> Result<ExcelDateTime, anyhow::Error> {
    use chrono::{Datelike, Timelike};
    let at = report.generated_at;
    let (year, month, day) = (
        u16::try_from(at.year()).context("the report's year")?,
        u8::try_from(at.month()).context("the report's month")?,
        u8::try_from(at.day()).context("the report's day")?,
    );
    let (hour, minute) = (
        u16::try_from(at.hour()).context("the report's hour")?,
        u8::try_from(at.minute()).context("the report's minute")?,
    );
    ExcelDateTime::from_ymd(year, month, day)
        .and_then(|d| d.and_hms(hour, minute, at.second()))
        .context("the report's creation time")
}

/// The formats every sheet shares.
struct Styles {
    title: Format,
    header: Format,
    /// Money and counts: integers with a thousands separator (the reader's Excel picks `.` or
    /// `,` by locale).
    integer: Format,
    /// The machine key beside a measure's label: there for filters and lookups, kept quiet.
    key: Format,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            title: Format::new().set_bold().set_font_size(13),
            header: Format::new()
                .set_bold()
                .set_border_bottom(FormatBorder::Thin)
                .set_text_wrap(),
            integer: Format::new().set_num_format("#,##0"),
            key: Format::new().set_font_color(0x808080),
        }
    }
}

/// Tables whose first column is a measure's machine name (`summary`, `decisions`, `amounts`):
/// the sheet shows its label for people there and keeps the key in an extra last column.
fn has_measure_column(table: &Table) -> bool {
    table.keys.first() == Some(&"measure")
}

fn write_table(
    sheet: &mut Worksheet,
    table: &Table,
    title: &str,
    lang: &str,
    styles: &Styles,
) -> Result<(), anyhow::Error> {
    let mut headline = format!("{title} — {}", table.title(lang));
    if table
        .rows
        .iter()
        .flatten()
        .any(|c| matches!(c, Cell::Money(..)))
    {
        headline.push_str(if lang == "vi" {
            " (số tiền tính bằng đơn vị nhỏ nhất của mỗi loại tiền: đồng, xu)"
        } else {
            " (amounts in each currency's minor unit: đồng, cents, fen)"
        });
    }
    sheet.write_string_with_format(TITLE_ROW, 0, headline, &styles.title)?;

    let measures = has_measure_column(table);
    let mut headings: Vec<&str> = table.headings(lang).to_vec();
    if measures {
        headings.push(if lang == "vi" {
            "Mã chỉ tiêu"
        } else {
            "Measure key"
        });
    }
    // Widths in characters, grown by every cell below.
    let mut widths: Vec<usize> = headings.iter().map(|h| h.chars().count()).collect();
    for (col, heading) in headings.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, col_num(col)?, *heading, &styles.header)?;
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 0)?;

    for (i, cells) in table.rows.iter().enumerate() {
        let row = FIRST_DATA_ROW + RowNum::try_from(i).context("too many rows for a worksheet")?;
        for (col, cell) in cells.iter().enumerate() {
            let shown = match (col, cell) {
                (0, Cell::Text(key)) if measures => {
                    let label = measure_label(key, lang);
                    let label = if label.is_empty() {
                        key.as_str()
                    } else {
                        label
                    };
                    sheet.write_string(row, 0, label)?;
                    label.chars().count()
                }
                _ => write_cell(sheet, row, col_num(col)?, cell, styles)?,
            };
            if let Some(width) = widths.get_mut(col) {
                *width = (*width).max(shown);
            }
        }
        if let (true, Some(Cell::Text(key))) = (measures, cells.first()) {
            let col = table.keys.len();
            sheet.write_string_with_format(row, col_num(col)?, key, &styles.key)?;
            if let Some(width) = widths.get_mut(col) {
                *width = (*width).max(key.chars().count());
            }
        }
    }
    for (col, width) in widths.iter().enumerate() {
        // A little room for the font's wider letters; long names wrap in the header and are
        // capped so one long title does not push the rest of the table off screen.
        let width = (*width as f64 * 1.1 + 2.0).clamp(8.0, 60.0);
        sheet.set_column_width(col_num(col)?, width)?;
    }
    Ok(())
}

/// Writes one cell and answers how many characters it shows, for the column's width.
fn write_cell(
    sheet: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    cell: &Cell,
    styles: &Styles,
) -> Result<usize, anyhow::Error> {
    Ok(match cell {
        Cell::Text(text) => {
            sheet.write_string(row, col, text)?;
            text.chars().count()
        }
        Cell::Int(n) | Cell::Money(_, n) => {
            // Money is integer minor units in data; an integer within Excel's 15 digits is a
            // double exactly, so the number is the figure. Past that, the exact text.
            if n.unsigned_abs() <= EXACT_INTEGER.unsigned_abs() {
                sheet.write_number_with_format(row, col, *n as f64, &styles.integer)?;
            } else {
                sheet.write_string(row, col, n.to_string())?;
            }
            grouped_len(*n)
        }
        Cell::Decimal(text) => {
            // A rate is written as a number with as many places as its text (four), so a
            // reader can sort, chart and compute with it; it is for display, the exact value
            // is in JSON and CSV. A short decimal's nearest double prints back as the same
            // text, so nothing is lost; if it would not (a long or malformed text), the text
            // itself is written instead.
            match exact_number(text) {
                Some((value, places)) => {
                    let format = if places == 0 {
                        Format::new().set_num_format("0")
                    } else {
                        Format::new().set_num_format(format!("0.{}", "0".repeat(places)))
                    };
                    sheet.write_number_with_format(row, col, value, &format)?;
                }
                None => {
                    sheet.write_string(row, col, text)?;
                }
            }
            text.chars().count()
        }
        Cell::Empty => 0,
    })
}

/// `text` as a double and its decimal places, when the double shows back as exactly `text`.
fn exact_number(text: &str) -> Option<(f64, usize)> {
    let well_formed = !text.is_empty()
        && text
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
        && text.matches('.').count() <= 1;
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if !well_formed || digits > 15 {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    let places = text.split_once('.').map_or(0, |(_, frac)| frac.len());
    (format!("{value:.places$}") == text).then_some((value, places))
}

/// Characters `#,##0` shows for `n`.
fn grouped_len(n: i64) -> usize {
    let digits = n.unsigned_abs().to_string().len();
    digits + (digits - 1) / 3 + usize::from(n < 0)
}

fn col_num(col: usize) -> Result<ColNum, anyhow::Error> {
    ColNum::try_from(col).context("too many columns for a worksheet")
}

/// A column chart of trials started and conversions by month, drawn from the `by_month`
/// sheet's cells and placed to the right of its table.
fn insert_chart(sheet: &mut Worksheet, table: &Table, lang: &str) -> Result<(), anyhow::Error> {
    let column = |key: &str| {
        table
            .keys
            .iter()
            .position(|k| *k == key)
            .with_context(|| format!("the by_month table has no {key} column"))
            .and_then(col_num)
    };
    let (months, started, converted) = (
        column("month")?,
        column("trials_started")?,
        column("conversions")?,
    );
    let Some(last) = table.rows.len().checked_sub(1) else {
        // No months, no chart: an empty range is not a valid series.
        return Ok(());
    };
    let last_row = FIRST_DATA_ROW + RowNum::try_from(last).context("too many months")?;

    let mut chart = Chart::new_column();
    for col in [started, converted] {
        chart
            .add_series()
            .set_name((CHART_SHEET, HEADER_ROW, col))
            .set_categories((CHART_SHEET, FIRST_DATA_ROW, months, last_row, months))
            .set_values((CHART_SHEET, FIRST_DATA_ROW, col, last_row, col));
    }
    chart.title().set_name(table.title(lang));
    chart.x_axis().set_name(
        table
            .headings(lang)
            .get(usize::from(months))
            .copied()
            .unwrap_or_default(),
    );
    chart.y_axis().set_name(if lang == "vi" {
        "Số lượng"
    } else {
        "Count"
    });
    chart.set_width(640).set_height(360);
    let beside = col_num(table.keys.len() + 1)?;
    sheet.insert_chart(HEADER_ROW, beside, &chart)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::super::sample;
    use super::*;

    fn entries(bytes: &[u8]) -> zip::ZipArchive<Cursor<Vec<u8>>> {
        zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap()
    }

    fn entry(archive: &mut zip::ZipArchive<Cursor<Vec<u8>>>, name: &str) -> String {
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn a_sheet_per_table_named_in_the_workbook() {
        let report = sample::report();
        let tables = report.tables();
        let bytes = workbook(&report, "vi").unwrap();
        let mut archive = entries(&bytes);
        let sheets: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .filter(|n| n.starts_with("xl/worksheets/sheet") && n.ends_with(".xml"))
            .collect();
        assert_eq!(sheets.len(), tables.len(), "{sheets:?}");
        for n in 1..=tables.len() {
            assert!(
                sheets.contains(&format!("xl/worksheets/sheet{n}.xml")),
                "{sheets:?}"
            );
        }
        let book = entry(&mut archive, "xl/workbook.xml");
        let mut at = 0;
        for table in &tables {
            // In the tables' order, too.
            let found = book[at..].find(&format!("<sheet name=\"{}\"", table.name));
            at +=
                found.unwrap_or_else(|| panic!("{} missing or out of order in {book}", table.name));
        }
    }

    #[test]
    fn the_chart_draws_both_series_from_the_by_month_sheet() {
        let report = sample::report();
        let bytes = workbook(&report, "en").unwrap();
        let mut archive = entries(&bytes);
        let chart = entry(&mut archive, "xl/charts/chart1.xml");
        let last = FIRST_DATA_ROW as usize + report.by_month.len();
        let first = FIRST_DATA_ROW as usize + 1;
        for col in ["A", "B", "C"] {
            let range = format!("by_month!${col}${first}:${col}${last}");
            assert!(chart.contains(&range), "{range} not in {chart}");
        }
        assert_eq!(chart.matches("<c:ser>").count(), 2, "{chart}");
        assert!(chart.contains("<c:barDir val=\"col\"/>"), "{chart}");
        assert!(chart.contains("Trials and conversions by month"), "{chart}");
        assert!(chart.contains("Count"), "{chart}");
        // The chart sits on the by_month sheet.
        let sheet = report
            .tables()
            .iter()
            .position(|t| t.name == "by_month")
            .unwrap()
            + 1;
        let rels = entry(
            &mut archive,
            &format!("xl/worksheets/_rels/sheet{sheet}.xml.rels"),
        );
        assert!(rels.contains("drawing"), "{rels}");
    }

    #[test]
    fn the_same_report_gives_the_same_bytes() {
        let report = sample::report();
        assert_eq!(
            workbook(&report, "vi").unwrap(),
            workbook(&report, "vi").unwrap()
        );
        let mut archive = entries(&workbook(&report, "en").unwrap());
        let core = entry(&mut archive, "docProps/core.xml");
        assert!(core.contains("2026-11-01T00:00:00Z"), "{core}");
    }

    #[test]
    fn rates_are_exact_numbers_or_text() {
        assert_eq!(exact_number("0.6220"), Some((0.622, 4)));
        assert_eq!(exact_number("1"), Some((1.0, 0)));
        assert_eq!(exact_number("0.12345678901234567"), None);
        assert_eq!(exact_number("1e3"), None);
        assert_eq!(exact_number(""), None);
        assert_eq!(grouped_len(61_250_000_000), 14);
        assert_eq!(grouped_len(-999), 4);
        assert_eq!(grouped_len(0), 1);
    }

    /// The number in attribute `name` of the first tag in `xml` that has it.
    fn number_attr(xml: &str, name: &str) -> Option<usize> {
        xml.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .map(|v| v.parse().unwrap())
    }

    /// The `s` (style) index of cell `reference` in a sheet's XML.
    fn style_of(sheet_xml: &str, reference: &str) -> usize {
        let at = sheet_xml
            .find(&format!("<c r=\"{reference}\""))
            .unwrap_or_else(|| panic!("no cell {reference}"));
        let tag = &sheet_xml[at..at + sheet_xml[at..].find('>').unwrap()];
        number_attr(tag, "s").unwrap_or(0)
    }

    /// The `n`th element named `name` inside `<parent>…</parent>` of `xml`.
    fn nth_in<'a>(xml: &'a str, parent: &str, name: &str, n: usize) -> &'a str {
        let open = xml.find(&format!("<{parent}")).unwrap();
        let close = xml[open..].find(&format!("</{parent}>")).unwrap() + open;
        let inner = &xml[open..close];
        let tag = format!("<{name}");
        let starts: Vec<usize> = inner
            .match_indices(&tag)
            .map(|(i, _)| i)
            .filter(|i| {
                // `<font` must not match `<fonts`.
                inner[i + tag.len()..].starts_with([' ', '>', '/'])
            })
            .collect();
        let from = starts[n];
        let to = starts.get(n + 1).copied().unwrap_or(inner.len());
        &inner[from..to]
    }

    #[test]
    fn a_spreadsheet_reader_finds_the_sheets_cells_formats_and_frozen_header() {
        use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

        let report = sample::report();
        let tables = report.tables();
        let bytes = workbook(&report, "vi").unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        assert_eq!(book.sheet_names(), names);
        let mut cell = |sheet: &str, row: u32, col: u32| -> Data {
            let range = book.worksheet_range(sheet).unwrap();
            range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
        };
        let table = |name: &str| tables.iter().find(|t| t.name == name).unwrap();

        // B3 of by_institute: the first institute's name, as text.
        let Cell::Text(institute) = &table("by_institute").rows[0][1] else {
            panic!()
        };
        assert_eq!(institute, "Viện Công nghệ Sinh học Hà Nội");
        assert_eq!(cell("by_institute", 2, 1), Data::String(institute.clone()));
        // C3 of amounts: money in minor units, a number (not text).
        let Cell::Money(_, minor) = table("amounts").rows[0][2] else {
            panic!()
        };
        assert_eq!(cell("amounts", 2, 2), Data::Float(minor as f64));
        // The summary: a count, the label in the language, the key for machines.
        let Cell::Int(count) = table("summary").rows[0][1] else {
            panic!()
        };
        assert_eq!(cell("summary", 2, 1), Data::Float(count as f64));
        assert_eq!(
            cell("summary", 2, 0),
            Data::String(measure_label("requests", "vi").into())
        );
        assert_eq!(cell("summary", 2, 5), Data::String("requests".into()));
        // B4 of decisions: the rate as an exact number to four places.
        let Cell::Decimal(rate) = &table("decisions").rows[1][1] else {
            panic!()
        };
        let Data::Float(read) = cell("decisions", 3, 1) else {
            panic!("the rate is not a number")
        };
        assert_eq!(format!("{read:.4}"), *rate);

        // What a spreadsheet shows beyond values, from the workbook's own parts: money
        // grouped (#,##0, built-in format 3), the header bold and frozen above row 3.
        let mut archive = entries(&bytes);
        let styles = entry(&mut archive, "xl/styles.xml");
        let sheet_of = |name: &str| tables.iter().position(|t| t.name == name).unwrap() + 1;
        let amounts = entry(
            &mut archive,
            &format!("xl/worksheets/sheet{}.xml", sheet_of("amounts")),
        );
        let xf = nth_in(&styles, "cellXfs", "xf", style_of(&amounts, "C3"));
        let num_fmt = number_attr(xf, "numFmtId").unwrap();
        let custom = format!("numFmtId=\"{num_fmt}\" formatCode=\"#,##0\"");
        assert!(num_fmt == 3 || styles.contains(&custom), "{xf} in {styles}");

        let summary = entry(
            &mut archive,
            &format!("xl/worksheets/sheet{}.xml", sheet_of("summary")),
        );
        let header = nth_in(&styles, "cellXfs", "xf", style_of(&summary, "A2"));
        let font_id = number_attr(header, "fontId").unwrap();
        let font = nth_in(&styles, "fonts", "font", font_id);
        assert!(font.contains("<b/>"), "header font {font}");
        assert!(
            summary.contains("topLeftCell=\"A3\"") && summary.contains("state=\"frozen\""),
            "{summary}"
        );
    }
}
