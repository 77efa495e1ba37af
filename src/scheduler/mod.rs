//! The scheduler: jobs from `[scheduler.jobs.NAME]`, each with a cron expression evaluated in
//! the configured time zone, run once per slot.
//!
//! A run is claimed by inserting `(job, slot)` into `job_runs`, whose unique key lets exactly
//! one instance win a slot, on one SQLite process or on several instances sharing PostgreSQL.
//! Each tick looks, per job, for the latest slot at or before "now" after the last claimed
//! one: slots missed while no instance was running collapse into that one catch-up run. A run
//! that crashed after claiming its slot leaves its row `running`; the jobs are sweeps over
//! whatever is due, so the next slot's run does the work it left, and marks the stale row
//! `abandoned`.

pub mod remind;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::job_runs;
use crate::error::AppError;
use crate::AppState;

/// A run still `running` this long after it started is taken to have died with its instance.
pub const STALE_AFTER_MINUTES: i64 = 60;

/// The states of a job run.
pub const RUN_STATUSES: [&str; 4] = ["running", "ok", "failed", "abandoned"];

/// The jobs usefirst knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Time-driven agreement transitions and royalty contract years.
    Advance,
    /// Walk the audit chain.
    VerifyAudit,
    /// Deliver the mail outbox.
    DeliverMail,
    /// Remind the parties of dates ahead and of overdue payments.
    Remind,
    /// Make, store and mail the previous month's conversion report.
    MonthlyReport,
}

