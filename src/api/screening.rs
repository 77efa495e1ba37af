//! `/technologies/{id}/screening`: screening before listing. The institute submits its
//! technology; the platform operator's admins list it or return it with reasons
//! (`/decision`); `/screening/queue` lists what waits for them.

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use crate::app::screening as app;
use crate::auth::session::Actor;
use crate::error::AppResult;
use crate::http::{blocking, if_match, JsonBody};
use crate::technologies::model::{ScreeningDecision, ScreeningRecord};
use crate::AppState;

fn answer(record: ScreeningRecord) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", record.version)))
        .json(record)
}

/// Submit a technology for screening (its institute), with `If-Match` (the technology's
/// version). A draft, returned or withdrawn technology goes `in_screening`.
#[utoipa::path(tag = "screening",
    params(("If-Match" = String, Header, description = "The technology's current version")),
    responses((status = 200, body = ScreeningRecord),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Already in screening or listed"),
        (status = 412, body = crate::error::Problem), (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/technologies/{id}/screening")]
pub async fn submit(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let record = blocking(move || app::submit(&state, &actor, &id, expected)).await?;
    Ok(answer(record))
}

/// List a technology in screening, or return it with a reason (admins), with `If-Match`.
/// Listing needs every checklist item yes; both record the readiness level (1–9).
#[utoipa::path(tag = "screening", request_body = ScreeningDecision,
    params(("If-Match" = String, Header, description = "The technology's current version")),
    responses((status = 200, body = ScreeningRecord),
        (status = 403, body = crate::error::Problem, description = "Not a reviewer"),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Not in screening"),
        (status = 412, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/technologies/{id}/screening/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<ScreeningDecision>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let record = blocking(move || app::decide(&state, &actor, &id, expected, &body.0)).await?;
    Ok(answer(record))
}

/// A technology's screening status and every screening it had, newest first (its institute,
/// admins and auditors).
#[utoipa::path(tag = "screening",
    responses((status = 200, body = ScreeningRecord), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/technologies/{id}/screening")]
pub async fn show(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let record = blocking(move || app::record(&state, &actor, &id)).await?;
    Ok(answer(record))
}

/// The technologies waiting for a reviewer, longest waiting first (admins and auditors).
#[utoipa::path(tag = "screening",
    responses((status = 200, body = Vec<crate::app::screening::Waiting>), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/screening/queue")]
pub async fn queue(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let waiting = blocking(move || app::queue(&state, &actor)).await?;
    Ok(HttpResponse::Ok().json(waiting))
}
