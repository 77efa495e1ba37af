//! The public disclosure of agreed conversion prices (no sign-in): per sector, year and
//! currency, the count, median and range, with cells of fewer than three agreements hidden.
//! It names no party; see `reports::disclosure` for what an agreed price is.

use crate::error::{AppError, FieldError};
use crate::reports::model::PriceDisclosure;
use crate::AppState;

/// What the disclosure is narrowed to (the API's query as it is).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PriceFilter {
    /// A year of conversion (2000–9998), as typed.
    pub year: Option<String>,
    /// A sector (the technology's field, e.g. `agriculture`).
    pub sector: Option<String>,
}

/// The filter's year (2000–9998) and sector (at most 100 characters), or a 422 naming each
/// field at fault.
pub fn check(filter: &PriceFilter) -> Result<(Option<i32>, Option<String>), AppError> {
    let mut e = Vec::new();
    let year = match filter
        .year
        .as_deref()
        .map(str::trim)
        .filter(|y| !y.is_empty())
    {
        None => None,
        Some(text) => match text.parse::<i32>() {
            Ok(y) if (2000..=9998).contains(&y) => Some(y),
            _ => {
                e.push(FieldError::new("year", "a year from 2000 to 9998"));
                None
            }
        },
    };
    let sector = filter
        .sector
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if sector.as_ref().is_some_and(|s| s.chars().count() > 100) {
        e.push(FieldError::new("sector", "must be at most 100 characters"));
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok((year, sector))
}

/// The agreed conversion prices, narrowed by `filter`.
pub fn prices(state: &AppState, filter: &PriceFilter) -> Result<PriceDisclosure, AppError> {
    let (year, sector) = check(filter)?;
    let mut conn = state.db.reader()?;
    Ok(crate::reports::disclosure::disclosure(
        &mut conn,
        year,
        sector.as_deref(),
    )?)
}
