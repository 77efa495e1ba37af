//! The one allocation primitive every split uses (premium shares, installment schedules,
//! distribution of a payment): divide a total in integer minor units by weights so that the
//! parts sum **exactly** to the total. Each part is its exact share rounded by the configured
//! rule; the remainder that rounding leaves (or overshoots) is handed out (or taken back) one
//! unit at a time by largest remainder. Ties: an extra unit goes to the earliest part, a unit
//! taken back comes from the latest. Pure and exact: no floats, and overflow is
//! an error, never a panic.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How an exact share is rounded to a whole minor unit; printed on every statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// .5 rounds away from zero (the default).
    #[default]
    HalfUp,
    /// .5 rounds to the even neighbour (banker's rounding).
    HalfEven,
}

impl Rounding {
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
        }
    }

    /// Rounds to a whole number of minor units.
    pub fn round(self, value: Decimal) -> Decimal {
        let strategy = match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        };
        value.round_dp_with_strategy(0, strategy)
    }
}

/// Why a split cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    #[error("there is nothing to split between")]
    NoParts,
    #[error("a weight is negative")]
    NegativeWeight,
    #[error("the weights sum to zero")]
    ZeroWeights,
    #[error("the total is negative")]
    NegativeTotal,
    #[error("the amounts are too large to split exactly")]
    Overflow,
}

/// Splits `total` (minor units, ≥ 0) into `weights.len()` parts proportional to `weights`
/// (each ≥ 0, not all zero). The parts sum to `total`, none is negative, and each is within
/// one minor unit of its exact share.
pub fn allocate(
    total: i64,
    weights: &[Decimal],
    rounding: Rounding,
) -> Result<Vec<i64>, AllocError> {
    if weights.is_empty() {
        return Err(AllocError::NoParts);
    }
    if total < 0 {
        return Err(AllocError::NegativeTotal);
    }
    if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(AllocError::NegativeWeight);
    }
    if weights.iter().all(|w| w.is_zero()) {
        return Err(AllocError::ZeroWeights);
    }
    if let Some(parts) = by_integers(total, weights, rounding) {
        return parts;
    }
    let sum = weights
        .iter()
        .try_fold(Decimal::ZERO, |acc, w| acc.checked_add(*w))
        .ok_or(AllocError::Overflow)?;
    by_decimals(total, weights, sum, rounding)
}

/// `numerator ÷ denominator` (both ≥ 0, denominator > 0) rounded to a whole number by
/// `rounding`, with what rounding took: `(rounded, numerator − rounded × denominator)`. The
/// second is negative when the value was rounded up.
pub(crate) fn round_fraction(
    numerator: i128,
    denominator: i128,
    rounding: Rounding,
) -> (i128, i128) {
    // Ordinary amounts fit in 64 bits, where division is one instruction instead of a call.
    let (quotient, remainder) = match (u64::try_from(numerator), u64::try_from(denominator)) {
        (Ok(n), Ok(d)) => (i128::from(n / d), i128::from(n % d)),
        _ => (numerator / denominator, numerator % denominator),
    };
    let twice = 2 * remainder;
    let up = match rounding {
        Rounding::HalfUp => twice >= denominator,
        Rounding::HalfEven => twice > denominator || (twice == denominator && quotient % 2 == 1),
    };
    if up {
        (quotient + 1, remainder - denominator)
    } else {
        (quotient, remainder)
    }
}

