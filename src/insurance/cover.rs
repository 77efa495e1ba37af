//! An agreement's insurance from choice to end: a party chooses a product version and the
//! cover before signing ([`choose`]); the policy is bound on that version when both parties
//! have signed ([`bind_chosen`]); it ends with the agreement ([`end_policies`]).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::audit::Who;
use crate::db::schema::{agreement_insurance, insurance_policies, schedule_lines};
use crate::db::DbConn;
use crate::error::AppError;
use crate::insurance::products::{self, ProductRow};
use crate::insurance::{bind, Insured, Policy, Risk};
use crate::settlement::allocate::Rounding;
use crate::settlement::money::Currency;

pub use super::model::Choice;

#[derive(Queryable, Selectable)]
#[diesel(table_name = agreement_insurance)]
struct ChoiceRow {
    product_id: String,
    product_version: i32,
    coverage_minor: i64,
    chosen_by_org: String,
    chosen_at: NaiveDateTime,
}

/// Checks that product `product_id` (its latest version) may insure terms in `currency` on
/// `today` and that `coverage` (major units; default the product's maximum) is within it.
/// Returns the version and the cover in minor units. Errors name `field_prefix`ed fields.
pub fn check_choice(
    conn: &mut DbConn,
    product_id: &str,
    coverage: Option<&str>,
    currency: &str,
    today: NaiveDate,
    field_prefix: &str,
) -> Result<(ProductRow, i64), AppError> {
    let product_field = format!("{field_prefix}product_id");
    let coverage_field = format!("{field_prefix}coverage");
    let product = products::current(conn, product_id)?
        .filter(|p| p.active_on(today))
        .ok_or_else(|| {
            AppError::field(&product_field, "no active insurance product with this id")
        })?;
    if product.currency != currency {
        return Err(AppError::field(
            &product_field,
            format!(
                "the product insures in {}; the agreement's terms are in {currency}",
                product.currency
            ),
        ));
    }
    let cur = Currency::parse(&product.currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("product {} currency", product.id)))?;
    let cover = match coverage {
        None => product.max_coverage_minor,
        Some(text) => cur
            .parse_amount(text)
            .map_err(|e| AppError::field(&coverage_field, e))?,
    };
    if cover <= product.deductible_minor || cover > product.max_coverage_minor {
        return Err(AppError::field(
            &coverage_field,
            format!(
                "must be more than the deductible ({}) and at most the product's maximum coverage ({})",
                cur.format_amount(product.deductible_minor),
                cur.format_amount(product.max_coverage_minor)
            ),
        ));
    }
    Ok((product, cover))
}

/// Records `product` with `cover` as the agreement's choice (replacing an earlier one).
pub fn record_choice(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    agreement_id: &str,
    product: &ProductRow,
    cover: i64,
    by_org: &str,
) -> QueryResult<()> {
    diesel::delete(agreement_insurance::table.find(agreement_id)).execute(conn)?;
    diesel::insert_into(agreement_insurance::table)
        .values((
            agreement_insurance::agreement_id.eq(agreement_id),
            agreement_insurance::product_id.eq(&product.id),
            agreement_insurance::product_version.eq(product.version),
            agreement_insurance::coverage_minor.eq(cover),
            agreement_insurance::chosen_by_org.eq(by_org),
            agreement_insurance::chosen_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The agreement's chosen product, if any.
pub fn choice(conn: &mut DbConn, agreement_id: &str) -> Result<Option<Choice>, AppError> {
    let Some(row) = crate::on_backend!(&mut *conn, |c| agreement_insurance::table
        .find(agreement_id)
        .select(ChoiceRow::as_select())
        .first(c)
        .optional())?
    else {
        return Ok(None);
    };
    let product = products::version(conn, &row.product_id, row.product_version)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("chosen product vanished")))?;
    let cur = Currency::parse(&product.currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("product currency")))?;
    Ok(Some(Choice {
        coverage: cur.format_amount(row.coverage_minor),
        product_id: row.product_id,
        product_version: row.product_version,
        currency: product.currency,
        coverage_minor: row.coverage_minor,
        chosen_by_org: row.chosen_by_org,
        chosen_at: row.chosen_at,
    }))
}

