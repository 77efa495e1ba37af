//! The scheduled jobs there are, and their runs as admins see them: the values the scheduler,
//! the application layer and the API take from `jobs`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::job_runs;

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
