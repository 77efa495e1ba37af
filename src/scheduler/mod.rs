//! The scheduler: jobs from `[scheduler.jobs.NAME]`, each with a cron expression evaluated in
//! the configured time zone, run once per slot. This edge says when; what each job does is
//! `app::jobs`, and the runs are recorded by `jobs`.
//!
//! A run is claimed by inserting `(job, slot)` into `job_runs`, whose unique key lets exactly
//! one instance win a slot, on one SQLite process or on several instances sharing PostgreSQL.
//! Each tick looks, per job, for the latest slot at or before "now" after the last claimed
//! one: slots missed while no instance was running collapse into that one catch-up run. A run
//! that crashed after claiming its slot leaves its row `running`; the jobs are sweeps over
//! whatever is due, so the next slot's run does the work it left, and marks the stale row
//! `abandoned`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::error::AppError;
pub use crate::jobs::model::{JobKind, RunReport};
use crate::AppState;

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
            let last = crate::app::jobs::last_slot(state, job.kind)?;
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
            if let Some(report) =
                crate::app::jobs::claim_and_run(state, &self.instance, job.kind, slot, "schedule")?
            {
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
            if let Some(report) =
                crate::app::jobs::claim_and_run(state, &self.instance, kind, slot, "manual")?
            {
                return Ok(report);
            }
            slot += Duration::microseconds(1);
        }
        Err(AppError::Conflict(format!(
            "could not claim a run of {}",
            kind.name()
        )))
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
