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
pub(crate) fn load_for(
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

/// An institute adds a technology, as a draft (listing goes through screening).
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
    let made = state.db.write(|conn| {
        technologies::screening::check_edit(conn, None, input)?;
        technologies::create(conn, now, Who::from(actor), &actor.organisation_id, input)
    });
    state.facets.forget();
    made
}

/// A page of the catalogue the actor may see, and how many there are.
pub fn search(
    state: &AppState,
    actor: &Actor,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Technology>, i64), AppError> {
    let mut conn = state.db.reader()?;
    let (rows, total) = technologies::search(&mut conn, visible_to(actor), search, limit, offset)?;
    Ok((rows.into_iter().map(Technology::from).collect(), total))
}

/// One technology, on the caller's connection (a point read).
pub fn get(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Technology, AppError> {
    Ok(load_for(conn, actor, id, Act::ReadTechnology)?.into())
}

/// Its institute replaces a technology's description or status, if still at `expected`
/// (never to `listed`, a listed one stays listed only unchanged, and nothing while it is in
/// screening).
pub fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    input: &TechnologyInput,
) -> Result<Technology, AppError> {
    let now = state.clock.now();
    let updated = state.db.write(|conn| {
        let row = load_for(conn, actor, id, Act::EditTechnology)?;
        technologies::screening::check_edit(conn, Some(&row), input)?;
        technologies::update(conn, now, Who::from(actor), &row, expected, input)
    });
    state.facets.forget();
    updated
}

/// Its institute sets new conversion terms (a new version; running agreements keep theirs).
pub fn add_terms(
    state: &AppState,
    actor: &Actor,
    id: &str,
    terms: Terms,
) -> Result<TermsVersion, AppError> {
    let now = state.clock.now();
    let added = state.db.write(|conn| {
        let row = load_for(conn, actor, id, Act::EditTechnology)?;
        technologies::add_terms(conn, now, Who::from(actor), &row.id, terms)
    });
    state.facets.forget();
    added
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
    /// Where it stands on its way to the catalogue (`draft`, `in_screening`, `returned`,
    /// `listed`, `withdrawn`).
    pub stage: String,
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
    // Two reads for the whole list, not two per technology.
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let versions: std::collections::HashMap<String, i32> =
        technologies::current_terms_of(&mut conn, &ids)?
            .into_iter()
            .map(|t| (t.technology_id, t.version))
            .collect();
    let counts = crate::agreements::store::count_by_technology(&mut conn, actor)?;
    let stages = technologies::screening::stages_of(&mut conn, &rows)?;
    let owned = rows
        .into_iter()
        .map(|row| Owned {
            stage: stages
                .get(&row.id)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| row.status.clone()),
            terms_version: versions.get(&row.id).copied(),
            agreements: counts.get(&row.id).copied().unwrap_or(0),
            technology: row.into(),
        })
        .collect();
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

/// Who sees what of the catalogue: everyone the listed technologies, an institute also its
/// own, admins and auditors everything.
fn visible_to(actor: &Actor) -> Visible<'_> {
    if actor.role.sees_everything() {
        Visible::All
    } else if actor.role == Role::Institute {
        Visible::ListedOrOwn(&actor.organisation_id)
    } else {
        Visible::Listed
    }
}

/// What the catalogue page asks for: [`Search`]'s words, field and institute, and the
/// narrowing the page adds (the institute's province, the IP kind, the trial length).
#[derive(Debug, Default, Clone)]
pub struct CatalogueQuery {
    pub q: Option<String>,
    pub field: Option<String>,
    pub province: Option<String>,
    pub institute_id: Option<String>,
    pub ip_type: Option<String>,
    /// Shortest and longest trial, in days, of the current terms.
    pub trial_days: Option<(u32, u32)>,
}

/// An institute as the catalogue names it.
#[derive(Debug, Clone)]
pub struct Institute {
    pub id: String,
    pub name: String,
    pub province: String,
}

/// A technology as the catalogue shows it: with its institute and its current terms.
#[derive(Debug, Clone)]
pub struct Offered {
    pub technology: Technology,
    pub institute: Option<Institute>,
    pub terms: Option<TermsVersion>,
}

/// A page of the catalogue and what its filters offer.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub offered: Vec<Offered>,
    pub total: i64,
    /// The fields of the technologies the actor may see, sorted.
    pub fields: Vec<String>,
    /// The institutes of those technologies, by name.
    pub institutes: Vec<Institute>,
}

impl Catalogue {
    /// The provinces of [`Catalogue::institutes`], each once, sorted.
    pub fn provinces(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&String> =
            self.institutes.iter().map(|i| &i.province).collect();
        set.into_iter().cloned().collect()
    }
}

/// The institutes of `ids`, by name (the organisations are `accounts`').
fn institutes(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Institute>, AppError> {
    let mut found: Vec<Institute> = crate::accounts::organisations_by_id(conn, ids)?
        .into_iter()
        .map(|o| Institute {
            id: o.id,
            name: o.name,
            province: o.province,
        })
        .collect();
    found.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(found)
}

/// What the catalogue's filters offer to those who see the same technologies: the institutes
/// (by name) and the fields of those technologies.
#[derive(Debug)]
pub struct Facets {
    pub institutes: Vec<Institute>,
    pub fields: Vec<String>,
}

/// The catalogue's [`Facets`], kept for `app.catalogue_cache_seconds` per kind of visibility
/// (everyone's listed technologies; an institute's own as well; everything), so a search does
/// not read every technology and institute again to fill its filters. A change of a technology
/// through this instance forgets them at once; another instance's change shows within that
/// time. Only the filters' choices are kept: the results are always read fresh.
#[derive(Debug, Default)]
pub struct FacetCache {
    kept: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, std::sync::Arc<Facets>)>,
    >,
}

