//! Agreements in the database: read, list, insert a request, and the steps of a transition
//! (load for an action → the lifecycle decides → [`apply`] → [`record`] the audit event). What
//! a transition does in the other parts is `app::agreements`; this file touches only the
//! `agreements` table and the audit chain.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::milestones::milestones;
use super::model::{scope_condition, AgreementRow, Dated, ListFilter, NewRequest};
use crate::audit::{self, Who};
use crate::auth::policy::{agreement_scope, sees, AgreementScope};
use crate::auth::session::Actor;
use crate::db::schema::agreements;
use crate::db::{raw_query, DbConn, Param};
use crate::error::AppError;
use crate::rules::lifecycle::{Action, Facts, Refusal, Status};
use crate::rules::roles::Role;
use crate::settlement::terms::Terms;

/// One agreement row.
pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<AgreementRow> {
    // On the concrete connection, so the prepared statement is cached (the hottest read).
    crate::on_backend!(conn, |c| agreements::table
        .find(id)
        .select(AgreementRow::as_select())
        .first(c))
}

/// One agreement the actor may see; anything else is 404.
pub fn get_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<AgreementRow, AppError> {
    let row = get(conn, id).optional()?.ok_or(AppError::NotFound)?;
    if sees(actor, row.on()) {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// The id of the agreement numbered `number`, if there is one.
pub fn id_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Option<String>> {
    agreements::table
        .filter(agreements::number.eq(number))
        .select(agreements::id)
        .first(conn)
        .optional()
}

/// The numbers of the agreements `ids`, as (id, number), in one query.
pub fn numbers_by_id(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    agreements::table
        .filter(agreements::id.eq_any(ids))
        .select((agreements::id, agreements::number))
        .load(conn)
}

/// The next agreement number for `year`: PREFIX-YEAR-NNNNNN, gap-free per year.
pub fn next_number(conn: &mut DbConn, prefix: &str, year: i32) -> QueryResult<String> {
    let value = bump_counter(conn, &format!("agreement-{year}"))?;
    Ok(format!("{prefix}-{year}-{value:06}"))
}

/// Adds one to counter `name` (created at 0 on first use, once even if two writers race) and
/// returns its new value; inside the caller's transaction, so numbers are gap-free.
/// `name` must be built from fixed text and integers (it is inlined in the creating SQL).
pub fn bump_counter(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    use crate::db::schema::counters;
    debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let bump = |conn: &mut DbConn| {
        crate::on_backend!(conn, |c| diesel::update(counters::table.find(name))
            .set(counters::value.eq(counters::value + 1))
            .execute(c))
    };
    if bump(conn)? == 0 {
        diesel::sql_query(format!(
            "INSERT INTO counters (name, value) VALUES ('{name}', 0) ON CONFLICT (name) DO NOTHING"
        ))
        .execute(conn)?;
        bump(conn)?;
    }
    crate::on_backend!(conn, |c| counters::table
        .find(name)
        .select(counters::value)
        .first(c))
}

/// The technology and terms a request is made on, as the catalogue gives them.
pub struct Offer<'a> {
    pub technology_id: &'a str,
    pub institute_id: &'a str,
    pub terms_id: &'a str,
    pub terms_version: i32,
}

/// Stores a trial request by the actor's SME on `offer`, with its audit event.
pub fn insert_request(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    tz: Tz,
    prefix: &str,
    actor: &Actor,
    offer: &Offer<'_>,
    req: NewRequest<'_>,
) -> Result<AgreementRow, AppError> {
    let today = now.with_timezone(&tz).date_naive();
    if req.requested_start < today {
        return Err(AppError::field(
            "requested_start",
            format!("must not be before today ({today})"),
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_number(conn, prefix, today.year())?;
    crate::on_backend!(conn, |c| diesel::insert_into(agreements::table)
        .values((
            agreements::id.eq(&id),
            agreements::number.eq(&number),
            agreements::technology_id.eq(offer.technology_id),
            agreements::institute_id.eq(offer.institute_id),
            agreements::sme_id.eq(&actor.organisation_id),
            agreements::status.eq(Status::Requested.as_str()),
            agreements::version.eq(1i64),
            agreements::terms_id.eq(offer.terms_id),
            agreements::terms_version.eq(offer.terms_version),
            agreements::place_of_use.eq(&req.place_of_use),
            agreements::message.eq(&req.message),
            agreements::time_zone.eq(tz.name()),
            agreements::requested_start.eq(req.requested_start),
            agreements::extended.eq(false),
            agreements::requested_by.eq(&actor.user_id),
            agreements::created_at.eq(now.naive_utc()),
            agreements::updated_at.eq(now.naive_utc()),
        ))
        .execute(c))?;
    let who = Who::from(actor);
    audit::append(
        conn,
        now,
        who,
        "agreement.requested",
        "agreement",
        &id,
        &serde_json::json!({
            "after": {"status": "requested", "number": number, "technology_id": offer.technology_id, "sme_id": actor.organisation_id,
                      "institute_id": offer.institute_id, "terms_version": offer.terms_version, "requested_start": req.requested_start}
        }),
    )?;
    Ok(get(conn, &id)?)
}

/// The refusal of the state machine as the API answers it.
pub fn refusal(r: Refusal, row: &AgreementRow) -> AppError {
    match r {
        Refusal::NotPermitted { .. } => AppError::Forbidden(r.to_string()),
        Refusal::WrongState { .. } | Refusal::NotNow { .. } => AppError::InvalidTransition {
            detail: r.to_string(),
            current_state: row.status.clone(),
            current_version: row.version,
        },
        Refusal::Invalid { field, reason } => AppError::field(field, reason),
    }
}

/// Agreement `id` for `action` by `actor` (the scheduler when `None`), if it is still at
/// `expected_version`: 404 when the actor may not see it, 412 when it moved on, 403 when the
/// actor is not on the side that takes the action (admins act as the operator).
pub fn for_action(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    id: &str,
    expected_version: Option<i64>,
    action: Action,
) -> Result<AgreementRow, AppError> {
    let row = match actor {
        Some(a) => get_visible(conn, a, id)?,
        None => get(conn, id)?,
    };
    if let Some(expected) = expected_version {
        if expected != row.version {
            return Err(AppError::PreconditionFailed {
                expected: expected.to_string(),
                current: row.version,
            });
        }
    }
    if let Some(a) = actor {
        let own_side = match a.role {
            Role::Sme => row.sme_id == a.organisation_id,
            Role::Institute => row.institute_id == a.organisation_id,
            _ => true,
        };
        if !own_side {
            return Err(AppError::Forbidden(format!(
                "a {} may not {} this agreement",
                a.role.as_str(),
                action.as_str()
            )));
        }
    }
    Ok(row)
}

/// What a transition writes besides the state the lifecycle decided.
pub struct Change {
    pub insurer_id: Option<String>,
    /// The terms fixed at approval: their id, version and JSON.
    pub snapshot: Option<(String, i32, String)>,
    pub reason: Option<String>,
}

/// The terms an agreement holds after a transition.
pub struct Fixed {
    pub terms_version: i32,
    pub terms_snapshot: Option<String>,
}

/// Writes `next` (the lifecycle's answer to `action`) over `row`, if `row` is still at its
/// version: the state and dates, signatures stamped now, the reason of a final state, the
/// insurer and terms, the milestones. 412 when another writer moved it meanwhile.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &AgreementRow,
    action: Action,
    next: &Facts,
    change: Change,
    today: NaiveDate,
) -> Result<Fixed, AppError> {
    let facts = row.facts()?;
    let stamp = now.naive_utc();
    let sme_signed_at = if next.sme_signed && !facts.sme_signed {
        Some(stamp)
    } else {
        row.sme_signed_at
    };
    let institute_signed_at = if next.institute_signed && !facts.institute_signed {
        Some(stamp)
    } else {
        row.institute_signed_at
    };
    let closed_reason = if next.status.is_final() {
        change.reason.or(row.closed_reason.clone())
    } else {
        row.closed_reason.clone()
    };
    let m = milestones(row, action, next.status, stamp, today);
    let (terms_id, terms_version, terms_snapshot) = match change.snapshot {
        Some((tid, tv, body)) => (tid, tv, Some(body)),
        None => (
            row.terms_id.clone(),
            row.terms_version,
            row.terms_snapshot.clone(),
        ),
    };
    let updated = diesel::update(
        agreements::table
            .find(&row.id)
            .filter(agreements::version.eq(row.version)),
    )
    .set((
        agreements::status.eq(next.status.as_str()),
        agreements::version.eq(row.version + 1),
        agreements::trial_start.eq(next.trial_start),
        agreements::trial_end.eq(next.trial_end),
        agreements::decision_deadline.eq(next.decision_deadline),
        agreements::extended.eq(next.extended),
        agreements::sme_signed_at.eq(sme_signed_at),
        agreements::institute_signed_at.eq(institute_signed_at),
        agreements::closed_reason.eq(&closed_reason),
        agreements::insurer_id.eq(&change.insurer_id),
        agreements::terms_id.eq(&terms_id),
        agreements::terms_version.eq(terms_version),
        agreements::terms_snapshot.eq(&terms_snapshot),
        agreements::updated_at.eq(stamp),
        (
            agreements::approved_at.eq(m.approved_at),
            agreements::started_on.eq(m.started_on),
            agreements::trial_ended_on.eq(m.trial_ended_on),
            agreements::closed_at.eq(m.closed_at),
            agreements::decision_days.eq(m.decision_days),
        ),
    ))
    .execute(conn)?;
    if updated == 0 {
        // Someone else moved it between our read and write (PostgreSQL, concurrent writers).
        return Err(moved_on(conn, row));
    }
    Ok(Fixed {
        terms_version,
        terms_snapshot,
    })
}

/// The 412 for an update of `row` that found it at another version: someone else moved it
/// between the read and the write (or the error that kept it from reading where it is now).
fn moved_on(conn: &mut DbConn, row: &AgreementRow) -> AppError {
    match get(conn, &row.id) {
        Ok(now) => AppError::PreconditionFailed {
            expected: row.version.to_string(),
            current: now.version,
        },
        Err(e) => e.into(),
    }
}

/// The audit event of `action` on `row`: where it stood before, and `after`.
pub fn record(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    action: Action,
    row: &AgreementRow,
    after: serde_json::Value,
) -> Result<(), AppError> {
    audit::append(
        conn,
        now,
        who,
        &format!("agreement.{}", action.as_str()),
        "agreement",
        &row.id,
        &serde_json::json!({
            "before": {"status": row.status, "version": row.version},
            "after": after,
        }),
    )?;
    Ok(())
}

/// Whether the agreement's fixed terms require insurance.
pub fn insurance_required(row: &AgreementRow) -> Result<bool, AppError> {
    Ok(fixed_terms(row)?.is_some_and(|t| t.insurance_required))
}

/// The terms fixed at approval, decoded; none before approval.
pub fn fixed_terms(row: &AgreementRow) -> Result<Option<Terms>, AppError> {
    decode_terms(&row.id, row.terms_snapshot.as_deref())
}

/// Agreement `id`'s stored terms snapshot, decoded.
pub fn decode_terms(id: &str, snapshot: Option<&str>) -> Result<Option<Terms>, AppError> {
    snapshot.map(serde_json::from_str).transpose().map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "agreement {id} terms snapshot unreadable: {e}"
        ))
    })
}

