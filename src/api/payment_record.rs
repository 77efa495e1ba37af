//! The SME's payment record: `GET /agreements/{id}/sme-record` (what the institute sees of
//! the SME asking for a trial) and `GET /organisations/{id}/payment-record` (the SME's own).

use actix_web::{get, web, HttpResponse};

use crate::app::payment_record::{self as app, PaymentRecord};
use crate::auth::session::Actor;
use crate::error::AppResult;
use crate::http::blocking;
use crate::AppState;

/// The record on the platform of the SME party to an agreement: requests, trials by outcome,
/// conversions, payments on time, late and overdue now, non-payment claims. Counts only, no
/// other party named. For the agreement's institute, its SME, admins and auditors.
#[utoipa::path(tag = "agreements",
    responses((status = 200, body = PaymentRecord), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/agreements/{id}/sme-record")]
pub async fn for_agreement(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let record = blocking(move || app::for_agreement(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// An SME's own record on the platform (the same figures its institutes see). For the SME
/// itself, admins and auditors.
#[utoipa::path(tag = "accounts",
    responses((status = 200, body = PaymentRecord), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/organisations/{id}/payment-record")]
pub async fn of_organisation(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let record = blocking(move || app::of_organisation(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(record))
}
