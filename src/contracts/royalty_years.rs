//! Contract years of royalty contracts with a minimum royalty per year, and their true-up.
//!
//! Contract year N runs from the N-th anniversary of the conversion (counting the conversion
//! day as the first) to the day before the next. A quarter's royalty counts toward the
//! contract year in which the quarter ends. A year closes once it is over *and* the window
//! for reporting its last quarter ([`TRUE_UP_GRACE_DAYS`]) has passed: what was reported is
//! compared with the minimum, and a shortfall becomes a `true_up` line on the schedule, due
//! [`super::ROYALTY_DUE_DAYS`] days after the close. A closed year is final: sales for a
//! quarter that ends in it are refused from then on.
//!
//! The advance sweep (`app::contracts::close_royalty_years`) closes the contracts [`due`]
//! lists, each with [`close_contract`]; it reads only contracts whose `royalty_next_close`
//! day has come, so its cost follows the years that are due.

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit::{self, Who};
use crate::db::schema::{agreements, conversion_contracts, royalty_years, sales_reports};
use crate::db::DbConn;
use crate::error::AppError;
use crate::settlement::money::Currency;
use crate::settlement::pricing::true_up;
use crate::settlement::schedule::{contract_year, contract_year_of};

pub use super::model::RoyaltyYear;

/// Days after a contract year ends during which its last quarter may still be reported; the
/// year closes on the day after.
pub const TRUE_UP_GRACE_DAYS: u64 = super::ROYALTY_DUE_DAYS;

/// The day contract year `year` of a contract converted on `converted_on` closes.
pub fn closes_on(converted_on: NaiveDate, year: u32) -> Option<NaiveDate> {
    let (_, ends) = contract_year(converted_on, year)?;
    ends.checked_add_days(Days::new(TRUE_UP_GRACE_DAYS + 1))
}

/// Royalties reported for quarters ending between `starts_on` and `ends_on`.
fn royalties_between(
    conn: &mut DbConn,
    agreement_id: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> QueryResult<i64> {
    let amounts: Vec<i64> = sales_reports::table
        .filter(sales_reports::agreement_id.eq(agreement_id))
        .filter(sales_reports::period_end.between(starts_on, ends_on))
        .select(sales_reports::royalty_minor)
        .load(conn)?;
    amounts
        .into_iter()
        .try_fold(0i64, |sum, v| sum.checked_add(v))
        .ok_or(diesel::result::Error::QueryBuilderError(
            "royalties of one contract year overflow".into(),
        ))
}

/// Every contract year that has started by `as_of`, closed ones as recorded.
pub fn years(
    conn: &mut DbConn,
    agreement_id: &str,
    converted_on: NaiveDate,
    minimum_minor: i64,
    cur: Currency,
    as_of: NaiveDate,
) -> Result<Vec<RoyaltyYear>, AppError> {
    type Closed = (i32, i64, i64, i64, Option<i32>);
    let closed: Vec<Closed> = royalty_years::table
        .filter(royalty_years::agreement_id.eq(agreement_id))
        .order(royalty_years::year.asc())
        .select((
            royalty_years::year,
            royalty_years::royalties_minor,
            royalty_years::minimum_minor,
            royalty_years::true_up_minor,
            royalty_years::line_number,
        ))
        .load(conn)?;
    let Some(current) = contract_year_of(converted_on, as_of) else {
        return Ok(Vec::new());
    };
    let calendar = || AppError::Internal(anyhow::anyhow!("contract year outside the calendar"));
    let mut out = Vec::with_capacity(current as usize);
    for year in 1..=current.max(closed.len() as u32) {
        let (starts_on, ends_on) = contract_year(converted_on, year).ok_or_else(calendar)?;
        let closes = closes_on(converted_on, year).ok_or_else(calendar)?;
        let recorded = closed.iter().find(|c| c.0 as u32 == year);
        let (royalties, minimum, shortfall, line) = match recorded {
            Some(&(_, royalties, minimum, true_up, line)) => (royalties, minimum, true_up, line),
            None => {
                let royalties = royalties_between(conn, agreement_id, starts_on, ends_on)?;
                let shortfall = true_up(royalties, Some(minimum_minor))
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("true-up: {e}")))?;
                (royalties, minimum_minor, shortfall, None)
            }
        };
        out.push(RoyaltyYear {
            year,
            starts_on,
            ends_on,
            closes_on: closes,
            royalties: cur.format_amount(royalties),
            minimum: cur.format_amount(minimum),
            shortfall: cur.format_amount(shortfall),
            closed: recorded.is_some(),
            true_up_line: line,
            royalties_minor: royalties,
            minimum_minor: minimum,
            shortfall_minor: shortfall,
        });
    }
    Ok(out)
}

/// The closed contract year a quarter ending on `period_end` belongs to, if that year is
/// closed: `(year, closed on)`.
pub fn closed_year_of(
    conn: &mut DbConn,
    agreement_id: &str,
    converted_on: NaiveDate,
    period_end: NaiveDate,
) -> Result<Option<(u32, chrono::NaiveDateTime)>, AppError> {
    let Some(year) = contract_year_of(converted_on, period_end) else {
        return Ok(None);
    };
    let closed_at: Option<chrono::NaiveDateTime> = royalty_years::table
        .find((agreement_id, year as i32))
        .select(royalty_years::closed_at)
        .first(conn)
        .optional()?;
    Ok(closed_at.map(|at| (year, at)))
}

