//! Screening before listing: an institute submits its technology, the platform operator's
//! admins (the reviewers) list it or return it with reasons, each step in one transaction
//! with its audit event. Only a listing decision lists a technology.

use crate::audit::Who;
use crate::auth::policy::{authorize, Act, Decision, On};
use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::screening::Listing;
use crate::technologies::model::{
    Screening, ScreeningDecision, ScreeningRecord, Technology, TechnologyRow,
};
use crate::technologies::{self, screening};
use crate::AppState;

use super::technologies::load_for;

/// The technology `id` as a reviewer may decide it: admins only (403 for those who can see
/// it, 404 for those who cannot).
fn for_review(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<TechnologyRow, AppError> {
    let row = load_for(conn, actor, id, Act::ReadTechnology)?;
    let on = On::Technology {
        institute_id: &row.institute_id,
        listed: row.status == "listed",
    };
    match authorize(actor, Act::ScreenTechnology, on) {
        Decision::Allow => Ok(row),
        Decision::Forbid => Err(AppError::Forbidden(
            "only the platform's reviewers (admins) decide a screening".into(),
        )),
        Decision::Hide => Err(AppError::NotFound),
    }
}

/// Its institute submits a technology (at version `expected`) for screening.
pub fn submit(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
) -> Result<ScreeningRecord, AppError> {
    let now = state.clock.now();
    let done = state.db.write(|conn| {
        let row = load_for(conn, actor, id, Act::EditTechnology)?;
        screening::submit(conn, now, Who::from(actor), &row, expected)?;
        let row = technologies::get(conn, &row.id)?;
        record_of(conn, &row)
    });
    state.facets.forget();
    done
}

/// A reviewer lists or returns a technology in screening (at version `expected`).
pub fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    decision: &ScreeningDecision,
) -> Result<ScreeningRecord, AppError> {
    let now = state.clock.now();
    let done = state.db.write(|conn| {
        let row = for_review(conn, actor, id)?;
        screening::decide(conn, now, Who::from(actor), &row, expected, decision)?;
        let row = technologies::get(conn, &row.id)?;
        record_of(conn, &row)
    });
    state.facets.forget();
    done
}

/// Where `row` stands and every screening it had.
fn record_of(conn: &mut DbConn, row: &TechnologyRow) -> Result<ScreeningRecord, AppError> {
    let stage = screening::stage_of(conn, row)?;
    Ok(ScreeningRecord {
        trl: match stage {
            Listing::Listed => screening::listed_trl(conn, &row.id)?,
            _ => None,
        },
        screenings: screening::history(conn, &row.id)?,
        technology_id: row.id.clone(),
        status: stage.as_str().to_string(),
        version: row.version,
    })
}

/// A technology the actor may `act` on and its screening record, on one reader.
fn with_record(
    state: &AppState,
    actor: &Actor,
    id: &str,
    act: Act,
) -> Result<(Technology, ScreeningRecord), AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, act)?;
    let record = record_of(&mut conn, &row)?;
    Ok((row.into(), record))
}

/// A technology's screening state and history: for its institute and the supervisors
/// (admins, auditors); to anyone else it is not there.
pub fn record(state: &AppState, actor: &Actor, id: &str) -> Result<ScreeningRecord, AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, Act::ReadTechnology)?;
    if !actor.role.sees_everything() && row.institute_id != actor.organisation_id {
        return Err(AppError::NotFound);
    }
    record_of(&mut conn, &row)
}

/// A technology and its screening record, for its institute's screening page (anyone else
/// is refused as the policy says).
pub fn for_institute(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Technology, ScreeningRecord), AppError> {
    with_record(state, actor, id, Act::EditTechnology)
}

/// Whether the actor decides screenings (the platform's reviewers).
pub fn may_decide(actor: &Actor) -> bool {
    authorize(actor, Act::ScreenTechnology, On::Platform) == Decision::Allow
}

/// The readiness level a listed technology was screened at, for anyone who sees it.
pub fn listed_trl(state: &AppState, actor: &Actor, id: &str) -> Result<Option<i32>, AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, Act::ReadTechnology)?;
    if row.status != "listed" {
        return Ok(None);
    }
    screening::listed_trl(&mut conn, &row.id)
}

/// A technology waiting for a reviewer, with its open screening.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ScreeningQueueItem)]
pub struct Waiting {
    pub technology: Technology,
    pub screening: Screening,
}

/// The technologies waiting for a reviewer, longest waiting first (admins and auditors).
pub fn queue(state: &AppState, actor: &Actor) -> Result<Vec<Waiting>, AppError> {
    if !actor.role.sees_everything() {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.reader()?;
    Ok(screening::queue(&mut conn)?
        .into_iter()
        .map(|(t, s)| Waiting {
            technology: t.into(),
            screening: s,
        })
        .collect())
}

/// A technology and its screening record, for the reviewer's form (admins and auditors).
pub fn for_reviewing(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Technology, ScreeningRecord), AppError> {
    if !actor.role.sees_everything() {
        return Err(AppError::NotFound);
    }
    with_record(state, actor, id, Act::ReadTechnology)
}
