//! The outbox for admins: list messages (by status) and retry those that failed.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::mail as app;
use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::error::{AppError, AppResult};
use crate::http::{blocking, one_of, Page, PageQuery};
use crate::mail::model::{OutboxMessage, STATUSES};
use crate::AppState;

/// Which messages to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `failed`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The outbox, newest first.
#[utoipa::path(tag = "mail", params(OutboxQuery),
    responses((status = 200, body = Page<OutboxMessage>), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/mail/outbox")]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<OutboxQuery>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ManageMail)?;
    let OutboxQuery {
        status,
        page,
        per_page,
    } = query.into_inner();
    if let Some(error) = one_of("status", status.as_deref(), &STATUSES) {
        return Err(AppError::Validation(vec![error]));
    }
    let (page, per_page, offset) = PageQuery { page, per_page }.resolve()?;
    let result = Page::of(
        blocking(move || app::outbox(&state, status.as_deref(), per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(result))
}

/// Send a failed message again: it goes back to the queue, due now, with its Message-ID.
#[utoipa::path(tag = "mail",
    responses((status = 200, body = OutboxMessage), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/mail/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    require(&actor, Act::ManageMail)?;
    let message = blocking(move || app::retry(&state, &id)).await?;
    Ok(HttpResponse::Ok().json(message))
}