/// The contracts (their agreements' ids) with a contract year due to close as of `now`, each
/// contract's day in its agreement's time zone.
pub fn due(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Vec<String>, AppError> {
    // No zone is more than 14 h ahead of UTC: this bound finds every candidate; each one's own
    // day is then checked here, so a contract not yet due where it is costs no write.
    let latest_today = (now + chrono::Duration::hours(14)).date_naive();
    let candidates: Vec<(String, Option<NaiveDate>, String)> = conversion_contracts::table
        .inner_join(agreements::table.on(agreements::id.eq(conversion_contracts::agreement_id)))
        .filter(conversion_contracts::royalty_next_close.le(latest_today))
        .select((
            conversion_contracts::agreement_id,
            conversion_contracts::royalty_next_close,
            agreements::time_zone,
        ))
        .load(conn)?;
    Ok(candidates
        .into_iter()
        .filter(|(_, next_close, zone)| {
            // An unreadable zone is reported by `close_contract`.
            match (next_close, zone.parse::<chrono_tz::Tz>()) {
                (Some(next), Ok(tz)) => *next <= now.with_timezone(&tz).date_naive(),
                _ => true,
            }
        })
        .map(|(id, _, _)| id)
        .collect())
}

/// Closes the due years of one contract, inside the caller's transaction; returns how many
/// years were closed. Idempotent: a closed year is never closed again.
pub fn close_contract(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    agreement_id: &str,
) -> Result<usize, AppError> {
    crate::db::lock_key(conn, &format!("payments\u{1f}{agreement_id}"))?;
    let (converted_on, currency, minimum, next_close, zone): (
        NaiveDate,
        String,
        Option<String>,
        Option<NaiveDate>,
        String,
    ) = conversion_contracts::table
        .inner_join(agreements::table.on(agreements::id.eq(conversion_contracts::agreement_id)))
        .filter(conversion_contracts::agreement_id.eq(agreement_id))
        .select((
            conversion_contracts::converted_on,
            conversion_contracts::currency,
            conversion_contracts::royalty_min_per_year,
            conversion_contracts::royalty_next_close,
            agreements::time_zone,
        ))
        .first(conn)?;
    let (Some(minimum), Some(_)) = (minimum, next_close) else {
        return Ok(0);
    };
    let internal = |what: String| AppError::Internal(anyhow::anyhow!("{what} of {agreement_id}"));
    let cur = Currency::parse(&currency).ok_or_else(|| internal(format!("currency {currency}")))?;
    let minimum = cur
        .parse_amount(&minimum)
        .map_err(|e| internal(format!("stored minimum royalty: {e}")))?;
    let tz: chrono_tz::Tz = zone
        .parse()
        .map_err(|_| internal(format!("time zone {zone}")))?;
    let today = now.with_timezone(&tz).date_naive();
    let last: Option<i32> = royalty_years::table
        .filter(royalty_years::agreement_id.eq(agreement_id))
        .select(diesel::dsl::max(royalty_years::year))
        .first(conn)?;
    let mut year = last.unwrap_or(0) as u32 + 1;
    let mut closed = 0;
    let calendar = || internal("a contract year outside the calendar".into());
    loop {
        let closes = closes_on(converted_on, year).ok_or_else(calendar)?;
        if closes > today {
            diesel::update(conversion_contracts::table.find(agreement_id))
                .set(conversion_contracts::royalty_next_close.eq(closes))
                .execute(conn)?;
            return Ok(closed);
        }
        let (starts_on, ends_on) = contract_year(converted_on, year).ok_or_else(calendar)?;
        let royalties = royalties_between(conn, agreement_id, starts_on, ends_on)?;
        let shortfall =
            true_up(royalties, Some(minimum)).map_err(|e| internal(format!("true-up: {e}")))?;
        let line = if shortfall > 0 {
            let due = closes
                .checked_add_days(Days::new(super::ROYALTY_DUE_DAYS))
                .ok_or_else(calendar)?;
            Some((
                super::add_line(conn, agreement_id, "true_up", due, shortfall)?,
                due,
            ))
        } else {
            None
        };
        diesel::insert_into(royalty_years::table)
            .values((
                royalty_years::agreement_id.eq(agreement_id),
                royalty_years::year.eq(year as i32),
                royalty_years::starts_on.eq(starts_on),
                royalty_years::ends_on.eq(ends_on),
                royalty_years::royalties_minor.eq(royalties),
                royalty_years::minimum_minor.eq(minimum),
                royalty_years::true_up_minor.eq(shortfall),
                royalty_years::line_number.eq(line.map(|(n, _)| n)),
                royalty_years::closed_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            now,
            Who::SYSTEM,
            "royalty.year_closed",
            "agreement",
            agreement_id,
            &serde_json::json!({"after": {
                "year": year, "starts_on": starts_on, "ends_on": ends_on, "currency": currency,
                "royalties_minor": royalties, "minimum_minor": minimum, "true_up_minor": shortfall,
                "line": line.map(|(n, _)| n), "due": line.map(|(_, d)| d),
            }}),
        )?;
        closed += 1;
        year += 1;
    }
}
