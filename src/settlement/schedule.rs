//! Installment schedules: `count` payments every `interval_months`, the first on a given
//! date, summing exactly to the total. Calendar arithmetic clamps to the month's end
//! (31 Jan + 1 month = 28 or 29 Feb) and always counts from the first due date, so a
//! schedule that starts on the 31st comes back to the 31st when the month has one.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::settlement::allocate::{allocate, AllocError, Rounding};
use crate::settlement::terms::Trigger;

/// One line of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Installment {
    /// 1-based position.
    pub number: u32,
    pub due: NaiveDate,
    /// Minor units of the schedule's currency.
    pub amount: i64,
}

/// Why a schedule cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("an installment plan needs at least one payment")]
    NoInstallments,
    #[error("the interval between installments must be at least one month")]
    NoInterval,
    #[error("a due date falls outside the calendar")]
    DateOutOfRange,
    #[error(transparent)]
    Split(#[from] AllocError),
}

/// `start` plus `months`, on the same day of the month or the month's last day if shorter.
pub fn add_months(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    // chrono's Months arithmetic clamps to the last day of a shorter month.
    start.checked_add_months(Months::new(months))
}

/// Contract year `year` (1-based) of a contract that started on `start`: from the
/// anniversary that opens it to the day before the next, both inclusive. Anniversaries clamp
/// like [`add_months`] and always count from `start` (a contract of 29 Feb 2028 has years
/// starting 28 Feb 2029 and 29 Feb 2032). `None` for year 0 or outside the calendar.
pub fn contract_year(start: NaiveDate, year: u32) -> Option<(NaiveDate, NaiveDate)> {
    let opens = add_months(start, year.checked_sub(1)?.checked_mul(12)?)?;
    let next = add_months(start, year.checked_mul(12)?)?;
    Some((opens, next.pred_opt()?))
}

/// The contract year (1-based) that contains `day`, or `None` before `start`.
pub fn contract_year_of(start: NaiveDate, day: NaiveDate) -> Option<u32> {
    if day < start {
        return None;
    }
    // A first guess from whole years, then corrected by at most one.
    let mut year = day.years_since(start)?.checked_add(1)?;
    while year > 1 && contract_year(start, year)?.0 > day {
        year -= 1;
    }
    while contract_year(start, year)?.1 < day {
        year += 1;
    }
    Some(year)
}

/// Whether the registration certificate governs when a contract takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The contract takes effect when signed (no registration, or one that does not govern).
    OnSigning,
    /// It takes effect on the certificate, not entered yet.
    AwaitingCertificate,
    /// It took effect on the certificate of this day.
    Certificate(NaiveDate),
}

/// What the payments still wait for before their days can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// The registration certificate (the contract takes effect on it).
    Registration,
    /// The SME's first sales above zero (the first payment's trigger).
    FirstRevenue,
}

/// The day the first payment's days count from, or what is still awaited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    From(NaiveDate),
    /// Not known yet: the fixed lines are held until these are met.
    Waiting(Vec<Waiting>),
}

/// The day a first-payment trigger is met for a contract converted on `converted_on`, or
/// `None` while it waits for the first revenue (`first_revenue_on` not known yet). Without a
/// trigger, the conversion day. A set day before the conversion is met on the conversion day.
pub fn trigger_met(
    trigger: Option<&Trigger>,
    converted_on: NaiveDate,
    first_revenue_on: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match trigger {
        None => Some(converted_on),
        Some(Trigger::OnDate { date }) => Some((*date).max(converted_on)),
        Some(Trigger::MonthsAfterConversion { months }) => add_months(converted_on, *months),
        Some(Trigger::FirstRevenue) => first_revenue_on.map(|d| d.max(converted_on)),
    }
}

