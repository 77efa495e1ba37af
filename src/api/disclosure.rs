//! `GET /api/v1/disclosure/conversion-prices`: the public disclosure of agreed conversion
//! prices by sector and year (no sign-in). No party is named; a cell of fewer than three
//! agreements carries no figure.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::disclosure::{self as app, PriceFilter};
use crate::error::AppResult;
use crate::http::blocking;
use crate::AppState;

/// The disclosure's filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PriceQuery {
    /// A year of conversion (2000–9998).
    pub year: Option<String>,
    /// A sector (the technology's field, e.g. `agriculture`).
    pub sector: Option<String>,
}

/// Agreed conversion prices per sector, year of conversion and currency: count, median
/// (half-even on the minor unit for an even count) and range. Royalty-only contracts fix no
/// price and are left out. Public.
#[utoipa::path(tag = "disclosure", params(PriceQuery),
    responses((status = 200, body = crate::reports::model::PriceDisclosure),
        (status = 422, body = crate::error::Problem)))]
#[get("/disclosure/conversion-prices")]
pub async fn prices(
    state: web::Data<AppState>,
    query: web::Query<PriceQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let filter = PriceFilter {
        year: q.year,
        sector: q.sector,
    };
    let found = blocking(move || app::prices(&state, &filter)).await?;
    Ok(HttpResponse::Ok().json(found))
}