/// Moves `row` (read in this transaction) to its next version, for a change its documents
/// print that is recorded by another part (a contract's registration certificate); the
/// agreement as it now stands.
pub fn new_edition(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &AgreementRow,
) -> Result<AgreementRow, AppError> {
    let updated = diesel::update(
        agreements::table
            .find(&row.id)
            .filter(agreements::version.eq(row.version)),
    )
    .set((
        agreements::version.eq(row.version + 1),
        agreements::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(moved_on(conn, row));
    }
    Ok(get(conn, &row.id)?)
}

/// Sets the insurer a party chose for an approved agreement, if `row` is still at its version.
pub fn set_insurer(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: &AgreementRow,
    insurer_id: &str,
) -> Result<(), AppError> {
    let updated = diesel::update(
        agreements::table
            .find(&row.id)
            .filter(agreements::version.eq(row.version)),
    )
    .set((
        agreements::version.eq(row.version + 1),
        agreements::insurer_id.eq(insurer_id),
        agreements::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(moved_on(conn, row));
    }
    Ok(())
}

/// A page of the agreements the actor may see, newest first, and the total.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<AgreementRow>, i64)> {
    let scope = agreement_scope(actor);
    let filtered = || {
        let mut q = agreements::table.into_boxed();
        q = match &scope {
            AgreementScope::All => q,
            AgreementScope::Sme(org) => q.filter(agreements::sme_id.eq(org.clone())),
            AgreementScope::Institute(org) => q.filter(agreements::institute_id.eq(org.clone())),
            AgreementScope::Insurer(org) => q.filter(agreements::insurer_id.eq(org.clone())),
        };
        if let Some(s) = filter.status {
            q = q.filter(agreements::status.eq(s.as_str()));
        }
        if let Some(t) = &filter.technology_id {
            q = q.filter(agreements::technology_id.eq(t.clone()));
        }
        if let Some(s) = &filter.sme_id {
            q = q.filter(agreements::sme_id.eq(s.clone()));
        }
        if let Some(i) = &filter.institute_id {
            q = q.filter(agreements::institute_id.eq(i.clone()));
        }
        // What waits for each side's step (`ListFilter::waiting_on`).
        let approved = || agreements::status.eq(Status::Approved.as_str());
        q = match filter.waiting_on {
            None => q,
            Some(Role::Institute) => q.filter(
                agreements::status
                    .eq(Status::Requested.as_str())
                    .or(approved().and(agreements::institute_signed_at.is_null())),
            ),
            Some(Role::Sme) => q.filter(
                agreements::status
                    .eq(Status::AwaitingDecision.as_str())
                    .or(approved().and(agreements::sme_signed_at.is_null())),
            ),
            Some(_) => q.filter(agreements::id.ne(agreements::id)),
        };
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((agreements::created_at.desc(), agreements::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(AgreementRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The agreements that may have a time-driven transition due at `now` (the state machine
/// decides exactly which, in each agreement's zone).
pub fn due_ids(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<Vec<String>> {
    // Dates are local to each agreement's zone; no zone is more than 14 h ahead of UTC, so
    // this bound finds every candidate.
    let latest_today = (now + chrono::Duration::hours(14)).date_naive();
    agreements::table
        .filter(
            agreements::status
                .eq(Status::Signed.as_str())
                .and(agreements::trial_start.le(latest_today))
                .or(agreements::status
                    .eq(Status::Active.as_str())
                    .and(agreements::trial_end.lt(latest_today)))
                .or(agreements::status
                    .eq(Status::AwaitingDecision.as_str())
                    .and(agreements::decision_deadline.lt(latest_today))),
        )
        .select(agreements::id)
        .load(conn)
}

/// Which of an agreement's dates a reminder is about.
#[derive(Debug, Clone, Copy)]
pub enum DueDate {
    TrialEnd,
    DecisionDeadline,
}

/// The agreements in `status` whose `date` falls between `from` and `to` (inclusive).
pub fn in_state_due_between(
    conn: &mut DbConn,
    status: Status,
    date: DueDate,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<AgreementRow>> {
    let q = agreements::table
        .filter(agreements::status.eq(status.as_str()))
        .select(AgreementRow::as_select());
    match date {
        DueDate::TrialEnd => q.filter(agreements::trial_end.between(from, to)).load(conn),
        DueDate::DecisionDeadline => q
            .filter(agreements::decision_deadline.between(from, to))
            .load(conn),
    }
}

/// A count of agreements in one status.
#[derive(Debug, QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many of the agreements in `scope` are in each status (one grouped count); statuses
/// with none are left out.
pub fn count_by_status(
    conn: &mut DbConn,
    scope: &AgreementScope,
) -> QueryResult<Vec<(String, i64)>> {
    let (scope, params) = scope_condition(scope);
    let sql = format!(
        "SELECT a.status AS status, COUNT(*) AS n FROM agreements a WHERE {scope} \
         GROUP BY a.status"
    );
    let rows: Vec<StatusCount> = raw_query(conn, &sql, &params)?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

/// One technology's number of agreements.
#[derive(Debug, QueryableByName)]
struct TechnologyCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    technology_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many of the agreements the actor may see name each technology (one grouped count);
/// technologies with none are left out.
pub fn count_by_technology(
    conn: &mut DbConn,
    actor: &Actor,
) -> QueryResult<std::collections::HashMap<String, i64>> {
    let (scope, params) = scope_condition(&agreement_scope(actor));
    let sql = format!(
        "SELECT a.technology_id AS technology_id, COUNT(*) AS n FROM agreements a \
         WHERE {scope} GROUP BY a.technology_id"
    );
    let rows: Vec<TechnologyCount> = raw_query(conn, &sql, &params)?;
    Ok(rows.into_iter().map(|r| (r.technology_id, r.n)).collect())
}

/// A time zone agreements are kept in.
#[derive(Debug, QueryableByName)]
struct Zone {
    #[diesel(sql_type = diesel::sql_types::Text)]
    time_zone: String,
}

/// The time zones of the agreements the actor may see (their calendar dates are days there),
/// so that "today" and "this month" can be each agreement's own.
pub fn zones(conn: &mut DbConn, actor: &Actor) -> QueryResult<Vec<String>> {
    let (scope, params) = scope_condition(&agreement_scope(actor));
    let sql = format!("SELECT DISTINCT a.time_zone AS time_zone FROM agreements a WHERE {scope}");
    let rows: Vec<Zone> = raw_query(conn, &sql, &params)?;
    Ok(rows.into_iter().map(|z| z.time_zone).collect())
}

/// The agreements the actor may see, kept in time zone `zone` and in one of `statuses`, whose
/// `date` falls between `from` and `to` (inclusive, days in that zone), soonest first.
pub fn dated_between(
    conn: &mut DbConn,
    actor: &Actor,
    zone: &str,
    statuses: &[Status],
    date: DueDate,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Dated>> {
    if statuses.is_empty() {
        return Ok(Vec::new());
    }
    let column = match date {
        DueDate::TrialEnd => "trial_end",
        DueDate::DecisionDeadline => "decision_deadline",
    };
    // The statuses are the lifecycle's own names, never user text.
    let among = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let (scope, mut params) = scope_condition(&agreement_scope(actor));
    params.extend([
        Param::Text(zone.to_string()),
        Param::Date(from),
        Param::Date(to),
    ]);
    let sql = format!(
        "SELECT a.id AS id, a.number AS number, a.status AS status, a.{column} AS date \
         FROM agreements a WHERE {scope} AND a.time_zone = ? AND a.status IN ({among}) \
         AND a.{column} >= ? AND a.{column} <= ? ORDER BY a.{column}, a.number"
    );
    raw_query(conn, &sql, &params)
}
