//! `/technologies` and their `/terms`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::technologies as app;
use crate::auth::session::Actor;
use crate::error::{AppError, AppResult};
use crate::http::{blocking, if_match, one_of, point_read, JsonBody, Page, PageQuery};
use crate::settlement::terms::Terms;
use crate::technologies::model::{Search, Technology, TechnologyInput, TermsVersion, STATUSES};
use crate::AppState;

/// List a technology (institute). It starts as `draft` unless `status` says `listed`.
#[utoipa::path(tag = "technologies", request_body = TechnologyInput,
    responses((status = 201, body = Technology), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/technologies")]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<TechnologyInput>,
) -> AppResult<HttpResponse> {
    let tech = blocking(move || app::create(&state, &actor, &body.0)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", format!("\"{}\"", tech.version)))
        .json(tech))
}

/// Search filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TechnologyQuery {
    /// Words to find in titles, summaries, field or IP reference (accents optional).
    pub q: Option<String>,
    pub field: Option<String>,
    /// `draft`, `listed` or `withdrawn`.
    pub status: Option<String>,
    pub institute_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Search the catalogue: everyone sees listed technologies; institutes also their own drafts.
#[utoipa::path(tag = "technologies", params(TechnologyQuery), responses((status = 200, body = Page<Technology>)), security(("bearer" = [])))]
#[get("/technologies")]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<TechnologyQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let (page, per_page, offset) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    if let Some(error) = one_of("status", q.status.as_deref(), &STATUSES) {
        return Err(AppError::Validation(vec![error]));
    }
    let search = Search {
        q: q.q,
        field: q.field,
        status: q.status,
        institute_id: q.institute_id,
    };
    let res = Page::of(
        blocking(move || app::search(&state, &actor, &search, per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// One technology.
#[utoipa::path(tag = "technologies", responses((status = 200, body = Technology), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/technologies/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let tech: Technology = point_read(state, move |conn| app::get(conn, &actor, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", tech.version)))
        .json(tech))
}

/// Replace a technology's description or status (its institute), with `If-Match`.
#[utoipa::path(tag = "technologies", request_body = TechnologyInput,
    params(("If-Match" = String, Header, description = "The technology's current version")),
    responses((status = 200, body = Technology), (status = 412, body = crate::error::Problem), (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[put("/technologies/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<TechnologyInput>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let tech = blocking(move || app::update(&state, &actor, &id, expected, &body.0)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", tech.version)))
        .json(tech))
}

/// Set new conversion terms (a new version; running agreements keep theirs).
#[utoipa::path(tag = "technologies", request_body = Terms,
    responses((status = 201, body = TermsVersion), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/technologies/{id}/terms")]
pub async fn add_terms(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: JsonBody<Terms>,
) -> AppResult<HttpResponse> {
    let terms = blocking(move || app::add_terms(&state, &actor, &id, body.0)).await?;
    Ok(HttpResponse::Created().json(terms))
}

/// Every version of the technology's terms, newest first.
#[utoipa::path(tag = "technologies", responses((status = 200, body = Vec<TermsVersion>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/technologies/{id}/terms")]
pub async fn list_terms(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let terms = blocking(move || app::terms_history(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(terms))
}
