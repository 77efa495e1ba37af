//! usefirst: "use first, transfer later" technology trials between research institutes and
//! SMEs. This file builds the application and is the only place that wires parts together.

pub mod accounts;
pub mod agreements;
pub mod api;
pub mod app;
#[cfg(test)]
mod architecture;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contracts;
pub mod db;
pub mod demands;
pub mod documents;
pub mod error;
pub mod http;
pub mod insurance;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod reports;
pub mod rules;
pub mod scheduler;
pub mod search;
pub mod seed;
pub mod settlement;
pub mod technologies;
pub mod templating;
pub mod typeset;
pub mod web;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web as aw;
use actix_web::{get, App, HttpMessage, HttpResponse, HttpServer};
use chrono_tz::Tz;
use tracing_actix_web::TracingLogger;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// What every request handler shares.
pub struct AppState {
    pub cfg: Arc<Config>,
    pub db: Db,
    pub clock: Clock,
    /// The platform's time zone (`app.time_zone`).
    pub tz: Tz,
    /// Recently authenticated sessions.
    pub sessions: auth::session::SessionCache,
    /// The checked contract templates, for the agreement documents (PDF) built on them.
    pub templates: Arc<documents::ContractTemplates>,
    /// The pooled SMTP transport, built on the first delivery (`app::mail::deliver`).
    pub mail_transport: std::sync::OnceLock<lettre::SmtpTransport>,
    /// The fonts documents are set in.
    pub fonts: Arc<typeset::pdf::Fonts>,
    /// Documents being set at once (`documents.max_concurrent_renders`).
    pub renders: Arc<tokio::sync::Semaphore>,
    /// The web pages' templates and words, checked at start.
    pub pages: Arc<crate::web::Pages>,
    /// Pages kept for a repeated view while the record stands still (`app.page_cache_*`).
    pub kept_pages: Arc<crate::web::kept::KeptPages>,
    /// The catalogue filters' choices, kept briefly (`app.catalogue_cache_seconds`).
    pub facets: Arc<crate::app::technologies::FacetCache>,
    /// Public document checks per client address (`documents.verify_requests_per_minute`).
    pub verify_throttle: Arc<auth::throttle::Throttle>,
    /// This instance's Prometheus metrics (`/metrics`).
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// The state for `cfg`, with its contract templates loaded and checked.
    pub fn new(cfg: Config, db: Db, clock: Clock) -> anyhow::Result<AppState> {
        let templates = crate::app::documents::load_templates(&cfg)?;
        AppState::with_templates(cfg, db, clock, templates)
    }

