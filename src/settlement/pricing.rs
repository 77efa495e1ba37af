//! The money rules of conversion terms, each a small pure function over minor units and
//! exact rates: early-conversion discount, late-payment interest as of a date, royalties on
//! reported net sales with a yearly minimum (true-up), tax or its exemption, and the
//! distribution of a payment received between institute, inventors and intermediary.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::settlement::allocate::{allocate, round_fraction, AllocError, Rounding};

/// Why a price cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("amounts and rates must not be negative")]
    Negative,
    #[error("a rate must be between 0 and 1")]
    RateAboveOne,
    #[error("the distribution shares must sum to exactly 1")]
    SharesNotWhole,
    #[error(transparent)]
    Split(#[from] AllocError),
}

fn check(amount: i64, rate: Decimal) -> Result<(), PriceError> {
    if amount < 0 || (rate.is_sign_negative() && !rate.is_zero()) {
        return Err(PriceError::Negative);
    }
    if rate > Decimal::ONE {
        return Err(PriceError::RateAboveOne);
    }
    Ok(())
}

/// `amount × factor`, rounded to minor units, with overflow as an error. Exact integer
/// arithmetic (`amount × m ÷ 10^scale`) when the factor's digits fit in 63 bits, as every
/// rate does; decimal arithmetic otherwise.
fn times(amount: i64, factor: Decimal, rounding: Rounding) -> Result<i64, PriceError> {
    let overflow = || PriceError::Split(AllocError::Overflow);
    let m = factor.mantissa();
    if amount >= 0 && (0..=i128::from(i64::MAX)).contains(&m) {
        let denominator = 10i128.pow(factor.scale());
        let (rounded, _) = round_fraction(i128::from(amount) * m, denominator, rounding);
        return i64::try_from(rounded).map_err(|_| overflow());
    }
    let exact = Decimal::from(amount)
        .checked_mul(factor)
        .ok_or(AllocError::Overflow)?;
    i64::try_from(rounding.round(exact)).map_err(|_| overflow())
}

/// The price after an early-conversion discount of `rate` (e.g. 0.05 for 5%).
pub fn discounted(amount: i64, rate: Decimal, rounding: Rounding) -> Result<i64, PriceError> {
    check(amount, rate)?;
    times(amount, Decimal::ONE - rate, rounding)
}

/// Simple daily interest on `overdue` at `daily_rate` for each day after `due` up to and
/// including `as_of` (nothing on or before the due date).
pub fn late_interest(
    overdue: i64,
    daily_rate: Decimal,
    due: NaiveDate,
    as_of: NaiveDate,
    rounding: Rounding,
) -> Result<i64, PriceError> {
    check(overdue, daily_rate)?;
    let days = (as_of - due).num_days().max(0);
    let factor = daily_rate
        .checked_mul(Decimal::from(days))
        .ok_or(AllocError::Overflow)?;
    times(overdue, factor, rounding)
}

/// The royalty on one period's reported net sales.
pub fn royalty(net_sales: i64, rate: Decimal, rounding: Rounding) -> Result<i64, PriceError> {
    check(net_sales, rate)?;
    times(net_sales, rate, rounding)
}

/// What is still owed at the end of a contract year to reach its minimum royalty.
pub fn true_up(royalties_in_year: i64, minimum_per_year: Option<i64>) -> Result<i64, PriceError> {
    match minimum_per_year {
        None => Ok(0),
        Some(min) if min < 0 || royalties_in_year < 0 => Err(PriceError::Negative),
        Some(min) => Ok((min - royalties_in_year).max(0)),
    }
}

/// Tax on a conversion: a rate, or an exemption with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Tax {
    Rate { rate: String },
    Exempt { basis: String },
}

impl Tax {
    /// Checks the rule as stated: a rate between 0 and 1, or a basis of 1 to 500 characters.
    /// Returns the offending field (relative to the rule) and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            Tax::Rate { rate } => crate::settlement::money::parse_rate(rate)
                .map(|_| ())
                .map_err(|e| ("rate", e)),
            Tax::Exempt { basis } if basis.trim().is_empty() || basis.chars().count() > 500 => {
                Err((
                    "basis",
                    "name the legal basis of the exemption (1 to 500 characters)".into(),
                ))
            }
            Tax::Exempt { .. } => Ok(()),
        }
    }
}

