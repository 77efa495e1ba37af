//! Insurance written for a batch: the policies bound at signing (premiums split under the
//! SME's yearly subsidy cap, drawn before the batch is written), ended by now as the
//! agreement's end or its last payment ended them, and claims on some implementation-failure
//! covers, numbered per year as filing numbers them.

use crate::db::schema::counters;

use super::batch::{insert_rows, Batch, BatchCounts};
use super::history::{Plan, World};
use super::paying::PaymentPlan;
use super::random::{splitmix, uuid_at};
use super::*;

/// A policy drawn for a plan, before it is written.
pub(super) struct PolicyPlan {
    pub(super) idx: usize,
    pub(super) id: String,
    pub(super) split: crate::settlement::insurance::PremiumSplit,
    pub(super) subsidy_year: i32,
    pub(super) bound_at: NaiveDateTime,
    /// Ended by the agreement's end, or (set while writing) by the schedule's last payment.
    pub(super) ended: Option<(NaiveDateTime, &'static str)>,
    pub(super) non_payment: bool,
}

#[derive(Insertable)]
#[diesel(table_name = insurance_policies, treat_none_as_default_value = false)]
pub(super) struct NewPolicy<'a> {
    id: String,
    agreement_id: &'a str,
    insurer_id: &'a str,
    sme_id: &'a str,
    product_id: Option<&'a str>,
    product_version: Option<i32>,
    risks: &'a str,
    currency: &'a str,
    coverage_minor: i64,
    premium_rate: &'a str,
    deductible_minor: i64,
    share_sme: &'a str,
    share_institute: &'a str,
    share_subsidy: &'a str,
    subsidy_cap_minor: Option<i64>,
    subsidy_year: i32,
    rounding: &'static str,
    premium_minor: i64,
    sme_pays_minor: i64,
    institute_pays_minor: i64,
    subsidy_minor: i64,
    subsidy_capped_minor: i64,
    status: &'static str,
    bound_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    ended_reason: Option<&'static str>,
}

#[derive(Insertable)]
#[diesel(table_name = insurance_claims, treat_none_as_default_value = false)]
struct NewClaim<'a> {
    id: String,
    number: String,
    agreement_id: &'a str,
    policy_id: String,
    insurer_id: &'a str,
    claimant_org: &'a str,
    risk: &'static str,
    currency: &'a str,
    amount_minor: i64,
    reason: &'static str,
    evidence: &'static str,
    status: &'static str,
    version: i64,
    payout_minor: Option<i64>,
    decision_reason: Option<&'static str>,
    payment_reference: Option<String>,
    filed_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
    paid_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

/// Policies, ended by now as the agreement's end or its last payment ended them.
pub(super) fn write_policies<'a>(
    conn: &mut crate::db::DbConn,
    b: &Batch<'a>,
    drawn: &PaymentPlan,
    counts: &mut BatchCounts,
) -> Result<Vec<NewPolicy<'a>>, AppError> {
    let &Batch {
        world,
        plans,
        ids,
        policies,
        rounding,
        ..
    } = b;
    let PaymentPlan {
        via_function,
        fully_paid_at,
        ..
    } = drawn;
    let policy_rows: Vec<NewPolicy> = policies
        .iter()
        .map(|pp| {
            let p = &plans[pp.idx];
            let pr = &world.products[p.choice.map_or(0, |c| c.product)].row;
            let mut ended = pp.ended;
            if ended.is_none() && pp.non_payment && !via_function.contains(&pp.idx) {
                if let Some(at) = fully_paid_at.get(&pp.idx) {
                    ended = Some((*at, "schedule_paid"));
                }
            }
            NewPolicy {
                id: pp.id.clone(),
                agreement_id: &ids[pp.idx],
                insurer_id: &pr.insurer_id,
                sme_id: &world.smes[p.sme].org_id,
                product_id: Some(&pr.id),
                product_version: Some(pr.version),
                risks: &pr.risks,
                currency: &pr.currency,
                coverage_minor: p.choice.map_or(0, |c| c.coverage),
                premium_rate: &pr.premium_rate,
                deductible_minor: pr.deductible_minor,
                share_sme: &pr.share_sme,
                share_institute: &pr.share_institute,
                share_subsidy: &pr.share_subsidy,
                subsidy_cap_minor: pr.subsidy_cap_minor,
                subsidy_year: pp.subsidy_year,
                rounding: rounding.as_str(),
                premium_minor: pp.split.premium,
                sme_pays_minor: pp.split.sme,
                institute_pays_minor: pp.split.institute,
                subsidy_minor: pp.split.subsidy,
                subsidy_capped_minor: pp.split.subsidy_capped,
                status: if ended.is_some() { "ended" } else { "bound" },
                bound_at: pp.bound_at,
                ended_at: ended.map(|e| e.0),
                ended_reason: ended.map(|e| e.1),
            }
        })
        .collect();
    insert_rows!(conn, insurance_policies::table, policy_rows, 800);
    counts.policies += policy_rows.len() as u64;
    Ok(policy_rows)
}

