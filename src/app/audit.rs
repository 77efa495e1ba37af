//! Walking the audit chain and reading it: the check admins and auditors ask for (as JSON or
//! as a page), the event browser's pages, the nightly job and the `verify-audit` command.
//! Both are for supervisors only; to anyone else the chain does not exist (404).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};

use crate::audit::{self, Event, EventFilter, Verification};
use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::error::AppError;
use crate::AppState;

/// Walks the whole chain in order and names the first broken link.
pub fn verify(db: &crate::db::Db) -> Result<Verification, AppError> {
    let mut conn = db.reader()?;
    Ok(audit::verify(&mut conn)?)
}

/// Where the record stands: a number that moves with every state change, so what was read
/// while it stood still is still so (the pages kept for a repeated view, `web::kept`).
pub fn stamp(conn: &mut crate::db::DbConn) -> Result<i64, AppError> {
    Ok(audit::head(conn)?)
}

/// The same walk for the operator (the nightly job, `usefirst verify-audit`): a failure keeps
/// the database's own words rather than the API's "internal error".
pub fn verify_for_operator(db: &crate::db::Db) -> anyhow::Result<Verification> {
    let mut conn = db.reader()?;
    Ok(audit::verify(&mut conn)?)
}

/// An agreement as the audit pages name it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementName {
    pub id: String,
    pub number: String,
}

/// The chain check as the auditor's page shows it: the walk, and the agreement the broken
/// event and the last verified one are about (when they are about one).
#[derive(Debug, Clone)]
pub struct ChainCheck {
    pub verification: Verification,
    pub broken_agreement: Option<AgreementName>,
    pub last_agreement: Option<AgreementName>,
}

/// The walk of the chain for a supervisor (admin, auditor); 404 for anyone else.
pub fn check_chain(state: &AppState, actor: &Actor) -> Result<ChainCheck, AppError> {
    require(actor, Act::VerifyAudit)?;
    let mut conn = state.db.reader()?;
    let verification = audit::verify(&mut conn)?;
    let about = |e: Option<&crate::audit::model::EventRef>| {
        e.filter(|e| e.entity_type == "agreement")
            .map(|e| e.entity_id.clone())
    };
    let broken = about(
        verification
            .first_broken
            .as_ref()
            .and_then(|b| b.event.as_ref()),
    );
    let last = about(verification.last_verified.as_ref());
    let ids: Vec<String> = broken.iter().chain(last.iter()).cloned().collect();
    let numbers: BTreeMap<String, String> =
        crate::agreements::store::numbers_by_id(&mut conn, &ids)?
            .into_iter()
            .collect();
    let name = |id: Option<String>| {
        id.and_then(|id| {
            numbers.get(&id).map(|n| AgreementName {
                number: n.clone(),
                id,
            })
        })
    };
    Ok(ChainCheck {
        broken_agreement: name(broken),
        last_agreement: name(last),
        verification,
    })
}

/// What the event browser asks for, as typed (dates are calendar days in the platform's zone).
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// An agreement number (`UF-2026-000001`).
    pub agreement: Option<String>,
    pub organisation_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDate>,
    /// The last day included.
    pub to: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

/// One event of the browser, with the agreement it is about and who made it, by name.
#[derive(Debug, Clone)]
pub struct Listed {
    pub event: Event,
    pub agreement: Option<AgreementName>,
    pub organisation: Option<String>,
    pub person: Option<String>,
}

/// A page of the event browser: the events (newest first), whether more follow, and the
/// choices of its filters (every kind the chain holds, the organisations by name).
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<Listed>,
    pub more: bool,
    pub kinds: Vec<String>,
    pub organisations: Vec<(String, String)>,
}

/// The most organisations the browser's filter offers.
const ORGANISATIONS_OFFERED: i64 = 1000;

/// The agreement an event is about: its subject, or the one its data names (a claim's).
fn agreement_of(e: &Event) -> Option<String> {
    if e.entity_type == "agreement" {
        return Some(e.entity_id.clone());
    }
    let data: serde_json::Value = serde_json::from_str(&e.data).ok()?;
    data["after"]["agreement"].as_str().map(str::to_string)
}

/// The first instant of `day` in `tz`, as UTC.
fn start_of(tz: chrono_tz::Tz, day: NaiveDate) -> Option<NaiveDateTime> {
    tz.from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.naive_utc())
}

/// A page of events for a supervisor (admin, auditor; 404 for anyone else). An agreement
/// number that names none is a 422 on `agreement`; a range that ends before it starts, on `to`.
pub fn events(state: &AppState, actor: &Actor, q: &EventQuery) -> Result<EventPage, AppError> {
    require(actor, Act::VerifyAudit)?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            return Err(AppError::field("to", "the range ends before it starts"));
        }
    }
    let mut conn = state.db.reader()?;
    let agreement_id = match &q.agreement {
        None => None,
        Some(number) => Some(
            crate::agreements::store::id_by_number(&mut conn, number)?
                .ok_or_else(|| AppError::field("agreement", "no agreement has this number"))?,
        ),
    };
    let filter = EventFilter {
        agreement_id,
        organisation_id: q.organisation_id.clone(),
        action: q.action.clone(),
        from: q.from.and_then(|d| start_of(state.tz, d)),
        before: q
            .to
            .and_then(|d| d.succ_opt())
            .and_then(|d| start_of(state.tz, d)),
    };
    let mut found = audit::browse(&mut conn, &filter, q.limit + 1, q.offset)?;
    let more = found.len() as i64 > q.limit;
    found.truncate(usize::try_from(q.limit).unwrap_or(0));
    let agreement_ids: Vec<String> = found.iter().filter_map(agreement_of).collect();
    let numbers: BTreeMap<String, String> =
        crate::agreements::store::numbers_by_id(&mut conn, &agreement_ids)?
            .into_iter()
            .collect();
    let org_ids: Vec<String> = found
        .iter()
        .filter_map(|e| e.actor_organisation_id.clone())
        .collect();
    let orgs: BTreeMap<String, String> = crate::accounts::organisations_by_id(&mut conn, &org_ids)?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let people: BTreeMap<String, String> = crate::accounts::display_names(
        &mut conn,
        found
            .iter()
            .filter_map(|e| e.actor_user_id.as_ref())
            .collect(),
    )?
    .into_iter()
    .collect();
    let events = found
        .into_iter()
        .map(|event| Listed {
            agreement: agreement_of(&event).and_then(|id| {
                numbers.get(&id).map(|n| AgreementName {
                    number: n.clone(),
                    id,
                })
            }),
            organisation: event
                .actor_organisation_id
                .as_ref()
                .and_then(|o| orgs.get(o).cloned()),
            person: event
                .actor_user_id
                .as_ref()
                .and_then(|u| people.get(u).cloned()),
            event,
        })
        .collect();
    let kinds = audit::kinds(&mut conn)?;
    let organisations = crate::accounts::list_organisations(&mut conn, ORGANISATIONS_OFFERED, 0)?
        .0
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(EventPage {
        events,
        more,
        kinds,
        organisations,
    })
}