impl FacetCache {
    /// The facets of `visible`, kept or read now.
    fn get(
        &self,
        cfg: &crate::config::Config,
        conn: &mut DbConn,
        visible: Visible<'_>,
    ) -> Result<std::sync::Arc<Facets>, AppError> {
        let key = match visible {
            Visible::All => "*".to_string(),
            Visible::Listed => String::new(),
            Visible::ListedOrOwn(organisation) => organisation.to_string(),
        };
        let keep_for = std::time::Duration::from_secs(cfg.app.catalogue_cache_seconds);
        if let Some((at, facets)) = self.lock().get(&key) {
            if at.elapsed() < keep_for {
                return Ok(facets.clone());
            }
        }
        let (institute_ids, fields) = technologies::facets(conn, visible)?;
        let facets = std::sync::Arc::new(Facets {
            institutes: institutes(conn, &institute_ids)?,
            fields,
        });
        if !keep_for.is_zero() {
            self.lock()
                .insert(key, (std::time::Instant::now(), facets.clone()));
        }
        Ok(facets)
    }

    /// Forgets every kept facet (a technology changed).
    pub fn forget(&self) {
        self.lock().clear();
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, (std::time::Instant, std::sync::Arc<Facets>)>,
    > {
        // A panic while holding the map leaves it whole (inserts and clears only).
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A page of the catalogue the actor may see, found by `query`, with each technology's
/// institute and current terms, and what the page's filters offer.
pub fn catalogue(
    state: &AppState,
    actor: &Actor,
    query: &CatalogueQuery,
    limit: i64,
    offset: i64,
) -> Result<Catalogue, AppError> {
    let visible = visible_to(actor);
    let mut conn = state.db.reader()?;
    let facets = state.facets.get(&state.cfg, &mut conn, visible)?;
    let all_institutes = &facets.institutes;
    let narrow = technologies::Narrow {
        ip_type: query.ip_type.clone(),
        institute_ids: query.province.as_ref().map(|p| {
            all_institutes
                .iter()
                .filter(|i| &i.province == p)
                .map(|i| i.id.clone())
                .collect()
        }),
        trial_days: query.trial_days,
    };
    let search = Search {
        q: query.q.clone(),
        field: query.field.clone(),
        status: None,
        institute_id: query.institute_id.clone(),
    };
    let (rows, total) =
        technologies::search_narrowed(&mut conn, visible, &search, &narrow, limit, offset)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut terms = technologies::current_terms_of(&mut conn, &ids)?;
    let offered = rows
        .into_iter()
        .map(|row| {
            let institute = all_institutes
                .iter()
                .find(|i| i.id == row.institute_id)
                .cloned();
            let at = terms.iter().position(|t| t.technology_id == row.id);
            Offered {
                technology: row.into(),
                institute,
                terms: at.map(|at| terms.swap_remove(at)),
            }
        })
        .collect();
    Ok(Catalogue {
        offered,
        total,
        fields: facets.fields.clone(),
        institutes: facets.institutes.clone(),
    })
}

/// One technology the actor may see, with its institute and current terms (404 for another
/// institute's draft).
pub fn offered(state: &AppState, actor: &Actor, id: &str) -> Result<Offered, AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, Act::ReadTechnology)?;
    let terms = technologies::current_terms(&mut conn, &row.id)?;
    let institute = institutes(&mut conn, std::slice::from_ref(&row.institute_id))?
        .into_iter()
        .next();
    Ok(Offered {
        technology: row.into(),
        institute,
        terms,
    })
}

/// What converting on `convert_on` (default: today) would cost under a technology's current
/// terms, before any trial: no early-conversion discount, as there is no trial yet to end.
/// Nothing is saved; 409 when the technology has no terms yet.
pub fn quote_current(
    state: &AppState,
    actor: &Actor,
    id: &str,
    convert_on: Option<chrono::NaiveDate>,
) -> Result<crate::settlement::quote::Quote, AppError> {
    let mut conn = state.db.reader()?;
    let row = load_for(&mut conn, actor, id, Act::ReadTechnology)?;
    let terms = technologies::current_terms(&mut conn, &row.id)?
        .ok_or_else(|| AppError::Conflict("this technology has no conversion terms yet".into()))?;
    let convert_on = convert_on.unwrap_or_else(|| state.clock.today(state.tz));
    crate::settlement::quote::quote(
        &terms.terms,
        convert_on,
        None,
        state.cfg.settlement.rounding,
    )
    .map_err(|e| AppError::field("convert_on", e.to_string()))
}

/// Whether the actor may ask for a trial (SMEs do).
pub fn may_request_trial(actor: &Actor) -> bool {
    authorize(actor, Act::RequestTrial, On::Platform) == Decision::Allow
}
