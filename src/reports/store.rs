//! The reports the `monthly-report` job stores: the report's JSON and its files with their
//! SHA-256, in `monthly_reports` and `monthly_report_files`, and the files read back for the
//! messages that carry them. What the job does around it (the audit event, the mail) is
//! `app::reports`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{Format, IssuedPdf, ListedFile, StoredFile, StoredListing, StoredReport};
use crate::db::schema::{monthly_report_files, monthly_reports, report_documents};
use crate::db::DbConn;
use crate::error::AppError;

/// The last month whose final (not provisional) report is stored, as `yyyy-mm`.
pub fn last_final_month(conn: &mut DbConn) -> QueryResult<Option<String>> {
    monthly_reports::table
        .filter(monthly_reports::provisional.eq(false))
        .select(diesel::dsl::max(monthly_reports::month))
        .first(conn)
}

/// Stores `stored` (made at `now`, the report as `json`) and its `files`, inside the caller's
/// transaction.
pub fn insert(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    stored: &StoredReport,
    json: &str,
    files: &[(StoredFile, Vec<u8>)],
) -> QueryResult<()> {
    diesel::insert_into(monthly_reports::table)
        .values((
            monthly_reports::id.eq(&stored.id),
            monthly_reports::month.eq(&stored.month),
            monthly_reports::provisional.eq(stored.provisional),
            monthly_reports::generated_at.eq(now.naive_utc()),
            monthly_reports::json.eq(json),
            monthly_reports::json_sha256.eq(&stored.json_sha256),
        ))
        .execute(conn)?;
    for (f, bytes) in files {
        diesel::insert_into(monthly_report_files::table)
            .values((
                monthly_report_files::report_id.eq(&stored.id),
                monthly_report_files::format.eq(f.format),
                monthly_report_files::lang.eq(f.lang),
                monthly_report_files::sha256.eq(&f.sha256),
                monthly_report_files::bytes.eq(bytes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A report PDF being issued: what [`record_pdf`] keeps of it.
#[derive(Debug, Clone, Copy)]
pub struct PdfRecord<'a> {
    pub verify_code: &'a str,
    pub month: &'a str,
    pub lang: &'a str,
    pub provisional: bool,
    pub sha256: &'a str,
    pub generated_at: DateTime<Utc>,
    /// The stored report the file belongs to; `None` for a download made on demand.
    pub report_id: Option<&'a str>,
}

/// Records that usefirst issued the report PDF `pdf`, inside the caller's transaction, so
/// that its code and its file can be checked.
pub fn record_pdf(conn: &mut DbConn, pdf: &PdfRecord<'_>) -> QueryResult<()> {
    diesel::insert_into(report_documents::table)
        .values((
            report_documents::verify_code.eq(pdf.verify_code),
            report_documents::month.eq(pdf.month),
            report_documents::lang.eq(pdf.lang),
            report_documents::provisional.eq(pdf.provisional),
            report_documents::sha256.eq(pdf.sha256),
            report_documents::generated_at.eq(pdf.generated_at.naive_utc()),
            report_documents::report_id.eq(pdf.report_id),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A recorded report PDF as read back, before its edition is counted.
#[derive(Queryable, Selectable)]
#[diesel(table_name = report_documents)]
struct IssuedRow {
    verify_code: String,
    month: String,
    lang: String,
    provisional: bool,
    sha256: String,
    generated_at: chrono::NaiveDateTime,
}

/// The report PDF whose printed code is `code` (as stored), if usefirst issued one.
pub fn pdf_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<IssuedPdf>> {
    let row: Option<IssuedRow> = report_documents::table
        .find(code)
        .select(IssuedRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| with_editions(conn, r)).transpose()
}

/// The report PDF whose SHA-256 is `sha256`, if usefirst issued one (the first issued, should
/// the same bytes have been issued twice).
pub fn pdf_by_hash(conn: &mut DbConn, sha256: &str) -> QueryResult<Option<IssuedPdf>> {
    let row: Option<IssuedRow> = report_documents::table
        .filter(report_documents::sha256.eq(sha256))
        .order((
            report_documents::generated_at,
            report_documents::verify_code,
        ))
        .select(IssuedRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| with_editions(conn, r)).transpose()
}

/// `row` with its edition: its place among the PDFs of its month in its language, by when
/// they were made (then by code, for two made in the same instant), and how many there are.
fn with_editions(conn: &mut DbConn, row: IssuedRow) -> QueryResult<IssuedPdf> {
    let same = report_documents::table
        .filter(report_documents::month.eq(&row.month))
        .filter(report_documents::lang.eq(&row.lang));
    let editions: i64 = same.count().get_result(conn)?;
    let edition: i64 = same
        .filter(
            report_documents::generated_at
                .lt(row.generated_at)
                .or(report_documents::generated_at
                    .eq(row.generated_at)
                    .and(report_documents::verify_code.le(&row.verify_code))),
        )
        .count()
        .get_result(conn)?;
    Ok(IssuedPdf {
        month: row.month,
        lang: row.lang,
        provisional: row.provisional,
        sha256: row.sha256,
        generated_at: row.generated_at,
        edition,
        editions,
    })
}

/// A stored report's file, as a download names it.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The file of stored report `report_id` in `format` (`pdf` or `xlsx`) and `lang`; `None`
/// when there is no such report or format.
pub fn file(
    conn: &mut DbConn,
    report_id: &str,
    format: &str,
    lang: &str,
) -> Result<Option<File>, AppError> {
    let Some(kind) = Format::parse(format).filter(|f| matches!(f, Format::Pdf | Format::Xlsx))
    else {
        return Ok(None);
    };
    let row: Option<(String, Vec<u8>)> = monthly_report_files::table
        .inner_join(monthly_reports::table)
        .filter(monthly_report_files::report_id.eq(report_id))
        .filter(monthly_report_files::format.eq(format))
        .filter(monthly_report_files::lang.eq(lang))
        .select((monthly_reports::month, monthly_report_files::bytes))
        .first(conn)
        .optional()?;
    Ok(row.map(|(month, bytes)| File {
        name: kind.file_name(&month, lang),
        content_type: kind.content_type(),
        bytes,
    }))
}

/// The stored reports, the latest month first (the latest made first within a month), at
/// most `limit`, each with the SHA-256 of its files.
pub fn list(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<StoredListing>> {
    let rows: Vec<(String, String, bool, chrono::NaiveDateTime, String)> = monthly_reports::table
        .order((
            monthly_reports::month.desc(),
            monthly_reports::generated_at.desc(),
            monthly_reports::id.desc(),
        ))
        .limit(limit)
        .select((
            monthly_reports::id,
            monthly_reports::month,
            monthly_reports::provisional,
            monthly_reports::generated_at,
            monthly_reports::json_sha256,
        ))
        .load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    let files: Vec<(String, String, String, String)> = monthly_report_files::table
        .filter(monthly_report_files::report_id.eq_any(&ids))
        .order((
            monthly_report_files::report_id,
            monthly_report_files::format,
            monthly_report_files::lang.desc(),
        ))
        .select((
            monthly_report_files::report_id,
            monthly_report_files::format,
            monthly_report_files::lang,
            monthly_report_files::sha256,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, month, provisional, at, json_sha256)| StoredListing {
            files: files
                .iter()
                .filter(|f| f.0 == id)
                .map(|(_, format, lang, sha256)| ListedFile {
                    format: format.clone(),
                    lang: lang.clone(),
                    sha256: sha256.clone(),
                })
                .collect(),
            id,
            month,
            provisional,
            generated_at: at.and_utc(),
            json_sha256,
        })
        .collect())
}
