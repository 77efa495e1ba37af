//! The `remind` job: trial ends in 30/7/1 days, decision due in 7/1 days, installment due in
//! 7/1 days, installment overdue, contract registration due in 30/7/1 days (offsets from
//! `[scheduler.reminders]`). Held schedule lines (waiting for the registration certificate or
//! the first payment's trigger) are not reminded of: they are not due.
//!
//! For each item the job sends the most urgent reminder that applies
//! (`rules::reminders::due_offset`). A reminder is recorded by `jobs` in the same transaction
//! as its mail: at most once, ever, whatever instance or run sends it.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::agreements::model::AgreementRow;
use crate::agreements::store;
use crate::contracts::model::RegistrationDue;
use crate::contracts::registration;
use crate::error::AppError;
use crate::jobs;
use crate::rules::lifecycle::Status;
use crate::rules::reminders::due_offset;
use crate::settlement::money::Currency;
use crate::AppState;

/// What one run sent, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    pub trial_end: usize,
    pub decision: usize,
    pub installment: usize,
    pub overdue: usize,
    pub registration: usize,
}

/// Sends the reminders due as of `now`.
pub fn run(state: &AppState, now: DateTime<Utc>) -> Result<Sent, AppError> {
    let cfg = &state.cfg.scheduler.reminders;
    // Zones run from UTC−12 to UTC+14: these bounds hold every agreement's local day.
    let (earliest, latest) = (
        (now - Duration::hours(12)).date_naive(),
        (now + Duration::hours(14)).date_naive(),
    );
    let mut sent = Sent::default();
    let max = |o: &[u32]| i64::from(o.iter().copied().max().unwrap_or(0));

    // Trials ending soon, and decisions due soon.
    for (status, offsets, kind) in [
        (Status::Active, &cfg.trial_end_days, "trial_end"),
        (Status::AwaitingDecision, &cfg.decision_days, "decision"),
    ] {
        if offsets.is_empty() {
            continue;
        }
        let date_col = |row: &AgreementRow| match kind {
            "trial_end" => row.trial_end,
            _ => row.decision_deadline,
        };
        let window = (earliest, latest + Duration::days(max(offsets)));
        let rows: Vec<AgreementRow> = {
            let mut conn = state.db.reader()?;
            let date = match kind {
                "trial_end" => store::DueDate::TrialEnd,
                _ => store::DueDate::DecisionDeadline,
            };
            store::in_state_due_between(&mut conn, status, date, window.0, window.1)?
        };
        for row in rows {
            let Some(due) = due_reminder(&row, now, offsets, date_col) else {
                continue;
            };
            if already_sent(state, &row.id, kind, due.0)? {
                continue;
            }
            let did = state.db.write(|conn| {
                // Still in that state and still due: another instance may have moved it.
                let row = store::get(conn, &row.id)?;
                if row.status != status.as_str()
                    || due_reminder(&row, now, offsets, date_col) != Some(due)
                    || !jobs::claim_reminder(conn, now, &row.id, kind, due.0, 0)?
                {
                    return Ok::<_, AppError>(false);
                }
                crate::mail::enqueue_agreement(
                    conn,
                    now,
                    &format!("reminder_{kind}"),
                    &row,
                    serde_json::json!({ "days": due.1 }),
                )?;
                Ok(true)
            })?;
            if did {
                match kind {
                    "trial_end" => sent.trial_end += 1,
                    _ => sent.decision += 1,
                }
            }
        }
    }

    // Installments falling due, and overdue ones.
    type Line = (String, i32, NaiveDate);
    let horizon = latest + Duration::days(max(&cfg.installment_days));
    let lines: Vec<Line> = {
        let mut conn = state.db.reader()?;
        jobs::installments_to_remind(
            &mut conn,
            earliest,
            horizon,
            cfg.overdue.then_some(earliest),
        )?
    };
    for (id, number, due) in lines {
        let kind = state.db.write(|conn| {
            let row = store::get(conn, &id)?;
            let today = now.with_timezone(&row.tz()).date_naive();
            let days = (due - today).num_days();
            let (kind, offset) = if days < 0 {
                if !cfg.overdue {
                    return Ok::<_, AppError>(None);
                }
                ("overdue", 0)
            } else {
                match due_offset(&cfg.installment_days, days) {
                    Some(o) => ("installment", o),
                    None => return Ok(None),
                }
            };
            if !jobs::claim_reminder(conn, now, &id, kind, offset, number)? {
                return Ok(None);
            }
            let (left, currency) = jobs::installment_left(conn, &id, number)?;
            let cur = Currency::parse(&currency).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("unknown currency {currency}"))
            })?;
            crate::mail::enqueue_agreement(
                conn,
                now,
                &format!("reminder_{kind}"),
                &row,
                serde_json::json!({
                    "days": days, "due": due.to_string(), "line": number,
                    "amount": format!("{} {currency}", cur.format_amount(left)),
                }),
            )?;
            Ok(Some(kind))
        })?;
        match kind {
            Some("installment") => sent.installment += 1,
            Some("overdue") => sent.overdue += 1,
            _ => {}
        }
    }

    // Conversion contracts still to register, before their deadline.
    let offsets = &cfg.registration_days;
    if !offsets.is_empty() {
        let due: Vec<RegistrationDue> = {
            let mut conn = state.db.reader()?;
            registration::deadlines_between(
                &mut conn,
                earliest,
                latest + Duration::days(max(offsets)),
            )?
        };
        for RegistrationDue {
            agreement_id: id,
            deadline,
        } in due
        {
            let did = state.db.write(|conn| {
                let row = store::get(conn, &id)?;
                let today = now.with_timezone(&row.tz()).date_naive();
                let days = (deadline - today).num_days();
                let Some(offset) = due_offset(offsets, days).filter(|_| days >= 0) else {
                    return Ok::<_, AppError>(false);
                };
                // Still unregistered with the same deadline, and this offset not sent yet.
                let current = registration::get(conn, &id)?;
                if !current.is_some_and(|r| r.certificate_date.is_none() && r.deadline == Some(deadline))
                    || !jobs::claim_reminder(conn, now, &id, "registration", offset, 0)?
                {
                    return Ok(false);
                }
                let takes_effect = registration::awaiting_certificate(conn, &id)?;
                crate::mail::enqueue_agreement(
                    conn,
                    now,
                    "reminder_registration",
                    &row,
                    serde_json::json!({
                        "days": days, "deadline": deadline.to_string(), "takes_effect": takes_effect,
                    }),
                )?;
                Ok(true)
            })?;
            if did {
                sent.registration += 1;
            }
        }
    }
    Ok(sent)
}

/// The reminder due today for `row` on the date `date_of` gives: `(offset, days left)`.
fn due_reminder(
    row: &AgreementRow,
    now: DateTime<Utc>,
    offsets: &[u32],
    date_of: impl Fn(&AgreementRow) -> Option<NaiveDate>,
) -> Option<(u32, i64)> {
    let days = (date_of(row)? - now.with_timezone(&row.tz()).date_naive()).num_days();
    let offset = due_offset(offsets, days).filter(|_| days >= 0)?;
    Some((offset, days))
}

/// Was this reminder sent already? A read, so that agreements between two offsets cost no
/// write transaction.
fn already_sent(state: &AppState, id: &str, kind: &str, offset: u32) -> Result<bool, AppError> {
    let mut conn = state.db.reader()?;
    Ok(jobs::reminder_sent(&mut conn, id, kind, offset)?)
}
