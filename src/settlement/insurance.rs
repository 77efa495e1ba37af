//! Insurance money: the premium (coverage × rate) and who pays it (SME, institute, public
//! subsidy, by the product's shares, with an optional subsidy cap per SME per calendar year
//! whose excess falls back to the SME), and claim payouts. Pure and exact.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::settlement::allocate::{allocate, AllocError, Rounding};

/// The product's shares of a premium; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PremiumShares {
    pub sme: Decimal,
    pub institute: Decimal,
    pub subsidy: Decimal,
}

/// A premium and who pays what, in minor units; the three parts sum to `premium`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PremiumSplit {
    pub premium: i64,
    pub sme: i64,
    pub institute: i64,
    pub subsidy: i64,
    /// Subsidy the cap withheld, now paid by the SME (included in `sme`).
    pub subsidy_capped: i64,
}

/// Why insurance money cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsuranceError {
    #[error("the premium shares must sum to exactly 1")]
    SharesNotWhole,
    #[error("coverage, rate, cap and amounts must not be negative")]
    Negative,
    #[error(transparent)]
    Split(#[from] AllocError),
}

/// Premium for `coverage` minor units at `rate`, rounded by `rounding`.
pub fn premium(coverage: i64, rate: Decimal, rounding: Rounding) -> Result<i64, InsuranceError> {
    if coverage < 0 || rate.is_sign_negative() && !rate.is_zero() {
        return Err(InsuranceError::Negative);
    }
    let exact = Decimal::from(coverage)
        .checked_mul(rate)
        .ok_or(AllocError::Overflow)?;
    i64::try_from(rounding.round(exact)).map_err(|_| InsuranceError::Split(AllocError::Overflow))
}

/// Splits the premium for `coverage` at `rate` by `shares`. `subsidy_cap` is what this SME may
/// still receive in subsidy this calendar year (`None`: no cap).
pub fn split_premium(
    coverage: i64,
    rate: Decimal,
    shares: PremiumShares,
    subsidy_cap: Option<i64>,
    rounding: Rounding,
) -> Result<PremiumSplit, InsuranceError> {
    if shares.sme + shares.institute + shares.subsidy != Decimal::ONE {
        return Err(InsuranceError::SharesNotWhole);
    }
    if subsidy_cap.is_some_and(|c| c < 0) {
        return Err(InsuranceError::Negative);
    }
    let premium = premium(coverage, rate, rounding)?;
    let parts = allocate(
        premium,
        &[shares.sme, shares.institute, shares.subsidy],
        rounding,
    )?;
    let (mut sme, institute, mut subsidy) = (parts[0], parts[1], parts[2]);
    let mut subsidy_capped = 0;
    if let Some(cap) = subsidy_cap {
        if subsidy > cap {
            subsidy_capped = subsidy - cap;
            subsidy = cap;
            sme = sme
                .checked_add(subsidy_capped)
                .ok_or(AllocError::Overflow)?;
        }
    }
    Ok(PremiumSplit {
        premium,
        sme,
        institute,
        subsidy,
        subsidy_capped,
    })
}

