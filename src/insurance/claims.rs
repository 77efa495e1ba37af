//! Claims on bound policies. The SME files an implementation-failure claim during the trial or
//! within the decision window; the institute files a non-payment claim when an installment is
//! overdue past `insurance.non_payment_grace_days`. The insurer approves (the payout is
//! computed by `settlement::insurance::payout`: min(claim, coverage) − deductible, never more
//! than the coverage earlier payouts left) or rejects with a reason, and records the payment;
//! the claimant may withdraw a claim not yet decided. Every step is one transaction with its
//! audit event and a message to the parties and the insurer through the outbox: this file
//! stores the claim and its event; `app::insurance` reads the agreement, numbers the claim and
//! queues the message ([`mail_facts`]).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::agreements::model::AgreementRow;
use crate::audit::{self, Who};
use crate::auth::session::Actor;
use crate::db::schema::{agreements, insurance_claims as claims, insurance_policies};
use crate::db::DbConn;
use crate::error::AppError;
use crate::insurance::Risk;
use crate::rules::lifecycle::Status as AgreementStatus;
use crate::rules::roles::Role;
use crate::settlement::insurance::payout;
use crate::settlement::money::Currency;

pub use super::model::{Claim, ClaimFilter, ClaimInput, ClaimStep, PayoutFigures};
pub use crate::rules::claims::{decide, ClaimAction, ClaimParty, ClaimRefusal, ClaimStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = claims)]
pub struct ClaimRow {
    pub id: String,
    pub number: String,
    pub agreement_id: String,
    pub policy_id: String,
    pub insurer_id: String,
    pub claimant_org: String,
    pub risk: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reason: String,
    pub evidence: String,
    pub status: String,
    pub version: i64,
    pub payout_minor: Option<i64>,
    pub decision_reason: Option<String>,
    pub payment_reference: Option<String>,
    pub filed_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub paid_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl ClaimRow {
    fn currency(&self) -> Result<Currency, AppError> {
        Currency::parse(&self.currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("claim {} currency", self.id)))
    }

    fn status(&self) -> Result<ClaimStatus, AppError> {
        ClaimStatus::parse(&self.status).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("claim {} status {}", self.id, self.status))
        })
    }

    pub fn view(self) -> Result<Claim, AppError> {
        let cur = self.currency()?;
        Ok(Claim {
            amount: cur.format_amount(self.amount_minor),
            payout: self.payout_minor.map(|v| cur.format_amount(v)),
            id: self.id,
            number: self.number,
            agreement_id: self.agreement_id,
            policy_id: self.policy_id,
            insurer_id: self.insurer_id,
            claimant_org: self.claimant_org,
            risk: self.risk,
            currency: self.currency,
            amount_minor: self.amount_minor,
            reason: self.reason,
            evidence: self.evidence,
            status: self.status,
            version: self.version,
            payout_minor: self.payout_minor,
            decision_reason: self.decision_reason,
            payment_reference: self.payment_reference,
            filed_at: self.filed_at,
            decided_at: self.decided_at,
            paid_at: self.paid_at,
        })
    }
}

/// The claims `actor` may see: its insurer's, the agreement parties', everything for admins
/// and auditors.
fn scoped<'a>(actor: &Actor) -> claims::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend> {
    let q = claims::table.into_boxed();
    let org = actor.organisation_id.clone();
    match actor.role {
        Role::Admin | Role::Auditor => q,
        Role::Insurer => q.filter(claims::insurer_id.eq(org)),
        Role::Sme => q.filter(
            claims::agreement_id.eq_any(
                agreements::table
                    .filter(agreements::sme_id.eq(org))
                    .select(agreements::id),
            ),
        ),
        Role::Institute => q.filter(
            claims::agreement_id.eq_any(
                agreements::table
                    .filter(agreements::institute_id.eq(org))
                    .select(agreements::id),
            ),
        ),
    }
}

