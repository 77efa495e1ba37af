//! What each money event on a converted agreement does across the parts: the agreement read
//! and the party checked (`agreements`), the payment or the sales stored by `contracts` with
//! its audit event, the message to the parties (`mail`), the non-payment cover a paid
//! schedule ends (`insurance`), and the statement answered with the policies on it. Also the
//! sweep that closes royalty contract years. The API, the scheduler and the seed come through
//! here.

use chrono::{DateTime, NaiveDate, Utc};

use crate::agreements::model::Agreement;
use crate::agreements::store;
use crate::audit::Who;
use crate::auth::session::Actor;
use crate::contracts::model::{PaymentInput, SalesReportInput, Statement};
use crate::contracts::{self, royalty_years};
use crate::db::{Db, DbConn};
use crate::error::AppError;
use crate::insurance::cover;
use crate::rules::roles::Role;
use crate::settlement::allocate::Rounding;
use crate::settlement::terms::Terms;
use crate::AppState;

/// The settlement statement of converted agreement `id` as `actor` may see it, as of `as_of`
/// (default today in the agreement's time zone).
pub fn statement(
    state: &AppState,
    actor: &Actor,
    id: &str,
    as_of: Option<NaiveDate>,
) -> Result<Statement, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    let agreement = Agreement::from_row(row, Some(actor))?;
    let not_converted = || AppError::InvalidTransition {
        detail: "the agreement has not converted; there is no settlement yet".into(),
        current_state: agreement.status.as_str().to_string(),
        current_version: agreement.version,
    };
    let terms = &agreement
        .terms
        .as_ref()
        .ok_or_else(not_converted)?
        .parse()?;
    let tz: chrono_tz::Tz = agreement.time_zone.parse().unwrap_or(state.tz);
    let as_of = as_of.unwrap_or_else(|| state.clock.today(tz));
    statement_of(&mut conn, &agreement.id, terms, as_of)?.ok_or_else(not_converted)
}

/// The contract's statement with the policies bound on the agreement, or `None` without a
/// contract.
fn statement_of(
    conn: &mut DbConn,
    agreement_id: &str,
    terms: &Terms,
    as_of: NaiveDate,
) -> Result<Option<Statement>, AppError> {
    let Some(mut statement) = contracts::statement(conn, agreement_id, terms, as_of)? else {
        return Ok(None);
    };
    statement.insurance = crate::insurance::for_agreement(conn, agreement_id)?;
    Ok(Some(statement))
}

/// The agreement's institute records a payment it received; answers the updated statement.
pub fn record_payment(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &PaymentInput,
) -> Result<Statement, AppError> {
    let rounding = state.cfg.settlement.rounding;
    record_for(
        state,
        actor,
        id,
        Side::Institute,
        |conn, now, today, who, agreement_id, terms| {
            record_payment_in(conn, now, today, who, agreement_id, terms, input, rounding).map(drop)
        },
    )
}

/// Records a payment on converted agreement `agreement_id` as `who` (whom the caller has
/// checked may), inside the caller's transaction: the payment, its allocation and its audit
/// event (`contracts`), the message to the parties, and the end of the cover once the
/// schedule is paid. Returns the payment as its audit event records it.
#[allow(clippy::too_many_arguments)]
pub fn record_payment_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
    who: Who<'_>,
    agreement_id: &str,
    terms: &Terms,
    input: &PaymentInput,
    rounding: Rounding,
) -> Result<serde_json::Value, AppError> {
    let recorded =
        contracts::record_payment(conn, now, today, who, agreement_id, terms, input, rounding)?;
    let agreement = store::get(conn, agreement_id)?;
    crate::mail::enqueue_agreement(
        conn,
        now,
        "payment_recorded",
        &agreement,
        recorded.mail_facts,
    )?;
    // Non-payment cover ends with the payment schedule.
    if cover::schedule_paid(conn, agreement_id)? {
        cover::end_policies(conn, now, who, agreement_id, "schedule_paid", false)?;
    }
    Ok(recorded.record)
}

/// The agreement's SME reports its net sales for a royalty quarter; answers the updated
/// statement.
pub fn report_sales(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &SalesReportInput,
) -> Result<Statement, AppError> {
    let rounding = state.cfg.settlement.rounding;
    record_for(
        state,
        actor,
        id,
        Side::Sme,
        |conn, now, today, who, agreement_id, terms| {
            contracts::report_sales(conn, now, today, who, agreement_id, terms, input, rounding)
                .map(drop)
        },
    )
}

/// Which party of an agreement may record a money event.
#[derive(Clone, Copy)]
enum Side {
    Institute,
    Sme,
}

