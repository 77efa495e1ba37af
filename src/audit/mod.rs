//! The tamper-evident record: every state change and money event appends an event whose
//! SHA-256 covers the previous event's hash. Appends happen inside the caller's transaction,
//! so an event exists exactly when its change does. This module never updates or deletes
//! events; [`verify`] walks the whole chain and names the first broken link.
//!
//! Appends are serialised through the single `audit_head` row: the first statement of an
//! append is an UPDATE of that row, which takes its lock on PostgreSQL (SQLite has one
//! writer), so two transactions can never both extend the same link.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

pub mod model;

use model::{BrokenLink, EventRef, Problem};
pub use model::{Event, Verification};

use crate::db::schema::{audit_events, audit_head};
use crate::db::DbConn;

/// The hash the first event links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something.
#[derive(Debug, Clone, Copy, Default)]
pub struct Who<'a> {
    pub user_id: Option<&'a str>,
    pub organisation_id: Option<&'a str>,
}

impl<'a> From<&'a crate::auth::session::Actor> for Who<'a> {
    /// A signed-in user acting for their organisation.
    fn from(actor: &'a crate::auth::session::Actor) -> Who<'a> {
        Who {
            user_id: Some(&actor.user_id),
            organisation_id: Some(&actor.organisation_id),
        }
    }
}

impl<'a> Who<'a> {
    /// A scheduler or command-line step made by the platform itself.
    pub const SYSTEM: Who<'static> = Who {
        user_id: None,
        organisation_id: None,
    };
}

/// `event` without the people in it (the acting user, a signer's name), for readers who may
/// see organisations only. Its `hash` still covers the stored event, which auditors verify.
pub fn without_people(event: &mut Event) {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| {
                    !matches!(
                        k.as_str(),
                        "signer_name" | "user_id" | "email" | "display_name"
                    )
                });
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    event.actor_user_id = None;
    if let Ok(mut data) = serde_json::from_str::<serde_json::Value>(&event.data) {
        strip(&mut data);
        event.data = data.to_string();
    }
}