    /// The state for `cfg`, with contract templates the caller has already checked.
    pub fn with_templates(
        cfg: Config,
        db: Db,
        clock: Clock,
        templates: documents::ContractTemplates,
    ) -> anyhow::Result<AppState> {
        let tz = cfg.time_zone()?;
        Ok(AppState {
            fonts: typeset::load_fonts(&cfg),
            pages: Arc::new(crate::web::Pages::load()?),
            kept_pages: Arc::new(crate::web::kept::KeptPages::new(
                usize::try_from(cfg.app.page_cache_kilobytes.saturating_mul(1024))
                    .unwrap_or(usize::MAX),
                std::time::Duration::from_secs(cfg.app.page_cache_seconds),
            )),
            renders: Arc::new(tokio::sync::Semaphore::new(
                cfg.documents.max_concurrent_renders,
            )),
            templates: Arc::new(templates),
            cfg: Arc::new(cfg),
            db,
            clock,
            tz,
            sessions: Default::default(),
            facets: Default::default(),
            mail_transport: std::sync::OnceLock::new(),
            verify_throttle: Default::default(),
            metrics: Default::default(),
        })
    }
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "The process is up")))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// Readiness: the database answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "Ready"), (status = 503, body = crate::error::Problem)))]
#[get("/health/ready")]
pub async fn ready(state: aw::Data<AppState>) -> AppResult<HttpResponse> {
    http::blocking(move || {
        state.db.ping().map_err(|e| {
            tracing::warn!(error = %e, "readiness check failed");
            AppError::Busy
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ready","database":"ok"}"#))
}

/// What no route answers: a problem+json 404 under `/api`, a page in the visitor's language
/// elsewhere.
async fn not_found(
    state: aw::Data<AppState>,
    req: actix_web::HttpRequest,
) -> AppResult<HttpResponse> {
    if is_api_path(req.path()) {
        return Err(AppError::NotFound);
    }
    Ok(crate::web::error_page(&state, &req, 404, "error.not_found").await)
}

/// Whether `path` is the JSON API's (answered with problem documents) rather than a page's.
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api"
}

/// Registers every route on `cfg`.
pub fn routes(cfg: &mut aw::ServiceConfig) {
    // Routes are matched in order: the busiest (agreements) first, the docs catch-all last.
    cfg.service(live)
        .service(ready)
        .service(api::metrics::metrics)
        .service(
            aw::scope("/api/v1")
                .service(api::agreements::get)
                .service(api::agreements::list)
                .service(api::agreements::create)
                .service(api::agreements::events)
                .service(api::agreements::quote)
                .service(api::documents::get)
                .service(api::documents::verify)
                .service(api::contracts::statement)
                .service(api::contracts::record_payment)
                .service(api::contracts::report_sales)
                .service(api::payment_record::for_agreement)
                .service(api::payment_record::of_organisation)
                .service(api::contract_registration::show)
                .service(api::contract_registration::record_certificate)
                .service(api::contract_registration::form01)
                .service(api::insurance::create_product)
                .service(api::insurance::list_products)
                .service(api::insurance::get_product)
                .service(api::insurance::revise_product)
                .service(api::insurance::choose_product)
                .service(api::insurance::covered_list)
                .service(api::insurance::covered_get)
                .service(api::insurance::dashboard)
                .service(api::insurance::policies)
                .service(api::insurance::file_claim)
                .service(api::insurance::list_claims)
                .service(api::insurance::get_claim)
                .service(api::insurance::claim_action)
                .route(
                    "/agreements/{id}/{action}",
                    aw::post().to(api::agreements::take_action),
                )
                .service(api::auth::login)
                .service(api::auth::logout)
                .service(api::auth::me)
                .service(api::technologies::list)
                .service(api::technologies::get)
                .service(api::technologies::create)
                .service(api::technologies::update)
                .service(api::technologies::add_terms)
                .service(api::technologies::list_terms)
                .service(api::screening::submit)
                .service(api::screening::decide)
                .service(api::screening::show)
                .service(api::screening::queue)
                .service(api::disclosure::prices)
                .service(api::demands::matches)
                .service(api::demands::list)
                .service(api::demands::get)
                .service(api::demands::create)
                .service(api::demands::update)
                .service(api::demands::close)
                .service(api::demands::proposals)
                .service(api::demands::propose)
                .service(api::demands::request_trial)
                .service(api::accounts::create_organisation)
                .service(api::accounts::list_organisations)
                .service(api::accounts::get_organisation)
                .service(api::accounts::create_user)
                .service(api::accounts::list_users)
                .service(api::audit::verify)
                .service(api::scheduler::runs)
                .service(api::mail::list)
                .service(api::mail::retry)
                .service(api::reports::monthly),
        )
        .configure(crate::web::routes)
        .service(openapi::document)
        .service(openapi::docs_index)
        .service(openapi::docs_asset);
}

/// The span of one request in the log: method, path, request id, and the status (or the
/// error) once answered. Leaner than tracing-actix-web's default, which works out the
/// matched route pattern (a second pass through the router's patterns), the connection
/// info and OpenTelemetry names for every request, even when the span is not logged.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .copied();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            request_id = request_id.map(tracing::field::display),
            status = tracing::field::Empty,
            error = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        match outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                if let Some(error) = response.response().error() {
                    span.record("error", tracing::field::display(error));
                }
            }
            Err(error) => {
                span.record("status", error.as_response_error().status_code().as_u16());
                span.record("error", tracing::field::display(error));
            }
        }
    }
}

/// The Content-Security-Policy of every response but the API docs: scripts, styles, images
/// and requests only from this site, no inline script or style (the pages keep theirs in
/// `/static/web/`, htmx included), no plugins, no framing, forms posting only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API docs' policy (`/api/docs/`): the same, except for styles, which Swagger UI sets
/// inline as it draws (its own script still comes only from this site).
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// `Strict-Transport-Security` when the service is reached over HTTPS: a year, for this host
/// only (the operator's other hosts are theirs to decide).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds the security headers to an answer (a page, a JSON answer, an error, a static file),
/// unless its handler set them itself: the Content-Security-Policy (the docs' one for
/// `/api/docs/`), `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`,
/// `X-Frame-Options: DENY`, and `Strict-Transport-Security` when `hsts`: the public URL is
/// `https://`, or the request came over HTTPS (the test that marks cookies `Secure`,
/// `web::session::secure`).
fn security_headers(headers: &mut actix_web::http::header::HeaderMap, docs: bool, hsts: bool) {
    use actix_web::http::header::{self, HeaderValue};
    let csp = if docs {
        DOCS_CONTENT_SECURITY_POLICY
    } else {
        CONTENT_SECURITY_POLICY
    };
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, csp);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    if hsts {
        set(header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
    }
}

