//! Writing one batch of drawn agreements in one transaction, table by table in a fixed order
//! (agreements, insurance choices, contracts, policies, claims, payments, reminders), ending
//! with the batch's one `agreement.imported` audit event. The order is part of the output: the
//! counters, the draws made while writing and the audit chain depend on it.

use crate::db::schema::counters;

use super::catalogue::MESSAGES;
use super::converting;
use super::history::{Plan, World};
use super::insuring::{self, PolicyPlan};
use super::paying;
use super::reminding;
use super::*;

/// Multi-row INSERTs of `rows` into `table`, `per` rows a statement, on the concrete
/// connection (diesel's batch insert).
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {
        for chunk in $rows.chunks($per) {
            crate::on_backend!(&mut *$conn, |c| diesel::insert_into($table)
                .values(chunk)
                .execute(c))?;
        }
    };
}
pub(super) use insert_rows;

/// What one batch is written with.
pub(super) struct Batch<'a> {
    pub(super) world: &'a World,
    pub(super) plans: &'a [Plan],
    pub(super) ids: &'a [String],
    pub(super) policies: &'a [PolicyPlan],
    pub(super) terms_of: &'a [Terms],
    pub(super) prefix: &'a str,
    pub(super) rounding: crate::settlement::allocate::Rounding,
    pub(super) reminders: &'a crate::config::RemindersConfig,
    pub(super) run: i64,
    pub(super) batch_no: usize,
    pub(super) base_seed: u64,
    pub(super) now_utc: DateTime<Utc>,
}

/// What one batch wrote.
#[derive(Debug, Default)]
pub(super) struct BatchCounts {
    pub(super) contracts: u64,
    pub(super) payments: u64,
    pub(super) via_function: u64,
    pub(super) policies: u64,
    pub(super) claims: u64,
    pub(super) royalty_years: u64,
    pub(super) reminders: u64,
    pub(super) audit_events: u64,
}

/// Writes one batch in the caller's transaction: the agreements, their insurance choices,
/// contracts (through `contracts::create`), closed royalty years, policies, claims, payments
/// (a share through `app::contracts::record_payment_in`), the reminders already sent, and the
/// batch's one audit event.
pub(super) fn write_batch(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
) -> Result<BatchCounts, AppError> {
    let mut counts = BatchCounts::default();
    let numbers = number_agreements(conn, b)?;
    write_agreements(conn, b, &numbers)?;
    write_choices(conn, b)?;
    let contracts = converting::write_contracts(conn, b, &mut counts)?;
    let drawn = paying::draw_payments(b, &contracts);
    let policy_rows = insuring::write_policies(conn, b, &drawn, &mut counts)?;
    insuring::write_claims(conn, b, policy_rows, &mut counts)?;
    paying::write_payments(conn, b, &numbers, &contracts, &drawn, &mut counts)?;
    paying::mark_sent(conn, b, &drawn)?;
    reminding::write_reminders(conn, b, &drawn, &mut counts)?;
    write_event(conn, b, &numbers, &mut counts)?;
    Ok(counts)
}

/// Agreement numbers: gap-free per year, reserved a year's block at a time.
fn number_agreements(conn: &mut crate::db::DbConn, b: &Batch<'_>) -> Result<Vec<String>, AppError> {
    let &Batch {
        world,
        plans,
        prefix,
        ..
    } = b;
    let mut numbers: Vec<String> = Vec::with_capacity(plans.len());
    let mut k = 0;
    while k < plans.len() {
        let year = world.day(plans[k].created).year();
        let mut j = k;
        while j < plans.len() && world.day(plans[j].created).year() == year {
            j += 1;
        }
        let name = format!("agreement-{year}");
        let first = store::bump_counter(conn, &name)?;
        let more = (j - k - 1) as i64;
        if more > 0 {
            diesel::update(counters::table.find(&name))
                .set(counters::value.eq(counters::value + more))
                .execute(conn)?;
        }
        numbers.extend((0..(j - k) as i64).map(|m| format!("{prefix}-{year}-{:06}", first + m)));
        k = j;
    }
    Ok(numbers)
}

#[derive(Insertable)]
#[diesel(table_name = agreements, treat_none_as_default_value = false)]
struct NewAgreement<'a> {
    id: String,
    number: String,
    technology_id: &'a str,
    institute_id: &'a str,
    sme_id: &'a str,
    insurer_id: Option<&'a str>,
    status: &'static str,
    version: i64,
    terms_id: &'a str,
    terms_version: i32,
    terms_snapshot: Option<&'a str>,
    place_of_use: String,
    message: &'static str,
    time_zone: &'static str,
    requested_start: NaiveDate,
    trial_start: Option<NaiveDate>,
    trial_end: Option<NaiveDate>,
    decision_deadline: Option<NaiveDate>,
    extended: bool,
    sme_signed_at: Option<NaiveDateTime>,
    institute_signed_at: Option<NaiveDateTime>,
    closed_reason: Option<&'static str>,
    requested_by: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    approved_at: Option<NaiveDateTime>,
    started_on: Option<NaiveDate>,
    trial_ended_on: Option<NaiveDate>,
    closed_at: Option<NaiveDateTime>,
    decision_days: Option<i32>,
}

