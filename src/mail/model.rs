//! What mail is, as the API and the other parts see it: the states of an outbox message, a
//! message as admins see it, the files a message carries, and what a delivery run did. The
//! values other parts and the edges take from `mail` (never its storage).

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::outbox;

/// The kinds of message, each with a template per locale.
pub const KINDS: [&str; 34] = [
    "requested",
    "approved",
    "rejected",
    "withdrawn",
    "signed",
    "started",
    "trial_ended",
    "converted",
    "declined",
    "lapsed",
    "terminated",
    "extended",
    "payment_recorded",
    "reminder_trial_end",
    "reminder_decision",
    "reminder_installment",
    "reminder_overdue",
    "audit_broken",
    "monthly_report",
    "claim_filed",
    "claim_approved",
    "claim_rejected",
    "claim_withdrawn",
    "claim_paid",
    "password_reset",
    "registration_confirm",
    "registration_approved",
    "registration_refused",
    "registration_waiting",
    "invitation",
    "password_reset_admin",
    "reminder_registration",
    "contract_registered",
    "demand_proposal",
];

/// The states of an outbox message.
pub const STATUSES: [&str; 3] = ["pending", "sent", "failed"];

/// A file a message carries, read from where it is stored when the message is sent (the
/// outbox row stays small and the file is written once however many receive it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// A stored monthly report (`monthly_reports.id`).
    pub report_id: String,
    /// `pdf` or `xlsx`.
    pub format: String,
    /// `vi` or `en`.
    pub lang: String,
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub bytes: std::sync::Arc<Vec<u8>>,
}

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryCounts {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// A message as admins see it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: String,
    pub message_id: String,
    pub kind: String,
    pub agreement_id: Option<String>,
    pub recipient_email: String,
    pub locale: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: chrono::NaiveDateTime,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<chrono::NaiveDateTime>,
}

/// A message as its recipient sees it among their notifications.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct Notification {
    pub id: String,
    pub subject: String,
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub created_at: chrono::NaiveDateTime,
    pub sent_at: Option<chrono::NaiveDateTime>,
}

/// Which outbox messages an admin looks for; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// `pending`, `sent` or `failed`.
    pub status: Option<String>,
    /// A kind of message (`mail::KINDS`).
    pub kind: Option<String>,
    /// Part of the recipient's address, in any case.
    pub recipient: Option<String>,
    /// Written at or after this instant (UTC)...
    pub from: Option<chrono::NaiveDateTime>,
    /// ...and before this one.
    pub until: Option<chrono::NaiveDateTime>,
}
