//! Insurance policies on agreements: the product's figures frozen when the policy is bound,
//! and the premium with its split between the SME, the institute and the public subsidy,
//! computed once by `settlement::insurance` and stored. The subsidy cap is per SME per
//! calendar year: what earlier policies of the same SME in that year already drew from the
//! subsidy is taken off the cap before the split, and the capped remainder falls to the SME.
//!
//! What insurance is, as the other parts and the edges see it, is `model`; the tables are
//! read and written here and in `claims`, `cover`, `portfolio` and `products`. What an action
//! does across the parts (the agreement read, the mail to the parties) is `app::insurance`.

pub mod claims;
pub mod cover;
pub mod model;
pub mod portfolio;
pub mod products;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::audit::{self, Who};
use crate::db::schema::insurance_policies;
use crate::db::DbConn;
use crate::error::AppError;
use crate::settlement::allocate::Rounding;
use crate::settlement::insurance::split_premium;
use crate::settlement::money::Currency;

pub use model::{Insured, Policy, PolicyTerms, Risk};

#[derive(Queryable, Selectable)]
#[diesel(table_name = insurance_policies)]
struct PolicyRow {
    id: String,
    agreement_id: String,
    insurer_id: String,
    product_id: Option<String>,
    product_version: Option<i32>,
    risks: String,
    currency: String,
    coverage_minor: i64,
    premium_rate: String,
    deductible_minor: i64,
    share_sme: String,
    share_institute: String,
    share_subsidy: String,
    subsidy_cap_minor: Option<i64>,
    subsidy_year: i32,
    rounding: String,
    premium_minor: i64,
    sme_pays_minor: i64,
    institute_pays_minor: i64,
    subsidy_minor: i64,
    subsidy_capped_minor: i64,
    status: String,
    bound_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    ended_reason: Option<String>,
}

impl PolicyRow {
    /// The policy with its claims and what they pay out.
    fn view(self, conn: &mut DbConn) -> Result<Policy, AppError> {
        let claims: Vec<claims::Claim> = claims::for_policy(conn, &self.id)?;
        let sum = |pick: fn(claims::ClaimStatus) -> bool| {
            claims
                .iter()
                .filter(|c| claims::ClaimStatus::parse(&c.status).is_some_and(pick))
                .filter_map(|c| c.payout_minor)
                .try_fold(0i64, i64::checked_add)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payouts overflow")))
        };
        let incurred = sum(claims::ClaimStatus::pays)?;
        let paid_out = sum(|s| s == claims::ClaimStatus::Paid)?;
        let cur = Currency::parse(&self.currency).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "policy {} has unknown currency {}",
                self.id,
                self.currency
            ))
        })?;
        let f = |v: i64| cur.format_amount(v);
        let remaining = (self.coverage_minor - incurred).max(0);
        Ok(Policy {
            paid_out: f(paid_out),
            paid_out_minor: paid_out,
            incurred: f(incurred),
            incurred_minor: incurred,
            coverage_remaining: f(remaining),
            coverage_remaining_minor: remaining,
            claims,
            ended_at: self.ended_at,
            ended_reason: self.ended_reason,
            risks: self.risks.split(',').map(str::to_string).collect(),
            coverage: f(self.coverage_minor),
            deductible: f(self.deductible_minor),
            subsidy_cap: self.subsidy_cap_minor.map(f),
            premium: f(self.premium_minor),
            sme_pays: f(self.sme_pays_minor),
            institute_pays: f(self.institute_pays_minor),
            subsidy: f(self.subsidy_minor),
            subsidy_capped: f(self.subsidy_capped_minor),
            id: self.id,
            agreement_id: self.agreement_id,
            insurer_id: self.insurer_id,
            product_id: self.product_id,
            product_version: self.product_version,
            currency: self.currency,
            premium_rate: self.premium_rate,
            share_sme: self.share_sme,
            share_institute: self.share_institute,
            share_subsidy: self.share_subsidy,
            subsidy_year: self.subsidy_year,
            rounding: self.rounding,
            status: self.status,
            bound_at: self.bound_at,
            coverage_minor: self.coverage_minor,
            premium_minor: self.premium_minor,
            sme_pays_minor: self.sme_pays_minor,
            institute_pays_minor: self.institute_pays_minor,
            subsidy_minor: self.subsidy_minor,
            subsidy_capped_minor: self.subsidy_capped_minor,
        })
    }
}

