//! `/insurance/…` (products, the choice of cover, the insurer's view, policies) and
//! `/claims/…`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::agreements::model::Agreement;
use crate::app::insurance as app;
use crate::auth::session::Actor;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{blocking, if_match, parse_json, JsonBody, Page, PageQuery};
use crate::insurance::model::{
    check_viewer, Claim, ClaimAction, ClaimFilter, ClaimInput, ClaimStatus, ClaimStep,
    CoveredAgreement, CoveredFilter, Dashboard, Policy, Product, ProductInput, Risk,
};
use crate::rules::lifecycle::Status;
use crate::rules::roles::Role;
use crate::AppState;

fn with_version<T: serde::Serialize>(
    mut res: actix_web::HttpResponseBuilder,
    version: i64,
    body: T,
) -> HttpResponse {
    res.insert_header(("ETag", format!("\"{version}\"")));
    res.json(body)
}

fn risk_param(text: Option<&str>) -> Result<Option<Risk>, FieldError> {
    match text {
        None => Ok(None),
        Some(t) => Risk::parse(t).map(Some).ok_or_else(|| {
            FieldError::new("risk", "must be implementation_failure or non_payment")
        }),
    }
}

/// Define an insurance product (insurer). It is version 1; every change is a new version.
#[utoipa::path(tag = "insurance", request_body = ProductInput,
    responses((status = 201, body = Product), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/insurance/products")]
pub async fn create_product(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<ProductInput>,
) -> AppResult<HttpResponse> {
    if actor.role != Role::Insurer {
        return Err(AppError::Forbidden(
            "only insurers define insurance products".into(),
        ));
    }
    let product = blocking(move || app::create_product(&state, &actor, &body.0)).await?;
    let version = product.version.into();
    Ok(with_version(HttpResponse::Created(), version, product))
}

/// Write the next version of a product (its insurer), with `If-Match` of the current one.
/// Choices and policies made on earlier versions keep them.
#[utoipa::path(tag = "insurance", request_body = ProductInput,
    params(("id" = String, Path, description = "The product"),
        ("If-Match" = String, Header, description = "The product's current version")),
    responses((status = 200, body = Product), (status = 404, body = crate::error::Problem),
        (status = 412, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
        (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[put("/insurance/products/{id}")]
pub async fn revise_product(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<ProductInput>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    if actor.role != Role::Insurer {
        return Err(AppError::NotFound);
    }
    let product =
        blocking(move || app::revise_product(&state, &actor, &id, expected, &body.0)).await?;
    let version = product.version.into();
    Ok(with_version(HttpResponse::Ok(), version, product))
}

/// Product filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    pub insurer_id: Option<String>,
    /// `implementation_failure` or `non_payment`.
    pub risk: Option<String>,
    pub currency: Option<String>,
}

/// The products a party may choose today (their latest versions); insurers also see their
/// own inactive ones, admins and auditors all.
#[utoipa::path(tag = "insurance", params(ProductQuery), responses((status = 200, body = Vec<Product>)), security(("bearer" = [])))]
#[get("/insurance/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ProductQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let risk = risk_param(q.risk.as_deref()).map_err(|e| AppError::Validation(vec![e]))?;
    let list = blocking(move || {
        app::list_products(
            &state,
            &actor,
            q.insurer_id.as_deref(),
            risk,
            q.currency.as_deref(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Which version.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A version (default: the latest).
    pub version: Option<i32>,
}

/// One product, its latest version or `?version=N`; its version is the `ETag`.
#[utoipa::path(tag = "insurance", params(VersionQuery),
    responses((status = 200, body = Product), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/insurance/products/{id}")]
pub async fn get_product(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> AppResult<HttpResponse> {
    let wanted = q.into_inner().version;
    let product = blocking(move || app::product(&state, &actor, &id, wanted)).await?;
    let version = product.version.into();
    Ok(with_version(HttpResponse::Ok(), version, product))
}

/// The product chosen for an agreement's insurance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseBody {
    pub product_id: String,
    /// The cover asked, major units (default: the product's maximum coverage).
    #[serde(default)]
    pub coverage: Option<String>,
}

/// Choose the insurance product and cover of an approved agreement (its SME or institute),
/// before either party signs, with `If-Match` of the agreement's version. The product's
/// insurer covers the trial; the policy is bound on this product version at the last
/// signature.
#[utoipa::path(tag = "insurance", request_body = ChooseBody,
    params(("id" = String, Path, description = "The agreement"),
        ("If-Match" = String, Header, description = "The agreement's current version")),
    responses((status = 200, body = Agreement), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 412, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem), (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/insurance/agreements/{id}/product")]
pub async fn choose_product(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<ChooseBody>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let agreement = blocking(move || {
        app::choose_product(
            &state,
            &actor,
            &id,
            expected,
            &body.0.product_id,
            body.0.coverage.as_deref(),
        )
    })
    .await?;
    let version = agreement.version;
    Ok(with_version(HttpResponse::Ok(), version, agreement))
}

/// Filters of the insurer's view.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CoveredQuery {
    /// The agreement's status.
    pub status: Option<String>,
    /// `implementation_failure` or `non_payment`.
    pub risk: Option<String>,
    /// Trials starting on or after this day (YYYY-MM-DD; the requested start before approval).
    pub from: Option<NaiveDate>,
    /// Trials starting on or before this day.
    pub to: Option<NaiveDate>,
    pub institute_id: Option<String>,
    /// The SME's province.
    pub province: Option<String>,
    /// Admins and auditors: one insurer's.
    pub insurer_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The agreements the insurer covers (insurers; admins and auditors see every insured one):
/// the parties' organisations and contact addresses, the technology, the dates, the chosen
/// product, the policies with premium, shares and claims. Nothing about users.
#[utoipa::path(tag = "insurance", params(CoveredQuery),
    responses((status = 200, body = Page<CoveredAgreement>), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/insurance/agreements")]
pub async fn covered_list(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<CoveredQuery>,
) -> AppResult<HttpResponse> {
    check_viewer(&actor)?;
    let q = q.into_inner();
    let (page, per_page, offset) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let mut errors = Vec::new();
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Status::parse(s).or_else(|| {
            errors.push(FieldError::new("status", "unknown status"));
            None
        }),
    };
    let risk = risk_param(q.risk.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            errors.push(FieldError::new("to", "must not be before from"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let filter = CoveredFilter {
        status,
        risk,
        from: q.from,
        to: q.to,
        institute_id: q.institute_id,
        province: q.province,
        insurer_id: q.insurer_id,
    };
    let res = Page::of(
        blocking(move || app::covered_agreements(&state, &actor, &filter, per_page, offset))
            .await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// One covered agreement (404 for an insurer that does not cover it).
#[utoipa::path(tag = "insurance",
    responses((status = 200, body = CoveredAgreement), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/insurance/agreements/{id}")]
pub async fn covered_get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let res = blocking(move || app::covered_agreement(&state, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Whose dashboard.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// Admins and auditors: one insurer's (default: all).
    pub insurer_id: Option<String>,
}

/// The insurer's dashboard: covered trials by status, and per currency the premiums written,
/// the subsidy, claims filed, approved, rejected and paid, and the loss ratio.
#[utoipa::path(tag = "insurance", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[get("/insurance/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<DashboardQuery>,
) -> AppResult<HttpResponse> {
    let insurer = q.into_inner().insurer_id;
    let res = blocking(move || app::dashboard(&state, &actor, insurer.as_deref())).await?;
    Ok(HttpResponse::Ok().json(res))
}

/// Policy filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PolicyQuery {
    pub agreement_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The policies the caller may see: an SME's and an institute's on their agreements, an
/// insurer's own, all for admins and auditors; newest first, with their claims.
#[utoipa::path(tag = "insurance", params(PolicyQuery), responses((status = 200, body = Page<Policy>)), security(("bearer" = [])))]
#[get("/insurance/policies")]
pub async fn policies(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<PolicyQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let (page, per_page, offset) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let res = Page::of(
        blocking(move || {
            app::policies(&state, &actor, q.agreement_id.as_deref(), per_page, offset)
        })
        .await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// File a claim: the SME for implementation failure (during the trial or the decision
/// window), the institute for non-payment (an installment overdue past the grace period).
#[utoipa::path(tag = "claims", request_body = ClaimInput,
    responses((status = 201, body = Claim), (status = 403, body = crate::error::Problem),
        (status = 409, description = "Outside the claim's window, or no policy in force covers the risk", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/claims")]
pub async fn file_claim(
    state: web::Data<AppState>,
    actor: Actor,
    body: JsonBody<ClaimInput>,
) -> AppResult<HttpResponse> {
    let claim = blocking(move || app::file_claim(&state, &actor, &body.0)).await?;
    let version = claim.version;
    let mut res = HttpResponse::Created();
    res.insert_header(("Location", format!("/api/v1/claims/{}", claim.id)));
    Ok(with_version(res, version, claim))
}

/// Claim filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClaimQuery {
    /// `filed`, `approved`, `rejected`, `withdrawn` or `paid`.
    pub status: Option<String>,
    pub agreement_id: Option<String>,
    pub risk: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The claims the caller may see (parties: on their agreements; insurers: their own; admins
/// and auditors: all), newest first.
#[utoipa::path(tag = "claims", params(ClaimQuery), responses((status = 200, body = Page<Claim>)), security(("bearer" = [])))]
#[get("/claims")]
pub async fn list_claims(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ClaimQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let (page, per_page, offset) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let mut errors = Vec::new();
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => ClaimStatus::parse(s).or_else(|| {
            errors.push(FieldError::new(
                "status",
                "must be filed, approved, rejected, withdrawn or paid",
            ));
            None
        }),
    };
    let risk = risk_param(q.risk.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let filter = ClaimFilter {
        status,
        agreement_id: q.agreement_id,
        risk,
    };
    let res = Page::of(
        blocking(move || app::list_claims(&state, &actor, &filter, per_page, offset)).await?,
        page,
        per_page,
    );
    Ok(HttpResponse::Ok().json(res))
}

/// One claim; its version is the `ETag`.
#[utoipa::path(tag = "claims", responses((status = 200, body = Claim), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/claims/{id}")]
pub async fn get_claim(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let claim = blocking(move || app::claim(&state, &actor, &id)).await?;
    let version = claim.version;
    Ok(with_version(HttpResponse::Ok(), version, claim))
}

/// Decide or move a claim, with `If-Match` of its version: `approve` (insurer; the payout is
/// computed), `reject` (insurer; `reason` required), `pay` (insurer; optional `reference`),
/// `withdraw` (the claimant, before a decision). An empty body counts as `{}`.
#[utoipa::path(tag = "claims", request_body = ClaimStep,
    params(("id" = String, Path, description = "The claim"),
        ("action" = crate::rules::claims::ClaimAction, Path, description = "approve, reject, pay or withdraw"),
        ("If-Match" = String, Header, description = "The claim's current version")),
    responses((status = 200, body = Claim), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 412, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
        (status = 428, body = crate::error::Problem)),
    security(("bearer" = [])))]
#[post("/claims/{id}/{action}")]
pub async fn claim_action(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: crate::http::LimitedBody,
) -> AppResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let action = ClaimAction::ALL
        .into_iter()
        .find(|a| a.as_str() == name)
        .ok_or(AppError::NotFound)?;
    let body = body.0;
    let empty = body.iter().all(u8::is_ascii_whitespace);
    if !empty {
        crate::api::agreements::check_json_body(&req)?;
    }
    let step: ClaimStep = parse_json(if empty { b"{}" } else { &body })?;
    let expected = if_match(&req)?;
    let claim =
        blocking(move || app::act_on_claim(&state, &actor, &id, expected, action, &step)).await?;
    let version = claim.version;
    Ok(with_version(HttpResponse::Ok(), version, claim))
}
