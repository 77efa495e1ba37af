//! `GET /scheduler/runs`: the scheduler's runs, newest first, for admins.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{blocking, one_of, Page, PageQuery};
use crate::jobs::model::{JobKind, JobRun, RUN_STATUSES};
use crate::AppState;

/// Which runs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only this job (a name of `[scheduler.jobs]`: `advance`, `remind`, `deliver-mail`,
    /// `verify-audit`).
    pub job: Option<String>,
    /// Only runs in this state: `running`, `ok`, `failed`, `abandoned`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The scheduler's runs, newest first: when each started and ended, its outcome and counts.
#[utoipa::path(tag = "scheduler", params(RunsQuery),
    responses((status = 200, body = Page<JobRun>), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/scheduler/runs")]
pub async fn runs(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<RunsQuery>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ReadJobRuns)?;
    let RunsQuery {
        job,
        status,
        page,
        per_page,
    } = query.into_inner();
    let mut errors = Vec::new();
    if let Some(j) = &job {
        if JobKind::parse(j).is_none() {
            errors.push(FieldError::new("job", format!("no job named {j:?}")));
        }
    }
    errors.extend(one_of("status", status.as_deref(), &RUN_STATUSES));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (page, per_page, offset) = PageQuery { page, per_page }.resolve()?;
    let result = Page::of(
        blocking(move || {
            crate::app::jobs::runs(&state, job.as_deref(), status.as_deref(), per_page, offset)
        })
        .await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(result))
}