/// Binds the policy on the agreement's chosen product version, if a product was chosen;
/// inside the caller's transaction (the final signature).
pub fn bind_chosen(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    agreement: &crate::agreements::model::AgreementRow,
    today: NaiveDate,
    rounding: Rounding,
) -> Result<Option<Policy>, AppError> {
    let Some(row) = agreement_insurance::table
        .find(&agreement.id)
        .select(ChoiceRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let product = products::version(conn, &row.product_id, row.product_version)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("chosen product vanished")))?;
    let terms = product.policy_terms(row.coverage_minor)?;
    let on = Insured {
        agreement_id: &agreement.id,
        sme_id: &agreement.sme_id,
        subsidy_year: chrono::Datelike::year(&today),
    };
    bind(conn, now, who, on, &terms, rounding).map(Some)
}

/// Queues behind whatever changes the agreement's cover: filing a claim takes this key before
/// it reads the agreement, and ending the policies takes it too, so a claim is never filed on
/// a policy that ended meanwhile (PostgreSQL; SQLite has one writer). Inside the caller's
/// transaction.
pub fn lock(conn: &mut DbConn, agreement_id: &str) -> QueryResult<()> {
    crate::db::lock_key(conn, &format!("cover\u{1f}{agreement_id}"))
}

/// Ends the agreement's bound policies (all of them, or with `keep_non_payment` those that do
/// not cover non-payment), with an audit event each. Returns how many ended.
pub fn end_policies(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    agreement_id: &str,
    reason: &str,
    keep_non_payment: bool,
) -> Result<usize, AppError> {
    // Claims being filed on the agreement finish first (they take the same key).
    lock(conn, agreement_id)?;
    let bound: Vec<(String, String)> = insurance_policies::table
        .filter(insurance_policies::agreement_id.eq(agreement_id))
        .filter(insurance_policies::status.eq("bound"))
        .select((insurance_policies::id, insurance_policies::risks))
        .load(conn)?;
    let mut ended = 0;
    for (id, risks) in bound {
        if keep_non_payment && risks.split(',').any(|r| r == Risk::NonPayment.as_str()) {
            continue;
        }
        diesel::update(insurance_policies::table.find(&id))
            .set((
                insurance_policies::status.eq("ended"),
                insurance_policies::ended_at.eq(now.naive_utc()),
                insurance_policies::ended_reason.eq(reason),
            ))
            .execute(conn)?;
        crate::audit::append(
            conn,
            now,
            who,
            "insurance.policy_ended",
            "agreement",
            agreement_id,
            &serde_json::json!({"before": {"policy": id, "status": "bound"},
                                "after": {"policy": id, "status": "ended", "reason": reason}}),
        )?;
        ended += 1;
    }
    Ok(ended)
}

/// Whether every line of the agreement's fixed payment schedule is paid in full (false with
/// no schedule, and for royalties, whose lines keep coming).
pub fn schedule_paid(conn: &mut DbConn, agreement_id: &str) -> QueryResult<bool> {
    let lines: Vec<(String, i64, i64)> = schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .select((
            schedule_lines::kind,
            schedule_lines::amount_minor,
            schedule_lines::paid_minor,
        ))
        .load(conn)?;
    let open_ended = {
        use crate::db::schema::conversion_contracts as cc;
        let model: Option<String> = cc::table
            .find(agreement_id)
            .select(cc::price_model)
            .first(conn)
            .optional()?;
        model.is_none_or(|m| m.contains("royalty"))
    };
    Ok(!open_ended && !lines.is_empty() && lines.iter().all(|(_, due, paid)| paid >= due))
}

/// What is still unpaid of the agreement's schedule lines due before `cutoff`.
pub fn unpaid_due_before(
    conn: &mut DbConn,
    agreement_id: &str,
    cutoff: NaiveDate,
) -> Result<i64, AppError> {
    let lines: Vec<(i64, i64)> = schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .filter(schedule_lines::due.lt(cutoff))
        // A held line (waiting for registration or a trigger) is not due yet.
        .filter(schedule_lines::held.eq(false))
        .select((schedule_lines::amount_minor, schedule_lines::paid_minor))
        .load(conn)?;
    lines
        .into_iter()
        .map(|(amount, paid)| (amount - paid).max(0))
        .try_fold(0i64, i64::checked_add)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("overdue sum overflows")))
}
