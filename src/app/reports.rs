//! What a monthly report is made of across the parts: its figures read in one snapshot and
//! written in a format (`reports`), and the `monthly-report` job: the report stored with the
//! SHA-256 of every format (`reports`), those hashes in the audit chain, and the report mailed
//! to the admins with the PDF and XLSX in their language attached (`mail`), all in one
//! transaction.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::audit::{self, Who};
use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::documents::verify;
use crate::error::AppError;
use crate::mail::model::Attachment;
use crate::reports::model::{
    previous_month, Format, Month, MonthlyReport, StoredFile, StoredListing, StoredReport, Written,
    REPORT_LANGS,
};
use crate::reports::store::PdfRecord;
use crate::reports::{figures, store};
use crate::AppState;

/// The figures of `month` now.
pub fn figures(state: &AppState, month: Month) -> Result<MonthlyReport, AppError> {
    let mut conn = state.db.reader()?;
    let now = state.clock.now();
    // One snapshot: a change committed meanwhile is in every figure or in none.
    crate::db::read_snapshot(&mut conn, |c| {
        let mut report = figures::monthly(c, state.tz, month, now)?;
        let day = if report.provisional {
            now.with_timezone(&state.tz)
                .date_naive()
                .min(report.last_day)
        } else {
            report.last_day
        };
        report.registration = crate::contracts::registration::counts_on(c, day)?;
        Ok(report)
    })
}

/// A month's figures read twice in one snapshot, from the tallies and from the tables, with
/// how long each took: the check that the roll-ups say what the tables say.
#[derive(Debug)]
pub struct TallyCheck {
    pub month: Month,
    pub from_tallies: MonthlyReport,
    pub from_tables: MonthlyReport,
    pub tallies_ms: f64,
    pub tables_ms: f64,
}

impl TallyCheck {
    /// The figures on which the two readings differ, as JSON paths with both values; empty
    /// when they agree.
    pub fn differences(&self) -> Vec<String> {
        let a = serde_json::to_value(&self.from_tallies).unwrap_or_default();
        let b = serde_json::to_value(&self.from_tables).unwrap_or_default();
        let mut out = Vec::new();
        diff("", &a, &b, &mut out);
        out
    }
}

fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                diff(&format!("{path}.{k}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(format!("{path}: tallies {a}, tables {b}")),
        _ => {}
    }
}

/// Counts the report's tallies again from the tables, in one write (operators: `usefirst
/// report-check --rebuild`, after a bulk load was cut short).
pub fn rebuild_tallies(state: &AppState) -> Result<(), AppError> {
    state
        .db
        .write(|c| -> Result<(), AppError> { Ok(crate::reports::tallies::rebuild(c)?) })
}

/// The figures of `month` from the tallies and from the tables, in one snapshot (operators:
/// `usefirst report-check`).
pub fn check_tallies(state: &AppState, month: Month) -> Result<TallyCheck, AppError> {
    let mut conn = state.db.reader()?;
    let now = state.clock.now();
    crate::db::read_snapshot(&mut conn, |c| {
        let t0 = std::time::Instant::now();
        let from_tallies =
            figures::monthly_from(c, figures::Source::Tallies, state.tz, month, now)?;
        let t1 = std::time::Instant::now();
        let from_tables = figures::monthly_from(c, figures::Source::Tables, state.tz, month, now)?;
        let t2 = std::time::Instant::now();
        Ok(TallyCheck {
            month,
            from_tallies,
            from_tables,
            tallies_ms: (t1 - t0).as_secs_f64() * 1000.0,
            tables_ms: (t2 - t1).as_secs_f64() * 1000.0,
        })
    })
}

/// The report of `month` as it stands now for the operator (`usefirst report`): [`issue`]
/// by the platform itself.
pub fn monthly(
    state: &AppState,
    month: Month,
    format: Format,
    lang: &str,
) -> Result<Written, AppError> {
    issue(state, Who::SYSTEM, month, format, lang)
}

