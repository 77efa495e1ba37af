//! `GET /metrics`: the Prometheus metrics, for this machine or the holder of `metrics.token`.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::app::operations as app;
use crate::auth::session;
use crate::error::AppResult;
use crate::http::blocking;
use crate::AppState;

/// The metrics in Prometheus's text format (not in the OpenAPI: it is for the monitoring, not
/// for clients of the API).
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let loopback = crate::http::client_addr(&req).is_some_and(|ip| ip.to_canonical().is_loopback());
    app::may_read_metrics(&state, session::bearer(&req), loopback)?;
    let text = blocking(move || app::metrics(&state)).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(text))
}
