//! Stored events and what a walk of the chain finds, as the API and the CLI show them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::audit_events;

/// The first link that does not hold.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct BrokenLink {
    /// Sequence number of the first event that fails (or the head's, for a truncated chain).
    pub seq: i64,
    pub reason: String,
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: i64,
    /// Hash of the last event (the chain head).
    pub head_hash: String,
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