/// Binds a policy on `on`, counting its subsidy against the SME's cap for the year; inside
/// the caller's transaction, with its audit event.
pub fn bind(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    on: Insured<'_>,
    terms: &PolicyTerms,
    rounding: Rounding,
) -> Result<Policy, AppError> {
    let Insured {
        agreement_id,
        sme_id,
        subsidy_year,
    } = on;
    if terms.risks.is_empty() {
        return Err(AppError::field(
            "risks",
            "a policy covers at least one risk",
        ));
    }
    if terms.deductible_minor < 0 {
        return Err(AppError::field("deductible", "must not be negative"));
    }
    if terms.subsidy_cap_minor.is_some_and(|cap| cap < 0) {
        return Err(AppError::field("subsidy_cap", "must not be negative"));
    }
    // Two policies of one SME bound at once must not both use the same remaining subsidy.
    crate::db::lock_key(conn, &format!("subsidy\u{1f}{sme_id}\u{1f}{subsidy_year}"))?;
    let currency = terms.currency.code;
    let used: Vec<i64> = insurance_policies::table
        .filter(insurance_policies::sme_id.eq(sme_id))
        .filter(insurance_policies::subsidy_year.eq(subsidy_year))
        .filter(insurance_policies::currency.eq(currency))
        .select(insurance_policies::subsidy_minor)
        .load(conn)?;
    let used = used
        .into_iter()
        .try_fold(0i64, i64::checked_add)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("subsidy sum overflows")))?;
    // Both non-negative, so the difference cannot overflow.
    let remaining = terms.subsidy_cap_minor.map(|cap| (cap - used).max(0));
    let split = split_premium(
        terms.coverage_minor,
        terms.premium_rate,
        terms.shares,
        remaining,
        rounding,
    )
    .map_err(|e| AppError::field("premium", e.to_string()))?;
    let id = uuid::Uuid::now_v7().to_string();
    let risks = terms
        .risks
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    diesel::insert_into(insurance_policies::table)
        .values((
            insurance_policies::id.eq(&id),
            insurance_policies::agreement_id.eq(agreement_id),
            insurance_policies::insurer_id.eq(&terms.insurer_id),
            insurance_policies::sme_id.eq(sme_id),
            insurance_policies::product_id.eq(&terms.product_id),
            insurance_policies::product_version.eq(terms.product_version),
            insurance_policies::risks.eq(&risks),
            insurance_policies::currency.eq(currency),
            insurance_policies::coverage_minor.eq(terms.coverage_minor),
            insurance_policies::premium_rate.eq(terms.premium_rate.to_string()),
            insurance_policies::deductible_minor.eq(terms.deductible_minor),
            insurance_policies::share_sme.eq(terms.shares.sme.to_string()),
            insurance_policies::share_institute.eq(terms.shares.institute.to_string()),
            insurance_policies::share_subsidy.eq(terms.shares.subsidy.to_string()),
            insurance_policies::subsidy_cap_minor.eq(terms.subsidy_cap_minor),
            insurance_policies::subsidy_year.eq(subsidy_year),
            insurance_policies::rounding.eq(rounding.as_str()),
            insurance_policies::premium_minor.eq(split.premium),
            insurance_policies::sme_pays_minor.eq(split.sme),
            insurance_policies::institute_pays_minor.eq(split.institute),
            insurance_policies::subsidy_minor.eq(split.subsidy),
            insurance_policies::subsidy_capped_minor.eq(split.subsidy_capped),
            insurance_policies::status.eq("bound"),
            insurance_policies::bound_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        "insurance.policy_bound",
        "agreement",
        agreement_id,
        &serde_json::json!({"after": {
            "policy": id, "insurer": terms.insurer_id, "risks": risks, "currency": currency,
            "coverage_minor": terms.coverage_minor, "premium_rate": terms.premium_rate.to_string(),
            "premium_minor": split.premium, "sme_minor": split.sme, "institute_minor": split.institute,
            "subsidy_minor": split.subsidy, "subsidy_capped_minor": split.subsidy_capped,
            "subsidy_year": subsidy_year, "rounding": rounding.as_str(),
        }}),
    )?;
    let row: PolicyRow = insurance_policies::table
        .find(&id)
        .select(PolicyRow::as_select())
        .first(conn)?;
    row.view(conn)
}

/// The policies bound on an agreement, oldest first.
pub fn for_agreement(conn: &mut DbConn, agreement_id: &str) -> Result<Vec<Policy>, AppError> {
    let rows: Vec<PolicyRow> = insurance_policies::table
        .filter(insurance_policies::agreement_id.eq(agreement_id))
        .order((
            insurance_policies::bound_at.asc(),
            insurance_policies::id.asc(),
        ))
        .select(PolicyRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| r.view(conn)).collect()
}

/// The policies `actor` may see (its own as an insurer; its agreements' as a party; all for
/// admins and auditors), newest first, optionally of one agreement.
pub fn visible_policies(
    conn: &mut DbConn,
    actor: &crate::auth::session::Actor,
    agreement_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Policy>, i64), AppError> {
    use crate::db::schema::agreements;
    use crate::rules::roles::Role;
    let org = actor.organisation_id.clone();
    let filtered = || {
        let mut q = insurance_policies::table.into_boxed();
        q = match actor.role {
            Role::Admin | Role::Auditor => q,
            Role::Insurer => q.filter(insurance_policies::insurer_id.eq(org.clone())),
            Role::Sme => q.filter(insurance_policies::sme_id.eq(org.clone())),
            Role::Institute => q.filter(
                insurance_policies::agreement_id.eq_any(
                    agreements::table
                        .filter(agreements::institute_id.eq(org.clone()))
                        .select(agreements::id),
                ),
            ),
        };
        if let Some(a) = agreement_id {
            q = q.filter(insurance_policies::agreement_id.eq(a.to_string()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<PolicyRow> = filtered()
        .order((
            insurance_policies::bound_at.desc(),
            insurance_policies::id.desc(),
        ))
        .limit(limit)
        .offset(offset)
        .select(PolicyRow::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|r| r.view(conn))
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}
