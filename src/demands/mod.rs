//! Demands: what SMEs need, posted for institutes to answer, and the institutes' proposals
//! of their technologies. Owns `demands`, `demand_invitees` and `demand_proposals`; writes a
//! demand's words to the search index in the same transaction as each change, and appends an
//! audit event for each. It never reads the technologies or agreements themselves: app passes
//! in what it needs of them.

pub mod model;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit::{self, Who};
use crate::db::schema::{demand_invitees, demand_proposals, demands};
use crate::db::DbConn;
use crate::error::{required_text, AppError, FieldError};
use crate::rules::roles::Role;
use crate::search::{self, Kind};
use crate::settlement::money::Currency;

pub use model::{
    Budget, Demand, DemandInput, DemandRow, Filter, Proposal, ProposalInput, Viewer, STATUSES,
    VISIBILITIES,
};

/// A checked demand input.
struct Checked {
    title: String,
    description: String,
    sector: String,
    province: String,
    currency: String,
    min: i64,
    max: i64,
    wanted_by: NaiveDate,
    visibility: String,
    invited: Vec<String>,
}

/// Checks `input` on `today`; `institutes` says which of the invited ids are institutes.
fn check(
    input: &DemandInput,
    today: NaiveDate,
    institutes: &dyn Fn(&[String]) -> Vec<String>,
) -> Result<Checked, AppError> {
    let mut e: Vec<FieldError> = Vec::new();
    let title = required_text(&mut e, "title", &input.title, 200);
    let description = required_text(&mut e, "description", &input.description, 5000);
    let sector = required_text(&mut e, "sector", &input.sector, model::PLACE_MAX);
    let province = required_text(&mut e, "province", &input.province, model::PLACE_MAX);
    let (mut min, mut max) = (0, 0);
    let currency = input.budget.currency.trim().to_uppercase();
    match Currency::parse(&currency) {
        None => e.push(FieldError::new(
            "budget.currency",
            "must be one of VND, CNY, USD, EUR",
        )),
        Some(c) => {
            let mut amount = |field: &str, text: &str| match c.parse_amount(text.trim()) {
                Ok(v) if v >= 0 => Some(v),
                Ok(_) => {
                    e.push(FieldError::new(field, "must not be negative"));
                    None
                }
                Err(msg) => {
                    e.push(FieldError::new(field, msg));
                    None
                }
            };
            let lo = amount("budget.min", &input.budget.min);
            let hi = amount("budget.max", &input.budget.max);
            if let (Some(lo), Some(hi)) = (lo, hi) {
                if hi < lo {
                    e.push(FieldError::new(
                        "budget.max",
                        "must not be less than the minimum",
                    ));
                }
                (min, max) = (lo, hi);
            }
        }
    }
    let mut wanted_by = today;
    match NaiveDate::parse_from_str(input.wanted_by.trim(), "%Y-%m-%d") {
        Err(_) => e.push(FieldError::new("wanted_by", "must be a date, YYYY-MM-DD")),
        Ok(d) if d < today => e.push(FieldError::new(
            "wanted_by",
            format!("must not be in the past (today is {today})"),
        )),
        Ok(d) => wanted_by = d,
    }
    let visibility = input
        .visibility
        .clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "public".into());
    let mut invited: Vec<String> = input
        .invited_institute_ids
        .iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect();
    invited.sort();
    invited.dedup();
    if !VISIBILITIES.contains(&visibility.as_str()) {
        e.push(FieldError::new(
            "visibility",
            format!("must be one of {VISIBILITIES:?}"),
        ));
    } else if visibility == "invited" {
        let known = institutes(&invited);
        if invited.is_empty() {
            e.push(FieldError::new(
                "invited_institute_ids",
                "name at least one institute to invite",
            ));
        } else if let Some(unknown) = invited.iter().find(|i| !known.contains(i)) {
            e.push(FieldError::new(
                "invited_institute_ids",
                format!("no institute with id {unknown}"),
            ));
        }
    } else {
        invited.clear();
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Checked {
        title,
        description,
        sector,
        province,
        currency,
        min,
        max,
        wanted_by,
        visibility,
        invited,
    })
}

/// What a demand's searches filter by, as the index keeps it: status, field and province
/// (see [`list`]).
fn index_facets(status: &str, sector: &str, province: &str) -> Vec<search::Facet> {
    vec![
        search::Facet::new("status", status),
        search::Facet::new("sector", sector),
        search::Facet::new("province", province),
    ]
}