impl JobKind {
    pub const ALL: [JobKind; 5] = [
        JobKind::Advance,
        JobKind::Remind,
        JobKind::DeliverMail,
        JobKind::VerifyAudit,
        JobKind::MonthlyReport,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobKind::Advance => "advance",
            JobKind::VerifyAudit => "verify-audit",
            JobKind::DeliverMail => "deliver-mail",
            JobKind::Remind => "remind",
            JobKind::MonthlyReport => "monthly-report",
        }
    }

    pub fn parse(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One configured job.
#[derive(Debug, Clone)]
pub struct Job {
    pub kind: JobKind,
    pub schedule: cron::Schedule,
    pub enabled: bool,
}

impl Job {
    /// `[scheduler.jobs.NAME]`, checked: a known job and a valid cron expression, or an error
    /// naming the key (configuration validation reports it at start).
    pub fn from_config(name: &str, cfg: &crate::config::JobConfig) -> anyhow::Result<Job> {
        let schedule = cfg.check(name)?;
        let kind = JobKind::parse(name).ok_or_else(|| {
            anyhow::anyhow!("invalid configuration at `scheduler.jobs.{name}`: no such job")
        })?;
        Ok(Job {
            kind,
            schedule,
            enabled: cfg.enabled,
        })
    }
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub job: &'static str,
    pub slot: DateTime<Utc>,
    /// `ok` or `failed`.
    pub status: &'static str,
    pub counts: serde_json::Value,
    pub error: Option<String>,
    /// How long the job's work took (the claim and the record excluded).
    pub elapsed: std::time::Duration,
}

/// A run as admins see it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = job_runs)]
pub struct JobRun {
    pub id: String,
    pub job: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub slot: chrono::NaiveDateTime,
    /// `schedule` or `manual`.
    pub triggered_by: String,
    /// The host and process that ran it.
    pub instance: String,
    /// `running`, `ok`, `failed` or `abandoned`.
    pub status: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<chrono::NaiveDateTime>,
    /// What the run counted, as JSON text (e.g. `{"transitions": 3}`).
    pub counts: Option<String>,
    pub error: Option<String>,
}

/// The configured jobs and where this instance started looking.
#[derive(Debug, Clone)]
pub struct Scheduler {
    jobs: Vec<Job>,
    tz: Tz,
    instance: String,
    /// With no run recorded yet, slots before this are not due (a fresh database does not
    /// catch up on its past).
    started: DateTime<Utc>,
    /// Per job, the latest slot this instance knows to be taken (by it or another): ticks
    /// with no slot after it read nothing from the database.
    known: Arc<Mutex<HashMap<&'static str, DateTime<Utc>>>>,
}

impl Scheduler {
    /// The jobs of `cfg`; `started` is when this instance began.
    pub fn new(cfg: &crate::config::Config, started: DateTime<Utc>) -> anyhow::Result<Scheduler> {
        let tz = cfg.time_zone()?;
        let jobs = cfg
            .scheduler
            .jobs
            .iter()
            .map(|(name, job)| Job::from_config(name, job))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        Ok(Scheduler {
            jobs,
            tz,
            instance: format!(
                "{host}:{}:{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
            started,
            known: Arc::default(),
        })
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Runs every enabled job whose slot has come and is not yet claimed.
    pub fn tick(&self, state: &AppState, now: DateTime<Utc>) -> Result<Vec<RunReport>, AppError> {
        let mut reports = Vec::new();
        for job in self.jobs.iter().filter(|j| j.enabled) {
            let name = job.kind.name();
            let known = self.known.lock().ok().and_then(|k| k.get(name).copied());
            if known.is_some_and(|k| latest_slot(&job.schedule, self.tz, k, now).is_none()) {
                continue;
            }
            // A slot may be due: what the database says was taken last decides.
            let last: Option<chrono::NaiveDateTime> = {
                let mut conn = state.db.reader()?;
                job_runs::table
                    .filter(job_runs::job.eq(job.kind.name()))
                    .select(diesel::dsl::max(job_runs::slot))
                    .first(&mut conn)?
            };
            let from = last
                .map(|l| l.and_utc())
                .unwrap_or(self.started - Duration::seconds(1));
            let slot = latest_slot(&job.schedule, self.tz, from, now);
            // Claimed here or by another instance, the slot is taken either way.
            if let Ok(mut k) = self.known.lock() {
                k.insert(name, slot.unwrap_or(from));
            }
            let Some(slot) = slot else {
                continue;
            };
            if let Some(report) = self.claim_and_run(state, job.kind, slot, "schedule")? {
                reports.push(report);
            }
        }
        Ok(reports)
    }

    /// Runs `kind` now, outside its schedule (`usefirst run-job`).
    pub fn run_now(&self, state: &AppState, kind: JobKind) -> Result<RunReport, AppError> {
        let mut slot = state.clock.now();
        // Slots are unique per job; two manual runs in one instant take the next microsecond.
        for _ in 0..1000 {
            if let Some(report) = self.claim_and_run(state, kind, slot, "manual")? {
                return Ok(report);
            }
            slot += Duration::microseconds(1);
        }
        Err(AppError::Conflict(format!(
            "could not claim a run of {}",
            kind.name()
        )))
    }

    /// Claims `(kind, slot)`; if this instance won it, runs the job and records the outcome.
    fn claim_and_run(
        &self,
        state: &AppState,
        kind: JobKind,
        slot: DateTime<Utc>,
        triggered_by: &str,
    ) -> Result<Option<RunReport>, AppError> {
        let started = state.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let claimed = state.db.write(|conn| {
            crate::on_backend!(conn, |c| diesel::insert_into(job_runs::table)
                .values((
                    job_runs::id.eq(&id),
                    job_runs::job.eq(kind.name()),
                    job_runs::slot.eq(slot.naive_utc()),
                    job_runs::triggered_by.eq(triggered_by),
                    job_runs::instance.eq(&self.instance),
                    job_runs::status.eq("running"),
                    job_runs::started_at.eq(started.naive_utc()),
                ))
                .on_conflict((job_runs::job, job_runs::slot))
                .do_nothing()
                .execute(c))
            .map_err(AppError::from)
        })?;
        if claimed == 0 {
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
        match &error {
            Some(e) => tracing::error!(job = kind.name(), %slot, error = %e, "job run failed"),
            None => tracing::info!(job = kind.name(), %slot, counts = %counts, "job run finished"),
        }
        let stale_before = (finished - Duration::minutes(STALE_AFTER_MINUTES)).naive_utc();
        state.db.write(|conn| {
            diesel::update(job_runs::table.find(&id))
                .set((
                    job_runs::status.eq(status),
                    job_runs::finished_at.eq(Some(finished.naive_utc())),
                    job_runs::counts.eq(Some(counts.to_string())),
                    job_runs::error.eq(error.clone()),
                ))
                .execute(conn)?;
            // Earlier runs of this job that never finished died with their instance; this run
            // has done what they left.
            diesel::update(
                job_runs::table
                    .filter(job_runs::job.eq(kind.name()))
                    .filter(job_runs::status.eq("running"))
                    .filter(job_runs::slot.lt(slot.naive_utc()))
                    .filter(job_runs::started_at.lt(stale_before)),
            )
            .set(job_runs::status.eq("abandoned"))
            .execute(conn)
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
}

/// The latest slot of `schedule` (in `tz`) after `after` and at or before `now`.
pub fn latest_slot(
    schedule: &cron::Schedule,
    tz: Tz,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule
        .after(&after.with_timezone(&tz))
        .take_while(|slot| slot.with_timezone(&Utc) <= now)
        .last()
        .map(|slot| slot.with_timezone(&Utc))
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
            let years = crate::contracts::royalty_years::close_due(&state.db, now)
                .map_err(|e| format!("closing royalty years: {e}"))?;
            Ok(serde_json::json!({"transitions": transitions, "royalty_years_closed": years}))
        }
        JobKind::Remind => {
            let sent = remind::run(state, now).map_err(|e| format!("reminding: {e}"))?;
            serde_json::to_value(sent).map_err(|e| e.to_string())
        }
        JobKind::MonthlyReport => {
            // The month before the slot's, and any finished month a stopped service missed
            // since the last stored report; a manual run makes the previous month's again.
            let months = crate::reports::stored::due_months(state, slot, manual)
                .map_err(|e| format!("finding the months to report: {e}"))?;
            let mut made = Vec::with_capacity(months.len());
            for month in months {
                made.push(
                    crate::reports::stored::generate(state, month)
                        .map_err(|e| format!("the {month} report: {e}"))?,
                );
            }
            Ok(serde_json::json!({"reports": made}))
        }
        JobKind::DeliverMail => {
            let c = crate::mail::deliver_due(state).map_err(|e| format!("delivering mail: {e}"))?;
            Ok(serde_json::json!({"sent": c.sent, "retrying": c.retrying, "failed": c.failed}))
        }
        JobKind::VerifyAudit => {
            let mut conn = state.db.reader().map_err(|e| e.to_string())?;
            let v = crate::audit::verify(&mut conn).map_err(|e| e.to_string())?;
            match v.first_broken {
                None => Ok(serde_json::json!({"events": v.events_checked})),
                Some(link) => {
                    // The admins hear of it by mail, every night until it is dealt with.
                    let mailed = state
                        .db
                        .write(|conn| {
                            crate::mail::enqueue_admins(
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

/// Runs the scheduler until the process ends: every `scheduler.tick_seconds`, off the async
/// workers.
pub async fn run_loop(state: actix_web::web::Data<AppState>, scheduler: std::sync::Arc<Scheduler>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(
        state.cfg.scheduler.tick_seconds,
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (s, sch) = (state.clone(), scheduler.clone());
        match actix_web::web::block(move || sch.tick(&s, s.clock.now())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "scheduler tick failed"),
            Err(e) => tracing::error!(error = %e, "scheduler tick failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names configuration accepts are exactly the jobs there are, in one order.
    #[test]
    fn every_job_has_its_configured_name_and_no_name_is_left_over() {
        assert_eq!(
            JobKind::ALL.map(JobKind::name),
            crate::config::JOB_NAMES,
            "config::JOB_NAMES and JobKind::ALL differ"
        );
        for name in crate::config::JOB_NAMES {
            assert_eq!(JobKind::parse(name).map(JobKind::name), Some(name));
        }
    }
}
