//! `/agreements/{id}/registration`: whether a conversion contract must be registered, by when,
//! and the certificate once entered; the pre-filled application (Form 01).

use actix_web::{get, http::header, post, web, HttpResponse};

use crate::app::contract_registration as app;
use crate::auth::session::Actor;
use crate::contracts::model::{CertificateInput, RegistrationView};
use crate::error::AppResult;
use crate::http::{blocking, JsonBody};
use crate::AppState;

/// The registration of a converted agreement's contract: required or not and why, the
/// deadline and the days left, whether the contract takes effect on the certificate, and the
/// certificate once entered.
#[utoipa::path(tag = "agreements",
    responses((status = 200, body = RegistrationView), (status = 404, body = crate::error::Problem),
        (status = 409, description = "The agreement has not converted", body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/agreements/{id}/registration")]
pub async fn show(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let found = blocking(move || app::view(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Enter the registration certificate (the agreement's institute, or an admin): its number
/// (in China the technology-contract registration number), date and issuing office, and in
/// China the VAT-exemption reference. Payments held for the registration then fall due
/// counting from the certificate's date.
#[utoipa::path(tag = "agreements", request_body = CertificateInput,
    responses((status = 201, body = RegistrationView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "Not converted, registration not required, or already registered", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/agreements/{id}/registration")]
pub async fn record_certificate(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: JsonBody<CertificateInput>,
) -> AppResult<HttpResponse> {
    let recorded = blocking(move || app::record_certificate(&state, &actor, &id, &body.0)).await?;
    Ok(HttpResponse::Created().json(recorded))
}

/// The registration application, pre-filled (Form 01 of Appendix IV to Decree 76/2018/ND-CP,
/// in Vietnamese, PDF): the parties, the technology, the contract's date, price and payments,
/// with labelled blanks for what the platform does not know. Stored with its SHA-256 and a
/// verification code like the agreement's other documents.
#[utoipa::path(tag = "documents",
    responses((status = 200, content_type = "application/pdf", description = "Form 01"),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "Not converted, or no registration in Vietnam required", body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/agreements/{id}/registration/form-01.pdf")]
pub async fn form01(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (number, doc) = blocking(move || app::form01(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::ETAG, format!("\"{}\"", doc.sha256)))
        .insert_header(("X-Document-SHA256", doc.sha256.clone()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{number}-form-01.pdf\""),
        ))
        .body(doc.pdf))
}
