//! `/agreements`: request, list, read, history, and one POST per action. Every action takes
//! `If-Match` with the agreement's version; the answer carries the new version as `ETag`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::agreements::model::{ActionInput, Agreement, ListFilter, NewRequest};
use crate::app::agreements as app;
use crate::audit::model::Event;
use crate::auth::policy::{authorize, Act, Decision, On};
use crate::auth::session::Actor;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{blocking, if_match, is_json, parse_json, point_read, LimitedBody, Page};
use crate::rules::lifecycle::{Action, Status};
use crate::settlement::quote::Quote;
use crate::AppState;

/// An SME's request for a free trial.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialRequest {
    pub technology_id: String,
    /// Where the technology will be used (plant, site).
    pub place_of_use: String,
    /// A note to the institute.
    #[serde(default)]
    pub message: String,
    /// The day the SME would like the trial to start.
    pub requested_start: NaiveDate,
}

fn respond(agreement: Agreement, created: bool) -> HttpResponse {
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header(("ETag", format!("\"{}\"", agreement.version)));
    if created {
        res.insert_header(("Location", format!("/api/v1/agreements/{}", agreement.id)));
    }
    res.json(agreement)
}

/// Request a trial (SME). Honours `Idempotency-Key`: a repeat with the same key and body
/// answers the first result without creating another agreement.
#[utoipa::path(tag = "agreements", request_body = TrialRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = Agreement), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/agreements")]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: LimitedBody,
) -> AppResult<HttpResponse> {
    let body = body.0;
    if authorize(&actor, Act::RequestTrial, On::Platform) != Decision::Allow {
        return Err(AppError::Forbidden("only SMEs request trials".into()));
    }
    let key = match req.headers().get("Idempotency-Key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 200 => Some(k.trim().to_string()),
            _ => {
                return Err(AppError::field(
                    "Idempotency-Key",
                    "must be 1 to 200 visible characters",
                ))
            }
        },
    };
    let input: TrialRequest = parse_json_request(&req, &body)?;
    let mut errors = Vec::new();
    let place_of_use =
        crate::error::required_text(&mut errors, "place_of_use", &input.place_of_use, 500);
    if input.message.chars().count() > 4000 {
        errors.push(FieldError::new(
            "message",
            "must be at most 4000 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let request_hash = hex::encode(Sha256::digest(&body));
    let created = blocking(move || {
        app::request_once(
            &state,
            &actor,
            key.as_deref(),
            &request_hash,
            NewRequest {
                technology_id: &input.technology_id,
                place_of_use,
                message: input.message.trim().to_string(),
                requested_start: input.requested_start,
            },
        )
    })
    .await?;
    let (status, json) = (created.status, created.body);
    let agreement: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))?;
    let mut res = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::CREATED),
    );
    if let Some(id) = agreement["id"].as_str() {
        res.insert_header(("Location", format!("/api/v1/agreements/{id}")));
    }
    if let Some(v) = agreement["version"].as_i64() {
        res.insert_header(("ETag", format!("\"{v}\"")));
    }
    Ok(res.content_type("application/json").body(json))
}

/// Checks the content type of a body read as bytes, then parses it.
fn parse_json_request<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> AppResult<T> {
    check_json_body(req)?;
    parse_json(body)
}

pub(crate) fn check_json_body(req: &HttpRequest) -> AppResult<()> {
    if is_json(req) {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType)
    }
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgreementQuery {
    pub status: Option<String>,
    pub technology_id: Option<String>,
    pub sme_id: Option<String>,
    pub institute_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The agreements the caller's organisation is party to (all, for admins and auditors;
/// the covered ones, for insurers), newest first.
#[utoipa::path(tag = "agreements", params(AgreementQuery), responses((status = 200, body = Page<Agreement>)), security(("bearer" = [])))]
#[get("/agreements")]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<AgreementQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let (page, per_page, offset) = crate::http::PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let status = match &q.status {
        None => None,
        Some(s) => {
            Some(Status::parse(s).ok_or_else(|| AppError::field("status", "unknown status"))?)
        }
    };
    let filter = ListFilter {
        status,
        technology_id: q.technology_id,
        sme_id: q.sme_id,
        institute_id: q.institute_id,
        waiting_on: None,
    };
    let res = Page::of(
        blocking(move || app::list(&state, &actor, &filter, per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// One agreement; its version is also the `ETag`.
#[utoipa::path(tag = "agreements", responses((status = 200, body = Agreement), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/agreements/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let agreement = point_read(state, move |conn| app::get(conn, &actor, &id)).await?;
    Ok(respond(agreement, false))
}

/// The agreement's own history from the audit chain, oldest first.
#[utoipa::path(tag = "agreements", responses((status = 200, body = Vec<Event>), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/agreements/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let events = blocking(move || app::events(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(events))
}

/// When the quote is for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuoteQuery {
    /// The conversion day, YYYY-MM-DD (default: today in the agreement's time zone).
    pub convert_on: Option<String>,
}

/// What converting would cost under the agreement's fixed terms: the schedule it would
/// create, the early-conversion discount when converting before the trial ends, and who
/// receives each payment. Nothing is saved.
#[utoipa::path(tag = "agreements", params(QuoteQuery),
    responses((status = 200, body = Quote), (status = 404, body = crate::error::Problem),
        (status = 409, description = "No terms are fixed yet (before approval)", body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/agreements/{id}/quote")]
pub async fn quote(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    q: web::Query<QuoteQuery>,
) -> AppResult<HttpResponse> {
    let convert_on = match q.into_inner().convert_on {
        None => None,
        Some(text) => Some(NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
            AppError::field(
                "convert_on",
                format!("must be a date written YYYY-MM-DD, got {text:?}"),
            )
        })?),
    };
    let quote = blocking(move || app::quote(&state, &actor, &id, convert_on)).await?;
    Ok(HttpResponse::Ok().json(quote))
}