/// Claims on some implementation-failure covers, filed during the trial.
pub(super) fn write_claims(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    policy_rows: Vec<NewPolicy<'_>>,
    counts: &mut BatchCounts,
) -> Result<(), AppError> {
    let &Batch {
        world,
        plans,
        ids,
        policies,
        now_utc,
        ..
    } = b;
    let now = now_utc.naive_utc();
    let mut claims: Vec<NewClaim> = Vec::new();
    for (pp, row) in policies.iter().zip(&policy_rows) {
        let p = &plans[pp.idx];
        if !row.risks.contains("implementation_failure") {
            continue;
        }
        let mut x = StdRng::seed_from_u64(splitmix(p.extra ^ 0xC1A1));
        if !x.gen_bool(0.08) {
            continue;
        }
        let (Some(from), Some((_, end, _))) = (p.started_at, p.dates) else {
            continue;
        };
        let until = world
            .midnight(end + Duration::days(1))
            .min(p.closed_at.unwrap_or(now))
            .min(now);
        if until <= from + Duration::hours(2) {
            continue;
        }
        let span = (until - from).num_seconds();
        let filed = from + Duration::seconds(x.gen_range(span / 10..span));
        let unit = world.products[p.choice.map_or(0, |c| c.product)].unit;
        let coverage = row.coverage_minor;
        let amount = (((coverage as f64 * x.gen_range(0.05..0.6)) as i64 / unit) * unit)
            .clamp(unit.min(coverage), coverage);
        let decided = world.after(filed, x.gen_range(2..25), &mut x);
        let paid_at = world.after(decided, x.gen_range(2..15), &mut x);
        let roll = x.gen_range(0..100);
        let (status, version, payout, decided_at, paid_at, reason, updated) = if decided >= now {
            ("filed", 1, None, None, None, None, filed)
        } else if roll < 65 {
            let pay =
                crate::settlement::insurance::payout(amount, coverage, pr_deductible(world, p), 0)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("payout: {e}")))?;
            if paid_at < now {
                (
                    "paid",
                    3,
                    Some(pay),
                    Some(decided),
                    Some(paid_at),
                    Some("Đã giám định tại cơ sở."),
                    paid_at,
                )
            } else {
                (
                    "approved",
                    2,
                    Some(pay),
                    Some(decided),
                    None,
                    Some("Đã giám định tại cơ sở."),
                    decided,
                )
            }
        } else if roll < 95 {
            (
                "rejected",
                2,
                None,
                Some(decided),
                None,
                Some("Thiệt hại nằm ngoài phạm vi bảo hiểm."),
                decided,
            )
        } else {
            ("withdrawn", 2, None, None, None, None, decided)
        };
        claims.push(NewClaim {
            id: uuid_at(filed, &mut x),
            number: String::new(),
            agreement_id: &ids[pp.idx],
            policy_id: pp.id.clone(),
            insurer_id: row.insurer_id,
            claimant_org: &world.smes[p.sme].org_id,
            risk: "implementation_failure",
            currency: row.currency,
            amount_minor: amount,
            reason: "Hệ thống không đạt công suất thiết kế trong thời gian dùng thử; chi phí khắc phục.",
            evidence: "Biên bản đo công suất; hóa đơn chi phí khắc phục.",
            status,
            version,
            payout_minor: payout,
            decision_reason: reason,
            payment_reference: paid_at.map(|at| format!("BH-{}-{:05}", at.year(), x.gen_range(0..100_000))),
            filed_at: filed,
            decided_at,
            paid_at,
            updated_at: updated,
        });
    }
    claims.sort_by_key(|c| c.filed_at);
    let mut k = 0;
    while k < claims.len() {
        let year = world.day(claims[k].filed_at).year();
        let mut j = k;
        while j < claims.len() && world.day(claims[j].filed_at).year() == year {
            j += 1;
        }
        let name = format!("claim-{year}");
        let first = store::bump_counter(conn, &name)?;
        if j - k > 1 {
            diesel::update(counters::table.find(&name))
                .set(counters::value.eq(counters::value + (j - k - 1) as i64))
                .execute(conn)?;
        }
        for (m, c) in claims[k..j].iter_mut().enumerate() {
            c.number = format!("CL-{year}-{:06}", first + m as i64);
        }
        k = j;
    }
    insert_rows!(conn, insurance_claims::table, claims, ROWS_SMALL);
    counts.claims += claims.len() as u64;
    Ok(())
}

/// The deductible of the product a plan chose.
fn pr_deductible(world: &World, p: &Plan) -> i64 {
    p.choice
        .map_or(0, |c| world.products[c.product].row.deductible_minor)
}
