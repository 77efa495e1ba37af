//! Screening before listing, as stored: one `technology_screenings` row per submission, the
//! reviewer's decision written onto it, and the technology's status and version moved with it
//! in the same transaction. A technology in screening or returned is stored as a draft; its
//! stage is read from its latest screening. `rules::screening` decides every move; this only
//! keeps them. Decided rows are never changed again: they are the technology's history.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::{self, Who};
use crate::db::schema::{technologies, technology_screenings as ts};
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::screening::{self, Check, Checklist, Latest, Listing, Refusal, Step};

use super::model::{Screening, ScreeningDecision, TechnologyInput, TechnologyRow};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = ts)]
struct Row {
    id: String,
    technology_id: String,
    technology_version: i64,
    submitted_by: String,
    submitted_at: NaiveDateTime,
    outcome: Option<String>,
    trl: Option<i32>,
    rights_clear: Option<bool>,
    rights_clear_note: Option<String>,
    inventors_agree: Option<bool>,
    inventors_agree_note: Option<String>,
    valuation_basis: Option<bool>,
    valuation_basis_note: Option<String>,
    notes: Option<String>,
    reason: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
}

impl From<Row> for Screening {
    fn from(r: Row) -> Screening {
        let check = |ok: Option<bool>, note: Option<String>| ok.map(|ok| Check { ok, note });
        let checklist = match (
            check(r.rights_clear, r.rights_clear_note),
            check(r.inventors_agree, r.inventors_agree_note),
            check(r.valuation_basis, r.valuation_basis_note),
        ) {
            (Some(rights_clear), Some(inventors_agree), Some(valuation_basis)) => Some(Checklist {
                rights_clear,
                inventors_agree,
                valuation_basis,
            }),
            _ => None,
        };
        Screening {
            id: r.id,
            technology_id: r.technology_id,
            technology_version: r.technology_version,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
            outcome: r.outcome,
            trl: r.trl,
            checklist,
            notes: r.notes,
            reason: r.reason,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
        }
    }
}

/// The refusal of a screening rule as the answer it becomes.
fn refused(refusal: Refusal, row: &TechnologyRow) -> AppError {
    match refusal {
        Refusal::WrongState(detail) => AppError::InvalidTransition {
            detail,
            current_state: row.status.clone(),
            current_version: row.version,
        },
        Refusal::NotSettable(detail) => AppError::field("status", detail),
    }
}

/// Where the latest screening of each of `ids` stands (those with none are absent).
pub fn latest_of(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Latest>, AppError> {
    let rows: Vec<(String, Option<String>)> = ts::table
        .filter(ts::technology_id.eq_any(ids))
        .order((
            ts::technology_id.asc(),
            ts::submitted_at.desc(),
            ts::id.desc(),
        ))
        .select((ts::technology_id, ts::outcome))
        .load(conn)?;
    let mut latest = std::collections::HashMap::new();
    for (id, outcome) in rows {
        latest.entry(id).or_insert(match outcome.as_deref() {
            None => Latest::Open,
            Some("listed") => Latest::Listed,
            Some(_) => Latest::Returned,
        });
    }
    Ok(latest)
}

/// The stage of each of `rows`, by id.
pub fn stages_of(
    conn: &mut DbConn,
    rows: &[TechnologyRow],
) -> Result<std::collections::HashMap<String, Listing>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let latest = latest_of(conn, &ids)?;
    rows.iter()
        .map(|r| {
            let stage =
                screening::stage(&r.status, latest.get(&r.id).copied()).ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!(
                        "technology {} has an unknown status {}",
                        r.id,
                        r.status
                    ))
                })?;
            Ok((r.id.clone(), stage))
        })
        .collect()
}

