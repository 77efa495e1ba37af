//! Stored events and what a walk of the chain finds, as the API and the CLI show them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::audit_events;

/// What is wrong at the first link that does not hold.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schema(as = AuditProblem)]
pub enum Problem {
    /// The event's content no longer gives its recorded hash: it was changed after writing.
    Altered,
    /// The event's previous-hash link does not name the hash of the event before it.
    LinkBroken,
    /// An event of the sequence is not there.
    Missing,
    /// The chain stops before the last event the head records.
    Truncated,
    /// The head's hash is not the last event's.
    HeadMismatch,
}

impl Problem {
    /// The stable name (`altered`, `link_broken`, …), as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Altered => "altered",
            Problem::LinkBroken => "link_broken",
            Problem::Missing => "missing",
            Problem::Truncated => "truncated",
            Problem::HeadMismatch => "head_mismatch",
        }
    }
}

/// An event named by a verification: where it stands in the chain and what it is about.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct EventRef {
    pub seq: i64,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// The event's kind (`agreement.approve`).
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
}

impl From<&Event> for EventRef {
    fn from(e: &Event) -> EventRef {
        EventRef {
            seq: e.seq,
            at: e.at,
            action: e.action.clone(),
            entity_type: e.entity_type.clone(),
            entity_id: e.entity_id.clone(),
        }
    }
}

/// The first link that does not hold.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct BrokenLink {
    /// Sequence number of the first event that fails (or the head's, for a truncated chain).
    pub seq: i64,
    pub reason: String,
    pub problem: Problem,
    /// The stored event at `seq`, when there is one (not for a missing or truncated one).
    pub event: Option<EventRef>,
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: i64,
    /// Hash of the last event (the chain head).
    pub head_hash: String,
    /// The last event whose link held (none for an empty chain or one broken at its first).
    pub last_verified: Option<EventRef>,
    pub first_broken: Option<BrokenLink>,
}

/// One stored event.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = audit_events)]
pub struct Event {
    pub seq: i64,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    pub actor_user_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// JSON text: the essentials before and after.
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}