/// The day the fixed payments (lump sum, entry fee, installments) count their days from: the
/// later of the trigger's day and the day the contract takes effect. While either is
/// unknown, what is awaited (both, when both are).
pub fn payments_start(
    trigger: Option<&Trigger>,
    converted_on: NaiveDate,
    first_revenue_on: Option<NaiveDate>,
    effect: Effect,
) -> Start {
    let met = trigger_met(trigger, converted_on, first_revenue_on);
    let effective = match effect {
        Effect::OnSigning => Some(converted_on),
        Effect::AwaitingCertificate => None,
        Effect::Certificate(day) => Some(day.max(converted_on)),
    };
    match (met, effective) {
        (Some(a), Some(b)) => Start::From(a.max(b)),
        _ => {
            let mut waiting = Vec::new();
            if effective.is_none() {
                waiting.push(Waiting::Registration);
            }
            if met.is_none() {
                waiting.push(Waiting::FirstRevenue);
            }
            Start::Waiting(waiting)
        }
    }
}

/// The schedule for `total` minor units in `count` equal installments (up to one unit apart,
/// earlier ones never smaller), every `interval_months`, the first due on `first_due`.
pub fn installments(
    total: i64,
    count: u32,
    interval_months: u32,
    first_due: NaiveDate,
    rounding: Rounding,
) -> Result<Vec<Installment>, ScheduleError> {
    if count == 0 {
        return Err(ScheduleError::NoInstallments);
    }
    if interval_months == 0 {
        return Err(ScheduleError::NoInterval);
    }
    let amounts = allocate(total, &vec![Decimal::ONE; count as usize], rounding)?;
    amounts
        .into_iter()
        .enumerate()
        .map(|(i, amount)| {
            let offset = (i as u32)
                .checked_mul(interval_months)
                .ok_or(ScheduleError::DateOutOfRange)?;
            let due = add_months(first_due, offset).ok_or(ScheduleError::DateOutOfRange)?;
            Ok(Installment {
                number: i as u32 + 1,
                due,
                amount,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_years_run_anniversary_to_the_day_before_the_next() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(
            contract_year(d(2026, 3, 15), 1),
            Some((d(2026, 3, 15), d(2027, 3, 14)))
        );
        assert_eq!(
            contract_year(d(2026, 3, 15), 2),
            Some((d(2027, 3, 15), d(2028, 3, 14)))
        );
        assert_eq!(contract_year(d(2026, 3, 15), 0), None);
        // A leap-day start: years open on 28 Feb except in leap years, and never drift.
        assert_eq!(
            contract_year(d(2028, 2, 29), 1),
            Some((d(2028, 2, 29), d(2029, 2, 27)))
        );
        assert_eq!(
            contract_year(d(2028, 2, 29), 2),
            Some((d(2029, 2, 28), d(2030, 2, 27)))
        );
        assert_eq!(
            contract_year(d(2028, 2, 29), 5),
            Some((d(2032, 2, 29), d(2033, 2, 27)))
        );
        assert_eq!(contract_year_of(d(2026, 3, 15), d(2026, 3, 14)), None);
        assert_eq!(contract_year_of(d(2026, 3, 15), d(2026, 3, 15)), Some(1));
        assert_eq!(contract_year_of(d(2026, 3, 15), d(2027, 3, 14)), Some(1));
        assert_eq!(contract_year_of(d(2026, 3, 15), d(2027, 3, 15)), Some(2));
        assert_eq!(contract_year_of(d(2028, 2, 29), d(2029, 2, 27)), Some(1));
        assert_eq!(contract_year_of(d(2028, 2, 29), d(2029, 2, 28)), Some(2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]
        /// Contract years tile the calendar: each opens the day after the previous closes,
        /// and every day belongs to exactly the year that contains it.
        #[test]
        fn contract_years_tile_the_calendar(start_days in 0i64..40_000, year in 1u32..60, offset in 0i64..400) {
            let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(start_days);
            let (opens, closes) = contract_year(start, year).unwrap();
            let (next_opens, _) = contract_year(start, year + 1).unwrap();
            proptest::prop_assert!(opens <= closes);
            proptest::prop_assert_eq!(closes.succ_opt().unwrap(), next_opens);
            let day = opens + chrono::Duration::days(offset);
            let of = contract_year_of(start, day).unwrap();
            let (a, b) = contract_year(start, of).unwrap();
            proptest::prop_assert!(a <= day && day <= b);
        }
    }
    use chrono::Datelike;
    use proptest::prelude::*;

    fn is_month_end(date: NaiveDate) -> bool {
        date.succ_opt()
            .is_none_or(|next| next.month() != date.month())
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn month_end_clamping_counts_from_the_first_date() {
        let plan = installments(1_000_000, 4, 1, d(2027, 1, 31), Rounding::HalfUp).unwrap();
        let dues: Vec<NaiveDate> = plan.iter().map(|i| i.due).collect();
        assert_eq!(
            dues,
            [
                d(2027, 1, 31),
                d(2027, 2, 28),
                d(2027, 3, 31),
                d(2027, 4, 30)
            ]
        );
        let leap = installments(300, 2, 1, d(2028, 1, 31), Rounding::HalfUp).unwrap();
        assert_eq!(leap[1].due, d(2028, 2, 29));
        assert!(is_month_end(d(2028, 2, 29)) && !is_month_end(d(2028, 2, 28)));
    }

    /// Worked examples, by hand.
    #[test]
    fn golden_schedules() {
        // 10,000,000 VND in 3 quarterly payments: 3,333,333.33 each → 3,333,334 + 3,333,333 × 2.
        let plan = installments(10_000_000, 3, 3, d(2027, 3, 15), Rounding::HalfUp).unwrap();
        assert_eq!(
            plan,
            vec![
                Installment {
                    number: 1,
                    due: d(2027, 3, 15),
                    amount: 3_333_334
                },
                Installment {
                    number: 2,
                    due: d(2027, 6, 15),
                    amount: 3_333_333
                },
                Installment {
                    number: 3,
                    due: d(2027, 9, 15),
                    amount: 3_333_333
                },
            ]
        );
        // ¥1,000.01 (100001 fen) in 2: 50000.5 each. half_up → 50001 + 50001 = one too many,
        // the last gives it back: 50001, 50000. half_even → 50000 + 50000, one short, the
        // first gets it: 50001, 50000.
        let up: Vec<i64> = installments(100_001, 2, 6, d(2027, 1, 1), Rounding::HalfUp)
            .unwrap()
            .iter()
            .map(|i| i.amount)
            .collect();
        let even: Vec<i64> = installments(100_001, 2, 6, d(2027, 1, 1), Rounding::HalfEven)
            .unwrap()
            .iter()
            .map(|i| i.amount)
            .collect();
        assert_eq!(up, [50_001, 50_000]);
        assert_eq!(even, [50_001, 50_000]);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            installments(1, 0, 1, d(2027, 1, 1), Rounding::HalfUp),
            Err(ScheduleError::NoInstallments)
        );
        assert_eq!(
            installments(1, 1, 0, d(2027, 1, 1), Rounding::HalfUp),
            Err(ScheduleError::NoInterval)
        );
        assert_eq!(
            installments(1, 2, 12, NaiveDate::MAX, Rounding::HalfUp),
            Err(ScheduleError::DateOutOfRange)
        );
        assert_eq!(
            installments(-5, 2, 1, d(2027, 1, 1), Rounding::HalfUp),
            Err(ScheduleError::Split(AllocError::NegativeTotal))
        );
    }

    #[test]
    fn triggers_and_the_effective_date_the_later_governs() {
        let conv = d(2027, 3, 15);
        let six = Trigger::MonthsAfterConversion { months: 6 };
        let on = |day| Trigger::OnDate { date: day };
        // Each kind of trigger alone.
        assert_eq!(trigger_met(None, conv, None), Some(conv));
        assert_eq!(trigger_met(Some(&six), conv, None), Some(d(2027, 9, 15)));
        assert_eq!(
            trigger_met(Some(&on(d(2027, 5, 1))), conv, None),
            Some(d(2027, 5, 1))
        );
        assert_eq!(
            trigger_met(Some(&on(d(2027, 1, 1))), conv, None),
            Some(conv)
        );
        assert_eq!(trigger_met(Some(&Trigger::FirstRevenue), conv, None), None);
        assert_eq!(
            trigger_met(Some(&Trigger::FirstRevenue), conv, Some(d(2027, 7, 20))),
            Some(d(2027, 7, 20))
        );
        // With registration: the later of the two, or what is still awaited.
        let cert = Effect::Certificate(d(2027, 6, 1));
        assert_eq!(
            payments_start(Some(&six), conv, None, cert),
            Start::From(d(2027, 9, 15))
        );
        assert_eq!(
            payments_start(Some(&on(d(2027, 4, 1))), conv, None, cert),
            Start::From(d(2027, 6, 1))
        );
        assert_eq!(
            payments_start(None, conv, None, Effect::AwaitingCertificate),
            Start::Waiting(vec![Waiting::Registration])
        );
        assert_eq!(
            payments_start(
                Some(&Trigger::FirstRevenue),
                conv,
                None,
                Effect::AwaitingCertificate
            ),
            Start::Waiting(vec![Waiting::Registration, Waiting::FirstRevenue])
        );
        assert_eq!(
            payments_start(
                Some(&Trigger::FirstRevenue),
                conv,
                Some(d(2027, 5, 2)),
                cert
            ),
            Start::From(d(2027, 6, 1))
        );
        assert_eq!(
            payments_start(None, conv, None, Effect::OnSigning),
            Start::From(conv)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Payments never start before the conversion, the trigger or the certificate.
        #[test]
        fn payments_never_start_before_what_governs_them(
            conv_days in 0u64..20_000,
            cert_after in proptest::option::of(0u64..2_000),
            months in 1u32..=60,
            kind in 0u8..3,
            date_shift in 0u64..4_000,
        ) {
            let conv = d(2000, 1, 1) + chrono::Days::new(conv_days);
            let trigger = match kind {
                0 => Trigger::MonthsAfterConversion { months },
                1 => Trigger::OnDate { date: d(2000, 1, 1) + chrono::Days::new(date_shift * 5) },
                _ => Trigger::FirstRevenue,
            };
            let revenue = conv + chrono::Days::new(date_shift);
            let effect = match cert_after {
                Some(n) => Effect::Certificate(conv + chrono::Days::new(n)),
                None => Effect::OnSigning,
            };
            let Start::From(start) = payments_start(Some(&trigger), conv, Some(revenue), effect) else {
                return Err(TestCaseError::fail("every condition is known"));
            };
            prop_assert!(start >= conv);
            prop_assert!(start >= trigger_met(Some(&trigger), conv, Some(revenue)).unwrap());
            if let Effect::Certificate(c) = effect {
                prop_assert!(start >= c);
            }
        }

        /// Schedules sum to their totals, amounts differ by at most one unit, and due dates
        /// strictly increase, each `interval` months after the first (clamped).
        #[test]
        fn schedules_sum_and_dates_increase(
            total in 0i64..1_000_000_000_000_000,
            count in 1u32..=120,
            interval in 1u32..=24,
            start in (0i32..3650).prop_map(|n| d(2026, 1, 1) + chrono::Days::new(n as u64)),
            even in any::<bool>(),
        ) {
            let rounding = if even { Rounding::HalfEven } else { Rounding::HalfUp };
            let plan = installments(total, count, interval, start, rounding).unwrap();
            prop_assert_eq!(plan.len() as u32, count);
            prop_assert_eq!(plan.iter().map(|i| i.amount as i128).sum::<i128>(), total as i128);
            let max = plan.iter().map(|i| i.amount).max().unwrap();
            let min = plan.iter().map(|i| i.amount).min().unwrap();
            prop_assert!(max - min <= 1);
            for pair in plan.windows(2) {
                prop_assert!(pair[0].amount >= pair[1].amount, "earlier installments are never smaller");
            }
            prop_assert_eq!(plan[0].due, start);
            for pair in plan.windows(2) {
                prop_assert!(pair[0].due < pair[1].due);
            }
            for (k, line) in plan.iter().enumerate() {
                prop_assert_eq!(line.number as usize, k + 1);
                let months = (line.due.year() - start.year()) * 12 + line.due.month() as i32 - start.month() as i32;
                prop_assert_eq!(months as u32, k as u32 * interval);
                prop_assert!(line.due.day() == start.day() || is_month_end(line.due));
            }
        }

        /// Overflowing dates or amounts are errors, never panics.
        #[test]
        fn never_panics(total in any::<i64>(), count in 0u32..200, interval in 0u32..2000, days in 0u64..4_000_000) {
            let start = NaiveDate::MIN + chrono::Days::new(days);
            let _ = installments(total, count, interval, start, Rounding::HalfUp);
        }
    }
}
