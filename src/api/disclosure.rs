//! `GET /api/v1/disclosure/conversion-prices`: the public disclosure of agreed conversion
//! prices by sector and year (no sign-in). No party is named; a cell of fewer than three
//! agreements carries no figure.

use actix_web::{get, web, HttpResponse};

use crate::app::disclosure::{self as app, PriceFilter};
use crate::error::AppResult;
use crate::http::blocking;
use crate::AppState;

/// Agreed conversion prices per sector, year of conversion and currency: count, median
/// (half-even on the minor unit for an even count) and range. Royalty-only contracts fix no
/// price and are left out. Public.
#[utoipa::path(tag = "disclosure", params(PriceFilter),
    responses((status = 200, body = crate::reports::model::PriceDisclosure),
        (status = 422, body = crate::error::Problem)))]
#[get("/disclosure/conversion-prices")]
pub async fn prices(
    state: web::Data<AppState>,
    filter: web::Query<PriceFilter>,
) -> AppResult<HttpResponse> {
    let filter = filter.into_inner();
    let found = blocking(move || app::prices(&state, &filter)).await?;
    Ok(HttpResponse::Ok().json(found))
}
