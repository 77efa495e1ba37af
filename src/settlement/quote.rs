//! A quote: what converting on a given day would cost under an agreement's snapshotted terms,
//! line by line (lump sum, entry fee, installments), with the early-conversion discount when
//! converting before the trial's last day and the distribution of every line. Computed, never
//! stored; the SME sees it before deciding.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::settlement::allocate::Rounding;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::pricing::{discounted, distribute, Distributed, PriceError};
use crate::settlement::schedule::{installments, trigger_met, ScheduleError};
use crate::settlement::terms::{Price, Terms};

/// One payment of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuoteLine {
    pub number: u32,
    /// `lump_sum`, `entry_fee` or `installment`.
    pub kind: &'static str,
    pub due: NaiveDate,
    /// Major units, e.g. "142500000" (VND) or "1500.00" (USD).
    pub amount: String,
    pub amount_minor: i64,
    /// Who receives this payment, when the terms set shares.
    pub distribution: Option<Distributed>,
}

/// The royalty part of the terms, which has no fixed schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoyaltyTerms {
    pub rate: String,
    pub min_per_year: Option<String>,
}

/// What converting on `convert_on` costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Quote {
    pub currency: String,
    pub price_model: &'static str,
    pub rounding: Rounding,
    pub convert_on: NaiveDate,
    /// The discount applied for converting before the trial ended, if any.
    pub early_conversion_discount: Option<String>,
    pub lines: Vec<QuoteLine>,
    /// Sum of the lines, major units.
    pub total: String,
    pub total_minor: i64,
    pub royalty: Option<RoyaltyTerms>,
    /// The day the payments' days count from (the conversion, or the first payment's trigger
    /// when it is known); `None` while the trigger waits for the SME's first sales, when the
    /// due days shown are counted from the conversion day until then.
    pub payments_from: Option<NaiveDate>,
}

/// Why a quote cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("the terms are not valid: {0}")]
    Terms(String),
    #[error(transparent)]
    Price(#[from] PriceError),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("a due date falls outside the calendar")]
    DateOutOfRange,
}

fn amount(currency: Currency, text: &str) -> Result<i64, QuoteError> {
    currency.parse_amount(text).map_err(QuoteError::Terms)
}

fn rate(text: &str) -> Result<Decimal, QuoteError> {
    parse_rate(text).map_err(QuoteError::Terms)
}

fn after(day: NaiveDate, days: u32) -> Result<NaiveDate, QuoteError> {
    day.checked_add_days(Days::new(u64::from(days)))
        .ok_or(QuoteError::DateOutOfRange)
}

/// The quote for converting on `convert_on` an agreement whose trial ends on `trial_end`, the
/// payments counted from the first payment's trigger (`Terms::first_payment`) when it is a day.
pub fn quote(
    terms: &Terms,
    convert_on: NaiveDate,
    trial_end: Option<NaiveDate>,
    rounding: Rounding,
) -> Result<Quote, QuoteError> {
    let met = trigger_met(terms.first_payment.as_ref(), convert_on, None);
    let mut q = quote_from(
        terms,
        convert_on,
        met.unwrap_or(convert_on),
        trial_end,
        rounding,
    )?;
    q.payments_from = met;
    Ok(q)
}