/// What an approved claim pays: min(claimed, coverage) − deductible, never negative and never
/// more than the coverage left after earlier payouts.
pub fn payout(
    claimed: i64,
    coverage: i64,
    deductible: i64,
    already_paid: i64,
) -> Result<i64, InsuranceError> {
    if claimed < 0 || coverage < 0 || deductible < 0 || already_paid < 0 {
        return Err(InsuranceError::Negative);
    }
    let gross = claimed.min(coverage).saturating_sub(deductible).max(0);
    let remaining = coverage.saturating_sub(already_paid).max(0);
    Ok(gross.min(remaining))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn shares(sme: &str, inst: &str, sub: &str) -> PremiumShares {
        PremiumShares {
            sme: d(sme),
            institute: d(inst),
            subsidy: d(sub),
        }
    }

    /// Worked by hand.
    #[test]
    fn golden_premiums() {
        // 500,000,000 VND cover at 1.5%: 7,500,000; 30/20/50 → 2,250,000 / 1,500,000 / 3,750,000.
        let s = split_premium(
            500_000_000,
            d("0.015"),
            shares("0.3", "0.2", "0.5"),
            None,
            Rounding::HalfUp,
        )
        .unwrap();
        assert_eq!(
            s,
            PremiumSplit {
                premium: 7_500_000,
                sme: 2_250_000,
                institute: 1_500_000,
                subsidy: 3_750_000,
                subsidy_capped: 0
            }
        );
        // Same, with only 3,000,000 VND of subsidy left this year: 750,000 falls back to the SME.
        let s = split_premium(
            500_000_000,
            d("0.015"),
            shares("0.3", "0.2", "0.5"),
            Some(3_000_000),
            Rounding::HalfUp,
        )
        .unwrap();
        assert_eq!(
            s,
            PremiumSplit {
                premium: 7_500_000,
                sme: 3_000_000,
                institute: 1_500_000,
                subsidy: 3_000_000,
                subsidy_capped: 750_000
            }
        );
        // ¥33.33 cover (3333 fen) at 1.5% = 49.995 fen: half_up 50, half_even 50 (…995 is not
        // a tie); ¥1 (100 fen) at 2.5% = 2.5 fen: half_up 3, half_even 2.
        assert_eq!(premium(3333, d("0.015"), Rounding::HalfUp).unwrap(), 50);
        assert_eq!(premium(100, d("0.025"), Rounding::HalfUp).unwrap(), 3);
        assert_eq!(premium(100, d("0.025"), Rounding::HalfEven).unwrap(), 2);
        // 5 fen by 50/50/0: 2.5 + 2.5. half_up 3 + 3 = 6, the later gives one back → 3, 2;
        // half_even 2 + 2 = 4, the earlier gets the one left → 3, 2.
        let s = split_premium(
            100,
            d("0.05"),
            shares("0.5", "0.5", "0"),
            None,
            Rounding::HalfUp,
        )
        .unwrap();
        assert_eq!((s.premium, s.sme, s.institute, s.subsidy), (5, 3, 2, 0));
        let s = split_premium(
            100,
            d("0.05"),
            shares("0.5", "0.5", "0"),
            None,
            Rounding::HalfEven,
        )
        .unwrap();
        assert_eq!((s.premium, s.sme, s.institute, s.subsidy), (5, 3, 2, 0));
    }

    /// Claims on one policy in turn, each paying min(claim, coverage) − deductible within
    /// the coverage the earlier payouts left; worked by hand. VND has no minor unit; CNY
    /// amounts are in fen.
    #[test]
    fn golden_payout_tables_with_the_cap_from_earlier_payouts() {
        struct Case {
            currency: &'static str,
            coverage: i64,
            deductible: i64,
            /// (claimed, expected payout), in filing order.
            claims: &'static [(i64, i64)],
        }
        let cases = [
            // VND 500,000,000 cover, 5,000,000 deductible.
            Case {
                currency: "VND",
                coverage: 500_000_000,
                deductible: 5_000_000,
                claims: &[
                    (120_000_000, 115_000_000), // 120m − 5m
                    (4_999_999, 0),             // below the deductible
                    (600_000_000, 385_000_000), // 500m − 5m = 495m, but 385m left
                    (50_000_000, 0),            // the coverage is used up
                ],
            },
            // VND 200,000,000 cover, no deductible: claims fill it exactly.
            Case {
                currency: "VND",
                coverage: 200_000_000,
                deductible: 0,
                claims: &[(150_000_000, 150_000_000), (50_000_000, 50_000_000), (1, 0)],
            },
            // CNY ¥80,000.00 cover, ¥1,000.00 deductible.
            Case {
                currency: "CNY",
                coverage: 8_000_000,
                deductible: 100_000,
                claims: &[
                    (2_550_050, 2_450_050), // ¥25,500.50 − ¥1,000.00
                    (100_001, 1),           // one fen over the deductible
                    (9_000_000, 5_549_949), // ¥79,000.00, but ¥55,499.49 left
                    (200_000, 0),
                ],
            },
            // CNY ¥5,000.00 cover, ¥500.00 deductible: a claim over the cover pays the cover less
            // the deductible.
            Case {
                currency: "CNY",
                coverage: 500_000,
                deductible: 50_000,
                claims: &[(1_000_000, 450_000), (1_000_000, 50_000)],
            },
        ];
        for case in cases {
            let mut paid = 0i64;
            for (i, &(claimed, expected)) in case.claims.iter().enumerate() {
                let got = payout(claimed, case.coverage, case.deductible, paid).unwrap();
                assert_eq!(got, expected, "{} claim {i}", case.currency);
                paid += got;
                assert!(paid <= case.coverage, "{} claim {i}", case.currency);
            }
        }
    }

    #[test]
    fn golden_payouts() {
        // Claim 80m VND on 50m cover with 5m deductible: 45m.
        assert_eq!(
            payout(80_000_000, 50_000_000, 5_000_000, 0).unwrap(),
            45_000_000
        );
        // Claim below the deductible pays nothing.
        assert_eq!(payout(3_000_000, 50_000_000, 5_000_000, 0).unwrap(), 0);
        // 40m already paid on 50m cover: at most 10m more.
        assert_eq!(
            payout(30_000_000, 50_000_000, 5_000_000, 40_000_000).unwrap(),
            10_000_000
        );
        assert_eq!(
            payout(30_000_000, 50_000_000, 5_000_000, 60_000_000).unwrap(),
            0
        );
        assert_eq!(payout(-1, 1, 0, 0), Err(InsuranceError::Negative));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            split_premium(
                1,
                d("0.1"),
                shares("0.5", "0.5", "0.1"),
                None,
                Rounding::HalfUp
            ),
            Err(InsuranceError::SharesNotWhole)
        );
        assert_eq!(
            split_premium(
                -1,
                d("0.1"),
                shares("0.5", "0.5", "0"),
                None,
                Rounding::HalfUp
            ),
            Err(InsuranceError::Negative)
        );
        assert_eq!(
            split_premium(
                1,
                d("0.1"),
                shares("0.5", "0.5", "0"),
                Some(-1),
                Rounding::HalfUp
            ),
            Err(InsuranceError::Negative)
        );
        assert_eq!(
            premium(i64::MAX, Decimal::MAX, Rounding::HalfUp),
            Err(InsuranceError::Split(AllocError::Overflow))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The parts always sum to the premium, none is negative, the subsidy never exceeds
        /// the cap, and what the cap withholds lands on the SME.
        #[test]
        fn premium_parts_sum(
            coverage in 0i64..1_000_000_000_000,
            rate_bp in 0i64..10_000,
            (sme, inst) in (0i64..=100).prop_flat_map(|s| (Just(s), 0..=100 - s)),
            cap in prop::option::of(0i64..10_000_000_000),
            even in any::<bool>(),
        ) {
            let sh = PremiumShares { sme: Decimal::new(sme, 2), institute: Decimal::new(inst, 2), subsidy: Decimal::new(100 - sme - inst, 2) };
            let rounding = if even { Rounding::HalfEven } else { Rounding::HalfUp };
            let s = split_premium(coverage, Decimal::new(rate_bp, 4), sh, cap, rounding).unwrap();
            prop_assert_eq!(s.sme + s.institute + s.subsidy, s.premium);
            prop_assert!(s.sme >= 0 && s.institute >= 0 && s.subsidy >= 0);
            if let Some(c) = cap { prop_assert!(s.subsidy <= c); }
            let uncapped = split_premium(coverage, Decimal::new(rate_bp, 4), sh, None, rounding).unwrap();
            prop_assert_eq!(s.sme, uncapped.sme + s.subsidy_capped);
        }

        /// Payouts are never negative, never above the claim, the coverage, or what is left.
        #[test]
        fn payouts_are_bounded(claimed in 0i64..i64::MAX, coverage in 0i64..i64::MAX, deductible in 0i64..i64::MAX, paid in 0i64..i64::MAX) {
            let p = payout(claimed, coverage, deductible, paid).unwrap();
            prop_assert!(p >= 0 && p <= claimed && p <= coverage && p <= coverage.saturating_sub(paid).max(0));
        }
    }
}
