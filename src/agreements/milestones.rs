//! When the steps the monthly reports count happened (approval, start, end of trial, closing,
//! days to decide): stamped by each transition in its own transaction, and filled in after a
//! migration for agreements older than the columns.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::model::AgreementRow;
use crate::db::schema::agreements;
use crate::error::AppError;
use crate::rules::lifecycle::{Action, Status};

/// When the steps the monthly reports count happened.
pub struct Milestones {
    pub approved_at: Option<NaiveDateTime>,
    pub started_on: Option<NaiveDate>,
    pub trial_ended_on: Option<NaiveDate>,
    pub closed_at: Option<NaiveDateTime>,
    pub decision_days: Option<i32>,
}

/// The milestones after `action` takes `row` to `next` at `stamp` (`today` in its zone). A
/// scheduler step that catches up late still dates the trial by its own calendar: it started
/// on its start day and ended on its end day.
pub fn milestones(
    row: &AgreementRow,
    action: Action,
    next: Status,
    stamp: NaiveDateTime,
    today: NaiveDate,
) -> Milestones {
    let was = row.status().ok();
    let mut m = Milestones {
        approved_at: row.approved_at,
        started_on: row.started_on,
        trial_ended_on: row.trial_ended_on,
        closed_at: row.closed_at,
        decision_days: row.decision_days,
    };
    if action == Action::Approve && m.approved_at.is_none() {
        m.approved_at = Some(stamp);
    }
    if action == Action::Start {
        m.started_on = row.trial_start.or(Some(today));
    }
    if was == Some(Status::Active) && next != Status::Active {
        // The trial ran to its end, or was cut short by a conversion or a termination today.
        m.trial_ended_on = match action {
            Action::EndTrial => row.trial_end.or(Some(today)),
            _ => Some(row.trial_end.map_or(today, |end| end.min(today))),
        };
    }
    if next.is_final() && !was.is_some_and(Status::is_final) {
        m.closed_at = Some(stamp);
        if matches!(next, Status::Converted | Status::Declined | Status::Lapsed) {
            m.decision_days = row
                .trial_end
                .map(|end| (today - end).num_days().clamp(0, i64::from(i32::MAX)) as i32);
        }
    }
    m
}

/// Fills the milestones that need the local calendar day of the closing instant (when a trial
/// cut short ended, the days to a decision) for agreements closed before the service kept
/// them, as [`milestones`] would have stamped them. Run after migrating; does nothing when
/// nothing is missing. Returns how many agreements it filled.
pub fn fill_milestones(db: &crate::db::Db) -> Result<usize, AppError> {
    type Missing = (
        String,
        String,
        String,
        Option<NaiveDate>,
        NaiveDateTime,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<i32>,
    );
    let closed = ["converted", "declined", "lapsed", "terminated"];
    let mut filled = 0;
    loop {
        let rows: Vec<Missing> = {
            let mut conn = db.reader()?;
            agreements::table
                .filter(agreements::status.eq_any(closed))
                .filter(agreements::trial_end.is_not_null())
                .filter(
                    agreements::started_on
                        .is_not_null()
                        .and(agreements::trial_ended_on.is_null())
                        .or(agreements::status
                            .ne("terminated")
                            .and(agreements::decision_days.is_null())),
                )
                .filter(agreements::closed_at.is_not_null())
                .order(agreements::id)
                .limit(1000)
                .select((
                    agreements::id,
                    agreements::status,
                    agreements::time_zone,
                    agreements::trial_end,
                    agreements::closed_at.assume_not_null(),
                    agreements::started_on,
                    agreements::trial_ended_on,
                    agreements::decision_days,
                ))
                .load(&mut conn)?
        };
        if rows.is_empty() {
            return Ok(filled);
        }
        filled += rows.len();
        db.write(|conn| {
            for (id, status, zone, trial_end, closed_at, started_on, ended, days) in &rows {
                let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
                let day = chrono::TimeZone::from_utc_datetime(&tz, closed_at).date_naive();
                let end = trial_end.unwrap_or(day);
                let ended = ended.or(started_on.map(|_| end.min(day)));
                let days = match status.as_str() {
                    "terminated" => *days,
                    _ => days.or(Some(
                        (day - end).num_days().clamp(0, i64::from(i32::MAX)) as i32
                    )),
                };
                diesel::update(agreements::table.find(id))
                    .set((
                        agreements::trial_ended_on.eq(ended),
                        agreements::decision_days.eq(days),
                    ))
                    .execute(conn)?;
            }
            Ok::<_, AppError>(())
        })?;
    }
}
