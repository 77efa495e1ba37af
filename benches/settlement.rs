//! The settlement computations of one conversion at the largest size a contract has: a
//! 36-installment schedule, the insurance premium split, and the distribution of every
//! installment between institute, inventors and intermediary, plus tax on each. One payment
//! computes less than this (the distribution of one amount and late interest on its open
//! lines), so the figure bounds the computation behind a payment from above.
//!
//! `scripts/bench-settlement.sh` runs this and compares its median with the median round trip
//! of one `POST /api/v1/agreements/{id}/payments` measured by `scripts/bench-api.sh`.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use usefirst::settlement::allocate::Rounding;
use usefirst::settlement::insurance::{split_premium, PremiumShares};
use usefirst::settlement::pricing::{distribute, tax, Tax};
use usefirst::settlement::schedule::installments;

fn d(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

/// Everything one conversion needs, returning a checksum so nothing is optimised away.
fn conversion(total: i64, first_due: NaiveDate, rounding: Rounding) -> i64 {
    let schedule = installments(total, 36, 1, first_due, rounding).expect("a schedule");
    let premium = split_premium(
        total,
        d("0.012"),
        PremiumShares {
            sme: d("0.3"),
            institute: d("0.2"),
            subsidy: d("0.5"),
        },
        Some(2_000_000),
        rounding,
    )
    .expect("a premium split");
    let (institute, inventors, intermediary) = (d("0.6"), d("0.3"), d("0.1"));
    let vat = Tax::Rate { rate: "0.1".into() };
    let mut sum = premium.sme + premium.institute + premium.subsidy;
    for line in &schedule {
        let parts = distribute(line.amount, institute, inventors, intermediary, rounding)
            .expect("a distribution");
        sum += parts.institute + parts.inventors + parts.intermediary;
        sum += tax(line.amount, &vat, rounding).expect("tax");
    }
    sum
}

fn bench(c: &mut Criterion) {
    let first_due = NaiveDate::from_ymd_opt(2027, 1, 31).expect("a date");
    // 1,234,567,891 VND over 36 months: uneven, so the remainder is handed out every time.
    c.bench_function("settlement/36-installments+premium+distribution", |b| {
        b.iter(|| {
            conversion(
                black_box(1_234_567_891),
                black_box(first_due),
                black_box(Rounding::HalfUp),
            )
        })
    });
}

/// The parts, to see where the time goes.
fn parts(c: &mut Criterion) {
    let first_due = NaiveDate::from_ymd_opt(2027, 1, 31).expect("a date");
    let mut g = c.benchmark_group("settlement-parts");
    g.bench_function("schedule-36", |b| {
        b.iter(|| installments(black_box(1_234_567_891), 36, 1, first_due, Rounding::HalfUp))
    });
    let (i, v, m) = (d("0.6"), d("0.3"), d("0.1"));
    g.bench_function("distribute-1", |b| {
        b.iter(|| distribute(black_box(34_293_553), i, v, m, Rounding::HalfUp))
    });
    let vat = Tax::Rate { rate: "0.1".into() };
    g.bench_function("tax-1", |b| {
        b.iter(|| tax(black_box(34_293_553), &vat, Rounding::HalfUp))
    });
    g.finish();
}

criterion_group!(benches, bench, parts);
criterion_main!(benches);
