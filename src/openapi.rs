//! The OpenAPI document (`/api/openapi.json`) and the interactive docs page (`/api/docs/`),
//! whose assets are embedded in the binary so it needs no network at build or run time.

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::agreements;
use crate::error::AppError;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every error is a problem document (`application/problem+json`, RFC 9457), whatever its
/// status: the error responses an operation names are declared with that media type, and
/// every operation has a `default` response for the statuses it does not name (401 without a
/// session, 403, 413, 415, 429 and the like).
struct ProblemResponses;

/// Is this content the problem document?
fn is_problem(c: &utoipa::openapi::Content) -> bool {
    const PROBLEM: &str = "#/components/schemas/Problem";
    matches!(&c.schema, Some(utoipa::openapi::RefOr::Ref(r)) if r.ref_location == PROBLEM)
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for response in op.responses.responses.values_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if response
                        .content
                        .get("application/json")
                        .is_some_and(is_problem)
                    {
                        response.content.shift_remove("application/json");
                        response
                            .content
                            .insert("application/problem+json".to_string(), problem());
                    }
                }
                op.responses
                    .responses
                    .entry("default".to_string())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description("An error, as a problem document")
                                .content("application/problem+json", problem())
                                .build(),
                        )
                    });
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(paths(
    crate::api::auth::login,
    crate::api::auth::logout,
    crate::api::auth::me,
    crate::api::accounts::create_organisation,
    crate::api::accounts::list_organisations,
    crate::api::accounts::get_organisation,
    crate::api::accounts::create_user,
    crate::api::accounts::list_users,
    crate::api::technologies::create,
    crate::api::technologies::list,
    crate::api::technologies::get,
    crate::api::technologies::update,
    crate::api::technologies::add_terms,
    crate::api::technologies::list_terms,
    crate::api::screening::submit,
    crate::api::screening::decide,
    crate::api::screening::show,
    crate::api::screening::queue,
    crate::api::disclosure::prices,
    crate::api::demands::create,
    crate::api::demands::list,
    crate::api::demands::matches,
    crate::api::demands::get,
    crate::api::demands::update,
    crate::api::demands::close,
    crate::api::demands::proposals,
    crate::api::demands::propose,
    crate::api::demands::request_trial,
    agreements::create,
    agreements::list,
    agreements::get,
    agreements::events,
    agreements::quote,
    crate::api::documents::get,
    crate::api::documents::verify,
    crate::api::contracts::statement,
    crate::api::contracts::record_payment,
    crate::api::contracts::report_sales,
    crate::api::payment_record::for_agreement,
    crate::api::payment_record::of_organisation,
    crate::api::contract_registration::show,
    crate::api::contract_registration::record_certificate,
    crate::api::contract_registration::form01,
    crate::api::audit::verify,
    crate::api::scheduler::runs,
    crate::api::mail::list,
    crate::api::mail::retry,
    crate::api::reports::monthly,
    crate::api::insurance::create_product,
    crate::api::insurance::list_products,
    crate::api::insurance::get_product,
    crate::api::insurance::revise_product,
    crate::api::insurance::choose_product,
    crate::api::insurance::covered_list,
    crate::api::insurance::covered_get,
    crate::api::insurance::dashboard,
    crate::api::insurance::policies,
    crate::api::insurance::file_claim,
    crate::api::insurance::list_claims,
    crate::api::insurance::get_claim,
    crate::api::insurance::claim_action,
))]
struct V1;

#[derive(OpenApi)]
#[openapi(
    info(title = "usefirst API", description = "Use first, transfer later: technology trials between research institutes and SMEs. \
        Errors are application/problem+json (RFC 9457). Transitions take If-Match with the agreement's version."),
    paths(
        crate::live,
        crate::ready,
        agreements::approve_doc,
        agreements::reject_doc,
        agreements::withdraw_doc,
        agreements::sign_doc,
        agreements::convert_doc,
        agreements::decline_doc,
        agreements::terminate_doc,
        agreements::extend_doc,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::api::documents::DocumentKind,
        crate::rules::claims::ClaimAction
    )),
    nest((path = "/api/v1", api = V1)),
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "auth", description = "Sign in and out"),
        (name = "accounts", description = "Organisations and users"),
        (name = "technologies", description = "The catalogue and conversion terms"),
        (name = "agreements", description = "Trial agreements and their lifecycle"),
        (name = "demands", description = "Enterprises' needs, the institutes' matching technologies and proposals"),
        (name = "documents", description = "Agreements as PDF documents, and which agreement a document is"),
        (name = "insurance", description = "Insurance products, the cover chosen for a trial, the insurer's view and policies"),
        (name = "claims", description = "Insurance claims and their decisions"),
        (name = "audit", description = "The tamper-evident record"),
        (name = "reports", description = "Monthly conversion reports (admins, auditors)"),
        (name = "health", description = "Probes"),
        (name = "screening", description = "Screening of technologies before listing"),
        (name = "disclosure", description = "Public figures: agreed conversion prices by sector and year"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document.
#[get("/api/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../static/api-docs/index.html"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/api-docs/swagger-ui.css"),
    ),
    (
        "swagger-ui-bundle.js",
        "application/javascript; charset=utf-8",
        include_bytes!("../static/api-docs/swagger-ui-bundle.js"),
    ),
    // The page's own style and start-up, as files: the Content-Security-Policy allows no
    // inline script (`security_headers` in lib.rs).
    (
        "usefirst-docs.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/api-docs/usefirst-docs.css"),
    ),
    (
        "usefirst-docs.js",
        "application/javascript; charset=utf-8",
        include_bytes!("../static/api-docs/usefirst-docs.js"),
    ),
];

/// `/api/docs` → `/api/docs/` so relative asset paths resolve.
#[get("/api/docs")]
pub async fn docs_index() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/api/docs/"))
        .finish()
}

/// The docs page and its assets.
#[get("/api/docs/{file:.*}")]
pub async fn docs_asset(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = if file.is_empty() {
        "index.html"
    } else {
        file.as_str()
    };
    let (_, mime, bytes) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*bytes))
}
