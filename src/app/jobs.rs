//! What each scheduled job does, and its run recorded: the scheduler (or `usefirst run-job`)
//! says which job and slot; this claims the slot through `jobs`, runs the job through the
//! application functions of each part, and records the outcome.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::error::AppError;
use crate::jobs::{self, JobKind, JobRun, RunReport, STALE_AFTER_MINUTES};
use crate::AppState;

/// The latest slot of `kind` taken by any instance, if any.
pub fn last_slot(state: &AppState, kind: JobKind) -> Result<Option<NaiveDateTime>, AppError> {
    let mut conn = state.db.reader()?;
    Ok(jobs::last_slot(&mut conn, kind.name())?)
}

/// Claims `(kind, slot)` for `instance`; if it won the slot, runs the job and records the
/// outcome. `None` when another run has the slot.
pub fn claim_and_run(
    state: &AppState,
    instance: &str,
    kind: JobKind,
    slot: DateTime<Utc>,
    triggered_by: &str,
) -> Result<Option<RunReport>, AppError> {
    let started = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let claimed = state.db.write(|conn| {
        jobs::claim(
            conn,
            &id,
            kind.name(),
            slot,
            triggered_by,
            instance,
            started,
        )
        .map_err(AppError::from)
    })?;
    if !claimed {
        return Ok(None);
    }
    tracing::debug!(job = kind.name(), %slot, "job run claimed");
    let began = std::time::Instant::now();
    let outcome = run(state, kind, slot, triggered_by == "manual");
    let elapsed = began.elapsed();
    let finished = state.clock.now();
    let (status, counts, error) = match outcome {
        Ok(counts) => ("ok", counts, None),
        Err(e) => ("failed", serde_json::json!({}), Some(e)),
    };
    state
        .metrics
        .job_run(kind.name(), status, elapsed.as_secs_f64());
    match &error {
        Some(e) => tracing::error!(job = kind.name(), %slot, error = %e, "job run failed"),
        None => tracing::info!(job = kind.name(), %slot, counts = %counts, "job run finished"),
    }
    let stale_before = (finished - Duration::minutes(STALE_AFTER_MINUTES)).naive_utc();
    state.db.write(|conn| {
        jobs::finish(
            conn,
            &id,
            kind.name(),
            slot,
            status,
            finished,
            &counts,
            error.as_deref(),
            stale_before,
        )
        .map_err(AppError::from)
    })?;
    Ok(Some(RunReport {
        job: kind.name(),
        slot,
        status,
        counts,
        error,
        elapsed,
    }))
}

/// Does the job's work; returns what it counted, or why it failed.
fn run(
    state: &AppState,
    kind: JobKind,
    slot: DateTime<Utc>,
    manual: bool,
) -> Result<serde_json::Value, String> {
    let now = state.clock.now();
    match kind {
        JobKind::Advance => {
            let transitions = crate::app::agreements::advance_due(&state.db, now)
                .map_err(|e| format!("advancing agreements: {e}"))?;
            let years = crate::app::contracts::close_royalty_years(&state.db, now)
                .map_err(|e| format!("closing royalty years: {e}"))?;
            Ok(serde_json::json!({"transitions": transitions, "royalty_years_closed": years}))
        }
        JobKind::Remind => {
            let sent =
                crate::app::remind::run(state, now).map_err(|e| format!("reminding: {e}"))?;
            serde_json::to_value(sent).map_err(|e| e.to_string())
        }
        JobKind::MonthlyReport => {
            // The month before the slot's, and any finished month a stopped service missed
            // since the last stored report; a manual run makes the previous month's again.
            let months = crate::app::reports::due_months(state, slot, manual)
                .map_err(|e| format!("finding the months to report: {e}"))?;
            let mut made = Vec::with_capacity(months.len());
            for month in months {
                made.push(
                    crate::app::reports::generate(state, month)
                        .map_err(|e| format!("the {month} report: {e}"))?,
                );
            }
            Ok(serde_json::json!({"reports": made}))
        }
        JobKind::DeliverMail => {
            let c =
                crate::app::mail::deliver(state).map_err(|e| format!("delivering mail: {e}"))?;
            Ok(serde_json::json!({"sent": c.sent, "retrying": c.retrying, "failed": c.failed}))
        }
        JobKind::VerifyAudit => {
            let v = crate::app::audit::verify_for_operator(&state.db).map_err(|e| e.to_string())?;
            match v.first_broken {
                None => Ok(serde_json::json!({"events": v.events_checked})),
                Some(link) => {
                    // The admins hear of it by mail, every night until it is dealt with.
                    let mailed = state
                        .db
                        .write(|conn| {
                            crate::app::mail::enqueue_admins(
                                conn,
                                now,
                                "audit_broken",
                                serde_json::json!({"seq": link.seq, "reason": link.reason}),
                            )
                        })
                        .map_err(|e| format!("mailing the admins: {e}"))?;
                    Err(format!(
                        "the audit chain is broken at event {}: {} ({mailed} admins mailed)",
                        link.seq, link.reason
                    ))
                }
            }
        }
    }
}

/// A page of job runs, newest first, optionally of one job and in one state, and the total.
pub fn runs(
    state: &AppState,
    job: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<JobRun>, i64), AppError> {
    let mut conn = state.db.reader()?;
    Ok(jobs::list(&mut conn, job, status, limit, offset)?)
}