/// The stage of one technology.
pub fn stage_of(conn: &mut DbConn, row: &TechnologyRow) -> Result<Listing, AppError> {
    stages_of(conn, std::slice::from_ref(row))?
        .remove(&row.id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no stage for {}", row.id)))
}

/// Whether its institute may save `input` over `current` (None: a new one).
pub fn check_edit(
    conn: &mut DbConn,
    current: Option<&TechnologyRow>,
    input: &TechnologyInput,
) -> Result<(), AppError> {
    let wanted = input.status.as_deref().unwrap_or("draft");
    let Some(wanted) = Listing::parse(wanted).filter(|w| w.stored() == w.as_str()) else {
        // The description's own check names a status that cannot be stored.
        return Ok(());
    };
    let now = current.map(|row| stage_of(conn, row)).transpose()?;
    let changing = current.is_some_and(|row| super::changes_description(row, input));
    screening::may_edit(now, wanted, changing).map_err(|r| match (r, current) {
        (r, Some(row)) => refused(r, row),
        (Refusal::WrongState(d) | Refusal::NotSettable(d), None) => AppError::field("status", d),
    })
}

/// Moves `row` to `to` if still at `expected`, answering 412 otherwise; the new version.
fn set_status(
    conn: &mut DbConn,
    now: NaiveDateTime,
    row: &TechnologyRow,
    expected: i64,
    to: Listing,
) -> Result<i64, AppError> {
    let stale = |current| AppError::PreconditionFailed {
        expected: expected.to_string(),
        current,
    };
    if row.version != expected {
        return Err(stale(row.version));
    }
    let changed = diesel::update(
        technologies::table
            .find(&row.id)
            .filter(technologies::version.eq(expected)),
    )
    .set((
        technologies::status.eq(to.stored()),
        technologies::version.eq(expected + 1),
        technologies::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(stale(super::get(conn, &row.id)?.version));
    }
    // Searches filter by status: the index's facets follow it.
    crate::search::set_facets(
        conn,
        crate::search::Kind::Technology,
        &row.id,
        &super::index_facets(to.stored(), &row.institute_id, &row.field, &row.ip_type),
    )?;
    Ok(expected + 1)
}

/// Its institute submits `row` (at version `expected`) for screening.
pub fn submit(
    conn: &mut DbConn,
    now: DateTime<chrono::Utc>,
    who: Who<'_>,
    row: &TechnologyRow,
    expected: i64,
) -> Result<Screening, AppError> {
    let to = screening::next(stage_of(conn, row)?, Step::Submit).map_err(|r| refused(r, row))?;
    let submitted_by = who
        .user_id
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a screening is asked by a user")))?;
    let version = set_status(conn, now.naive_utc(), row, expected, to)?;
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(ts::table)
        .values((
            ts::id.eq(&id),
            ts::technology_id.eq(&row.id),
            ts::technology_version.eq(version),
            ts::submitted_by.eq(submitted_by),
            ts::submitted_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        "technology.screening_submitted",
        "technology",
        &row.id,
        &serde_json::json!({
            "screening_id": id,
            "before": {"status": row.status, "version": row.version},
            "after": {"status": to.as_str(), "version": version}
        }),
    )?;
    one(conn, &id)
}

/// The reviewer decides the open screening of `row` (at version `expected`): lists it or
/// returns it, with the findings.
pub fn decide(
    conn: &mut DbConn,
    now: DateTime<chrono::Utc>,
    who: Who<'_>,
    row: &TechnologyRow,
    expected: i64,
    decision: &ScreeningDecision,
) -> Result<Screening, AppError> {
    let step = match decision.outcome.as_str() {
        "list" => Step::List,
        "return" => Step::Return,
        _ => return Err(AppError::field("outcome", "must be list or return")),
    };
    let to = screening::next(stage_of(conn, row)?, step).map_err(|r| refused(r, row))?;
    let faults = screening::check_decision(
        step,
        decision.trl,
        &decision.checklist,
        &decision.notes,
        &decision.reason,
    );
    if !faults.is_empty() {
        return Err(AppError::Validation(faults));
    }
    let decided_by = who
        .user_id
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a screening is decided by a user")))?;
    let open: Option<String> = ts::table
        .filter(ts::technology_id.eq(&row.id))
        .filter(ts::decided_at.is_null())
        .order(ts::submitted_at.desc())
        .select(ts::id)
        .first(conn)
        .optional()?;
    let open = open.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "technology {} is in screening with no open screening",
            row.id
        ))
    })?;
    let version = set_status(conn, now.naive_utc(), row, expected, to)?;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let note = |c: &Check| c.note.as_deref().and_then(text);
    let c = &decision.checklist;
    let trl = decision.trl.and_then(|t| i32::try_from(t).ok());
    diesel::update(ts::table.find(&open))
        .set((
            ts::outcome.eq(to.as_str()),
            ts::trl.eq(trl),
            ts::rights_clear.eq(c.rights_clear.ok),
            ts::rights_clear_note.eq(note(&c.rights_clear)),
            ts::inventors_agree.eq(c.inventors_agree.ok),
            ts::inventors_agree_note.eq(note(&c.inventors_agree)),
            ts::valuation_basis.eq(c.valuation_basis.ok),
            ts::valuation_basis_note.eq(note(&c.valuation_basis)),
            ts::notes.eq(text(&decision.notes)),
            ts::reason.eq(text(&decision.reason)),
            ts::decided_by.eq(decided_by),
            ts::decided_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let kind = match step {
        Step::List => "technology.screening_listed",
        _ => "technology.screening_returned",
    };
    audit::append(
        conn,
        now,
        who,
        kind,
        "technology",
        &row.id,
        &serde_json::json!({
            "screening_id": open,
            "trl": trl,
            "checklist": c,
            "reason": text(&decision.reason),
            "before": {"status": row.status, "version": row.version},
            "after": {"status": to.as_str(), "version": version}
        }),
    )?;
    one(conn, &open)
}

fn one(conn: &mut DbConn, id: &str) -> Result<Screening, AppError> {
    Ok(ts::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .into())
}

/// Every screening of a technology, newest first.
pub fn history(conn: &mut DbConn, technology_id: &str) -> Result<Vec<Screening>, AppError> {
    let rows: Vec<Row> = ts::table
        .filter(ts::technology_id.eq(technology_id))
        .order((ts::submitted_at.desc(), ts::id.desc()))
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Screening::from).collect())
}

/// The readiness level the screening that last listed the technology recorded.
pub fn listed_trl(conn: &mut DbConn, technology_id: &str) -> Result<Option<i32>, AppError> {
    let trl: Option<Option<i32>> = ts::table
        .filter(ts::technology_id.eq(technology_id))
        .filter(ts::outcome.eq(Listing::Listed.as_str()))
        .order(ts::decided_at.desc())
        .select(ts::trl)
        .first(conn)
        .optional()?;
    Ok(trl.flatten())
}

/// The technologies waiting for a reviewer, with their open screening, longest waiting first.
pub fn queue(conn: &mut DbConn) -> Result<Vec<(TechnologyRow, Screening)>, AppError> {
    let rows: Vec<(TechnologyRow, Row)> = ts::table
        .inner_join(technologies::table)
        .filter(ts::decided_at.is_null())
        .filter(technologies::status.eq(Listing::InScreening.stored()))
        .order((ts::submitted_at.asc(), ts::id.asc()))
        .select((TechnologyRow::as_select(), Row::as_select()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(t, s)| (t, s.into())).collect())
}
