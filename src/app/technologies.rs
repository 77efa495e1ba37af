//! The catalogue's actions: institutes list technologies and set their conversion terms;
//! everyone searches and reads what they may see.

use diesel::prelude::*;

use crate::audit::Who;
use crate::auth::policy::{authorize, Act, Decision, On};
use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::roles::Role;
use crate::settlement::terms::Terms;
use crate::technologies::{
    self, Search, Technology, TechnologyInput, TechnologyRow, TermsVersion, Visible,
};
use crate::AppState;

/// A technology the actor may `act` on, answering 404/403 as the policy says.
fn load_for(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    act: Act,
) -> Result<TechnologyRow, AppError> {
    let row = technologies::get(conn, id)
        .optional()?
        .ok_or(AppError::NotFound)?;
    match authorize(
        actor,
        act,
        On::Technology {
            institute_id: &row.institute_id,
            listed: row.status == "listed",
        },
    ) {
        Decision::Allow => Ok(row),
        Decision::Forbid => Err(AppError::Forbidden(
            "only the technology's own institute may change it".into(),
        )),
        Decision::Hide => Err(AppError::NotFound),
    }
}

/// An institute lists a technology (a draft unless its status says `listed`).
pub fn create(
    state: &AppState,
    actor: &Actor,
    input: &TechnologyInput,
) -> Result<Technology, AppError> {
    if authorize(actor, Act::CreateTechnology, On::Platform) != Decision::Allow {
        return Err(AppError::Forbidden(
            "only institutes list technologies".into(),
        ));
    }
    let now = state.clock.now();
    state.db.write(|conn| {
        technologies::create(conn, now, Who::from(actor), &actor.organisation_id, input)
    })
}

/// A page of the catalogue the actor may see, and how many there are.
pub fn search(
    state: &AppState,
    actor: &Actor,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Technology>, i64), AppError> {
    let visible = if actor.role.sees_everything() {
        Visible::All
    } else if actor.role == Role::Institute {
        Visible::ListedOrOwn(&actor.organisation_id)
    } else {
        Visible::Listed
    };
    let mut conn = state.db.reader()?;
    let (rows, total) = technologies::search(&mut conn, visible, search, limit, offset)?;
    Ok((rows.into_iter().map(Technology::from).collect(), total))
}

/// One technology, on the caller's connection (a point read).
pub fn get(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Technology, AppError> {
    Ok(load_for(conn, actor, id, Act::ReadTechnology)?.into())
}

/// Its institute replaces a technology's description or status, if still at `expected`.
pub fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    input: &TechnologyInput,
) -> Result<Technology, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        let row = load_for(conn, actor, id, Act::EditTechnology)?;
        technologies::update(conn, now, Who::from(actor), &row, expected, input)
    })
}

/// Its institute sets new conversion terms (a new version; running agreements keep theirs).
pub fn add_terms(
    state: &AppState,
    actor: &Actor,
    id: &str,
    terms: Terms,
) -> Result<TermsVersion, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        let row = load_for(conn, actor, id, Act::EditTechnology)?;
        technologies::add_terms(conn, now, Who::from(actor), &row.id, terms)
    })
}

/// Every version of a technology's terms, newest first.
pub fn terms_history(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<TermsVersion>, AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, Act::ReadTechnology)?;
    technologies::terms_history(&mut conn, &row.id)
}

/// One of an institute's own technologies, with what its list shows beside it.
#[derive(Debug, Clone)]
pub struct Owned {
    pub technology: Technology,
    /// The terms version in force, if terms are set.
    pub terms_version: Option<i32>,
    /// How many trial agreements (any status) name it.
    pub agreements: i64,
}

/// The most of its own technologies an institute's list shows.
pub const OWN_LIMIT: i64 = 200;

/// The actor's institute's own technologies in every status, most recently changed first,
/// with the terms version in force and the number of agreements of each, and how many there
/// are. Only institutes have technologies of their own; anyone else is refused.
pub fn own(state: &AppState, actor: &Actor) -> Result<(Vec<Owned>, i64), AppError> {
    if actor.role != Role::Institute {
        return Err(AppError::Forbidden(
            "only institutes have technologies of their own".into(),
        ));
    }
    let mut conn = state.db.reader()?;
    let search = Search {
        institute_id: Some(actor.organisation_id.clone()),
        ..Search::default()
    };
    let visible = Visible::ListedOrOwn(&actor.organisation_id);
    let (rows, total) = technologies::search(&mut conn, visible, &search, OWN_LIMIT, 0)?;
    let mut owned = Vec::with_capacity(rows.len());
    for row in rows {
        let terms_version = technologies::current_terms(&mut conn, &row.id)?.map(|t| t.version);
        let filter = crate::agreements::model::ListFilter {
            technology_id: Some(row.id.clone()),
            ..Default::default()
        };
        let (_, agreements) = crate::agreements::store::list(&mut conn, actor, &filter, 0, 0)?;
        owned.push(Owned {
            technology: row.into(),
            terms_version,
            agreements,
        });
    }
    Ok((owned, total))
}

/// A technology its institute may change, with every version of its terms (newest first):
/// what its edit and terms pages show. Anyone else is refused as the policy says.
pub fn for_editing(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Technology, Vec<TermsVersion>), AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, Act::EditTechnology)?;
    let history = technologies::terms_history(&mut conn, &row.id)?;
    Ok((row.into(), history))
}