/// The agreements as they stand now, numbered.
fn write_agreements(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    numbers: &[String],
) -> Result<(), AppError> {
    let &Batch {
        world, plans, ids, ..
    } = b;
    let rows: Vec<NewAgreement> = plans
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let t = &world.techs[p.tech];
            let s = &world.smes[p.sme];
            let (ts, te, dl) = match p.dates {
                Some((a, b, c)) => (Some(a), Some(b), Some(c)),
                None => (None, None, None),
            };
            NewAgreement {
                id: ids[k].clone(),
                number: numbers[k].clone(),
                technology_id: &t.id,
                institute_id: &t.institute_id,
                sme_id: &s.org_id,
                insurer_id: p.insurer.map(|i| world.insurers[i].as_str()),
                status: p.fate.status().as_str(),
                version: p.version,
                terms_id: &t.terms_id,
                terms_version: t.terms_version,
                terms_snapshot: p.approved_at.map(|_| t.body.as_str()),
                place_of_use: format!(
                    "{}, {}",
                    [
                        "Nhà máy sản xuất",
                        "Xưởng chế biến",
                        "Cơ sở sản xuất",
                        "Trang trại"
                    ][p.place],
                    s.province
                ),
                message: MESSAGES[p.message],
                time_zone: world.tz.name(),
                requested_start: p.requested_start,
                trial_start: ts,
                trial_end: te,
                decision_deadline: dl,
                extended: p.extended,
                sme_signed_at: p.sme_signed_at,
                institute_signed_at: p.institute_signed_at,
                closed_reason: p.closed_reason,
                requested_by: &s.user_id,
                created_at: p.created,
                updated_at: p.updated_at,
                approved_at: p.approved_at,
                started_on: p.started_on,
                trial_ended_on: p.trial_ended_on,
                closed_at: p.closed_at,
                decision_days: p.decision_days,
            }
        })
        .collect();
    insert_rows!(conn, agreements::table, rows, ROWS_AGREEMENTS);
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = agreement_insurance)]
struct NewChoice<'a> {
    agreement_id: &'a str,
    product_id: &'a str,
    product_version: i32,
    coverage_minor: i64,
    chosen_by_org: &'a str,
    chosen_at: NaiveDateTime,
}

/// The insurance products chosen, by the SME or by the institute at approval.
fn write_choices(conn: &mut crate::db::DbConn, b: &Batch<'_>) -> Result<(), AppError> {
    let &Batch {
        world, plans, ids, ..
    } = b;
    let choices: Vec<NewChoice> = plans
        .iter()
        .enumerate()
        .filter_map(|(k, p)| {
            let ch = p.choice?;
            let pr = &world.products[ch.product].row;
            let t = &world.techs[p.tech];
            Some(NewChoice {
                agreement_id: &ids[k],
                product_id: &pr.id,
                product_version: pr.version,
                coverage_minor: ch.coverage,
                chosen_by_org: if ch.by_sme {
                    &world.smes[p.sme].org_id
                } else {
                    &t.institute_id
                },
                chosen_at: ch.chosen_at,
            })
        })
        .collect();
    insert_rows!(conn, agreement_insurance::table, choices, ROWS_SMALL);
    Ok(())
}

/// One event for the batch: the agreements by number and the SHA-256 of their ids.
fn write_event(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    numbers: &[String],
    counts: &mut BatchCounts,
) -> Result<(), AppError> {
    let &Batch {
        ids,
        run,
        batch_no,
        now_utc,
        ..
    } = b;
    let digest = hex::encode(Sha256::digest(ids.join("\n").as_bytes()));
    audit::append(
        conn,
        now_utc,
        Who::SYSTEM,
        "agreement.imported",
        "import",
        &format!("seed-synthetic/{run}/{}", batch_no + 1),
        &serde_json::json!({"after": {
            "source": "seed-synthetic", "run": run, "batch": batch_no + 1, "count": ids.len(),
            "first_number": numbers.first(), "last_number": numbers.last(), "ids_sha256": digest,
            "contracts": counts.contracts, "payments": counts.payments, "policies": counts.policies,
            "claims": counts.claims, "royalty_years": counts.royalty_years,
        }}),
    )?;
    counts.audit_events += 1;
    Ok(())
}