/// A request's method as the metrics label it: the standard ones by name, any other as
/// `OTHER`, so made-up methods make no new series.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Starts the HTTP server on `listener`.
pub fn server(
    state: aw::Data<AppState>,
    listener: TcpListener,
    workers: usize,
) -> anyhow::Result<Server> {
    let max_body = state.cfg.server.max_body_bytes;
    // Made before serving, so the first sign-in with an unknown address takes no longer than
    // others (the commands that serve nothing never need it).
    auth::password::decoy_hash();
    // Database work runs on each worker's blocking threads. On PostgreSQL, more threads than
    // pooled connections only add threads queueing for a connection (and context switches), so
    // they match the pool. On SQLite a thread that writes waits, parked, for its batch's
    // COMMIT (`db::writer`), and a batch can hold only as many writes as there are threads
    // waiting: 32 in all lets batches grow to where a COMMIT's cost is shared out.
    let workers = if workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        workers
    };
    let db_threads = match state.db.backend() {
        db::Backend::Sqlite => (state.cfg.database.pool_size as usize).max(32),
        db::Backend::Postgres => state.cfg.database.pool_size as usize,
    };
    let blocking_threads = db_threads.div_ceil(workers).max(2);
    let https = state.cfg.app.public_url.starts_with("https://");
    let metrics = state.metrics.clone();
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new()
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service;
                use futures_util::future::{ready, Either};
                // An encoded NUL in the path or query answers before any handler sees it: a
                // problem document under /api, a page in the visitor's language elsewhere.
                if let Some(err) = http::nul_in_target(req.path(), req.query_string()) {
                    if is_api_path(req.path()) {
                        let res = actix_web::ResponseError::error_response(&err);
                        let res = req.into_response(res).map_into_right_body();
                        return Either::Left(Either::Left(ready(Ok(res))));
                    }
                    let (status, kind) = match err {
                        AppError::NotFound => (404, "error.not_found"),
                        _ => (422, "error.invalid"),
                    };
                    let state = req.app_data::<aw::Data<AppState>>().cloned();
                    let (http_req, _) = req.into_parts();
                    return Either::Left(Either::Right(async move {
                        let page = match state {
                            Some(state) => {
                                crate::web::error_page(&state, &http_req, status, kind).await
                            }
                            None => actix_web::ResponseError::error_response(&err),
                        };
                        Ok(actix_web::dev::ServiceResponse::new(http_req, page)
                            .map_into_right_body())
                    }));
                }
                let fut = srv.call(req);
                Either::Right(async move { fut.await.map(|res| res.map_into_left_body()) })
            })
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service;
                // Hand the request id (generated by the tracing span below) back to the client,
                // so a user's report can be matched with the log lines of that request.
                let id = req
                    .extensions()
                    .get::<tracing_actix_web::RequestId>()
                    .map(|id| id.to_string());
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Some(id) =
                        id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok())
                    {
                        res.headers_mut().insert(
                            actix_web::http::header::HeaderName::from_static("x-request-id"),
                            id,
                        );
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::<RequestSpan>::new())
            // Outermost, so that every answer has them, whatever answered it.
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let docs = req.path().starts_with("/api/docs/");
                let hsts = https || crate::web::session::secure(req.request());
                let started = std::time::Instant::now();
                let metrics = metrics.clone();
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    security_headers(res.headers_mut(), docs, hsts);
                    // By the route's pattern, never the raw path: ids make no new series.
                    let route = res.request().match_pattern();
                    metrics.request(
                        route.as_deref().unwrap_or("unmatched"),
                        method_label(res.request().method()),
                        res.status().as_u16(),
                        started.elapsed().as_secs_f64(),
                    );
                    Ok(res)
                }
            })
            .app_data(state.clone())
            .app_data(aw::QueryConfig::default().error_handler(http::query_error))
            .app_data(aw::PathConfig::default().error_handler(http::path_error))
            .app_data(aw::PayloadConfig::new(max_body))
            .configure(routes)
            .default_service(aw::to(not_found))
    })
    .listen(listener)?
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads);
    Ok(server.run())
}