async fn act(
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    req: &HttpRequest,
    action: Action,
    input: ActionInput,
) -> AppResult<HttpResponse> {
    let expected = if_match(req)?;
    let agreement =
        blocking(move || app::act(&state, &actor, &id, expected, action, &input)).await?;
    Ok(respond(agreement, false))
}

/// Approval by the institute: fixes the terms and the trial dates.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Trial start; the SME's requested start when absent.
    pub trial_start: Option<NaiveDate>,
    /// The insurer covering the trial (required when the terms require insurance, unless
    /// `insurance_product_id` names it).
    pub insurer_id: Option<String>,
    /// The insurance product chosen now (a party may also choose it later, before signing);
    /// its insurer covers the trial.
    pub insurance_product_id: Option<String>,
    /// The cover asked of that product, major units (default: the product's maximum).
    pub insurance_coverage: Option<String>,
}

/// A reason, required for reject and terminate.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

/// How many days to add to the trial.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    pub days: u32,
}

/// Converting: optionally, the tax that applies (a rate, or an exemption and its basis).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertBody {
    pub tax: Option<crate::settlement::pricing::Tax>,
}

/// No fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

fn reason(body: ReasonBody, required: bool) -> AppResult<Option<String>> {
    let r = body
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    match &r {
        None if required => Err(AppError::field("reason", "a reason is required")),
        Some(text) if text.chars().count() > 2000 => {
            Err(AppError::field("reason", "must be at most 2000 characters"))
        }
        _ => Ok(r),
    }
}

macro_rules! action_doc {
    ($name:ident, $path:literal, $body:ty, $summary:literal) => {
        #[utoipa::path(post, path = $path, tag = "agreements", request_body = $body, summary = $summary,
            params(("id" = String, Path), ("If-Match" = String, Header, description = "The agreement's current version")),
            responses((status = 200, body = Agreement), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
                (status = 409, description = "Not allowed in the current state", body = crate::error::Problem),
                (status = 412, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 428, body = crate::error::Problem)),
            security(("bearer" = [])))]
        #[allow(dead_code)]
        pub fn $name() {}
    };
}

action_doc!(
    approve_doc,
    "/api/v1/agreements/{id}/approve",
    ApproveBody,
    "Approve a request (institute)"
);
action_doc!(
    reject_doc,
    "/api/v1/agreements/{id}/reject",
    ReasonBody,
    "Reject a request (institute; reason required)"
);
action_doc!(
    withdraw_doc,
    "/api/v1/agreements/{id}/withdraw",
    ReasonBody,
    "Withdraw a request (SME)"
);
action_doc!(
    sign_doc,
    "/api/v1/agreements/{id}/sign",
    EmptyBody,
    "Sign for the caller's side (SME or institute)"
);
action_doc!(
    convert_doc,
    "/api/v1/agreements/{id}/convert",
    ConvertBody,
    "Convert on the agreed terms, stating the tax that applies (SME)"
);
action_doc!(
    decline_doc,
    "/api/v1/agreements/{id}/decline",
    ReasonBody,
    "Decline to convert (SME)"
);
action_doc!(
    terminate_doc,
    "/api/v1/agreements/{id}/terminate",
    ReasonBody,
    "Terminate a running trial (reason required)"
);
action_doc!(
    extend_doc,
    "/api/v1/agreements/{id}/extend",
    ExtendBody,
    "Extend the trial once (institute)"
);

/// `POST /agreements/{id}/{action}`: one route, dispatched by action name, each with its
/// own body shape. An empty body counts as `{}`.
pub async fn take_action(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: LimitedBody,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let (id, name) = path.into_inner();
    let action = Action::parse(&name)
        .filter(|a| !a.is_time_driven())
        .ok_or(AppError::NotFound)?;
    let empty = body.iter().all(u8::is_ascii_whitespace);
    if !empty {
        check_json_body(&req)?;
    }
    let raw: &[u8] = if empty { b"{}" } else { &body };
    let input = match action {
        Action::Approve => {
            let b: ApproveBody = parse_json(raw)?;
            ActionInput {
                trial_start: b.trial_start,
                insurer_id: b.insurer_id,
                insurance_product_id: b.insurance_product_id,
                insurance_coverage: b.insurance_coverage,
                ..Default::default()
            }
        }
        Action::Reject | Action::Terminate => ActionInput {
            reason: reason(parse_json(raw)?, true)?,
            ..Default::default()
        },
        Action::Withdraw | Action::Decline => ActionInput {
            reason: reason(parse_json(raw)?, false)?,
            ..Default::default()
        },
        Action::Extend => {
            let b: ExtendBody = parse_json(raw)?;
            ActionInput {
                days: Some(b.days),
                ..Default::default()
            }
        }
        Action::Convert => {
            let b: ConvertBody = parse_json(raw)?;
            if let Some(Err((field, why))) = b.tax.as_ref().map(|t| t.check()) {
                return Err(AppError::field(format!("tax.{field}"), why));
            }
            ActionInput {
                tax: b.tax,
                ..Default::default()
            }
        }
        _ => {
            let _: EmptyBody = parse_json(raw)?;
            ActionInput::default()
        }
    };
    let input = ActionInput {
        rounding: state.cfg.settlement.rounding,
        registration: state.cfg.registration.clone(),
        ..input
    };
    act(state, actor, id, &req, action, input).await
}