/// The money events a party records on a converted agreement (payments, sales reports):
/// in one write transaction, load the agreement the actor may see (404 otherwise), require the
/// actor to be `side` of it (403), run `record` with the day in the agreement's time zone, and
/// answer the updated statement.
fn record_for<F>(
    state: &AppState,
    actor: &Actor,
    id: &str,
    side: Side,
    record: F,
) -> Result<Statement, AppError>
where
    F: FnOnce(&mut DbConn, DateTime<Utc>, NaiveDate, Who<'_>, &str, &Terms) -> Result<(), AppError>
        + Send,
{
    let now = state.clock.now();
    state.db.write(|conn| {
        let row = store::get_visible(conn, actor, id)?;
        let (role, org, what) = match side {
            Side::Institute => (
                Role::Institute,
                &row.institute_id,
                "only the agreement's institute records payments it received",
            ),
            Side::Sme => (
                Role::Sme,
                &row.sme_id,
                "only the agreement's SME reports its sales",
            ),
        };
        if actor.role != role || actor.organisation_id != *org {
            return Err(AppError::Forbidden(what.into()));
        }
        let agreement = Agreement::from_row(row, Some(actor))?;
        let terms = &agreement
            .terms
            .as_ref()
            .ok_or_else(|| AppError::Conflict("the agreement has not converted".into()))?
            .parse()?;
        let tz: chrono_tz::Tz = agreement.time_zone.parse().unwrap_or(state.tz);
        let today = now.with_timezone(&tz).date_naive();
        let who = Who::from(actor);
        record(conn, now, today, who, &agreement.id, terms)?;
        statement_of(conn, &agreement.id, terms, today)?.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "the contract of {} vanished while recording",
                agreement.id
            ))
        })
    })
}

/// Closes every royalty contract year that is due as of `now` (each contract's day in its
/// agreement's time zone), each contract in its own transaction; returns how many years were
/// closed. Idempotent: a closed year is never closed again.
pub fn close_royalty_years(db: &Db, now: DateTime<Utc>) -> Result<usize, AppError> {
    let due = {
        let mut conn = db.reader()?;
        royalty_years::due(&mut conn, now)?
    };
    let mut closed = 0;
    for id in due {
        closed += db.write(|conn| royalty_years::close_contract(conn, now, &id))?;
    }
    Ok(closed)
}

/// What the payments of agreement `id` are as `actor` may see them: the agreement, and once it
/// has converted, its statement as of today in its time zone and the sales reported.
#[derive(Debug)]
pub struct Money {
    pub agreement: Agreement,
    /// `None` until the SME converts.
    pub statement: Option<Statement>,
    pub sales_reports: Vec<crate::contracts::model::SalesReport>,
}

/// The payments of agreement `id` as `actor` may see them (404 for another organisation's).
pub fn money(state: &AppState, actor: &Actor, id: &str) -> Result<Money, AppError> {
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    let agreement = Agreement::from_row(row, Some(actor))?;
    let terms = agreement.terms.as_ref().map(|t| t.parse()).transpose()?;
    let tz: chrono_tz::Tz = agreement.time_zone.parse().unwrap_or(state.tz);
    let today = state.clock.today(tz);
    let statement = match &terms {
        Some(terms) => statement_of(&mut conn, &agreement.id, terms, today)?,
        None => None,
    };
    let sales_reports = match statement {
        Some(_) => contracts::sales_reports(&mut conn, &agreement.id)?,
        None => Vec::new(),
    };
    Ok(Money {
        agreement,
        statement,
        sales_reports,
    })
}

/// The version of a statement: it moves with every payment and every schedule line (a sales
/// report's royalty, a year's true-up), so a form that carries it records nothing twice.
pub fn statement_version(statement: &Statement) -> i64 {
    (statement.lines.len() + statement.payments.len()) as i64
}

/// [`record_payment`], if the statement is still at `expected` ([`statement_version`]): a
/// payment someone recorded since the institute's form was shown is not recorded again.
pub fn record_payment_at(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    input: &PaymentInput,
) -> Result<Statement, AppError> {
    let rounding = state.cfg.settlement.rounding;
    record_for(
        state,
        actor,
        id,
        Side::Institute,
        |conn, now, today, who, agreement_id, terms| {
            let current = statement_of(conn, agreement_id, terms, today)?
                .map(|s| statement_version(&s))
                .unwrap_or(0);
            if current != expected {
                return Err(AppError::PreconditionFailed {
                    expected: expected.to_string(),
                    current,
                });
            }
            record_payment_in(conn, now, today, who, agreement_id, terms, input, rounding).map(drop)
        },
    )
}