/// [`quote`] with the payments' days counted from `start` (the later of the trigger and the
/// day the contract takes effect) instead of the conversion day.
pub fn quote_from(
    terms: &Terms,
    convert_on: NaiveDate,
    start: NaiveDate,
    trial_end: Option<NaiveDate>,
    rounding: Rounding,
) -> Result<Quote, QuoteError> {
    let currency = Currency::parse(&terms.currency)
        .ok_or_else(|| QuoteError::Terms(format!("unknown currency {}", terms.currency)))?;
    let early = trial_end.is_some_and(|end| convert_on <= end);
    let discount = match (&terms.early_conversion_discount, early) {
        (Some(d), true) => Some(rate(d)?),
        _ => None,
    };
    let price = |minor: i64| -> Result<i64, QuoteError> {
        Ok(match discount {
            Some(d) => discounted(minor, d, rounding)?,
            None => minor,
        })
    };
    // (kind, due, minor units)
    let mut raw: Vec<(&'static str, NaiveDate, i64)> = Vec::new();
    let mut royalty = None;
    match &terms.price {
        Price::LumpSum {
            amount: a,
            due_days,
        } => raw.push((
            "lump_sum",
            after(start, *due_days)?,
            price(amount(currency, a)?)?,
        )),
        Price::Installments {
            total,
            count,
            interval_months,
            first_due_days,
        } => {
            let plan = installments(
                price(amount(currency, total)?)?,
                *count,
                *interval_months,
                after(start, *first_due_days)?,
                rounding,
            )?;
            raw.extend(
                plan.into_iter()
                    .map(|line| ("installment", line.due, line.amount)),
            );
        }
        Price::Royalty {
            rate: r,
            min_per_year,
        } => {
            royalty = Some(RoyaltyTerms {
                rate: r.clone(),
                min_per_year: min_per_year.clone(),
            });
        }
        Price::EntryFeePlusRoyalty {
            entry_fee,
            due_days,
            rate: r,
            min_per_year,
        } => {
            raw.push((
                "entry_fee",
                after(start, *due_days)?,
                price(amount(currency, entry_fee)?)?,
            ));
            royalty = Some(RoyaltyTerms {
                rate: r.clone(),
                min_per_year: min_per_year.clone(),
            });
        }
    }
    let shares = match &terms.distribution {
        Some(d) => Some((
            rate(&d.institute)?,
            rate(&d.inventors)?,
            rate(&d.intermediary)?,
        )),
        None => None,
    };
    let mut lines = Vec::with_capacity(raw.len());
    let mut total_minor: i64 = 0;
    for (i, (kind, due, minor)) in raw.into_iter().enumerate() {
        let distribution = match shares {
            Some((a, b, c)) => Some(distribute(minor, a, b, c, rounding)?),
            None => None,
        };
        total_minor =
            total_minor
                .checked_add(minor)
                .ok_or(QuoteError::Price(PriceError::Split(
                    crate::settlement::allocate::AllocError::Overflow,
                )))?;
        lines.push(QuoteLine {
            number: i as u32 + 1,
            kind,
            due,
            amount: currency.format_amount(minor),
            amount_minor: minor,
            distribution,
        });
    }
    Ok(Quote {
        currency: currency.code.to_string(),
        price_model: terms.price.model(),
        rounding,
        convert_on,
        early_conversion_discount: discount.map(|d| d.to_string()),
        lines,
        total: currency.format_amount(total_minor),
        total_minor,
        royalty,
        payments_from: Some(start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::terms::Distribution;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn terms(currency: &str, price: Price) -> Terms {
        Terms {
            trial_days: 90,
            decision_days: 30,
            currency: currency.into(),
            price,
            insurance_required: false,
            early_conversion_discount: Some("0.05".into()),
            late_payment_daily_rate: None,
            distribution: Some(Distribution {
                institute: "0.6".into(),
                inventors: "0.3".into(),
                intermediary: "0.1".into(),
            }),
            improvements: None,
            state_funded: false,
            jurisdiction: None,
            first_payment: None,
        }
    }

    /// The first payment's trigger moves every fixed line: six months after a conversion on
    /// 20 May 2027 is 20 Nov 2027, and the installments keep their interval from there.
    #[test]
    fn a_trigger_moves_the_first_payment_and_those_after_it() {
        let mut t = terms(
            "VND",
            Price::Installments {
                total: "3000".into(),
                count: 3,
                interval_months: 1,
                first_due_days: 10,
            },
        );
        t.first_payment =
            Some(crate::settlement::terms::Trigger::MonthsAfterConversion { months: 6 });
        let q = quote(&t, day(2027, 5, 20), None, Rounding::HalfUp).unwrap();
        let dues: Vec<NaiveDate> = q.lines.iter().map(|l| l.due).collect();
        assert_eq!(
            dues,
            [day(2027, 11, 30), day(2027, 12, 30), day(2028, 1, 30)]
        );
        assert_eq!(q.payments_from, Some(day(2027, 11, 20)));
        t.first_payment = Some(crate::settlement::terms::Trigger::FirstRevenue);
        let q = quote(&t, day(2027, 5, 20), None, Rounding::HalfUp).unwrap();
        assert_eq!(q.payments_from, None);
        assert_eq!(q.lines[0].due, day(2027, 5, 30));
    }

    /// Worked by hand: the three examples of docs/SETTLEMENT.md.
    #[test]
    fn worked_examples() {
        // 1. Lump sum 150,000,000 VND, due 30 days after converting on 20 May 2027, after the
        //    trial ended (31 Mar): no discount. 60/30/10: 90,000,000 / 45,000,000 / 15,000,000.
        let q = quote(
            &terms(
                "VND",
                Price::LumpSum {
                    amount: "150000000".into(),
                    due_days: 30,
                },
            ),
            day(2027, 5, 20),
            Some(day(2027, 3, 31)),
            Rounding::HalfUp,
        )
        .unwrap();
        assert_eq!(q.early_conversion_discount, None);
        assert_eq!(q.lines.len(), 1);
        assert_eq!(
            (q.lines[0].due, q.lines[0].amount_minor),
            (day(2027, 6, 19), 150_000_000)
        );
        assert_eq!(
            q.lines[0].distribution,
            Some(Distributed {
                institute: 90_000_000,
                inventors: 45_000_000,
                intermediary: 15_000_000
            })
        );

        // 2. Installments ¥10,000.00 in 3, quarterly, first 31 days after converting on
        //    31 Dec 2026, before the trial ends (31 Jan 2027): 5% off → ¥9,500.00 = 950000 fen
        //    → 316667 / 316667 / 316666 fen, due 31 Jan, 30 Apr (clamped), 31 Jul 2027.
        let q = quote(
            &terms(
                "CNY",
                Price::Installments {
                    total: "10000.00".into(),
                    count: 3,
                    interval_months: 3,
                    first_due_days: 31,
                },
            ),
            day(2026, 12, 31),
            Some(day(2027, 1, 31)),
            Rounding::HalfUp,
        )
        .unwrap();
        assert_eq!(q.early_conversion_discount.as_deref(), Some("0.05"));
        let lines: Vec<(NaiveDate, i64, &str)> = q
            .lines
            .iter()
            .map(|l| (l.due, l.amount_minor, l.amount.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (day(2027, 1, 31), 316_667, "3166.67"),
                (day(2027, 4, 30), 316_667, "3166.67"),
                (day(2027, 7, 31), 316_666, "3166.66")
            ]
        );
        assert_eq!((q.total_minor, q.total.as_str()), (950_000, "9500.00"));
        // 316667 fen by 60/30/10: 190000.2 / 95000.1 / 31666.7 → 190000 / 95000 / 31667.
        assert_eq!(
            q.lines[0].distribution,
            Some(Distributed {
                institute: 190_000,
                inventors: 95_000,
                intermediary: 31_667
            })
        );

        // 3. Entry fee 20,000,000 VND plus 2% royalty, converting on the trial's last day:
        //    the discount applies to the fee only (19,000,000); the royalty has no schedule.
        let q = quote(
            &terms(
                "VND",
                Price::EntryFeePlusRoyalty {
                    entry_fee: "20000000".into(),
                    due_days: 15,
                    rate: "0.02".into(),
                    min_per_year: Some("5000000".into()),
                },
            ),
            day(2027, 3, 31),
            Some(day(2027, 3, 31)),
            Rounding::HalfEven,
        )
        .unwrap();
        assert_eq!(
            (q.lines[0].kind, q.lines[0].due, q.lines[0].amount_minor),
            ("entry_fee", day(2027, 4, 15), 19_000_000)
        );
        assert_eq!(
            q.royalty,
            Some(RoyaltyTerms {
                rate: "0.02".into(),
                min_per_year: Some("5000000".into())
            })
        );
    }

    #[test]
    fn royalty_only_has_no_lines() {
        let q = quote(
            &terms(
                "USD",
                Price::Royalty {
                    rate: "0.035".into(),
                    min_per_year: None,
                },
            ),
            day(2027, 1, 1),
            None,
            Rounding::HalfUp,
        )
        .unwrap();
        assert!(q.lines.is_empty());
        assert_eq!(q.total, "0.00");
    }
}