/// The split in exact integer arithmetic: with every weight written as an integer `m` at one
/// common scale, part i's exact share is the fraction `total × m_i / Σm`, rounded exactly and
/// compared by exact remainders. `None` when a scaled weight does not fit in 63 bits (then
/// [`by_decimals`] splits). This is the path every ordinary split takes; it is also several
/// times faster than decimal division.
fn by_integers(
    total: i64,
    weights: &[Decimal],
    rounding: Rounding,
) -> Option<Result<Vec<i64>, AllocError>> {
    let scale = weights.iter().map(|w| w.scale()).max()?;
    // The scaled weights first, then, in the same places, what rounding left of each share.
    let mut residuals = Vec::with_capacity(weights.len());
    for w in weights {
        let factor = 10i128.checked_pow(scale - w.scale())?;
        let m = w.mantissa().checked_mul(factor)?;
        if m > i128::from(i64::MAX) {
            return None;
        }
        residuals.push(m);
    }
    // At most len × 2^63, and every product total × m below 2^126: no i128 overflow.
    let denominator: i128 = residuals.iter().sum();
    let mut parts = Vec::with_capacity(weights.len());
    for m in residuals.iter_mut() {
        // part − exact share, in units of 1/denominator, ranks what rounding took or gave.
        let (part, residual) = round_fraction(i128::from(total) * *m, denominator, rounding);
        *m = residual;
        match i64::try_from(part) {
            Ok(p) => parts.push(p),
            Err(_) => return Some(Err(AllocError::Overflow)),
        }
    }
    Some(hand_out_remainder(total, parts, &residuals))
}

/// The split in decimal arithmetic (28 significant digits), for weights too fine or too
/// large for [`by_integers`].
fn by_decimals(
    total: i64,
    weights: &[Decimal],
    sum: Decimal,
    rounding: Rounding,
) -> Result<Vec<i64>, AllocError> {
    let total_dec = Decimal::from(total);
    let mut parts = Vec::with_capacity(weights.len());
    let mut residuals = Vec::with_capacity(weights.len());
    for w in weights {
        // total × w / sum, multiplying first keeps the most precision.
        let exact = total_dec
            .checked_mul(*w)
            .and_then(|v| v.checked_div(sum))
            .ok_or(AllocError::Overflow)?;
        let rounded = rounding.round(exact);
        residuals.push(exact - rounded);
        parts.push(i64::try_from(rounded).map_err(|_| AllocError::Overflow)?);
    }
    hand_out_remainder(total, parts, &residuals)
}

