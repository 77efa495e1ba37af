//! The `remind` job: trial ends in 30/7/1 days, decision due in 7/1 days, installment due in
//! 7/1 days, installment overdue (offsets from `[scheduler.reminders]`).
//!
//! For each item the job sends the most urgent reminder that applies (the smallest offset at
//! or above the days left), so a daily run sends each offset on its day and a run after
//! downtime sends only the one that is still meaningful. A reminder is recorded in
//! `reminders` (agreement, kind, offset, line) in the same transaction as its mail: at most
//! once, ever, whatever instance or run sends it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use crate::agreements::model::AgreementRow;
use crate::agreements::store;
use crate::db::schema::{agreements, conversion_contracts, reminders, schedule_lines};
use crate::error::AppError;
use crate::rules::lifecycle::Status;
use crate::settlement::money::Currency;
use crate::AppState;

/// What one run sent, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    pub trial_end: usize,
    pub decision: usize,
    pub installment: usize,
    pub overdue: usize,
}

/// The offset to send for `days_left` among `offsets`: the smallest at or above it.
pub fn due_offset(offsets: &[u32], days_left: i64) -> Option<u32> {
    offsets
        .iter()
        .copied()
        .filter(|&d| i64::from(d) >= days_left)
        .min()
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
            let q = agreements::table
                .filter(agreements::status.eq(status.as_str()))
                .select(AgreementRow::as_select());
            match kind {
                "trial_end" => q
                    .filter(agreements::trial_end.between(window.0, window.1))
                    .load(&mut conn)?,
                _ => q
                    .filter(agreements::decision_deadline.between(window.0, window.1))
                    .load(&mut conn)?,
            }
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
                    || !claim(conn, now, &row.id, kind, due.0, 0)?
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
        let open = || {
            schedule_lines::table
                .filter(schedule_lines::amount_minor.gt(schedule_lines::paid_minor))
                .select((
                    schedule_lines::agreement_id,
                    schedule_lines::number,
                    schedule_lines::due,
                ))
        };
        // Lines falling due within the largest offset…
        let mut lines: Vec<Line> = open()
            .filter(schedule_lines::due.between(earliest, horizon))
            .load(&mut conn)?;
        // …and overdue lines not yet reminded (each is, once).
        if cfg.overdue {
            let reminded = reminders::table
                .filter(reminders::agreement_id.eq(schedule_lines::agreement_id))
                .filter(reminders::line_number.eq(schedule_lines::number))
                .filter(reminders::kind.eq("overdue"));
            lines.extend(
                open()
                    .filter(schedule_lines::due.lt(earliest))
                    .filter(diesel::dsl::not(diesel::dsl::exists(reminded)))
                    .load::<Line>(&mut conn)?,
            );
        }
        lines
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
            if !claim(conn, now, &id, kind, offset, number)? {
                return Ok(None);
            }
            let (amount, paid): (i64, i64) = schedule_lines::table
                .find((&id, number))
                .select((schedule_lines::amount_minor, schedule_lines::paid_minor))
                .first(conn)?;
            let currency: String = conversion_contracts::table
                .find(&id)
                .select(conversion_contracts::currency)
                .first(conn)?;
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
                    "amount": format!("{} {currency}", cur.format_amount(amount - paid)),
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
    let sent: i64 = reminders::table
        .find((id, kind, offset as i32, 0))
        .count()
        .get_result(&mut conn)?;
    Ok(sent > 0)
}

/// Records a reminder; `false` when it was already sent.
fn claim(
    conn: &mut crate::db::DbConn,
    now: DateTime<Utc>,
    agreement_id: &str,
    kind: &str,
    offset: u32,
    line: i32,
) -> Result<bool, AppError> {
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(reminders::table)
        .values((
            reminders::agreement_id.eq(agreement_id),
            reminders::kind.eq(kind),
            reminders::offset_days.eq(offset as i32),
            reminders::line_number.eq(line),
            reminders::sent_at.eq(now.naive_utc()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_urgent_applicable_offset_is_sent() {
        let o = [30, 7, 1];
        assert_eq!(due_offset(&o, 31), None);
        assert_eq!(due_offset(&o, 30), Some(30));
        assert_eq!(
            due_offset(&o, 8),
            Some(30),
            "already sent on day 30: nothing new"
        );
        assert_eq!(due_offset(&o, 7), Some(7));
        assert_eq!(
            due_offset(&o, 5),
            Some(7),
            "after downtime: the 7-day one, not the 30"
        );
        assert_eq!(due_offset(&o, 1), Some(1));
        assert_eq!(due_offset(&o, 0), Some(1));
    }
}