/// One claim `actor` may see (404 otherwise).
pub fn get_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<ClaimRow, AppError> {
    scoped(actor)
        .filter(claims::id.eq(id.to_string()))
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// A page of the claims `actor` may see, newest first, and the total.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &ClaimFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Claim>, i64), AppError> {
    let filtered = || {
        let mut q = scoped(actor);
        if let Some(s) = filter.status {
            q = q.filter(claims::status.eq(s.as_str()));
        }
        if let Some(a) = &filter.agreement_id {
            q = q.filter(claims::agreement_id.eq(a.clone()));
        }
        if let Some(r) = filter.risk {
            q = q.filter(claims::risk.eq(r.as_str()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<ClaimRow> = filtered()
        .order((claims::filed_at.desc(), claims::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(ClaimRow::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(ClaimRow::view)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// The claims on a policy, oldest first.
pub fn for_policy(conn: &mut DbConn, policy_id: &str) -> Result<Vec<Claim>, AppError> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::policy_id.eq(policy_id))
        .order((claims::filed_at.asc(), claims::id.asc()))
        .select(ClaimRow::as_select())
        .load(conn)?;
    rows.into_iter().map(ClaimRow::view).collect()
}

/// What approved and paid claims on `policy_id` pay out, together.
pub fn paid_out(conn: &mut DbConn, policy_id: &str) -> Result<i64, AppError> {
    let payouts: Vec<Option<i64>> = claims::table
        .filter(claims::policy_id.eq(policy_id))
        .filter(claims::status.eq_any([ClaimStatus::Approved.as_str(), ClaimStatus::Paid.as_str()]))
        .select(claims::payout_minor)
        .load(conn)?;
    payouts
        .into_iter()
        .flatten()
        .try_fold(0i64, i64::checked_add)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payouts overflow")))
}

/// Queues behind the other approvals on policy `policy_id`, so two cannot both use the same
/// remaining coverage (PostgreSQL; SQLite has one writer). Inside the caller's transaction.
pub fn lock_policy(conn: &mut DbConn, policy_id: &str) -> Result<(), AppError> {
    Ok(crate::db::lock_key(
        conn,
        &format!("claims\u{1f}{policy_id}"),
    )?)
}

/// What approving claim `row` now pays and how the rule reaches it: the figures of its
/// policy and of the payouts approved on it so far. The insurer's page shows these before
/// the approval, which computes its payout with this same function.
pub fn payout_figures(conn: &mut DbConn, row: &ClaimRow) -> Result<PayoutFigures, AppError> {
    let (coverage, deductible): (i64, i64) = insurance_policies::table
        .find(&row.policy_id)
        .select((
            insurance_policies::coverage_minor,
            insurance_policies::deductible_minor,
        ))
        .first(conn)?;
    let already = paid_out(conn, &row.policy_id)?;
    let pay = payout(row.amount_minor, coverage, deductible, already)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("payout of {}: {e}", row.id)))?;
    Ok(PayoutFigures {
        currency: row.currency.clone(),
        claimed_minor: row.amount_minor,
        coverage_minor: coverage,
        deductible_minor: deductible,
        earlier_payouts_minor: already,
        coverage_left_minor: (coverage - already).max(0),
        payout_minor: pay,
    })
}

/// Adds one to the named counter and returns its new value, inside the caller's transaction
/// (the counters are kept by `agreements`; `app::insurance` passes its counter in).
pub type Counter<'a> = &'a mut dyn FnMut(&mut DbConn, &str) -> QueryResult<i64>;

fn next_number(conn: &mut DbConn, counter: Counter<'_>, year: i32) -> Result<String, AppError> {
    let value = counter(conn, &format!("claim-{year}"))?;
    Ok(format!("CL-{year}-{value:06}"))
}

fn text_field(field: &str, text: &str, max: usize, required: bool) -> Result<String, AppError> {
    let t = text.trim();
    let n = t.chars().count();
    if (required && n == 0) || n > max {
        let least = if required { 1 } else { 0 };
        return Err(AppError::field(
            field,
            format!("must be {least} to {max} characters"),
        ));
    }
    Ok(t.to_string())
}

fn wrong_window(row: &AgreementRow, detail: String) -> AppError {
    AppError::InvalidTransition {
        detail,
        current_state: row.status.clone(),
        current_version: row.version,
    }
}

/// Files a claim as `actor` on agreement `row` (the one `input` names, which the actor may
/// see), numbered by `counter`; inside the caller's transaction, with its audit event. The
/// caller has queued behind the agreement's cover ([`super::cover::lock`]) before reading
/// `row`, and queues the message.
pub fn file(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    row: &AgreementRow,
    input: &ClaimInput,
    grace_days: u32,
    counter: Counter<'_>,
) -> Result<ClaimRow, AppError> {
    let risk = Risk::parse(&input.risk)
        .ok_or_else(|| AppError::field("risk", "must be implementation_failure or non_payment"))?;
    let (role, org) = match risk {
        Risk::ImplementationFailure => (Role::Sme, &row.sme_id),
        Risk::NonPayment => (Role::Institute, &row.institute_id),
    };
    if !matches!(actor.role, Role::Sme | Role::Institute) {
        return Err(AppError::Forbidden(
            "claims are filed by the covered party to the agreement".into(),
        ));
    }
    if actor.role != role || actor.organisation_id != *org {
        return Err(AppError::field(
            "risk",
            match risk {
                Risk::ImplementationFailure => {
                    "implementation-failure claims are filed by the agreement's SME"
                }
                Risk::NonPayment => "non-payment claims are filed by the agreement's institute",
            },
        ));
    }
    let reason = text_field("reason", &input.reason, 2000, true)?;
    let evidence = text_field("evidence", &input.evidence, 10_000, false)?;
    // The policy in force that covers the risk. A decline ends the cover, but what failed
    // during the trial may still be claimed until the decision deadline.
    type PolicyFacts = (String, String, String, i64, String, Option<String>);
    let policies: Vec<PolicyFacts> = insurance_policies::table
        .filter(insurance_policies::agreement_id.eq(&row.id))
        .order(insurance_policies::bound_at.desc())
        .select((
            insurance_policies::id,
            insurance_policies::risks,
            insurance_policies::currency,
            insurance_policies::coverage_minor,
            insurance_policies::status,
            insurance_policies::ended_reason,
        ))
        .load(conn)?;
    let Some((policy_id, _, currency, coverage, _, _)) =
        policies
            .into_iter()
            .find(|(_, risks, _, _, status, ended)| {
                let in_force = status == "bound"
                    || (risk == Risk::ImplementationFailure
                        && ended.as_deref() == Some("declined"));
                in_force && risks.split(',').any(|r| r == risk.as_str())
            })
    else {
        return Err(wrong_window(
            row,
            format!(
                "no policy in force on this agreement covers {}",
                risk.as_str()
            ),
        ));
    };
    let cur = Currency::parse(&currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("policy {policy_id} currency")))?;
    let amount = cur
        .parse_amount(&input.amount)
        .map_err(|e| AppError::field("amount", e))?;
    if amount == 0 {
        return Err(AppError::field("amount", "must be more than 0"));
    }
    if amount > coverage {
        return Err(AppError::field(
            "amount",
            format!(
                "exceeds the policy's coverage of {} {}",
                cur.format_amount(coverage),
                cur.code
            ),
        ));
    }
    let today = now.with_timezone(&row.tz()).date_naive();
    let status = row.status()?;
    match risk {
        Risk::ImplementationFailure => {
            let in_window = matches!(
                status,
                AgreementStatus::Active
                    | AgreementStatus::AwaitingDecision
                    | AgreementStatus::Declined
            ) && row.decision_deadline.is_some_and(|d| today <= d);
            if !in_window {
                return Err(wrong_window(
                    row,
                    "an implementation-failure claim is filed during the trial or within the decision window".into(),
                ));
            }
        }
        Risk::NonPayment => {
            // What is still unpaid of the installments due before `cutoff`.
            let cutoff: Option<NaiveDate> =
                today.checked_sub_days(chrono::Days::new(grace_days.into()));
            let overdue = match (status, cutoff) {
                (AgreementStatus::Converted, Some(cutoff)) => {
                    crate::insurance::cover::unpaid_due_before(conn, &row.id, cutoff)?
                }
                _ => 0,
            };
            if overdue == 0 {
                return Err(wrong_window(
                    row,
                    format!("a non-payment claim is filed when an installment is overdue by more than {grace_days} days"),
                ));
            }
            if amount > overdue {
                return Err(AppError::field(
                    "amount",
                    format!(
                        "exceeds what is overdue by more than {grace_days} days ({} {})",
                        cur.format_amount(overdue),
                        cur.code
                    ),
                ));
            }
        }
    }
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_number(conn, counter, chrono::Datelike::year(&today))?;
    let insurer_id: String = insurance_policies::table
        .find(&policy_id)
        .select(insurance_policies::insurer_id)
        .first(conn)?;
    let stamp = now.naive_utc();
    diesel::insert_into(claims::table)
        .values((
            claims::id.eq(&id),
            claims::number.eq(&number),
            claims::agreement_id.eq(&row.id),
            claims::policy_id.eq(&policy_id),
            claims::insurer_id.eq(&insurer_id),
            claims::claimant_org.eq(&actor.organisation_id),
            claims::risk.eq(risk.as_str()),
            claims::currency.eq(cur.code),
            claims::amount_minor.eq(amount),
            claims::reason.eq(&reason),
            claims::evidence.eq(&evidence),
            claims::status.eq(ClaimStatus::Filed.as_str()),
            claims::version.eq(1i64),
            claims::filed_at.eq(stamp),
            claims::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        Who::from(actor),
        "claim.filed",
        "claim",
        &id,
        &serde_json::json!({"after": {
            "number": number, "agreement": row.id, "policy": policy_id, "risk": risk.as_str(),
            "currency": cur.code, "amount_minor": amount, "status": "filed",
        }}),
    )?;
    Ok(claims::table
        .find(&id)
        .select(ClaimRow::as_select())
        .first(conn)?)
}

/// What the message about `claim` tells the parties and the insurer.
pub fn mail_facts(claim: &ClaimRow) -> Result<serde_json::Value, AppError> {
    let cur = claim.currency()?;
    Ok(serde_json::json!({
        "claim": claim.number,
        "risk": claim.risk,
        "amount": format!("{} {}", cur.format_amount(claim.amount_minor), cur.code),
        "payout": claim.payout_minor.map(|v| format!("{} {}", cur.format_amount(v), cur.code)).unwrap_or_default(),
        "decision_reason": claim.decision_reason.clone().unwrap_or_default(),
        "payment_reference": claim.payment_reference.clone().unwrap_or_default(),
    }))
}

/// Claim `id` as `actor` may act on it, if it is still at `expected_version` (404 when the
/// actor may not see it, 412 when it has moved on).
pub fn for_action(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    expected_version: i64,
) -> Result<ClaimRow, AppError> {
    let row = get_visible(conn, actor, id)?;
    if row.version != expected_version {
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current: row.version,
        });
    }
    Ok(row)
}

/// Takes `action` on claim `row` (from [`for_action`]) as `actor`; inside the caller's
/// transaction, with its audit event. Returns the claim as it now is; the caller queues the
/// message.
pub fn act(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    row: &ClaimRow,
    expected_version: i64,
    action: ClaimAction,
    step: &ClaimStep,
) -> Result<ClaimRow, AppError> {
    let party = match actor.role {
        Role::Admin => ClaimParty::Admin,
        Role::Auditor => ClaimParty::Auditor,
        Role::Insurer => ClaimParty::Insurer,
        _ if actor.organisation_id == row.claimant_org => ClaimParty::Claimant,
        _ => ClaimParty::Counterparty,
    };
    let status = row.status()?;
    let next = decide(status, action, party).map_err(|r| match r {
        ClaimRefusal::NotPermitted => AppError::Forbidden(format!(
            "a {} may not {} this claim",
            actor.role.as_str(),
            action.as_str()
        )),
        ClaimRefusal::WrongState => AppError::InvalidTransition {
            detail: format!(
                "a {} claim cannot be {}d",
                status.as_str(),
                action.as_str().trim_end_matches('e')
            ),
            current_state: status.as_str().to_string(),
            current_version: row.version,
        },
    })?;
    let reason = match &step.reason {
        Some(text) => Some(text_field(
            "reason",
            text,
            2000,
            action == ClaimAction::Reject,
        )?),
        None if action == ClaimAction::Reject => {
            return Err(AppError::field("reason", "a rejection states its reason"))
        }
        None => None,
    }
    .filter(|r| !r.is_empty());
    let reference = match &step.reference {
        Some(text) => Some(text_field("reference", text, 200, false)?).filter(|r| !r.is_empty()),
        None => None,
    };
    let stamp = now.naive_utc();
    let mut payout_minor = row.payout_minor;
    let mut decided_at = row.decided_at;
    let mut paid_at = row.paid_at;
    let mut decision_reason = row.decision_reason.clone();
    let mut payment_reference = row.payment_reference.clone();
    match action {
        ClaimAction::Approve => {
            // Approvals on one policy queue behind each other, so two cannot both use the
            // same remaining coverage (PostgreSQL; SQLite has one writer).
            lock_policy(conn, &row.policy_id)?;
            payout_minor = Some(payout_figures(conn, row)?.payout_minor);
            decided_at = Some(stamp);
            decision_reason = reason;
        }
        ClaimAction::Reject => {
            decided_at = Some(stamp);
            decision_reason = reason;
        }
        ClaimAction::Withdraw => {
            decision_reason = reason;
        }
        ClaimAction::Pay => {
            paid_at = Some(stamp);
            payment_reference = reference;
        }
    }
    let updated = diesel::update(
        claims::table
            .find(&row.id)
            .filter(claims::version.eq(row.version)),
    )
    .set((
        claims::status.eq(next.as_str()),
        claims::version.eq(row.version + 1),
        claims::payout_minor.eq(payout_minor),
        claims::decided_at.eq(decided_at),
        claims::paid_at.eq(paid_at),
        claims::decision_reason.eq(&decision_reason),
        claims::payment_reference.eq(&payment_reference),
        claims::updated_at.eq(stamp),
    ))
    .execute(conn)?;
    if updated == 0 {
        let current: i64 = claims::table
            .find(&row.id)
            .select(claims::version)
            .first(conn)?;
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current,
        });
    }
    audit::append(
        conn,
        now,
        Who::from(actor),
        &format!("claim.{}", next.as_str()),
        "claim",
        &row.id,
        &serde_json::json!({
            "before": {"status": status.as_str(), "version": row.version},
            "after": {"status": next.as_str(), "version": row.version + 1,
                      "payout_minor": payout_minor, "reason": decision_reason,
                      "reference": payment_reference},
        }),
    )?;
    Ok(claims::table
        .find(&row.id)
        .select(ClaimRow::as_select())
        .first(conn)?)
}

/// The non-payment claims made on agreements SME `sme_id` is party to, counted by status:
/// the figures of its payment record (no claim or party named).
pub fn non_payment_by_status(conn: &mut DbConn, sme_id: &str) -> QueryResult<Vec<(String, i64)>> {
    claims::table
        .inner_join(agreements::table.on(agreements::id.eq(claims::agreement_id)))
        .filter(agreements::sme_id.eq(sme_id))
        .filter(claims::risk.eq(Risk::NonPayment.as_str()))
        .group_by(claims::status)
        .select((claims::status, diesel::dsl::count_star()))
        .order(claims::status)
        .load(conn)
}
