//! `/demands`: SMEs' needs, the institutes' matches and proposals, and the trial requested
//! from a proposal.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::agreements::model::Agreement;
use crate::app::demands as app;
use crate::auth::session::Actor;
use crate::demands::model::{Demand, DemandInput, Filter, Proposal, ProposalInput};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{blocking, if_match, JsonBody, Page, PageQuery};
use crate::AppState;

fn with_etag(mut res: actix_web::HttpResponseBuilder, demand: &Demand) -> HttpResponse {
    res.insert_header(("ETag", format!("\"{}\"", demand.version)))
        .json(demand)
}

/// Post a demand (an SME): what it needs, where, for how much and by when.
#[utoipa::path(tag = "demands", request_body = DemandInput,
    responses((status = 201, body = Demand), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[post("/demands")]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<DemandInput>,
) -> AppResult<HttpResponse> {
    let demand = blocking(move || app::create(&state, &actor, &body.0)).await?;
    Ok(with_etag(HttpResponse::Created(), &demand))
}

/// Demand filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DemandQuery {
    /// Words to find in the title, description, sector or province (accents optional).
    pub q: Option<String>,
    /// `open` or `closed`.
    pub status: Option<String>,
    /// The field, as the demand names it (`agriculture`, …).
    pub sector: Option<String>,
    /// The province, as the demand writes it (`Đồng Tháp`).
    pub province: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The demands the caller may see: an SME its own, an institute the open ones shown to it
/// (and those it proposed to), admins and auditors all, insurers none; filtered by words,
/// status, field and province, a page at a time.
#[utoipa::path(tag = "demands", params(DemandQuery), responses((status = 200, body = Page<Demand>), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/demands")]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<DemandQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let (page, per_page, offset) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    // A bad status, field or province is 422 naming it (`app::demands::list`).
    let filter = Filter {
        q: q.q,
        status: q.status,
        sector: q.sector,
        province: q.province,
    }
    .trimmed();
    let res = Page::of(
        blocking(move || app::list(&state, &actor, &filter, per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// The open demands the caller's institute may see that its listed technologies match,
/// best first, each with the matching technologies and why they match.
#[utoipa::path(tag = "demands", responses((status = 200, body = Vec<app::DemandMatch>), (status = 403, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/demands/matches")]
pub async fn matches(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let found = blocking(move || app::matches(&state, &actor)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// One demand.
#[utoipa::path(tag = "demands", responses((status = 200, body = Demand), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/demands/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let demand = blocking(move || app::get(&state, &actor, &id)).await?;
    Ok(with_etag(HttpResponse::Ok(), &demand))
}

/// Replace an open demand (its SME), with `If-Match`.
#[utoipa::path(tag = "demands", request_body = DemandInput,
    params(("If-Match" = String, Header, description = "The demand's current version")),
    responses((status = 200, body = Demand), (status = 409, body = crate::error::Problem), (status = 412, body = crate::error::Problem), (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[put("/demands/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<DemandInput>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let demand = blocking(move || app::update(&state, &actor, &id, expected, &body.0)).await?;
    Ok(with_etag(HttpResponse::Ok(), &demand))
}

/// Close an open demand (its SME), with `If-Match`.
#[utoipa::path(tag = "demands",
    params(("If-Match" = String, Header, description = "The demand's current version")),
    responses((status = 200, body = Demand), (status = 409, body = crate::error::Problem), (status = 412, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/demands/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let demand = blocking(move || app::close(&state, &actor, &id, expected)).await?;
    Ok(with_etag(HttpResponse::Ok(), &demand))
}

/// The proposals made to a demand: its SME and the supervisors see all, an institute its own.
#[utoipa::path(tag = "demands", responses((status = 200, body = Vec<Proposal>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/demands/{id}/proposals")]
pub async fn proposals(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let found = blocking(move || app::proposals(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Propose one of the caller's listed technologies to an open demand (an institute); the
/// SME is mailed.
#[utoipa::path(tag = "demands", request_body = ProposalInput,
    responses((status = 201, body = Proposal), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/demands/{id}/proposals")]
pub async fn propose(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: JsonBody<ProposalInput>,
) -> AppResult<HttpResponse> {
    let proposal = blocking(move || app::propose(&state, &actor, &id, &body.0)).await?;
    Ok(HttpResponse::Created().json(proposal))
}

/// What the SME adds to request a trial from a proposal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialFromProposal {
    /// Where the technology will be used (plant, site).
    pub place_of_use: String,
    /// A note to the institute.
    #[serde(default)]
    pub message: String,
    /// The day the SME would like the trial to start, YYYY-MM-DD.
    pub requested_start: String,
}

/// Request a trial of a proposal's technology (the demand's SME): the trial request and the
/// demand's closing happen together.
#[utoipa::path(tag = "demands", request_body = TrialFromProposal,
    responses((status = 201, body = Agreement), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/demands/{id}/proposals/{proposal_id}/request")]
pub async fn request_trial(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    body: JsonBody<TrialFromProposal>,
) -> AppResult<HttpResponse> {
    let (id, proposal_id) = path.into_inner();
    let input = body.0;
    let mut errors = Vec::new();
    let place_of_use =
        crate::error::required_text(&mut errors, "place_of_use", &input.place_of_use, 500);
    if input.message.chars().count() > 4000 {
        errors.push(FieldError::new(
            "message",
            "must be at most 4000 characters",
        ));
    }
    let start = NaiveDate::parse_from_str(input.requested_start.trim(), "%Y-%m-%d");
    if start.is_err() {
        errors.push(FieldError::new(
            "requested_start",
            "must be a date, YYYY-MM-DD",
        ));
    }
    let requested_start = match start {
        Ok(d) if errors.is_empty() => d,
        _ => return Err(AppError::Validation(errors)),
    };
    let req = app::FromProposal {
        place_of_use,
        message: input.message.trim().to_string(),
        requested_start,
    };
    let agreement =
        blocking(move || app::request_trial(&state, &actor, &id, &proposal_id, &req)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/agreements/{}", agreement.id)))
        .insert_header(("ETag", format!("\"{}\"", agreement.version)))
        .json(agreement))
}
