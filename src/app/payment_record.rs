//! The SME's payment record on the platform: what an institute weighing its trial request
//! sees, and what the SME sees about itself. Figures only: counts of its requests, trials by
//! outcome, conversions, schedule lines paid on time, late or overdue now
//! (`rules::payment_record` defines each), and non-payment claims by outcome. No other
//! party, agreement or amount is named, so nothing of another deal can be read from it.
//!
//! Who sees it: the SME itself; the institute of an agreement the SME asks for or holds;
//! admins and auditors. Insurers do not: their cover is bound from a product the institute
//! chooses at approval, so they make no decision on a request that the record would inform,
//! and the record would tell them of deals they do not cover. Everyone else is answered 404.

use serde::Serialize;
use utoipa::ToSchema;

use crate::agreements::store;
use crate::auth::policy::AgreementScope;
use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::claims::ClaimStatus;
use crate::rules::lifecycle::Status;
use crate::rules::payment_record::{count, LineFacts, PaymentCounts};
use crate::rules::roles::Role;
use crate::AppState;

/// An SME's record on the platform, as of today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentRecord {
    /// Trial requests it has made, whatever came of them.
    pub requests: i64,
    pub trials: TrialCounts,
    /// Trials that ended in a transfer contract.
    pub conversions: i64,
    /// Its contracts' schedule lines (installments, lump sums, entry fees, royalties).
    pub payments: PaymentCounts,
    pub non_payment_claims: ClaimCounts,
}

/// Trials (agreements both parties signed) by where they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrialCounts {
    pub total: i64,
    /// Signed, running, or awaiting the SME's decision.
    pub in_progress: i64,
    pub converted: i64,
    pub declined: i64,
    /// The decision period passed without a decision.
    pub lapsed: i64,
    /// Ended early for breach or by mutual consent.
    pub terminated: i64,
}

/// Insurance claims for non-payment made on its contracts, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClaimCounts {
    pub total: i64,
    /// Filed, not decided yet.
    pub open: i64,
    /// Approved or paid by the insurer.
    pub upheld: i64,
    /// Rejected, or withdrawn by the claimant.
    pub not_upheld: i64,
}

/// The record of the SME that asks for (or holds) agreement `id`, for the agreement's
/// institute, the SME itself, admins and auditors; 404 for anyone else.
pub fn for_agreement(state: &AppState, actor: &Actor, id: &str) -> Result<PaymentRecord, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    if actor.role == Role::Insurer {
        return Err(AppError::NotFound);
    }
    record(state, &mut conn, &row.sme_id)
}

/// The record of SME organisation `org`, for the SME itself, admins and auditors; 404 for
/// anyone else and for an organisation that is not an SME.
pub fn of_organisation(
    state: &AppState,
    actor: &Actor,
    org: &str,
) -> Result<PaymentRecord, AppError> {
    let allowed = match actor.role {
        Role::Admin | Role::Auditor => true,
        Role::Sme => actor.organisation_id == org,
        Role::Institute | Role::Insurer => false,
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.reader()?;
    let organisation = crate::accounts::get_organisation(&mut conn, org)?;
    if organisation.kind != "sme" {
        return Err(AppError::NotFound);
    }
    record(state, &mut conn, org)
}

/// Counts SME `sme_id`'s record, each line's "today" in its agreement's time zone.
pub(super) fn record(
    state: &AppState,
    conn: &mut DbConn,
    sme_id: &str,
) -> Result<PaymentRecord, AppError> {
    let by_status = store::count_by_status(conn, &AgreementScope::Sme(sme_id.to_string()))?;
    tally(state, conn, sme_id, &by_status)
}

/// SME `sme_id`'s record, its agreements already counted by status (`by_status`, as
/// [`store::count_by_status`] gives them: the SME's home has them).
pub(super) fn tally(
    state: &AppState,
    conn: &mut DbConn,
    sme_id: &str,
    by_status: &[(String, i64)],
) -> Result<PaymentRecord, AppError> {
    let mut trials = TrialCounts::default();
    let mut requests = 0;
    for (status, n) in by_status {
        let n = *n;
        requests += n;
        let slot = match Status::parse(status) {
            Some(Status::Signed | Status::Active | Status::AwaitingDecision) => {
                &mut trials.in_progress
            }
            Some(Status::Converted) => &mut trials.converted,
            Some(Status::Declined) => &mut trials.declined,
            Some(Status::Lapsed) => &mut trials.lapsed,
            Some(Status::Terminated) => &mut trials.terminated,
            Some(Status::Requested | Status::Approved | Status::Rejected | Status::Withdrawn) => {
                continue
            }
            None => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "an agreement of {sme_id} has the unknown status {status}"
                )))
            }
        };
        *slot += n;
        trials.total += n;
    }
    let lines: Vec<LineFacts> = crate::contracts::dues::record_lines(conn, sme_id)?
        .into_iter()
        .map(|l| LineFacts {
            due: l.due,
            amount_minor: l.amount_minor,
            paid_minor: l.paid_minor,
            last_paid_on: l.last_paid_on,
            today: state.clock.today(l.time_zone.parse().unwrap_or(state.tz)),
        })
        .collect();
    let mut claims = ClaimCounts::default();
    for (status, n) in crate::insurance::claims::non_payment_by_status(conn, sme_id)? {
        claims.total += n;
        match ClaimStatus::parse(&status) {
            Some(ClaimStatus::Filed) => claims.open += n,
            Some(ClaimStatus::Approved | ClaimStatus::Paid) => claims.upheld += n,
            Some(ClaimStatus::Rejected | ClaimStatus::Withdrawn) => claims.not_upheld += n,
            None => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "a claim on {sme_id}'s agreements has the unknown status {status}"
                )))
            }
        }
    }
    Ok(PaymentRecord {
        requests,
        conversions: trials.converted,
        trials,
        payments: count(&lines),
        non_payment_claims: claims,
    })
}
