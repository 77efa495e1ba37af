//! Making a report in every format, and the reports the `monthly-report` job stores: each
//! with the SHA-256 of every format in the audit chain, mailed to the admins (PDF and XLSX
//! attached) through the outbox in the same transaction.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::{csv, figures, pdf, xlsx, Format, Month, MonthlyReport};
use crate::audit::{self, Who};
use crate::db::schema::{monthly_report_files, monthly_reports};
use crate::db::DbConn;
use crate::error::AppError;
use crate::mail::{Attachment, File};
use crate::AppState;

/// A report written in one format.
pub struct Written {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

/// `report` in `format` (`lang` for the PDF and the XLSX headings: `vi` or `en`).
pub fn write(
    state: &AppState,
    report: &MonthlyReport,
    format: Format,
    lang: &str,
) -> Result<Written, AppError> {
    let bytes = match format {
        Format::Json => serde_json::to_vec(report).map_err(|e| AppError::Internal(e.into()))?,
        Format::Csv => csv::zip(report)
            .map_err(|e| AppError::Internal(e.context("writing the report's CSV files")))?,
        Format::Xlsx => xlsx::workbook(report, lang)
            .map_err(|e| AppError::Internal(e.context("writing the report's workbook")))?,
        Format::Pdf => {
            pdf::render(&state.fonts, report, lang)
                .map_err(|e| match e {
                    crate::documents::pdf::PdfError::FontMissing(msg) => AppError::Unavailable(
                        format!("reports cannot be set as PDF on this server: {msg}"),
                    ),
                    other => AppError::Internal(anyhow::anyhow!(
                        "setting the {} report: {other}",
                        report.month
                    )),
                })?
                .bytes
        }
    };
    Ok(Written {
        bytes,
        content_type: format.content_type(),
        file_name: format.file_name(&report.month, lang),
    })
}

/// The figures of `month` now.
pub fn figures(state: &AppState, month: Month) -> Result<MonthlyReport, AppError> {
    let mut conn = state.db.reader()?;
    let now = state.clock.now();
    // One snapshot: a change committed meanwhile is in every figure or in none.
    crate::db::read_snapshot(&mut conn, |c| figures::monthly(c, state.tz, month, now))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A file of a stored report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredFile {
    /// `pdf` or `xlsx`.
    pub format: &'static str,
    /// `vi` or `en`.
    pub lang: &'static str,
    pub sha256: String,
}

/// What the job stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredReport {
    pub id: String,
    pub month: String,
    pub provisional: bool,
    pub json_sha256: String,
    pub files: Vec<StoredFile>,
    pub admins_mailed: usize,
}

/// The languages stored reports are written in; an admin gets the files in theirs (else the
/// first).
pub const REPORT_LANGS: [&str; 2] = ["vi", "en"];

/// The month before the one `now` is in, in `tz`: what the job on the 1st reports.
pub fn previous_month(tz: Tz, now: DateTime<Utc>) -> Month {
    Month::of(now.with_timezone(&tz).date_naive()).prev()
}

/// The months the job run of `slot` reports: the month before the slot's; when a stopped
/// service missed some, every finished month after the last stored one too (at most twelve,
/// oldest first). A month already stored is not made again, unless the run is `manual`.
pub fn due_months(
    state: &AppState,
    slot: DateTime<Utc>,
    manual: bool,
) -> Result<Vec<Month>, AppError> {
    let target = previous_month(state.tz, slot);
    if manual {
        return Ok(vec![target]);
    }
    let last: Option<String> = {
        let mut conn = state.db.reader()?;
        monthly_reports::table
            .filter(monthly_reports::provisional.eq(false))
            .select(diesel::dsl::max(monthly_reports::month))
            .first(&mut conn)?
    };
    let Some(last) = last.as_deref().and_then(Month::parse) else {
        return Ok(vec![target]);
    };
    let mut months = Vec::new();
    let mut m = last.next();
    while m <= target {
        months.push(m);
        m = m.next();
    }
    // After a very long stop, the most recent twelve.
    let skip = months.len().saturating_sub(12);
    Ok(months.split_off(skip))
}

/// Makes the report of `month`, stores it with its hashes in the audit chain and mails it to
/// the admins, all in one transaction. Reading and setting happen before it.
pub fn generate(state: &AppState, month: Month) -> Result<StoredReport, AppError> {
    let report = figures(state, month)?;
    let json = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.into()))?;
    let mut files: Vec<(StoredFile, Vec<u8>)> = Vec::with_capacity(4);
    for lang in REPORT_LANGS {
        for (format, f) in [("pdf", Format::Pdf), ("xlsx", Format::Xlsx)] {
            let bytes = write(state, &report, f, lang)?.bytes;
            files.push((
                StoredFile {
                    format,
                    lang,
                    sha256: sha256(&bytes),
                },
                bytes,
            ));
        }
    }
    let stored = StoredReport {
        id: uuid::Uuid::now_v7().to_string(),
        month: report.month.clone(),
        provisional: report.provisional,
        json_sha256: sha256(json.as_bytes()),
        files: files.iter().map(|(f, _)| f.clone()).collect(),
        admins_mailed: 0,
    };
    let now = report.generated_at;
    let mailed = state.db.write(|conn| {
        diesel::insert_into(monthly_reports::table)
            .values((
                monthly_reports::id.eq(&stored.id),
                monthly_reports::month.eq(&stored.month),
                monthly_reports::provisional.eq(stored.provisional),
                monthly_reports::generated_at.eq(now.naive_utc()),
                monthly_reports::json.eq(&json),
                monthly_reports::json_sha256.eq(&stored.json_sha256),
            ))
            .execute(conn)?;
        for (f, bytes) in &files {
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
        audit::append(
            conn,
            now,
            Who::SYSTEM,
            "report.generated",
            "monthly_report",
            &stored.id,
            &serde_json::json!({
                "month": stored.month, "provisional": stored.provisional, "time_zone": report.time_zone,
                "json_sha256": stored.json_sha256, "files": stored.files,
            }),
        )?;
        let lang_of = |locale: &str| REPORT_LANGS.into_iter().find(|l| *l == locale).unwrap_or(REPORT_LANGS[0]);
        crate::mail::enqueue_admins_with(
            conn,
            now,
            "monthly_report",
            serde_json::json!({
                "month": stored.month,
                "provisional": stored.provisional,
                "requests": report.counts.requests.month,
                "trials_started": report.counts.trials_started.month,
                "conversions": report.counts.conversions.month,
            }),
            &|locale: &str| {
                let lang = lang_of(locale);
                ["pdf", "xlsx"]
                    .map(|format| Attachment {
                        report_id: stored.id.clone(),
                        format: format.into(),
                        lang: lang.into(),
                    })
                    .to_vec()
            },
        )
    })?;
    Ok(StoredReport {
        admins_mailed: mailed,
        ..stored
    })
}

/// A stored report's file, for a message that carries it; `None` when there is no such
/// report or format.
pub fn attachment(conn: &mut DbConn, a: &Attachment) -> Result<Option<File>, AppError> {
    let Some(kind) = Format::parse(&a.format).filter(|f| matches!(f, Format::Pdf | Format::Xlsx))
    else {
        return Ok(None);
    };
    let row: Option<(String, Vec<u8>)> = monthly_report_files::table
        .inner_join(monthly_reports::table)
        .filter(monthly_report_files::report_id.eq(&a.report_id))
        .filter(monthly_report_files::format.eq(&a.format))
        .filter(monthly_report_files::lang.eq(&a.lang))
        .select((monthly_reports::month, monthly_report_files::bytes))
        .first(conn)
        .optional()?;
    Ok(row.map(|(month, bytes)| File {
        name: kind.file_name(&month, &a.lang),
        content_type: kind.content_type().to_string(),
        bytes: std::sync::Arc::new(bytes),
    }))
}
