//! What a signed-in user's home page shows: for an SME, its trials by state, the deadlines of
//! this month and what it owes; for an institute, the requests waiting for its decision, the
//! trials ending soon, the payments overdue and what came in this year. Every figure is summed
//! by the part that owns it (`agreements`, `contracts`), scoped to the user's organisation,
//! once per time zone its agreements are kept in, so "today" and "this month" are each
//! agreement's own days by the service's clock.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use chrono_tz::Tz;

use crate::agreements::model::{Agreement, Dated, ListFilter};
use crate::agreements::store::{self, DueDate};
use crate::app::payment_record::PaymentRecord;
use crate::auth::policy::agreement_scope;
use crate::auth::session::Actor;
use crate::contracts::dues;
use crate::contracts::model::{DueLine, Owed, OwedOn, Received};
use crate::db::DbConn;
use crate::error::AppError;
use crate::rules::lifecycle::Status;
use crate::rules::roles::Role;
use crate::AppState;

/// The newest trials an SME's home lists.
const LATEST: i64 = 5;
/// The requests an institute's home lists (the count covers them all).
const REQUESTS: i64 = 10;
/// How far ahead an institute's home looks for trials ending.
pub const ENDING_DAYS: i64 = 30;

/// A user's home: their organisation's name, and the figures of their role.
#[derive(Debug)]
pub struct Home {
    pub organisation: String,
    /// Today in the service's own time zone (the headings' month and year).
    pub today: NaiveDate,
    pub board: Board,
}

/// The figures of a home, by role.
#[derive(Debug)]
pub enum Board {
    Sme(SmeBoard),
    Institute(InstituteBoard),
    /// Insurers, administrators and auditors: no figures yet.
    Other,
}

/// An SME's home.
#[derive(Debug)]
pub struct SmeBoard {
    /// Agreements per status, in the lifecycle's order; statuses with none are left out.
    pub by_status: Vec<(Status, i64)>,
    pub total: i64,
    /// The newest trials.
    pub latest: Vec<Agreement>,
    /// This month's decision deadlines and payments due, soonest first.
    pub deadlines: Vec<Deadline>,
    /// What is owed, per currency.
    pub owed: Vec<Owed>,
    /// What is owed, per agreement.
    pub owed_on: Vec<OwedOn>,
    /// Its payment record, as the institutes it asks for a trial see it.
    pub record: PaymentRecord,
}

/// A day this month by which something must be done.
#[derive(Debug, Clone)]
pub enum Deadline {
    /// The SME decides (convert or decline) by this day.
    Decision(Dated),
    /// A payment is due on this day.
    Payment(DueLine),
}

impl Deadline {
    pub fn day(&self) -> NaiveDate {
        match self {
            Deadline::Decision(d) => d.date,
            Deadline::Payment(l) => l.due,
        }
    }
}

/// An institute's home.
#[derive(Debug)]
pub struct InstituteBoard {
    /// Requests waiting for a decision: how many, and the newest of them.
    pub requested: i64,
    pub requests: Vec<Agreement>,
    /// Trials (signed or running) ending in the next [`ENDING_DAYS`] days, soonest first.
    pub ending: Vec<Dated>,
    /// Agreements with a payment overdue, longest overdue first, with the days it is late.
    pub overdue: Vec<(OwedOn, i64)>,
    /// Payments received this calendar year, per currency.
    pub revenue: Vec<Received>,
    /// Contracts to register whose deadline is within [`ENDING_DAYS`] days or passed, soonest
    /// first, with the days left (negative: late).
    pub registrations: Vec<(crate::contracts::model::RegistrationOpen, i64)>,
}

/// The home of `actor`.
pub fn home(state: &AppState, actor: &Actor) -> Result<Home, AppError> {
    let organisation =
        crate::app::accounts::organisation(state, actor, &actor.organisation_id)?.name;
    let today = state.clock.today(state.tz);
    let mut conn = state.db.reader()?;
    let board = match actor.role {
        Role::Sme => Board::Sme(sme(state, &mut conn, actor)?),
        Role::Institute => Board::Institute(institute(state, &mut conn, actor)?),
        Role::Insurer | Role::Admin | Role::Auditor => Board::Other,
    };
    Ok(Home {
        organisation,
        today,
        board,
    })
}

/// Each time zone the actor's agreements are kept in, with today there.
fn zones(
    state: &AppState,
    conn: &mut DbConn,
    actor: &Actor,
) -> Result<Vec<(String, NaiveDate)>, AppError> {
    Ok(store::zones(conn, actor)?
        .into_iter()
        .map(|zone| {
            let tz: Tz = zone.parse().unwrap_or(state.tz);
            let today = state.clock.today(tz);
            (zone, today)
        })
        .collect())
}

/// The first and last day of `day`'s month.
fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (first, next.pred_opt().unwrap_or(first))
}

/// Sums per-zone per-currency figures into one per currency.
fn merge_owed(all: Vec<Owed>) -> Vec<Owed> {
    let mut by: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for o in all {
        let e = by.entry(o.currency).or_default();
        e.0 = e.0.saturating_add(o.outstanding_minor);
        e.1 = e.1.saturating_add(o.overdue_minor);
    }
    by.into_iter()
        .map(|(currency, (outstanding_minor, overdue_minor))| Owed {
            currency,
            outstanding_minor,
            overdue_minor,
        })
        .collect()
}