/// The report of `month` as it stands now, in `format` (`lang` for the PDF and the XLSX
/// headings: `vi` or `en`), asked for by `who`. A PDF is issued: it prints a new code, and its
/// code and SHA-256 are recorded so that anyone holding it can check it, with a
/// `report.pdf_issued` event (a newer edition makes the earlier ones no longer current).
fn issue(
    state: &AppState,
    who: Who<'_>,
    month: Month,
    format: Format,
    lang: &str,
) -> Result<Written, AppError> {
    let report = figures(state, month)?;
    if format != Format::Pdf {
        return crate::reports::write(&state.fonts, &report, format, lang, None);
    }
    let (written, code) = issue_pdf(state, &report, lang)?;
    let sha256 = sha256(&written.bytes);
    state.db.write(|conn| -> Result<(), AppError> {
        let pdf = PdfRecord {
            verify_code: &code,
            month: &report.month,
            lang,
            provisional: report.provisional,
            sha256: &sha256,
            generated_at: report.generated_at,
            report_id: None,
        };
        store::record_pdf(conn, &pdf)?;
        audit::append(
            conn,
            state.clock.now(),
            who,
            "report.pdf_issued",
            "monthly_report",
            &report.month,
            &serde_json::json!({
                "month": report.month, "lang": lang, "provisional": report.provisional,
                "sha256": sha256, "bytes": written.bytes.len(),
            }),
        )?;
        Ok(())
    })?;
    Ok(written)
}

/// `report` as a PDF in `lang`, printing a new code to check it by, and that code.
fn issue_pdf(
    state: &AppState,
    report: &MonthlyReport,
    lang: &str,
) -> Result<(Written, String), AppError> {
    let issued = verify::Issued::new(&state.cfg.app.public_url);
    let written = crate::reports::write(
        &state.fonts,
        report,
        Format::Pdf,
        lang,
        Some(issued.verify()),
    )?;
    Ok((written, issued.code))
}

/// The stored reports a list shows (the latest [`STORED_SHOWN`]).
pub const STORED_SHOWN: i64 = 36;

/// What the report page of `month` shows `actor` (an admin or an auditor; to anyone else
/// reports do not exist): the month's figures now and the stored reports with their hashes.
pub fn page(
    state: &AppState,
    actor: &Actor,
    month: Month,
) -> Result<(MonthlyReport, Vec<StoredListing>), AppError> {
    require(actor, Act::ReadReports)?;
    let report = figures(state, month)?;
    let mut conn = state.db.reader()?;
    let stored = store::list(&mut conn, STORED_SHOWN)?;
    Ok((report, stored))
}

/// The stored reports alone, for `actor` (an admin or an auditor).
pub fn stored(state: &AppState, actor: &Actor) -> Result<Vec<StoredListing>, AppError> {
    require(actor, Act::ReadReports)?;
    let mut conn = state.db.reader()?;
    Ok(store::list(&mut conn, STORED_SHOWN)?)
}

/// The report of `month` now in `format` and `lang`, for `actor` (an admin or an auditor).
pub fn download(
    state: &AppState,
    actor: &Actor,
    month: Month,
    format: Format,
    lang: &str,
) -> Result<Written, AppError> {
    require(actor, Act::ReadReports)?;
    issue(state, Who::from(actor), month, format, lang)
}

/// A stored report's file (`pdf` or `xlsx`, `vi` or `en`) as it was made, for `actor` (an
/// admin or an auditor); `NotFound` when there is no such file.
pub fn stored_file(
    state: &AppState,
    actor: &Actor,
    report_id: &str,
    format: &str,
    lang: &str,
) -> Result<store::File, AppError> {
    require(actor, Act::ReadReports)?;
    let mut conn = state.db.reader()?;
    store::file(&mut conn, report_id, format, lang)?.ok_or(AppError::NotFound)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
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
        store::last_final_month(&mut conn)?
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
        let (pdf, code) = issue_pdf(state, &report, lang)?;
        let xlsx = crate::reports::write(&state.fonts, &report, Format::Xlsx, lang, None)?;
        for (format, bytes, verify_code) in
            [("pdf", pdf.bytes, Some(code)), ("xlsx", xlsx.bytes, None)]
        {
            files.push((
                StoredFile {
                    format,
                    lang,
                    sha256: sha256(&bytes),
                    verify_code,
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
        store::insert(conn, now, &stored, &json, &files)?;
        for f in &stored.files {
            if let Some(code) = &f.verify_code {
                store::record_pdf(
                    conn,
                    &PdfRecord {
                        verify_code: code,
                        month: &stored.month,
                        lang: f.lang,
                        provisional: stored.provisional,
                        sha256: &f.sha256,
                        generated_at: now,
                        report_id: Some(&stored.id),
                    },
                )?;
            }
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
        let lang_of = |locale: &str| {
            REPORT_LANGS
                .into_iter()
                .find(|l| *l == locale)
                .unwrap_or(REPORT_LANGS[0])
        };
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