/// Makes `parts` sum to `total`: the units rounding left over go one at a time to the parts
/// it left furthest below their exact share (`residuals[i]` = exact − part), and units it
/// overshot come back from the parts it left furthest above. Among equals an extra unit goes
/// to the earliest part and a unit taken back comes from the latest, so equal weights never
/// give a later part more.
fn hand_out_remainder<R: Ord>(
    total: i64,
    mut parts: Vec<i64>,
    residuals: &[R],
) -> Result<Vec<i64>, AllocError> {
    let assigned = parts
        .iter()
        .try_fold(0i64, |acc, p| acc.checked_add(*p))
        .ok_or(AllocError::Overflow)?;
    let mut diff = total.checked_sub(assigned).ok_or(AllocError::Overflow)?;
    if diff != 0 {
        let mut order: Vec<usize> = (0..parts.len()).collect();
        if diff > 0 {
            order.sort_by(|&a, &b| residuals[b].cmp(&residuals[a]).then(a.cmp(&b)));
        } else {
            order.sort_by(|&a, &b| residuals[a].cmp(&residuals[b]).then(b.cmp(&a)));
        }
        let step = diff.signum();
        for &i in order.iter().cycle() {
            if diff == 0 {
                break;
            }
            parts[i] += step;
            diff -= step;
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// (total, weights, half_up parts, half_even parts), checkable by hand.
    type Golden = (i64, &'static [&'static str], &'static [i64], &'static [i64]);
    const GOLDEN: &[Golden] = &[
        // Thirds: 100 = 33.33 ×3 → 33 each, the 1 left goes to the first part.
        (100, &["1", "1", "1"], &[34, 33, 33], &[34, 33, 33]),
        // 2 between three: 0.667 each rounds to 1 (sum 3): the last gives one back.
        (2, &["1", "1", "1"], &[1, 1, 0], &[1, 1, 0]),
        // .5 boundaries: 5 split evenly in two is 2.5 + 2.5.
        // half_up: 3 + 3 = 6, one too many: the last gives it back → 3, 2.
        // half_even: 2 + 2 = 4, one short: the first gets it → 3, 2.
        (5, &["1", "1"], &[3, 2], &[3, 2]),
        // 7 VND by 0.5/0.5: 3.5 each. half_up 4+4, half_even 4+4 (4 is even) → 4, 3.
        (7, &["0.5", "0.5"], &[4, 3], &[4, 3]),
        // 9 by 0.5/0.5: 4.5 each. half_up 5+5 → 5, 4; half_even 4+4 → 5, 4.
        (9, &["0.5", "0.5"], &[5, 4], &[5, 4]),
        // Shares 60/30/10 of 1,234,567 VND: 740740.2 / 370370.1 / 123456.7, no remainder.
        (
            1_234_567,
            &["0.6", "0.3", "0.1"],
            &[740_740, 370_370, 123_457],
            &[740_740, 370_370, 123_457],
        ),
        // ¥1,000.05 (100005 fen) by 0.6/0.3/0.1: 60003 / 30001.5 / 10000.5.
        // half_up: 60003 + 30002 + 10001 = 100006, the later of the two .5s gives one back
        // → 60003 / 30002 / 10000. half_even: 60003 + 30002 + 10000 = 100005 exactly.
        (
            100_005,
            &["0.6", "0.3", "0.1"],
            &[60_003, 30_002, 10_000],
            &[60_003, 30_002, 10_000],
        ),
        // 11 fen by 0.25 ×4: 2.75 each → 3 ×4 = 12, the last gives one back.
        (
            11,
            &["0.25", "0.25", "0.25", "0.25"],
            &[3, 3, 3, 2],
            &[3, 3, 3, 2],
        ),
        // 10 fen by 0.25 ×4: 2.5 each. half_up 3 ×4 = 12 → the last two give back → 3,3,2,2.
        // half_even 2 ×4 = 8 → the first two get one → 3,3,2,2.
        (
            10,
            &["0.25", "0.25", "0.25", "0.25"],
            &[3, 3, 2, 2],
            &[3, 3, 2, 2],
        ),
        // A zero weight gets nothing.
        (1000, &["1", "0", "3"], &[250, 0, 750], &[250, 0, 750]),
        (0, &["1", "2"], &[0, 0], &[0, 0]),
    ];

    #[test]
    fn golden_tables() {
        for (total, weights, up, even) in GOLDEN {
            let w: Vec<Decimal> = weights.iter().map(|s| d(s)).collect();
            assert_eq!(
                &allocate(*total, &w, Rounding::HalfUp).unwrap(),
                up,
                "half_up {total} {weights:?}"
            );
            assert_eq!(
                &allocate(*total, &w, Rounding::HalfEven).unwrap(),
                even,
                "half_even {total} {weights:?}"
            );
        }
    }

    #[test]
    fn refusals() {
        assert_eq!(allocate(1, &[], Rounding::HalfUp), Err(AllocError::NoParts));
        assert_eq!(
            allocate(-1, &[Decimal::from(1)], Rounding::HalfUp),
            Err(AllocError::NegativeTotal)
        );
        assert_eq!(
            allocate(1, &[Decimal::from(1), Decimal::from(-1)], Rounding::HalfUp),
            Err(AllocError::NegativeWeight)
        );
        assert_eq!(
            allocate(1, &[Decimal::from(0), Decimal::from(0)], Rounding::HalfUp),
            Err(AllocError::ZeroWeights)
        );
        assert_eq!(
            allocate(i64::MAX, &[Decimal::MAX, Decimal::MAX], Rounding::HalfUp),
            Err(AllocError::Overflow)
        );
    }

    #[test]
    fn largest_totals_split_exactly() {
        let parts = allocate(
            i64::MAX,
            &[Decimal::from(1), Decimal::from(1), Decimal::from(1)],
            Rounding::HalfEven,
        )
        .unwrap();
        assert_eq!(
            parts.iter().map(|p| *p as i128).sum::<i128>(),
            i64::MAX as i128
        );
    }

    fn weights() -> impl Strategy<Value = Vec<Decimal>> {
        prop::collection::vec(
            (0u64..1_000_000, 0u32..6).prop_map(|(m, scale)| Decimal::new(m as i64, scale)),
            1..12,
        )
        .prop_filter("not all zero", |w| w.iter().any(|x| !x.is_zero()))
    }

    /// 1 to 6 shares of 1, at 0 to 6 decimals: cut points in 0..=10^scale.
    fn shares() -> impl Strategy<Value = Vec<Decimal>> {
        (0u32..=6).prop_flat_map(|scale| {
            let one = 10i64.pow(scale);
            prop::collection::vec(0..=one, 0..6).prop_map(move |mut cuts| {
                cuts.push(0);
                cuts.push(one);
                cuts.sort_unstable();
                cuts.windows(2)
                    .map(|c| Decimal::new(c[1] - c[0], scale))
                    .collect::<Vec<_>>()
            })
        })
    }

    /// Where the two paths part: a true three-way tie whose first share has one more digit
    /// before the decimal point. Exact: the unit goes to the earliest part.
    #[test]
    fn a_true_tie_goes_to_the_earliest_part() {
        let w = [d("4"), d("1"), d("1")];
        assert_eq!(allocate(2, &w, Rounding::HalfUp).unwrap(), vec![2, 0, 0]);
    }

    fn rounding() -> impl Strategy<Value = Rounding> {
        prop_oneof![Just(Rounding::HalfUp), Just(Rounding::HalfEven)]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Parts sum exactly to the total, none is negative, each is within one minor unit
        /// of its exact share, and equal weights never give a later part more.
        #[test]
        fn splits_are_exact_and_fair(total in 0i64..1_000_000_000_000_000, w in weights(), r in rounding()) {
            let parts = allocate(total, &w, r).unwrap();
            prop_assert_eq!(parts.len(), w.len());
            prop_assert_eq!(parts.iter().map(|p| *p as i128).sum::<i128>(), total as i128);
            let sum: Decimal = w.iter().sum();
            for (p, wi) in parts.iter().zip(&w) {
                prop_assert!(*p >= 0);
                let exact = Decimal::from(total) * *wi / sum;
                prop_assert!((Decimal::from(*p) - exact).abs() < Decimal::ONE, "part {} vs exact {}", p, exact);
            }
            for i in 0..w.len() {
                for j in i + 1..w.len() {
                    if w[i] == w[j] {
                        prop_assert!(parts[i] >= parts[j], "equal weights {} and {}: {:?}", i, j, parts);
                    }
                }
            }
        }

        /// The exact integer path and the decimal path agree wherever decimal division is
        /// exact: shares that sum to 1 (a power of ten at their scale, so every share is a
        /// terminating decimal) and equal weights (one quotient, so ties are exact on both).
        /// Elsewhere decimal division rounds at 28 digits and can split a true tie by the
        /// digits it kept; the integer path, which every ordinary split takes, cannot.
        #[test]
        fn integer_and_decimal_paths_agree_on_shares(total in 0i64..1_000_000_000_000_000, w in shares(), r in rounding()) {
            let sum: Decimal = w.iter().sum();
            prop_assert_eq!(sum, Decimal::ONE);
            let by_int = by_integers(total, &w, r).expect("ordinary weights fit").unwrap();
            prop_assert_eq!(by_int, by_decimals(total, &w, sum, r).unwrap());
        }

        #[test]
        fn integer_and_decimal_paths_agree_on_equal_weights(total in 0i64..1_000_000_000_000_000, n in 1usize..120, r in rounding()) {
            let w = vec![Decimal::ONE; n];
            let by_int = by_integers(total, &w, r).expect("ordinary weights fit").unwrap();
            prop_assert_eq!(by_int, by_decimals(total, &w, Decimal::from(n as i64), r).unwrap());
        }

        /// Any input gives parts or an error, never a panic.
        #[test]
        fn never_panics(total in any::<i64>(), w in prop::collection::vec(any::<i64>().prop_map(|m| Decimal::new(m, 3)), 0..6), r in rounding()) {
            let _ = allocate(total, &w, r);
        }
    }
}