/// The hash of an event: SHA-256 over a canonical JSON array of its fields and the previous
/// hash. `data` is hashed as stored text, so no re-serialisation can change it.
#[allow(clippy::too_many_arguments)]
pub fn event_hash(
    seq: i64,
    at: NaiveDateTime,
    actor_user_id: Option<&str>,
    actor_organisation_id: Option<&str>,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    data: &str,
    prev_hash: &str,
) -> String {
    let at = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let canonical = serde_json::json!([
        seq,
        at,
        actor_user_id,
        actor_organisation_id,
        action,
        entity_type,
        entity_id,
        data,
        prev_hash
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Appends one event in the caller's transaction; returns its sequence number.
pub fn append(
    conn: &mut DbConn,
    at: DateTime<Utc>,
    who: Who<'_>,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    data: &serde_json::Value,
) -> QueryResult<i64> {
    let (seq, prev_hash): (i64, String) = crate::on_backend!(conn, |c| {
        diesel::update(audit_head::table.find(1))
            .set(audit_head::seq.eq(audit_head::seq + 1))
            .execute(c)?;
        audit_head::table
            .find(1)
            .select((audit_head::seq, audit_head::hash))
            .first(c)?
    });
    let at = at.naive_utc();
    let data = data.to_string();
    let hash = event_hash(
        seq,
        at,
        who.user_id,
        who.organisation_id,
        action,
        entity_type,
        entity_id,
        &data,
        &prev_hash,
    );
    crate::on_backend!(conn, |c| {
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::seq.eq(seq),
                audit_events::at.eq(at),
                audit_events::actor_user_id.eq(who.user_id),
                audit_events::actor_organisation_id.eq(who.organisation_id),
                audit_events::action.eq(action),
                audit_events::entity_type.eq(entity_type),
                audit_events::entity_id.eq(entity_id),
                audit_events::data.eq(&data),
                audit_events::prev_hash.eq(&prev_hash),
                audit_events::hash.eq(&hash),
            ))
            .execute(c)?;
        diesel::update(audit_head::table.find(1))
            .set(audit_head::hash.eq(&hash))
            .execute(c)?;
    });
    Ok(seq)
}

/// The sequence number of the newest event: it moves with every state change, in the
/// change's own transaction.
pub fn head(conn: &mut DbConn) -> QueryResult<i64> {
    // On the concrete connection, so the prepared statement is kept (every kept page's view).
    crate::on_backend!(conn, |c| audit_head::table
        .find(1)
        .select(audit_head::seq)
        .first(c))
}

/// The events about one entity, oldest first.
pub fn for_entity(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: &str,
) -> QueryResult<Vec<Event>> {
    // On the concrete connection, so the prepared statement is cached (every agreement page).
    crate::on_backend!(conn, |c| audit_events::table
        .filter(audit_events::entity_type.eq(entity_type))
        .filter(audit_events::entity_id.eq(entity_id))
        .order(audit_events::seq.asc())
        .select(Event::as_select())
        .load(c))
}

/// Walks the whole chain in order, in pages, and names the first broken link: the event, and
/// what is wrong with it.
pub fn verify(conn: &mut DbConn) -> QueryResult<Verification> {
    const PAGE: i64 = 2000;
    let (head_seq, head_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let mut expected_seq = 1;
    let mut prev = GENESIS.to_string();
    let mut last: Option<EventRef> = None;
    let mut checked = 0;
    let link = |seq: i64, problem: Problem, reason: String, event: Option<&Event>| {
        Some(BrokenLink {
            seq,
            reason,
            problem,
            event: event.map(EventRef::from),
        })
    };
    loop {
        let page: Vec<Event> = audit_events::table
            .filter(audit_events::seq.ge(expected_seq))
            // Only what the head we read covers; later rows are appends committed since.
            .filter(audit_events::seq.le(head_seq))
            .order(audit_events::seq.asc())
            .limit(PAGE)
            .select(Event::as_select())
            .load(conn)?;
        if page.is_empty() {
            break;
        }
        for ev in &page {
            let broken = if ev.seq != expected_seq {
                link(
                    expected_seq,
                    Problem::Missing,
                    format!("event {expected_seq} is missing (next is {})", ev.seq),
                    None,
                )
            } else if ev.prev_hash != prev {
                link(
                    ev.seq,
                    Problem::LinkBroken,
                    "prev_hash does not match the previous event's hash".into(),
                    Some(ev),
                )
            } else if recomputed(ev) != ev.hash {
                link(
                    ev.seq,
                    Problem::Altered,
                    "content does not match its hash (the event was altered)".into(),
                    Some(ev),
                )
            } else {
                None
            };
            if broken.is_some() {
                return Ok(outcome(checked, prev, last, broken));
            }
            prev = ev.hash.clone();
            last = Some(EventRef::from(ev));
            expected_seq += 1;
            checked += 1;
        }
    }
    let broken = if checked != head_seq {
        link(
            expected_seq,
            Problem::Truncated,
            format!("the chain ends at {checked} but the head records {head_seq} events"),
            None,
        )
    } else if prev != head_hash {
        link(
            head_seq,
            Problem::HeadMismatch,
            "the head hash does not match the last event".into(),
            None,
        )
    } else {
        None
    };
    Ok(outcome(checked, prev, last, broken))
}

/// What a walk found: how far it verified and, if so, where it broke.
fn outcome(
    checked: i64,
    head_hash: String,
    last_verified: Option<EventRef>,
    first_broken: Option<BrokenLink>,
) -> Verification {
    Verification {
        ok: first_broken.is_none(),
        events_checked: checked,
        head_hash,
        last_verified,
        first_broken,
    }
}

/// The hash `ev`'s stored content gives.
fn recomputed(ev: &Event) -> String {
    event_hash(
        ev.seq,
        ev.at,
        ev.actor_user_id.as_deref(),
        ev.actor_organisation_id.as_deref(),
        &ev.action,
        &ev.entity_type,
        &ev.entity_id,
        &ev.data,
        &ev.prev_hash,
    )
}

/// What the event browser narrows the chain to; every part optional.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events about this agreement.
    pub agreement_id: Option<String>,
    /// Events an organisation's user (or the organisation) made.
    pub organisation_id: Option<String>,
    /// One kind (`agreement.approve`).
    pub action: Option<String>,
    /// From this instant (UTC), included.
    pub from: Option<NaiveDateTime>,
    /// Before this instant (UTC).
    pub before: Option<NaiveDateTime>,
}

/// Up to `limit` events matching `filter` after skipping `offset`, newest first.
pub fn browse(
    conn: &mut DbConn,
    filter: &EventFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Event>> {
    let mut q = audit_events::table.into_boxed();
    if let Some(id) = &filter.agreement_id {
        q = q
            .filter(audit_events::entity_type.eq("agreement"))
            .filter(audit_events::entity_id.eq(id.clone()));
    }
    if let Some(org) = &filter.organisation_id {
        q = q.filter(audit_events::actor_organisation_id.eq(org.clone()));
    }
    if let Some(action) = &filter.action {
        q = q.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_events::at.ge(from));
    }
    if let Some(before) = filter.before {
        q = q.filter(audit_events::at.lt(before));
    }
    q.order(audit_events::seq.desc())
        .limit(limit)
        .offset(offset)
        .select(Event::as_select())
        .load(conn)
}

/// The kinds of event the chain holds, by name.
pub fn kinds(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    audit_events::table
        .select(audit_events::action)
        .distinct()
        .order(audit_events::action.asc())
        .load(conn)
}
