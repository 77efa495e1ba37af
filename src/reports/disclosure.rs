//! The public disclosure of agreed conversion prices: per sector (the technology's field),
//! year of conversion and currency, how many agreements, their median and their range. The
//! agreed price is what the conversion contract fixed: a lump sum, the installments' total, or
//! the entry fee of an entry fee plus royalty (after any early-conversion discount).
//! Royalty-only contracts fix no price and are left out. A cell of fewer than
//! [`DISCLOSURE_MIN_COUNT`] agreements shows no figure, and no total over cells is given, so
//! a hidden cell cannot be worked out from the rest. No party is ever read: only the field,
//! the date, the currency and the amount.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::db::schema::{agreements, conversion_contracts as cc, technologies};
use crate::db::DbConn;
use crate::settlement::money::Currency;

use super::model::{PriceCell, PriceDisclosure, DISCLOSURE_MIN_COUNT};

/// One agreed price: sector, year, currency, amount in minor units.
pub type Price = (String, i32, String, i64);

/// The median of sorted `values`: the middle one, or for an even count the mean of the two
/// middle ones rounded half to even on the minor unit.
pub fn median(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        return Some(sorted[n / 2]);
    }
    let sum = i128::from(sorted[n / 2 - 1]) + i128::from(sorted[n / 2]);
    let half = sum.div_euclid(2);
    let odd = sum.rem_euclid(2) == 1;
    // sum / 2 is `half` + 0.5 when the sum is odd: round to the even neighbour.
    let rounded = if odd && half % 2 != 0 { half + 1 } else { half };
    i64::try_from(rounded).ok()
}

/// The cells of `prices`, sorted by sector, year (newest first) and currency; cells of fewer
/// than [`DISCLOSURE_MIN_COUNT`] hidden.
pub fn cells(mut prices: Vec<Price>) -> Vec<PriceCell> {
    prices.sort_by(|a, b| {
        (&a.0, std::cmp::Reverse(a.1), &a.2, a.3).cmp(&(&b.0, std::cmp::Reverse(b.1), &b.2, b.3))
    });
    let mut out = Vec::new();
    for group in prices.chunk_by(|a, b| (&a.0, a.1, &a.2) == (&b.0, b.1, &b.2)) {
        let (sector, year, currency, _) = &group[0];
        let amounts: Vec<i64> = group.iter().map(|p| p.3).collect();
        let hidden = amounts.len() < DISCLOSURE_MIN_COUNT;
        let shown = |v: Option<i64>| if hidden { None } else { v };
        let (median_minor, min_minor, max_minor) = (
            shown(median(&amounts)),
            shown(amounts.first().copied()),
            shown(amounts.last().copied()),
        );
        let text = |v: Option<i64>| {
            v.map(|m| {
                Currency::parse(currency)
                    .map(|c| c.format_amount(m))
                    .unwrap_or_else(|| m.to_string())
            })
        };
        out.push(PriceCell {
            sector: sector.clone(),
            year: *year,
            currency: currency.clone(),
            hidden,
            count: shown(Some(amounts.len() as i64)),
            median: text(median_minor),
            min: text(min_minor),
            max: text(max_minor),
            median_minor,
            min_minor,
            max_minor,
        });
    }
    out
}

/// Every agreed conversion price there is: the sector, the year of conversion, the currency
/// and the amount, nothing else.
fn prices(conn: &mut DbConn) -> QueryResult<Vec<(String, NaiveDate, String, i64)>> {
    cc::table
        .inner_join(agreements::table.on(agreements::id.eq(cc::agreement_id)))
        .inner_join(technologies::table.on(technologies::id.eq(agreements::technology_id)))
        .filter(cc::price_model.ne("royalty"))
        .select((
            technologies::field,
            cc::converted_on,
            cc::currency,
            cc::total_minor,
        ))
        .load(conn)
}

/// The disclosure, narrowed to `year` and `sector` when given; the filters' choices are
/// those of every agreed price.
pub fn disclosure(
    conn: &mut DbConn,
    year: Option<i32>,
    sector: Option<&str>,
) -> QueryResult<PriceDisclosure> {
    let all: Vec<Price> = prices(conn)?
        .into_iter()
        .map(|(s, on, c, m)| (s, on.year(), c, m))
        .collect();
    let mut years: Vec<i32> = all.iter().map(|p| p.1).collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    let mut sectors: Vec<String> = all.iter().map(|p| p.0.clone()).collect();
    sectors.sort();
    sectors.dedup();
    let kept = all
        .into_iter()
        .filter(|p| year.is_none_or(|y| p.1 == y) && sector.is_none_or(|s| p.0 == s))
        .collect();
    Ok(PriceDisclosure {
        cells: cells(kept),
        years,
        sectors,
        min_count: DISCLOSURE_MIN_COUNT as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts_rounds_half_to_even() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7]), Some(7));
        assert_eq!(median(&[1, 5, 9]), Some(5));
        assert_eq!(median(&[2, 4]), Some(3));
        // 5.5 -> 6, 6.5 -> 6, 7.5 -> 8: half to even.
        assert_eq!(median(&[5, 6]), Some(6));
        assert_eq!(median(&[6, 7]), Some(6));
        assert_eq!(median(&[7, 8]), Some(8));
        assert_eq!(median(&[-3, -2]), Some(-2));
        assert_eq!(median(&[i64::MAX - 1, i64::MAX]), Some(i64::MAX - 1));
        assert_eq!(median(&[1, 2, 3, 100]), Some(2));
    }

    fn p(sector: &str, year: i32, currency: &str, minor: i64) -> Price {
        (sector.into(), year, currency.into(), minor)
    }

    /// Three in a cell show, two hide every figure, and currencies are never mixed.
    #[test]
    fn cells_of_fewer_than_three_hide_every_figure() {
        let got = cells(vec![
            p("agriculture", 2026, "VND", 300),
            p("agriculture", 2026, "VND", 100),
            p("agriculture", 2026, "VND", 200),
            p("agriculture", 2026, "USD", 5_000),
            p("agriculture", 2026, "USD", 7_001),
            p("agriculture", 2025, "VND", 10),
            p("energy", 2026, "VND", 1),
            p("energy", 2026, "VND", 2),
            p("energy", 2026, "VND", 3),
            p("energy", 2026, "VND", 4),
        ]);
        let keys: Vec<(&str, i32, &str)> = got
            .iter()
            .map(|c| (c.sector.as_str(), c.year, c.currency.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("agriculture", 2026, "USD"),
                ("agriculture", 2026, "VND"),
                ("agriculture", 2025, "VND"),
                ("energy", 2026, "VND"),
            ]
        );
        let usd = &got[0];
        assert!(usd.hidden);
        assert_eq!(
            (
                usd.count,
                usd.median_minor,
                usd.min_minor,
                usd.max_minor,
                &usd.median
            ),
            (None, None, None, None, &None)
        );
        let vnd = &got[1];
        assert!(!vnd.hidden);
        assert_eq!(
            (vnd.count, vnd.median_minor, vnd.min_minor, vnd.max_minor),
            (Some(3), Some(200), Some(100), Some(300))
        );
        assert!(got[2].hidden);
        let energy = &got[3];
        // 2.5 rounds half to even: 2.
        assert_eq!((energy.count, energy.median_minor), (Some(4), Some(2)));
        assert_eq!(energy.median.as_deref(), Some("2"));
    }
}
