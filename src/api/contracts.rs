//! `GET /agreements/{id}/settlement`: the conversion contract's statement.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::contracts as app;
use crate::auth::session::Actor;
use crate::contracts::model::{PaymentInput, SalesReportInput, Statement};
use crate::error::{AppError, AppResult};
use crate::http::{blocking, JsonBody};
use crate::AppState;

/// The statement day.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// YYYY-MM-DD; overdue status and interest are computed as of this day (default today in
    /// the agreement's time zone).
    pub as_of: Option<String>,
}

/// The settlement statement of a converted agreement: its schedule with due, paid,
/// outstanding and overdue amounts and late interest as of a day, and the rounding mode.
#[utoipa::path(tag = "agreements", params(StatementQuery),
    responses((status = 200, body = Statement), (status = 404, body = crate::error::Problem),
        (status = 409, description = "The agreement has not converted", body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/agreements/{id}/settlement")]
pub async fn statement(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    q: web::Query<StatementQuery>,
) -> AppResult<HttpResponse> {
    let as_of = match q.into_inner().as_of {
        None => None,
        Some(text) => Some(NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
            AppError::field(
                "as_of",
                format!("must be a date written YYYY-MM-DD, got {text:?}"),
            )
        })?),
    };
    let statement = blocking(move || app::statement(&state, &actor, &id, as_of)).await?;
    Ok(HttpResponse::Ok().json(statement))
}

/// Record a payment received (the agreement's institute). It is allocated to the oldest open
/// installments and distributed by the terms' shares; overpayment and a reference already
/// recorded are refused. Answers the updated statement.
#[utoipa::path(tag = "agreements", request_body = PaymentInput,
    responses((status = 201, body = Statement), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/agreements/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: JsonBody<PaymentInput>,
) -> AppResult<HttpResponse> {
    let updated = blocking(move || app::record_payment(&state, &actor, &id, &body.0)).await?;
    Ok(HttpResponse::Created().json(updated))
}

/// Report net sales for a royalty quarter (the agreement's SME). Adds the royalty, due 30
/// days after the quarter, to the schedule. Answers the updated statement.
#[utoipa::path(tag = "agreements", request_body = SalesReportInput,
    responses((status = 201, body = Statement), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/agreements/{id}/sales-reports")]
pub async fn report_sales(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: JsonBody<SalesReportInput>,
) -> AppResult<HttpResponse> {
    let updated = blocking(move || app::report_sales(&state, &actor, &id, &body.0)).await?;
    Ok(HttpResponse::Created().json(updated))
}