/// The tax due on `amount` under `rule`; zero when exempt.
pub fn tax(amount: i64, rule: &Tax, rounding: Rounding) -> Result<i64, PriceError> {
    match rule {
        Tax::Exempt { .. } => {
            if amount < 0 {
                return Err(PriceError::Negative);
            }
            Ok(0)
        }
        Tax::Rate { rate } => {
            let rate: Decimal = rate.parse().map_err(|_| PriceError::Negative)?;
            check(amount, rate)?;
            times(amount, rate, rounding)
        }
    }
}

/// Who receives what of one payment, in minor units; the parts sum to the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Distributed {
    pub institute: i64,
    pub inventors: i64,
    pub intermediary: i64,
}

/// Distributes a payment received by the terms' shares (which sum to 1).
pub fn distribute(
    payment: i64,
    institute: Decimal,
    inventors: Decimal,
    intermediary: Decimal,
    rounding: Rounding,
) -> Result<Distributed, PriceError> {
    if institute + inventors + intermediary != Decimal::ONE {
        return Err(PriceError::SharesNotWhole);
    }
    let parts = allocate(payment, &[institute, inventors, intermediary], rounding)?;
    Ok(Distributed {
        institute: parts[0],
        inventors: parts[1],
        intermediary: parts[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    /// Worked by hand.
    #[test]
    fn golden() {
        // 150,000,000 VND with 5% off for converting early: 142,500,000.
        assert_eq!(
            discounted(150_000_000, d("0.05"), Rounding::HalfUp).unwrap(),
            142_500_000
        );
        // ¥0.25 (25 fen) with 10% off = 22.5 fen: half_up 23, half_even 22.
        assert_eq!(discounted(25, d("0.1"), Rounding::HalfUp).unwrap(), 23);
        assert_eq!(discounted(25, d("0.1"), Rounding::HalfEven).unwrap(), 22);
        // 30,000,000 VND due 15 Mar, 0.03%/day, as of 25 Mar (10 days late): 90,000.
        assert_eq!(
            late_interest(
                30_000_000,
                d("0.0003"),
                day(2027, 3, 15),
                day(2027, 3, 25),
                Rounding::HalfUp
            )
            .unwrap(),
            90_000
        );
        assert_eq!(
            late_interest(
                30_000_000,
                d("0.0003"),
                day(2027, 3, 15),
                day(2027, 3, 15),
                Rounding::HalfUp
            )
            .unwrap(),
            0
        );
        assert_eq!(
            late_interest(
                30_000_000,
                d("0.0003"),
                day(2027, 3, 15),
                day(2027, 3, 1),
                Rounding::HalfUp
            )
            .unwrap(),
            0
        );
        // 5,000 fen overdue, 0.0001/day, 5 days = 2.5 fen: half_up 3, half_even 2.
        assert_eq!(
            late_interest(
                5_000,
                d("0.0001"),
                day(2027, 1, 1),
                day(2027, 1, 6),
                Rounding::HalfUp
            )
            .unwrap(),
            3
        );
        assert_eq!(
            late_interest(
                5_000,
                d("0.0001"),
                day(2027, 1, 1),
                day(2027, 1, 6),
                Rounding::HalfEven
            )
            .unwrap(),
            2
        );
        // Royalty 3.5% on 1,234,567,890 VND of net sales = 43,209,876.15 → 43,209,876.
        assert_eq!(
            royalty(1_234_567_890, d("0.035"), Rounding::HalfUp).unwrap(),
            43_209_876
        );
        // Year minimum 50,000,000 VND, 43,209,876 paid: true-up 6,790,124; none above it.
        assert_eq!(true_up(43_209_876, Some(50_000_000)).unwrap(), 6_790_124);
        assert_eq!(true_up(60_000_000, Some(50_000_000)).unwrap(), 0);
        assert_eq!(true_up(1, None).unwrap(), 0);
        // Tax 10% of ¥1,500.05 (150005 fen) = 15000.5 fen: half_up 15001, half_even 15000.
        let ten = Tax::Rate { rate: "0.1".into() };
        assert_eq!(tax(150_005, &ten, Rounding::HalfUp).unwrap(), 15_001);
        assert_eq!(tax(150_005, &ten, Rounding::HalfEven).unwrap(), 15_000);
        assert_eq!(
            tax(
                150_005,
                &Tax::Exempt {
                    basis: "technology transfer".into()
                },
                Rounding::HalfUp
            )
            .unwrap(),
            0
        );
        // 45,000,001 VND received, 60/30/10: 27,000,000.6 / 13,500,000.3 / 4,500,000.1
        // → 27,000,001 / 13,500,000 / 4,500,000.
        let dist = distribute(45_000_001, d("0.6"), d("0.3"), d("0.1"), Rounding::HalfUp).unwrap();
        assert_eq!(
            dist,
            Distributed {
                institute: 27_000_001,
                inventors: 13_500_000,
                intermediary: 4_500_000
            }
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            discounted(-1, d("0.1"), Rounding::HalfUp),
            Err(PriceError::Negative)
        );
        assert_eq!(
            discounted(1, d("1.1"), Rounding::HalfUp),
            Err(PriceError::RateAboveOne)
        );
        assert_eq!(
            distribute(1, d("0.5"), d("0.5"), d("0.1"), Rounding::HalfUp),
            Err(PriceError::SharesNotWhole)
        );
        assert_eq!(true_up(1, Some(-1)), Err(PriceError::Negative));
        assert_eq!(
            late_interest(
                i64::MAX,
                d("1"),
                day(2000, 1, 1),
                day(2100, 1, 1),
                Rounding::HalfUp
            ),
            Err(PriceError::Split(AllocError::Overflow))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The integer product equals the decimal one wherever the decimal product is exact
        /// (up to 23 digits here), in both rounding modes.
        #[test]
        fn integer_products_equal_decimal_products(amount in 0i64..1_000_000_000_000_000, m in 0i64..100_000_000, scale in 0u32..9, half_even in any::<bool>()) {
            let rounding = if half_even { Rounding::HalfEven } else { Rounding::HalfUp };
            let factor = Decimal::new(m, scale);
            match i64::try_from(rounding.round(Decimal::from(amount) * factor)) {
                Ok(by_decimal) => prop_assert_eq!(times(amount, factor, rounding).unwrap(), by_decimal),
                Err(_) => prop_assert!(times(amount, factor, rounding).is_err(), "overflow is an error"),
            }
        }

        /// Interest is zero up to the due date and never decreases as days pass.
        #[test]
        fn interest_grows_with_time(overdue in 0i64..1_000_000_000_000, rate_ppm in 0i64..10_000, late in 0i64..3650) {
            let due = day(2027, 1, 1);
            let rate = Decimal::new(rate_ppm, 6);
            let at = |n: i64| late_interest(overdue, rate, due, due + chrono::Duration::days(n), Rounding::HalfUp).unwrap();
            prop_assert_eq!(at(0), 0);
            prop_assert!(at(late + 1) >= at(late));
        }

        /// Distributions sum exactly to the payment; no part is negative.
        #[test]
        fn distributions_sum(payment in 0i64..1_000_000_000_000_000, (a, b) in (0i64..=100).prop_flat_map(|a| (Just(a), 0..=100 - a)), even in any::<bool>()) {
            let rounding = if even { Rounding::HalfEven } else { Rounding::HalfUp };
            let dist = distribute(payment, Decimal::new(a, 2), Decimal::new(b, 2), Decimal::new(100 - a - b, 2), rounding).unwrap();
            prop_assert_eq!(dist.institute + dist.inventors + dist.intermediary, payment);
            prop_assert!(dist.institute >= 0 && dist.inventors >= 0 && dist.intermediary >= 0);
        }

        /// A discount never raises the price and never makes it negative.
        #[test]
        fn discounts_are_bounded(amount in 0i64..1_000_000_000_000_000, pct in 0i64..=100) {
            let p = discounted(amount, Decimal::new(pct, 2), Rounding::HalfUp).unwrap();
            prop_assert!(p >= 0 && p <= amount);
        }
    }
}
