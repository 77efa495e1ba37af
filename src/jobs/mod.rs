//! Scheduled jobs' own records: their runs (`job_runs`: one row per job and slot, whose unique
//! key lets exactly one instance win a slot, on one SQLite process or on several instances
//! sharing PostgreSQL) and the reminders sent (`reminders`: at most once each, ever, whatever
//! instance or run sends it). What each job does is `app::jobs`; when slots come is
//! `scheduler`.

pub mod model;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

pub use model::{JobKind, JobRun, RunReport, RUN_STATUSES, STALE_AFTER_MINUTES};

use crate::db::schema::{job_runs, reminders, schedule_lines};
use crate::db::DbConn;

/// The latest slot of `job` taken by any instance, if any.
pub fn last_slot(conn: &mut DbConn, job: &str) -> QueryResult<Option<NaiveDateTime>> {
    job_runs::table
        .filter(job_runs::job.eq(job))
        .select(diesel::dsl::max(job_runs::slot))
        .first(conn)
}

/// Claims `(job, slot)` as run `id` of `instance`; `false` when another run has it.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    job: &str,
    slot: DateTime<Utc>,
    triggered_by: &str,
    instance: &str,
    started: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(job_runs::table)
        .values((
            job_runs::id.eq(id),
            job_runs::job.eq(job),
            job_runs::slot.eq(slot.naive_utc()),
            job_runs::triggered_by.eq(triggered_by),
            job_runs::instance.eq(instance),
            job_runs::status.eq("running"),
            job_runs::started_at.eq(started.naive_utc()),
        ))
        .on_conflict((job_runs::job, job_runs::slot))
        .do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

/// Records how run `id` of `job` at `slot` ended, and marks `abandoned` the earlier runs of the
/// job that never finished and started before `stale_before`: they died with their instance,
/// and this run has done what they left.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    job: &str,
    slot: DateTime<Utc>,
    status: &str,
    finished: DateTime<Utc>,
    counts: &serde_json::Value,
    error: Option<&str>,
    stale_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(job_runs::table.find(id))
        .set((
            job_runs::status.eq(status),
            job_runs::finished_at.eq(Some(finished.naive_utc())),
            job_runs::counts.eq(Some(counts.to_string())),
            job_runs::error.eq(error),
        ))
        .execute(conn)?;
    diesel::update(
        job_runs::table
            .filter(job_runs::job.eq(job))
            .filter(job_runs::status.eq("running"))
            .filter(job_runs::slot.lt(slot.naive_utc()))
            .filter(job_runs::started_at.lt(stale_before)),
    )
    .set(job_runs::status.eq("abandoned"))
    .execute(conn)
}

/// A page of runs, newest first, optionally of one job and in one state, and the total.
pub fn list(
    conn: &mut DbConn,
    job: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<JobRun>, i64)> {
    let filtered = || {
        let mut q = job_runs::table.into_boxed();
        if let Some(j) = job {
            q = q.filter(job_runs::job.eq(j.to_string()));
        }
        if let Some(s) = status {
            q = q.filter(job_runs::status.eq(s.to_string()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let items = filtered()
        .order((job_runs::started_at.desc(), job_runs::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(JobRun::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// Was this agreement reminder (`kind`, `offset` days) sent already?
pub fn reminder_sent(
    conn: &mut DbConn,
    agreement_id: &str,
    kind: &str,
    offset: u32,
) -> QueryResult<bool> {
    let sent: i64 = reminders::table
        .find((agreement_id, kind, offset as i32, 0))
        .count()
        .get_result(conn)?;
    Ok(sent > 0)
}

/// Records a reminder; `false` when it was already sent.
pub fn claim_reminder(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    agreement_id: &str,
    kind: &str,
    offset: u32,
    line: i32,
) -> QueryResult<bool> {
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

/// Installments to remind of: open schedule lines (not held) falling due between `from` and `to`, and,
/// with `overdue_before`, open lines due before it that have had no overdue reminder yet
/// (each is reminded once). `(agreement, line number, due day)`. This reads the payment
/// schedule `contracts` keeps, beside this part's own `reminders`, in one query.
pub fn installments_to_remind(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    overdue_before: Option<NaiveDate>,
) -> QueryResult<Vec<(String, i32, NaiveDate)>> {
    let open = || {
        schedule_lines::table
            .filter(schedule_lines::amount_minor.gt(schedule_lines::paid_minor))
            // Held lines (waiting for registration or a trigger) are not due: no reminder.
            .filter(schedule_lines::held.eq(false))
            .select((
                schedule_lines::agreement_id,
                schedule_lines::number,
                schedule_lines::due,
            ))
    };
    let mut lines: Vec<(String, i32, NaiveDate)> = open()
        .filter(schedule_lines::due.between(from, to))
        .load(conn)?;
    if let Some(before) = overdue_before {
        let reminded = reminders::table
            .filter(reminders::agreement_id.eq(schedule_lines::agreement_id))
            .filter(reminders::line_number.eq(schedule_lines::number))
            .filter(reminders::kind.eq("overdue"));
        lines.extend(
            open()
                .filter(schedule_lines::due.lt(before))
                .filter(diesel::dsl::not(diesel::dsl::exists(reminded)))
                .load::<(String, i32, NaiveDate)>(conn)?,
        );
    }
    Ok(lines)
}

/// What is left to pay on installment `number` of agreement `id`, in minor units, and the
/// contract's currency code (from the schedule `contracts` keeps).
pub fn installment_left(conn: &mut DbConn, id: &str, number: i32) -> QueryResult<(i64, String)> {
    use crate::db::schema::conversion_contracts;
    let (amount, paid): (i64, i64) = schedule_lines::table
        .find((id, number))
        .select((schedule_lines::amount_minor, schedule_lines::paid_minor))
        .first(conn)?;
    let currency: String = conversion_contracts::table
        .find(id)
        .select(conversion_contracts::currency)
        .first(conn)?;
    Ok((amount - paid, currency))
}
