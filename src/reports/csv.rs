//! Reports as CSV: one UTF-8 file per table, with a byte-order mark so spreadsheet programs
//! read Vietnamese correctly, bundled in one ZIP. Money in integer minor units.
//!
//! This module owns the CSV shape of a [`Table`] (headers are the stable machine `keys`, never
//! the headings for people) and the archive that bundles them. It renders only what
//! [`MonthlyReport::tables`] describes: it never queries, computes or rounds a figure, and it
//! never writes money other than as the integer minor units held in data.

use std::io::{Cursor, Write};

use anyhow::Context;
use zip::write::SimpleFileOptions;

use super::{Cell, MonthlyReport, Table};

/// Excel reads a CSV file without one in the locale's legacy code page, which turns every
/// Vietnamese letter into mojibake.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One table as CSV: the BOM, a header row of `table.keys`, then the rows.
pub fn table_csv(table: &Table) -> Result<Vec<u8>, anyhow::Error> {
    let mut writer = csv::Writer::from_writer(BOM.to_vec());
    writer
        .write_record(&table.keys)
        .with_context(|| format!("writing the header of {}.csv", table.name))?;
    for row in &table.rows {
        writer
            .write_record(row.iter().map(field))
            .with_context(|| format!("writing a row of {}.csv", table.name))?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("finishing {}.csv: {}", table.name, e.error()))
}

/// A cell as CSV text. Money is the integer of minor units as stored, so a machine reading the
/// file needs no currency table and nothing is ever rounded.
fn field(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) | Cell::Decimal(text) => text.clone(),
        Cell::Int(n) | Cell::Money(_, n) => n.to_string(),
        Cell::Empty => String::new(),
    }
}

/// The report as a ZIP holding `{table.name}.csv` for each table, in [`MonthlyReport::tables`]
/// order. The same report always gives the same bytes: every entry carries the report's
/// `generated_at` as its modification time instead of the clock's.
pub fn zip(report: &MonthlyReport) -> Result<Vec<u8>, anyhow::Error> {
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(modified_time(report))
        .unix_permissions(0o644);
    let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for table in report.tables() {
        let name = format!("{}.csv", table.name);
        let bytes = table_csv(&table)?;
        archive
            .start_file(name.as_str(), options)
            .with_context(|| format!("adding {name} to the archive"))?;
        archive
            .write_all(&bytes)
            .with_context(|| format!("writing {name} into the archive"))?;
    }
    let cursor = archive.finish().context("finishing the CSV archive")?;
    Ok(cursor.into_inner())
}

/// `generated_at` as a ZIP time (UTC: the format has no zone). ZIP times only span 1980 to
/// 2107; outside that the format's own epoch keeps the output deterministic.
fn modified_time(report: &MonthlyReport) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    let at = report.generated_at;
    let (Ok(year), Ok(month), Ok(day), Ok(hour), Ok(minute), Ok(second)) = (
        u16::try_from(at.year()),
        u8::try_from(at.month()),
        u8::try_from(at.day()),
        u8::try_from(at.hour()),
        u8::try_from(at.minute()),
        u8::try_from(at.second()),
    ) else {
        return zip::DateTime::default();
    };
    zip::DateTime::from_date_and_time(year, month, day, hour, minute, second).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::super::sample;
    use super::*;

    /// Parses a table's CSV back, checking and dropping the BOM first.
    fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        assert!(bytes.starts_with(BOM), "no byte-order mark");
        let mut reader = csv::Reader::from_reader(&bytes[BOM.len()..]);
        let headers = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        (headers, rows)
    }

    /// What a cell must read back as, derived from the cell, not from a copy of the data.
    fn expected(cell: &Cell) -> String {
        match cell {
            Cell::Text(t) | Cell::Decimal(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(_, minor) => minor.to_string(),
            Cell::Empty => String::new(),
        }
    }

    #[test]
    fn every_table_parses_back_to_its_keys_and_cells() {
        let report = sample::report();
        let tables = report.tables();
        assert!(tables.iter().any(|t| t
            .rows
            .iter()
            .flatten()
            .any(|c| matches!(c, Cell::Money(..)))));
        for table in &tables {
            let (headers, rows) = parse(&table_csv(table).unwrap());
            assert_eq!(headers, table.keys, "{}", table.name);
            let want: Vec<Vec<String>> = table
                .rows
                .iter()
                .map(|r| r.iter().map(expected).collect())
                .collect();
            assert_eq!(rows, want, "{}", table.name);
        }
    }

    #[test]
    fn money_is_integer_minor_units() {
        let report = sample::report();
        let amounts = report
            .tables()
            .into_iter()
            .find(|t| t.name == "amounts")
            .unwrap();
        let (_, rows) = parse(&table_csv(&amounts).unwrap());
        let cny = rows
            .iter()
            .find(|r| r[0] == "conversion_value" && r[1] == "CNY")
            .unwrap();
        assert_eq!(cny[2], "124500000");
        assert!(rows.iter().flatten().all(|f| !f.contains('.')), "{rows:?}");
    }

    #[test]
    fn vietnamese_and_awkward_text_round_trip() {
        let awkward = "Công ty \"Ánh Dương\", chi nhánh 2\nHà Nội";
        let table = Table {
            name: "t",
            title_vi: "",
            title_en: "",
            keys: vec!["name", "note", "count", "rate", "none"],
            headings_vi: vec![""; 5],
            headings_en: vec![""; 5],
            rows: vec![vec![
                Cell::Text("Viện Công nghệ Sinh học Hà Nội".into()),
                Cell::Text(awkward.into()),
                Cell::Int(-3),
                Cell::Decimal("0.6220".into()),
                Cell::Empty,
            ]],
        };
        let bytes = table_csv(&table).unwrap();
        let (_, rows) = parse(&bytes);
        assert_eq!(
            rows,
            vec![vec![
                "Viện Công nghệ Sinh học Hà Nội",
                awkward,
                "-3",
                "0.6220",
                ""
            ]]
        );
        // The sample's own Vietnamese names survive too.
        let report = sample::report();
        let by_institute = report
            .tables()
            .into_iter()
            .find(|t| t.name == "by_institute")
            .unwrap();
        let (_, rows) = parse(&table_csv(&by_institute).unwrap());
        assert_eq!(rows[0][1], "Viện Công nghệ Sinh học Hà Nội");
    }

    #[test]
    fn the_zip_holds_each_table_in_order_with_its_csv() {
        let report = sample::report();
        let tables = report.tables();
        let bytes = zip(&report).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), tables.len());
        for (i, table) in tables.iter().enumerate() {
            let mut file = archive.by_index(i).unwrap();
            assert_eq!(file.name().unwrap(), format!("{}.csv", table.name));
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            assert_eq!(content, table_csv(table).unwrap(), "{}", table.name);
        }
    }

    #[test]
    fn the_zip_is_deterministic_and_dated_by_the_report() {
        let report = sample::report();
        let first = zip(&report).unwrap();
        assert_eq!(first, zip(&report).unwrap());
        let mut archive = zip::ZipArchive::new(Cursor::new(first)).unwrap();
        let modified = archive.by_index(0).unwrap().last_modified().unwrap();
        assert_eq!(
            (
                modified.year(),
                modified.month(),
                modified.day(),
                modified.hour()
            ),
            (2026, 11, 1, 0)
        );
    }
}
