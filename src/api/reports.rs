//! `GET /api/v1/reports/monthly/{yyyy-mm}`: a month's report in JSON, CSV (a ZIP of one file
//! per table), XLSX or PDF, for admins and auditors; to anyone else reports do not exist (404).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::reports as app;
use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{blocking, one_of};
use crate::reports::model::{Format, Month};
use crate::AppState;

/// The report's format and language.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default), `csv` (a ZIP of one UTF-8 file per table), `xlsx` or `pdf`.
    pub format: Option<String>,
    /// `vi` or `en`: the PDF's language and the XLSX headings (default: the caller's own).
    pub lang: Option<String>,
}

/// A calendar month's conversion report in the configured time zone, with the month before,
/// the cumulative totals, breakdowns and the twelve months to it. A month not yet ended is
/// marked `provisional`.
#[utoipa::path(
    tag = "reports",
    params(("month" = String, Path, description = "yyyy-mm"), ReportQuery),
    responses(
        (status = 200, body = crate::reports::model::MonthlyReport, description = "JSON; or CSV (ZIP), XLSX, PDF by `format`"),
        (status = 404, body = crate::error::Problem, description = "Not an admin or auditor"),
        (status = 422, body = crate::error::Problem),
    ),
    security(("bearer" = []))
)]
#[get("/reports/monthly/{month}")]
pub async fn monthly(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ReadReports)?;
    let q = query.into_inner();
    // Every field at fault, named at once.
    let mut errors = Vec::new();
    let month = Month::parse(&path);
    if month.is_none() {
        errors.push(FieldError::new(
            "month",
            "a calendar month as yyyy-mm, from 2000-01",
        ));
    }
    errors.extend(one_of(
        "format",
        q.format.as_deref(),
        &["json", "csv", "xlsx", "pdf"],
    ));
    errors.extend(one_of("lang", q.lang.as_deref(), &["vi", "en"]));
    let (Some(month), true) = (month, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let format = q
        .format
        .as_deref()
        .and_then(Format::parse)
        .unwrap_or(Format::Json);
    let lang = match q.lang {
        Some(l) => l,
        None if actor.locale == "en" => "en".to_string(),
        None => "vi".to_string(),
    };
    let written = blocking(move || app::download(&state, &actor, month, format, &lang)).await?;
    let disposition = if format == Format::Json {
        "inline"
    } else {
        "attachment"
    };
    Ok(HttpResponse::Ok()
        .content_type(written.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{}\"", written.file_name),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(written.bytes))
}
