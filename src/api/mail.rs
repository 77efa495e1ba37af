//! The outbox for admins: list messages (by status) and retry those that failed.

use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::db::schema::outbox;
use crate::error::{AppError, AppResult};
use crate::http::{blocking, one_of, Page, PageQuery};
use crate::AppState;

/// A message as admins see it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: String,
    pub message_id: String,
    pub kind: String,
    pub agreement_id: Option<String>,
    pub recipient_email: String,
    pub locale: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: chrono::NaiveDateTime,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<chrono::NaiveDateTime>,
}

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
    if let Some(error) = one_of("status", status.as_deref(), &crate::mail::STATUSES) {
        return Err(AppError::Validation(vec![error]));
    }
    let (page, per_page, offset) = PageQuery { page, per_page }.resolve()?;
    let result = blocking(move || {
        let mut conn = state.db.reader()?;
        let filtered = || {
            let mut q = outbox::table.into_boxed();
            if let Some(s) = &status {
                q = q.filter(outbox::status.eq(s.clone()));
            }
            q
        };
        let total: i64 = filtered().count().get_result(&mut conn)?;
        let items: Vec<OutboxMessage> = filtered()
            .order((outbox::created_at.desc(), outbox::id.desc()))
            .limit(per_page)
            .offset(offset)
            .select(OutboxMessage::as_select())
            .load(&mut conn)?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    })
    .await?;
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
    let message = blocking(move || {
        let now = state.clock.now().naive_utc();
        state.db.write(|conn| {
            let status: String = outbox::table
                .find(id.as_str())
                .select(outbox::status)
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            if status != "failed" {
                return Err(AppError::Conflict(format!(
                    "only failed messages are retried; this one is {status}"
                )));
            }
            diesel::update(outbox::table.find(id.as_str()))
                .set((
                    outbox::status.eq("pending"),
                    outbox::next_attempt_at.eq(now),
                    outbox::claimed_until.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute(conn)?;
            Ok(outbox::table
                .find(id.as_str())
                .select(OutboxMessage::as_select())
                .first(conn)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(message))
}