/// Writes the words and facets of a demand that is `status` to the search index, and its
/// invitees.
fn index_and_invite(conn: &mut DbConn, id: &str, status: &str, c: &Checked) -> QueryResult<()> {
    search::put(
        conn,
        Kind::Demand,
        id,
        &[&c.title, &c.description, &c.sector, &c.province],
        &index_facets(status, &c.sector, &c.province),
    )?;
    diesel::delete(demand_invitees::table.filter(demand_invitees::demand_id.eq(id)))
        .execute(conn)?;
    for institute in &c.invited {
        diesel::insert_into(demand_invitees::table)
            .values((
                demand_invitees::demand_id.eq(id),
                demand_invitees::institute_id.eq(institute),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Posts a demand of `sme_id`; `institutes` says which ids are institutes (for invitations).
pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
    who: Who<'_>,
    sme_id: &str,
    input: &DemandInput,
    institutes: &dyn Fn(&[String]) -> Vec<String>,
) -> Result<Demand, AppError> {
    let c = check(input, today, institutes)?;
    let created_by = who
        .user_id
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a demand is posted by a user")))?;
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(demands::table)
        .values((
            demands::id.eq(&id),
            demands::sme_id.eq(sme_id),
            demands::title.eq(&c.title),
            demands::description.eq(&c.description),
            demands::sector.eq(&c.sector),
            demands::province.eq(&c.province),
            demands::currency.eq(&c.currency),
            demands::budget_min_minor.eq(c.min),
            demands::budget_max_minor.eq(c.max),
            demands::wanted_by.eq(c.wanted_by),
            demands::visibility.eq(&c.visibility),
            demands::status.eq("open"),
            demands::version.eq(1),
            demands::created_by.eq(created_by),
            demands::created_at.eq(now.naive_utc()),
            demands::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    index_and_invite(conn, &id, "open", &c)?;
    audit::append(
        conn,
        now,
        who,
        "demand.created",
        "demand",
        &id,
        &serde_json::json!({"after": {"title": c.title, "visibility": c.visibility,
            "invited": c.invited}}),
    )?;
    shown(conn, &id)
}

/// Replaces an open demand's description, if still at `expected_version`.
#[allow(clippy::too_many_arguments)]
pub fn update(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
    who: Who<'_>,
    current: &DemandRow,
    expected_version: i64,
    input: &DemandInput,
    institutes: &dyn Fn(&[String]) -> Vec<String>,
) -> Result<Demand, AppError> {
    if current.version != expected_version {
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current: current.version,
        });
    }
    if current.status != "open" {
        return Err(AppError::Conflict(
            "a closed demand cannot be changed".into(),
        ));
    }
    let c = check(input, today, institutes)?;
    let changed = diesel::update(
        demands::table
            .find(&current.id)
            .filter(demands::version.eq(expected_version)),
    )
    .set((
        demands::title.eq(&c.title),
        demands::description.eq(&c.description),
        demands::sector.eq(&c.sector),
        demands::province.eq(&c.province),
        demands::currency.eq(&c.currency),
        demands::budget_min_minor.eq(c.min),
        demands::budget_max_minor.eq(c.max),
        demands::wanted_by.eq(c.wanted_by),
        demands::visibility.eq(&c.visibility),
        demands::version.eq(expected_version + 1),
        demands::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(AppError::PreconditionFailed {
            expected: expected_version.to_string(),
            current: get(conn, &current.id)?.version,
        });
    }
    index_and_invite(conn, &current.id, &current.status, &c)?;
    audit::append(
        conn,
        now,
        who,
        "demand.updated",
        "demand",
        &current.id,
        &serde_json::json!({
            "before": {"version": current.version, "title": current.title},
            "after": {"version": expected_version + 1, "title": c.title,
                      "visibility": c.visibility, "invited": c.invited}
        }),
    )?;
    shown(conn, &current.id)
}

/// Moves `current` to `status`, with why it closed and the agreement that closed it (or
/// neither), if it is still at its version, and its facets in the index with it; 412 when it
/// changed meanwhile.
fn set_status(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    current: &DemandRow,
    status: &str,
    reason: Option<&str>,
    agreement_id: Option<&str>,
) -> Result<(), AppError> {
    let changed = diesel::update(
        demands::table
            .find(&current.id)
            .filter(demands::version.eq(current.version)),
    )
    .set((
        demands::status.eq(status),
        demands::closed_reason.eq(reason),
        demands::agreement_id.eq(agreement_id),
        demands::version.eq(current.version + 1),
        demands::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(AppError::PreconditionFailed {
            expected: current.version.to_string(),
            current: get(conn, &current.id)?.version,
        });
    }
    search::set_facets(
        conn,
        Kind::Demand,
        &current.id,
        &index_facets(status, &current.sector, &current.province),
    )?;
    Ok(())
}

/// Closes an open demand: by its owner (`agreement_id` none) or because a trial was
/// requested from one of its proposals. 412 when `expected_version` is stale, 409 when it is
/// closed already.
pub fn close(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    current: &DemandRow,
    expected_version: Option<i64>,
    agreement_id: Option<&str>,
) -> Result<Demand, AppError> {
    if let Some(expected) = expected_version {
        if current.version != expected {
            return Err(AppError::PreconditionFailed {
                expected: expected.to_string(),
                current: current.version,
            });
        }
    }
    if current.status != "open" {
        return Err(AppError::InvalidTransition {
            detail: "this demand is closed already".into(),
            current_state: current.status.clone(),
            current_version: current.version,
        });
    }
    let reason = if agreement_id.is_some() {
        "trial"
    } else {
        "owner"
    };
    set_status(conn, now, current, "closed", Some(reason), agreement_id)?;
    audit::append(
        conn,
        now,
        who,
        "demand.closed",
        "demand",
        &current.id,
        &serde_json::json!({
            "before": {"status": current.status, "version": current.version},
            "after": {"status": "closed", "reason": reason, "agreement_id": agreement_id,
                      "version": current.version + 1}
        }),
    )?;
    shown(conn, &current.id)
}

/// One demand row.
pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<DemandRow> {
    demands::table
        .find(id)
        .select(DemandRow::as_select())
        .first(conn)
}

/// The institutes a demand names.
pub fn invitees(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
    demand_invitees::table
        .filter(demand_invitees::demand_id.eq(id))
        .order(demand_invitees::institute_id)
        .select(demand_invitees::institute_id)
        .load(conn)
}

/// A demand as the API shows it.
pub fn shown(conn: &mut DbConn, id: &str) -> Result<Demand, AppError> {
    let row = get(conn, id)?;
    let invited = invitees(conn, id)?;
    Ok(Demand::of(row, invited))
}

/// The demand `id` if `viewer` may see it; 404 otherwise.
pub fn visible(conn: &mut DbConn, viewer: Viewer<'_>, id: &str) -> Result<DemandRow, AppError> {
    let row = get(conn, id).optional()?.ok_or(AppError::NotFound)?;
    let (invited, proposed) = if viewer.role == Role::Institute {
        let invited: i64 = demand_invitees::table
            .filter(demand_invitees::demand_id.eq(id))
            .filter(demand_invitees::institute_id.eq(viewer.organisation_id))
            .count()
            .get_result(conn)?;
        let proposed: i64 = demand_proposals::table
            .filter(demand_proposals::demand_id.eq(id))
            .filter(demand_proposals::institute_id.eq(viewer.organisation_id))
            .count()
            .get_result(conn)?;
        (invited > 0, proposed > 0)
    } else {
        (false, false)
    };
    if model::sees(viewer, &row, invited, proposed) {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// How many of the index's matches one query checks against the scope.
const HITS_CHUNK: usize = 5_000;

/// The demands `viewer` may see, as a query to narrow.
fn seen_by<'a>(viewer: Viewer<'_>) -> demands::BoxedQuery<'a, crate::db::MultiBackend> {
    let org = viewer.organisation_id.to_string();
    let query = demands::table.into_boxed();
    match viewer.role {
        Role::Admin | Role::Auditor => query,
        Role::Sme => query.filter(demands::sme_id.eq(org)),
        Role::Institute => query.filter(
            demands::status
                .eq("open")
                .and(
                    demands::visibility.eq("public").or(demands::id.eq_any(
                        demand_invitees::table
                            .filter(demand_invitees::institute_id.eq(org.clone()))
                            .select(demand_invitees::demand_id),
                    )),
                )
                .or(demands::id.eq_any(
                    demand_proposals::table
                        .filter(demand_proposals::institute_id.eq(org))
                        .select(demand_proposals::demand_id),
                )),
        ),
        Role::Insurer => query.filter(demands::id.eq("")),
    }
}

/// The index's filter for `filter`'s status, field and province.
fn search_filter(filter: &Filter) -> Vec<Vec<search::Facet>> {
    [
        ("status", &filter.status),
        ("sector", &filter.sector),
        ("province", &filter.province),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        value
            .as_ref()
            .map(|v| vec![search::Facet::new(name, v.clone())])
    })
    .collect()
}

/// A page of the demands `viewer` may see that `filter` finds, and how many there are:
/// with words, the best matches first; without, the most recently changed first.
///
/// With words the index finds the matches and filters them by its facets (status, field,
/// province), as the catalogue's search does; who may see each match (an institute: open and
/// shown to it, or proposed to) is then asked of the table, a chunk of matches at a time.
pub fn list(
    conn: &mut DbConn,
    viewer: Viewer<'_>,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DemandRow>, i64), AppError> {
    let words = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let ids: Vec<String> = match words {
        None => {
            let mut query = seen_by(viewer);
            if let Some(s) = &filter.status {
                query = query.filter(demands::status.eq(s.clone()));
            }
            if let Some(s) = &filter.sector {
                query = query.filter(demands::sector.eq(s.clone()));
            }
            if let Some(p) = &filter.province {
                query = query.filter(demands::province.eq(p.clone()));
            }
            query
                .order((demands::updated_at.desc(), demands::id.asc()))
                .select(demands::id)
                .load(conn)?
        }
        Some(words) => {
            let hits = search::find(conn, Kind::Demand, words, &search_filter(filter))?;
            let mut allowed = std::collections::HashSet::new();
            for chunk in hits.chunks(HITS_CHUNK) {
                let chunk: Vec<&str> = chunk.iter().map(|h| h.id.as_str()).collect();
                let kept: Vec<String> = seen_by(viewer)
                    .filter(demands::id.eq_any(chunk))
                    .select(demands::id)
                    .load(conn)?;
                allowed.extend(kept);
            }
            hits.into_iter()
                .filter(|h| allowed.contains(&h.id))
                .map(|h| h.id)
                .collect()
        }
    };
    let page: Vec<&String> = ids
        .iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let mut rows: Vec<DemandRow> = demands::table
        .filter(demands::id.eq_any(&page))
        .select(DemandRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| page.iter().position(|id| **id == r.id));
    Ok((rows, ids.len() as i64))
}

/// The provinces of the demands `viewer` may see, in order: what a list may be filtered by.
pub fn provinces(conn: &mut DbConn, viewer: Viewer<'_>) -> QueryResult<Vec<String>> {
    seen_by(viewer)
        .select(demands::province)
        .distinct()
        .order(demands::province.asc())
        .load(conn)
}

/// The most open demands the matching reads for one institute.
pub const MATCH_LIMIT: i64 = 500;

/// The open demands an institute may see (public or naming it), most recently changed first,
/// at most [`MATCH_LIMIT`].
pub fn open_for(conn: &mut DbConn, institute_id: &str) -> QueryResult<Vec<DemandRow>> {
    demands::table
        .filter(demands::status.eq("open"))
        .filter(
            demands::visibility.eq("public").or(demands::id.eq_any(
                demand_invitees::table
                    .filter(demand_invitees::institute_id.eq(institute_id.to_string()))
                    .select(demand_invitees::demand_id),
            )),
        )
        .order((demands::updated_at.desc(), demands::id.asc()))
        .limit(MATCH_LIMIT)
        .select(DemandRow::as_select())
        .load(conn)
}

/// The proposals made to a demand, oldest first: all of them, or `institute`'s only.
pub fn proposals(
    conn: &mut DbConn,
    demand_id: &str,
    institute: Option<&str>,
) -> QueryResult<Vec<Proposal>> {
    let mut query = demand_proposals::table
        .filter(demand_proposals::demand_id.eq(demand_id))
        .into_boxed();
    if let Some(i) = institute {
        query = query.filter(demand_proposals::institute_id.eq(i.to_string()));
    }
    query
        .order((
            demand_proposals::created_at.asc(),
            demand_proposals::id.asc(),
        ))
        .select(Proposal::as_select())
        .load(conn)
}

/// The demands `institute` has proposed a technology to, and which technologies.
pub fn proposed_by(conn: &mut DbConn, institute: &str) -> QueryResult<Vec<(String, String)>> {
    demand_proposals::table
        .filter(demand_proposals::institute_id.eq(institute))
        .select((demand_proposals::demand_id, demand_proposals::technology_id))
        .load(conn)
}

/// One proposal of a demand.
pub fn proposal(conn: &mut DbConn, demand_id: &str, id: &str) -> QueryResult<Option<Proposal>> {
    demand_proposals::table
        .find(id)
        .filter(demand_proposals::demand_id.eq(demand_id))
        .select(Proposal::as_select())
        .first(conn)
        .optional()
}

/// An institute proposes `technology_id` (one of its listed technologies, as app has
/// checked) to the open demand `demand`.
pub fn propose(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    demand: &DemandRow,
    institute_id: &str,
    input: &ProposalInput,
) -> Result<Proposal, AppError> {
    let mut e = Vec::new();
    let message = required_text(&mut e, "message", &input.message, 1000);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    if demand.status != "open" {
        return Err(AppError::InvalidTransition {
            detail: "this demand is closed: it takes no more proposals".into(),
            current_state: demand.status.clone(),
            current_version: demand.version,
        });
    }
    let already: i64 = demand_proposals::table
        .filter(demand_proposals::demand_id.eq(&demand.id))
        .filter(demand_proposals::technology_id.eq(&input.technology_id))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Err(AppError::Conflict(
            "this technology is already proposed to this demand".into(),
        ));
    }
    let created_by = who
        .user_id
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a proposal is made by a user")))?;
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(demand_proposals::table)
        .values((
            demand_proposals::id.eq(&id),
            demand_proposals::demand_id.eq(&demand.id),
            demand_proposals::institute_id.eq(institute_id),
            demand_proposals::technology_id.eq(&input.technology_id),
            demand_proposals::message.eq(&message),
            demand_proposals::status.eq("proposed"),
            demand_proposals::created_by.eq(created_by),
            demand_proposals::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        "demand.proposed",
        "demand",
        &demand.id,
        &serde_json::json!({"after": {"proposal_id": id, "technology_id": input.technology_id,
            "institute_id": institute_id}}),
    )?;
    proposal(conn, &demand.id, &id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("proposal {id} not read back")))
}

/// Records that a trial (`agreement_id`) was requested from `proposal`: one not yet
/// requested from, or one whose earlier request ended before its trial began.
pub fn mark_requested(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    proposal: &Proposal,
    agreement_id: &str,
) -> Result<(), AppError> {
    let changed = diesel::update(
        demand_proposals::table
            .find(&proposal.id)
            .filter(demand_proposals::status.eq_any(["proposed", "ended"])),
    )
    .set((
        demand_proposals::status.eq("requested"),
        demand_proposals::agreement_id.eq(agreement_id),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(AppError::Conflict(
            "a trial was already requested from this proposal".into(),
        ));
    }
    audit::append(
        conn,
        now,
        who,
        "demand.trial_requested",
        "demand",
        &proposal.demand_id,
        &serde_json::json!({"after": {"proposal_id": proposal.id, "agreement_id": agreement_id}}),
    )?;
    Ok(())
}

/// The trial requested from a demand's proposal (`agreement_id`) ended before it began, as
/// `outcome` (`rejected` or `withdrawn`): the proposal is `ended`, and the demand that its
/// request closed is open again, its version moved on and its facets with it. A demand no
/// longer closed by that request is left as it is. Inside the caller's transaction (the
/// agreement's own change); returns whether a demand was opened again.
pub fn trial_ended(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    agreement_id: &str,
    outcome: &str,
) -> Result<bool, AppError> {
    let closed: Option<DemandRow> = demands::table
        .filter(demands::agreement_id.eq(agreement_id))
        .filter(demands::status.eq("closed"))
        .filter(demands::closed_reason.eq("trial"))
        .select(DemandRow::as_select())
        .first(conn)
        .optional()?;
    let Some(current) = closed else {
        return Ok(false);
    };
    let proposals: Vec<String> = demand_proposals::table
        .filter(demand_proposals::demand_id.eq(&current.id))
        .filter(demand_proposals::agreement_id.eq(agreement_id))
        .filter(demand_proposals::status.eq("requested"))
        .select(demand_proposals::id)
        .load(conn)?;
    diesel::update(demand_proposals::table.filter(demand_proposals::id.eq_any(&proposals)))
        .set(demand_proposals::status.eq("ended"))
        .execute(conn)?;
    set_status(conn, now, &current, "open", None, None)?;
    audit::append(
        conn,
        now,
        who,
        "demand.reopened",
        "demand",
        &current.id,
        &serde_json::json!({
            "before": {"status": current.status, "reason": current.closed_reason,
                       "agreement_id": agreement_id, "version": current.version},
            "after": {"status": "open", "version": current.version + 1,
                      "ended_proposals": proposals, "trial_request": outcome}
        }),
    )?;
    Ok(true)
}
