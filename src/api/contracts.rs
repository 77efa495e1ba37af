//! `GET /agreements/{id}/settlement`: the conversion contract's statement.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::agreements::model::Agreement;
use crate::agreements::store;
use crate::audit::Who;
use crate::auth::session::Actor;
use crate::contracts::{self, PaymentInput, SalesReportInput, Statement};
use crate::error::{AppError, AppResult};
use crate::http::{blocking, JsonBody};
use crate::rules::roles::Role;
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
    let statement = blocking(move || {
        let mut conn = state.db.reader()?;
        let row = store::get_visible(&mut conn, &actor, &id)?;
        let agreement = Agreement::from_row(row, Some(&actor))?;
        let not_converted = || AppError::InvalidTransition {
            detail: "the agreement has not converted; there is no settlement yet".into(),
            current_state: agreement.status.as_str().to_string(),
            current_version: agreement.version,
        };
        let terms = &agreement
            .terms
            .as_ref()
            .ok_or_else(not_converted)?
            .parse()?;
        let tz: chrono_tz::Tz = agreement.time_zone.parse().unwrap_or(state.tz);
        let as_of = as_of.unwrap_or_else(|| state.clock.today(tz));
        contracts::statement(&mut conn, &agreement.id, terms, as_of)?.ok_or_else(not_converted)
    })
    .await?;
    Ok(HttpResponse::Ok().json(statement))
}

/// Which party of an agreement may record a money event.
#[derive(Clone, Copy)]
enum Side {
    Institute,
    Sme,
}

/// The money events a party records on a converted agreement (payments, sales reports):
/// in one write transaction, load the agreement the actor may see (404 otherwise), require the
/// actor to be `side` of it (403), run `record` with the day in the agreement's time zone, and
/// answer the updated statement.
async fn record_for<F>(
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    side: Side,
    record: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(
            &mut crate::db::DbConn,
            chrono::DateTime<chrono::Utc>,
            NaiveDate,
            Who<'_>,
            &str,
            &crate::settlement::terms::Terms,
        ) -> AppResult<serde_json::Value>
        + Send
        + 'static,
{
    let updated = blocking(move || {
        let now = state.clock.now();
        state.db.write(|conn| {
            let row = store::get_visible(conn, &actor, &id)?;
            let (role, org, what) = match side {
                Side::Institute => (
                    Role::Institute,
                    &row.institute_id,
                    "only the agreement's institute records payments it received",
                ),
                Side::Sme => (
                    Role::Sme,
                    &row.sme_id,
                    "only the agreement's SME reports its sales",
                ),
            };
            if actor.role != role || actor.organisation_id != *org {
                return Err(AppError::Forbidden(what.into()));
            }
            let agreement = Agreement::from_row(row, Some(&actor))?;
            let terms = &agreement
                .terms
                .as_ref()
                .ok_or_else(|| AppError::Conflict("the agreement has not converted".into()))?
                .parse()?;
            let tz: chrono_tz::Tz = agreement.time_zone.parse().unwrap_or(state.tz);
            let today = now.with_timezone(&tz).date_naive();
            let who = Who::from(&actor);
            record(conn, now, today, who, &agreement.id, terms)?;
            contracts::statement(conn, &agreement.id, terms, today)?.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "the contract of {} vanished while recording",
                    agreement.id
                ))
            })
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(updated))
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
    let rounding = state.cfg.settlement.rounding;
    record_for(
        state,
        actor,
        id.into_inner(),
        Side::Institute,
        move |conn, now, today, who, agreement_id, terms| {
            contracts::record_payment(
                conn,
                now,
                today,
                who,
                agreement_id,
                terms,
                &body.0,
                rounding,
            )
        },
    )
    .await
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
    let rounding = state.cfg.settlement.rounding;
    record_for(
        state,
        actor,
        id.into_inner(),
        Side::Sme,
        move |conn, now, today, who, agreement_id, _terms| {
            contracts::report_sales(conn, now, today, who, agreement_id, &body.0, rounding)
        },
    )
    .await
}