fn sme(state: &AppState, conn: &mut DbConn, actor: &Actor) -> Result<SmeBoard, AppError> {
    let counts = store::count_by_status(conn, &agreement_scope(actor))?;
    let by_status: Vec<(Status, i64)> = Status::ALL
        .into_iter()
        .filter_map(|s| {
            counts
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map(|(_, n)| (s, *n))
        })
        .collect();
    let total = by_status.iter().map(|(_, n)| n).sum();
    let (latest, _) = store::list(conn, actor, &ListFilter::default(), LATEST, 0)?;
    let latest = latest
        .into_iter()
        .map(|r| Agreement::from_row(r, Some(actor)))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = agreement_scope(actor);
    let (mut deadlines, mut owed, mut owed_on) = (Vec::new(), Vec::new(), Vec::new());
    for (zone, today) in zones(state, conn, actor)? {
        let (first, last) = month_of(today);
        let pending = [Status::Signed, Status::Active, Status::AwaitingDecision];
        for d in store::dated_between(
            conn,
            actor,
            &zone,
            &pending,
            DueDate::DecisionDeadline,
            first,
            last,
        )? {
            deadlines.push(Deadline::Decision(d));
        }
        for l in dues::due_between(conn, &scope, &zone, first, last)? {
            deadlines.push(Deadline::Payment(l));
        }
        owed.extend(dues::owed(conn, &scope, &zone, today)?);
        owed_on.extend(dues::owed_on(conn, &scope, &zone, today, false)?);
    }
    deadlines.sort_by_key(Deadline::day);
    owed_on.sort_by(|a, b| a.number.cmp(&b.number));
    let record = crate::app::payment_record::tally(state, conn, &actor.organisation_id, &counts)?;
    Ok(SmeBoard {
        by_status,
        total,
        latest,
        deadlines,
        owed: merge_owed(owed),
        owed_on,
        record,
    })
}

fn institute(
    state: &AppState,
    conn: &mut DbConn,
    actor: &Actor,
) -> Result<InstituteBoard, AppError> {
    let waiting = ListFilter {
        status: Some(Status::Requested),
        ..ListFilter::default()
    };
    let (requests, requested) = store::list(conn, actor, &waiting, REQUESTS, 0)?;
    let requests = requests
        .into_iter()
        .map(|r| Agreement::from_row(r, Some(actor)))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = agreement_scope(actor);
    let (mut ending, mut overdue, mut revenue) = (Vec::new(), Vec::new(), Vec::new());
    let mut registrations = Vec::new();
    for (zone, today) in zones(state, conn, actor)? {
        for r in crate::contracts::registration::open_until(
            conn,
            &scope,
            &zone,
            today + Duration::days(ENDING_DAYS),
        )? {
            let left = (r.deadline - today).num_days();
            registrations.push((r, left));
        }
        ending.extend(store::dated_between(
            conn,
            actor,
            &zone,
            &[Status::Signed, Status::Active],
            DueDate::TrialEnd,
            today,
            today + Duration::days(ENDING_DAYS),
        )?);
        for o in dues::owed_on(conn, &scope, &zone, today, true)? {
            let late = o.oldest_overdue.map_or(0, |d| (today - d).num_days());
            overdue.push((o, late));
        }
        let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        let year_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
        revenue.extend(dues::received_between(
            conn, &scope, &zone, year_start, year_end,
        )?);
    }
    ending.sort_by(|a, b| a.date.cmp(&b.date).then(a.number.cmp(&b.number)));
    registrations.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.number.cmp(&b.0.number)));
    overdue.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.number.cmp(&b.0.number)));
    let mut by: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in revenue {
        let e = by.entry(r.currency).or_default();
        e.0 = e.0.saturating_add(r.amount_minor);
        e.1 += r.payments;
    }
    let revenue = by
        .into_iter()
        .map(|(currency, (amount_minor, payments))| Received {
            currency,
            amount_minor,
            payments,
        })
        .collect();
    Ok(InstituteBoard {
        requested,
        requests,
        ending,
        overdue,
        revenue,
        registrations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(month_of(d(2026, 2, 14)), (d(2026, 2, 1), d(2026, 2, 28)));
        assert_eq!(month_of(d(2028, 2, 29)), (d(2028, 2, 1), d(2028, 2, 29)));
        assert_eq!(month_of(d(2026, 12, 31)), (d(2026, 12, 1), d(2026, 12, 31)));
    }

    #[test]
    fn figures_of_several_zones_add_up_per_currency() {
        let o = |c: &str, out, over| Owed {
            currency: c.into(),
            outstanding_minor: out,
            overdue_minor: over,
        };
        assert_eq!(
            merge_owed(vec![o("VND", 10, 5), o("USD", 7, 0), o("VND", 1, 1)]),
            vec![o("USD", 7, 0), o("VND", 11, 6)]
        );
    }
}
