//! Conversion contracts: when an SME converts, the agreement's snapshotted terms are turned
//! into money once (through `settlement::quote`) and stored with their payment schedule, in
//! the same transaction as the state change. The statement reads them back with what is
//! paid, outstanding and overdue as of a day.
//!
//! What a contract is, as the other parts and the edges see it, is `model`; this module and
//! `royalty_years` read and write its tables. What a money event does across the parts (the
//! agreement read, the insurance the statement shows and the cover a paid schedule ends, the
//! mail) is `app::contracts`.

pub mod dues;
pub mod model;
pub mod registration;
pub mod royalty_years;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::db::schema::{conversion_contracts, schedule_lines};
use crate::db::DbConn;
use crate::error::AppError;
use crate::settlement::allocate::Rounding;
use crate::settlement::money::{parse_rate, Currency};
use crate::settlement::pricing::{late_interest, Tax};
use crate::settlement::quote::{quote_from, Quote};
use crate::settlement::schedule::{payments_start, trigger_met, Effect, Start};
use crate::settlement::terms::Terms;

pub use model::{PaymentInput, PaymentView, SalesReportInput, Statement, StatementLine, TaxView};

/// Creates the contract and schedule for an agreement converting on `converted_on`, with
/// the tax stated at conversion (if any) and what the registration rule decided. The contract
/// is signed on the conversion day: the SME accepts then the contract whose terms the
/// institute fixed before the trial. Its payments count from the later of the first payment's
/// trigger and the day it takes effect; while either is unknown the fixed lines are held,
/// dated provisionally from the conversion day (or the trigger's day).
#[allow(clippy::too_many_arguments)]
pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    agreement_id: &str,
    terms: &Terms,
    converted_on: NaiveDate,
    trial_end: Option<NaiveDate>,
    rounding: Rounding,
    tax: Option<&Tax>,
    decision: &crate::settlement::registration::Decision,
) -> Result<Quote, AppError> {
    let effect = if decision.required && decision.takes_effect_on_certificate {
        Effect::AwaitingCertificate
    } else {
        Effect::OnSigning
    };
    let trigger = terms.first_payment.as_ref();
    let (start, held) = match payments_start(trigger, converted_on, None, effect) {
        Start::From(day) => (day, false),
        Start::Waiting(_) => (
            trigger_met(trigger, converted_on, None).unwrap_or(converted_on),
            true,
        ),
    };
    let q = quote_from(terms, converted_on, start, trial_end, rounding)
        .map_err(|e| AppError::Conflict(format!("the agreement's terms cannot be settled: {e}")))?;
    diesel::insert_into(conversion_contracts::table)
        .values((
            conversion_contracts::agreement_id.eq(agreement_id),
            conversion_contracts::currency.eq(&q.currency),
            conversion_contracts::price_model.eq(q.price_model),
            conversion_contracts::rounding.eq(rounding.as_str()),
            conversion_contracts::early_conversion_discount.eq(&q.early_conversion_discount),
            conversion_contracts::total_minor.eq(q.total_minor),
            conversion_contracts::converted_on.eq(converted_on),
            conversion_contracts::royalty_rate.eq(q.royalty.as_ref().map(|r| r.rate.clone())),
            conversion_contracts::royalty_min_per_year
                .eq(q.royalty.as_ref().and_then(|r| r.min_per_year.clone())),
            conversion_contracts::created_at.eq(now.naive_utc()),
            conversion_contracts::royalty_next_close.eq(
                match q.royalty.as_ref().and_then(|r| r.min_per_year.as_ref()) {
                    Some(_) => {
                        Some(royalty_years::closes_on(converted_on, 1).ok_or_else(|| {
                            AppError::Conflict(
                                "the first contract year ends outside the calendar".into(),
                            )
                        })?)
                    }
                    None => None,
                },
            ),
            conversion_contracts::tax_kind.eq(tax.map(|t| match t {
                Tax::Rate { .. } => "rate",
                Tax::Exempt { .. } => "exempt",
            })),
            conversion_contracts::tax_rate.eq(tax.and_then(|t| match t {
                Tax::Rate { rate } => Some(rate.clone()),
                Tax::Exempt { .. } => None,
            })),
            conversion_contracts::tax_basis.eq(tax.and_then(|t| match t {
                Tax::Exempt { basis } => Some(basis.clone()),
                Tax::Rate { .. } => None,
            })),
            conversion_contracts::tax_minor.eq(match tax {
                Some(t) => Some(
                    crate::settlement::pricing::tax(q.total_minor, t, rounding)
                        .map_err(|e| AppError::field("tax.rate", e.to_string()))?,
                ),
                None => None,
            }),
        ))
        .execute(conn)?;
    for line in &q.lines {
        diesel::insert_into(schedule_lines::table)
            .values((
                schedule_lines::agreement_id.eq(agreement_id),
                schedule_lines::number.eq(line.number as i32),
                schedule_lines::kind.eq(line.kind),
                schedule_lines::due.eq(line.due),
                schedule_lines::amount_minor.eq(line.amount_minor),
                schedule_lines::paid_minor.eq(0i64),
                schedule_lines::held.eq(held),
            ))
            .execute(conn)?;
    }
    registration::create(conn, agreement_id, decision, converted_on)?;
    Ok(q)
}

type PaymentRow = (
    String,
    NaiveDate,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The stored contract, as a statement reads it (one query).
#[derive(Queryable, Selectable)]
#[diesel(table_name = conversion_contracts)]
struct ContractRecord {
    currency: String,
    price_model: String,
    rounding: String,
    early_conversion_discount: Option<String>,
    total_minor: i64,
    converted_on: NaiveDate,
    royalty_rate: Option<String>,
    royalty_min_per_year: Option<String>,
    tax_kind: Option<String>,
    tax_rate: Option<String>,
    tax_basis: Option<String>,
    tax_minor: Option<i64>,
}
type LineRow = (i32, String, NaiveDate, i64, i64, bool);

/// The statement of a converted agreement as of `as_of`, or `None` if it has no contract. Its
/// `insurance` is left empty: `app::contracts` adds the policies the insurance part keeps.
pub fn statement(
    conn: &mut DbConn,
    agreement_id: &str,
    terms: &Terms,
    as_of: NaiveDate,
) -> Result<Option<Statement>, AppError> {
    let contract: Option<ContractRecord> = conversion_contracts::table
        .find(agreement_id)
        .select(ContractRecord::as_select())
        .first(conn)
        .optional()?;
    let Some(contract) = contract else {
        return Ok(None);
    };
    let ContractRecord {
        currency,
        price_model,
        rounding,
        early_conversion_discount: discount,
        total_minor: total,
        converted_on,
        royalty_rate,
        royalty_min_per_year: royalty_min,
        tax_kind,
        tax_rate,
        tax_basis,
        tax_minor,
    } = contract;
    let lines: Vec<LineRow> = schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .order(schedule_lines::number.asc())
        .select((
            schedule_lines::number,
            schedule_lines::kind,
            schedule_lines::due,
            schedule_lines::amount_minor,
            schedule_lines::paid_minor,
            schedule_lines::held,
        ))
        .load(conn)?;
    let (start, effect, _) = registration::start_of(conn, agreement_id, terms)?;
    let waiting_for = registration::waiting_for(&start, effect);
    let registration = registration::get(conn, agreement_id)?.map(|r| r.view(as_of));
    let cur = Currency::parse(&currency).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "contract {agreement_id} has unknown currency {currency}"
        ))
    })?;
    let mode = if rounding == Rounding::HalfEven.as_str() {
        Rounding::HalfEven
    } else {
        Rounding::HalfUp
    };
    let daily_rate = match &terms.late_payment_daily_rate {
        Some(r) => parse_rate(r)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored late-payment rate: {e}")))?,
        None => Decimal::ZERO,
    };
    let overflow = || AppError::Internal(anyhow::anyhow!("statement sums overflow"));
    let (mut paid_sum, mut outstanding_sum, mut overdue_sum, mut interest_sum) =
        (0i64, 0i64, 0i64, 0i64);
    let mut out = Vec::with_capacity(lines.len());
    for (number, kind, due, amount, paid, held) in lines {
        let outstanding = amount - paid;
        // A held line is not due yet: no overdue, no interest until its days count.
        let overdue = outstanding > 0 && as_of > due && !held;
        let interest = if overdue {
            late_interest(outstanding, daily_rate, due, as_of, mode)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("interest: {e}")))?
        } else {
            0
        };
        paid_sum = paid_sum.checked_add(paid).ok_or_else(overflow)?;
        outstanding_sum = outstanding_sum
            .checked_add(outstanding)
            .ok_or_else(overflow)?;
        if overdue {
            overdue_sum = overdue_sum.checked_add(outstanding).ok_or_else(overflow)?;
        }
        interest_sum = interest_sum.checked_add(interest).ok_or_else(overflow)?;
        out.push(StatementLine {
            number,
            kind,
            due,
            amount: cur.format_amount(amount),
            paid: cur.format_amount(paid),
            outstanding: cur.format_amount(outstanding),
            overdue,
            held,
            interest: cur.format_amount(interest),
            amount_minor: amount,
            paid_minor: paid,
            outstanding_minor: outstanding,
            interest_minor: interest,
        });
    }
    let tax = tax_kind.map(|kind| TaxView {
        kind,
        rate: tax_rate,
        basis: tax_basis,
        amount: cur.format_amount(tax_minor.unwrap_or(0)),
    });
    use crate::db::schema::payments;
    let received: Vec<PaymentRow> = payments::table
        .filter(payments::agreement_id.eq(agreement_id))
        .order((payments::received_on.asc(), payments::created_at.asc()))
        .select((
            payments::reference,
            payments::received_on,
            payments::amount_minor,
            payments::to_institute,
            payments::to_inventors,
            payments::to_intermediary,
        ))
        .load(conn)?;
    let (mut to_inst, mut to_inv, mut to_int) = (0i64, 0i64, 0i64);
    let mut payments_out = Vec::with_capacity(received.len());
    for (reference, received_on, amount, inst, inv, int) in received {
        to_inst = to_inst
            .checked_add(inst.unwrap_or(0))
            .ok_or_else(overflow)?;
        to_inv = to_inv.checked_add(inv.unwrap_or(0)).ok_or_else(overflow)?;
        to_int = to_int.checked_add(int.unwrap_or(0)).ok_or_else(overflow)?;
        payments_out.push(PaymentView {
            reference,
            received_on,
            amount: cur.format_amount(amount),
            to_institute: inst.map(|v| cur.format_amount(v)),
            to_inventors: inv.map(|v| cur.format_amount(v)),
            to_intermediary: int.map(|v| cur.format_amount(v)),
        });
    }
    let years = match &royalty_min {
        Some(min) => {
            let min = cur
                .parse_amount(min)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored minimum royalty: {e}")))?;
            royalty_years::years(conn, agreement_id, converted_on, min, cur, as_of)?
        }
        None => Vec::new(),
    };
    Ok(Some(Statement {
        insurance: Vec::new(),
        royalty_years: years,
        tax,
        payments: payments_out,
        received_to_institute: cur.format_amount(to_inst),
        received_to_inventors: cur.format_amount(to_inv),
        received_to_intermediary: cur.format_amount(to_int),
        agreement_id: agreement_id.to_string(),
        currency,
        price_model,
        rounding,
        converted_on,
        early_conversion_discount: discount,
        as_of,
        lines: out,
        total: cur.format_amount(total),
        paid: cur.format_amount(paid_sum),
        outstanding: cur.format_amount(outstanding_sum),
        overdue: cur.format_amount(overdue_sum),
        interest: cur.format_amount(interest_sum),
        royalty_rate,
        royalty_min_per_year: royalty_min,
        registration,
        waiting_for,
    }))
}

/// How a payment of `amount` is shared out under the terms' profit distribution (the
/// institute, the inventor team, the intermediary), parts summing exactly to `amount`.
pub fn distribute_payment(
    amount: i64,
    d: &crate::settlement::terms::Distribution,
    rounding: crate::settlement::allocate::Rounding,
) -> Result<crate::settlement::pricing::Distributed, AppError> {
    let share = |s: &str| {
        parse_rate(s).map_err(|e| AppError::Internal(anyhow::anyhow!("stored share: {e}")))
    };
    crate::settlement::pricing::distribute(
        amount,
        share(&d.institute)?,
        share(&d.inventors)?,
        share(&d.intermediary)?,
        rounding,
    )
    .map_err(|e| AppError::Internal(anyhow::anyhow!("distribution: {e}")))
}

/// A payment as [`record_payment`] stored it.
pub struct Recorded {
    /// The payment, its allocations and its distribution, as its audit event records them.
    pub record: serde_json::Value,
    /// What the message to the parties says of it.
    pub mail_facts: serde_json::Value,
}

/// Records a payment on a converted agreement, allocating it to the oldest open lines and
/// distributing it by the terms' shares; inside the caller's transaction, with its audit
/// event. The caller has checked that `who` may record payments on this agreement, and
/// queues the message and ends the cover a paid schedule ends (`app::contracts`).
#[allow(clippy::too_many_arguments)]
pub fn record_payment(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
    who: crate::audit::Who<'_>,
    agreement_id: &str,
    terms: &Terms,
    input: &PaymentInput,
    rounding: Rounding,
) -> Result<Recorded, AppError> {
    use crate::db::schema::{payment_allocations, payments};
    use crate::error::FieldError;
    // Payments on one agreement queue behind each other (PostgreSQL; SQLite has one writer).
    crate::db::lock_key(conn, &format!("payments\u{1f}{agreement_id}"))?;
    let currency: Option<String> = conversion_contracts::table
        .find(agreement_id)
        .select(conversion_contracts::currency)
        .first(conn)
        .optional()?;
    let currency = currency.ok_or_else(|| {
        AppError::Conflict("the agreement has not converted; there is nothing to pay yet".into())
    })?;
    let cur = Currency::parse(&currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown currency {currency}")))?;
    let mut errors = Vec::new();
    let amount = match cur.parse_amount(&input.amount) {
        Ok(0) => {
            errors.push(FieldError::new("amount", "must be greater than zero"));
            0
        }
        Ok(v) => v,
        Err(e) => {
            errors.push(FieldError::new("amount", e));
            0
        }
    };
    if input.received_on > today {
        errors.push(FieldError::new(
            "received_on",
            format!("must not be after today ({today})"),
        ));
    }
    let reference = crate::error::required_text(&mut errors, "reference", &input.reference, 100);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let seen: i64 = payments::table
        .filter(payments::agreement_id.eq(agreement_id))
        .filter(payments::reference.eq(&reference))
        .count()
        .get_result(conn)?;
    if seen > 0 {
        return Err(AppError::Conflict(format!(
            "a payment with reference {reference:?} is already recorded on this agreement"
        )));
    }
    let open: Vec<(i32, i64, i64)> = schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .filter(schedule_lines::paid_minor.lt(schedule_lines::amount_minor))
        .order((schedule_lines::due.asc(), schedule_lines::number.asc()))
        .select((
            schedule_lines::number,
            schedule_lines::amount_minor,
            schedule_lines::paid_minor,
        ))
        .load(conn)?;
    let outstanding = open
        .iter()
        .try_fold(0i64, |sum, (_, a, p)| sum.checked_add(a.checked_sub(*p)?))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("outstanding amount overflows")))?;
    if amount > outstanding {
        return Err(AppError::field(
            "amount",
            format!(
                "exceeds what is outstanding ({} {currency})",
                cur.format_amount(outstanding)
            ),
        ));
    }
    let distribution = terms
        .distribution
        .as_ref()
        .map(|d| distribute_payment(amount, d, rounding))
        .transpose()?;
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(&id),
            payments::agreement_id.eq(agreement_id),
            payments::amount_minor.eq(amount),
            payments::received_on.eq(input.received_on),
            payments::reference.eq(&reference),
            payments::to_institute.eq(distribution.map(|d| d.institute)),
            payments::to_inventors.eq(distribution.map(|d| d.inventors)),
            payments::to_intermediary.eq(distribution.map(|d| d.intermediary)),
            payments::recorded_by.eq(who.user_id.unwrap_or_default()),
            payments::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let mut left = amount;
    let mut allocations = Vec::new();
    for (number, line_amount, paid) in open {
        if left == 0 {
            break;
        }
        let take = left.min(line_amount - paid);
        diesel::update(schedule_lines::table.find((agreement_id, number)))
            .set(schedule_lines::paid_minor.eq(paid + take))
            .execute(conn)?;
        diesel::insert_into(payment_allocations::table)
            .values((
                payment_allocations::payment_id.eq(&id),
                payment_allocations::line_number.eq(number),
                payment_allocations::amount_minor.eq(take),
            ))
            .execute(conn)?;
        allocations.push(serde_json::json!({"line": number, "amount_minor": take}));
        left -= take;
    }
    let record = serde_json::json!({
        "payment_id": id, "amount_minor": amount, "currency": currency, "received_on": input.received_on,
        "reference": reference, "allocations": allocations, "distribution": distribution, "rounding": rounding,
    });
    crate::audit::append(
        conn,
        now,
        who,
        "payment.recorded",
        "agreement",
        agreement_id,
        &serde_json::json!({"after": record}),
    )?;
    Ok(Recorded {
        record,
        mail_facts: serde_json::json!({
            "amount": format!("{} {currency}", cur.format_amount(amount)),
            "received_on": input.received_on.to_string(),
            "reference": reference,
        }),
    })
}

/// Appends a line to a contract's schedule after its last; returns its number.
pub(crate) fn add_line(
    conn: &mut DbConn,
    agreement_id: &str,
    kind: &str,
    due: NaiveDate,
    amount_minor: i64,
) -> QueryResult<i32> {
    let last: Option<i32> = schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .select(diesel::dsl::max(schedule_lines::number))
        .first(conn)?;
    let number = last.unwrap_or(0) + 1;
    // Until the contract takes effect, nothing added to it falls due.
    let held = registration::awaiting_certificate(conn, agreement_id)?;
    diesel::insert_into(schedule_lines::table)
        .values((
            schedule_lines::agreement_id.eq(agreement_id),
            schedule_lines::number.eq(number),
            schedule_lines::kind.eq(kind),
            schedule_lines::due.eq(due),
            schedule_lines::amount_minor.eq(amount_minor),
            schedule_lines::paid_minor.eq(0i64),
            schedule_lines::held.eq(held),
        ))
        .execute(conn)?;
    Ok(number)
}

/// Days after a period's end by which its royalty is due.
pub const ROYALTY_DUE_DAYS: u64 = 30;

/// Records an SME's net sales for a quarter and adds the royalty line to the schedule; one
/// transaction with its audit event. The caller has checked that the actor is the SME.
#[allow(clippy::too_many_arguments)]
pub fn report_sales(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
    who: crate::audit::Who<'_>,
    agreement_id: &str,
    terms: &Terms,
    input: &SalesReportInput,
    rounding: Rounding,
) -> Result<serde_json::Value, AppError> {
    use crate::db::schema::sales_reports;
    use crate::error::FieldError;
    use chrono::Datelike;
    crate::db::lock_key(conn, &format!("payments\u{1f}{agreement_id}"))?;
    let contract: Option<(String, Option<String>, NaiveDate)> = conversion_contracts::table
        .find(agreement_id)
        .select((
            conversion_contracts::currency,
            conversion_contracts::royalty_rate,
            conversion_contracts::converted_on,
        ))
        .first(conn)
        .optional()?;
    let (currency, rate, converted_on) =
        contract.ok_or_else(|| AppError::Conflict("the agreement has not converted".into()))?;
    let rate = rate.ok_or_else(|| {
        AppError::Conflict("these terms have no royalty; there are no sales to report".into())
    })?;
    let rate = parse_rate(&rate)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored royalty rate: {e}")))?;
    let cur = Currency::parse(&currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown currency {currency}")))?;
    let start = input.period_start;
    let mut errors = Vec::new();
    let quarter_start = start.day() == 1 && matches!(start.month(), 1 | 4 | 7 | 10);
    let end = start
        .checked_add_months(chrono::Months::new(3))
        .and_then(|d| d.pred_opt());
    match end {
        _ if !quarter_start => errors.push(FieldError::new(
            "period_start",
            "must be the first day of a calendar quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct)",
        )),
        None => errors.push(FieldError::new("period_start", "is outside the calendar")),
        Some(end) if end >= today => errors.push(FieldError::new(
            "period_start",
            format!("the quarter ends on {end}; report it once it is over"),
        )),
        Some(end) if end < converted_on => errors.push(FieldError::new(
            "period_start",
            format!("the quarter ended before the conversion on {converted_on}"),
        )),
        Some(_) => {}
    }
    let net_sales = match cur.parse_amount(&input.net_sales) {
        Ok(v) => v,
        Err(e) => {
            errors.push(FieldError::new("net_sales", e));
            0
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let end =
        end.ok_or_else(|| AppError::Internal(anyhow::anyhow!("quarter end checked above")))?;
    if let Some((year, closed_at)) =
        royalty_years::closed_year_of(conn, agreement_id, converted_on, end)?
    {
        return Err(AppError::Conflict(format!(
            "the quarter ends in contract year {year}, which closed on {} with its true-up; \
             its sales can no longer be reported",
            closed_at.date()
        )));
    }
    let already: i64 = sales_reports::table
        .find((agreement_id, start))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Err(AppError::Conflict(format!(
            "sales for the quarter starting {start} are already reported"
        )));
    }
    let royalty = crate::settlement::pricing::royalty(net_sales, rate, rounding)
        .map_err(|e| AppError::field("net_sales", e.to_string()))?;
    let due = end
        .checked_add_days(chrono::Days::new(ROYALTY_DUE_DAYS))
        .ok_or_else(|| AppError::field("period_start", "is outside the calendar"))?;
    let number = add_line(conn, agreement_id, "royalty", due, royalty)?;
    diesel::insert_into(sales_reports::table)
        .values((
            sales_reports::agreement_id.eq(agreement_id),
            sales_reports::period_start.eq(start),
            sales_reports::period_end.eq(end),
            sales_reports::net_sales_minor.eq(net_sales),
            sales_reports::royalty_minor.eq(royalty),
            sales_reports::line_number.eq(number),
            sales_reports::reported_by.eq(who.user_id.unwrap_or_default()),
            sales_reports::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    // The first quarter with sales above zero meets a first-revenue trigger on the day it is
    // reported; the lines that waited for it start counting.
    let first_revenue = net_sales > 0
        && conversion_contracts::table
            .find(agreement_id)
            .select(conversion_contracts::first_revenue_on)
            .first::<Option<NaiveDate>>(conn)?
            .is_none();
    let mut released = 0;
    if first_revenue {
        diesel::update(conversion_contracts::table.find(agreement_id))
            .set(conversion_contracts::first_revenue_on.eq(today))
            .execute(conn)?;
        released = registration::release(conn, agreement_id, terms, rounding)?;
    }
    let record = serde_json::json!({
        "period_start": start, "period_end": end, "net_sales_minor": net_sales, "royalty_minor": royalty,
        "rate": rate.to_string(), "currency": currency, "line": number, "due": due, "rounding": rounding,
        "first_revenue": first_revenue, "lines_released": released,
    });
    crate::audit::append(
        conn,
        now,
        who,
        "sales.reported",
        "agreement",
        agreement_id,
        &serde_json::json!({"after": record}),
    )?;
    Ok(record)
}

/// The conversion day and currency of the agreement's contract, once converted.
pub fn converted(
    conn: &mut DbConn,
    agreement_id: &str,
) -> QueryResult<Option<(chrono::NaiveDate, String)>> {
    conversion_contracts::table
        .find(agreement_id)
        .select((
            conversion_contracts::converted_on,
            conversion_contracts::currency,
        ))
        .first(conn)
        .optional()
}

/// The agreement's payment schedule as documents print it: (number, kind, due, amount), in
/// order.
pub fn schedule_of(
    conn: &mut DbConn,
    agreement_id: &str,
) -> QueryResult<Vec<(i32, String, chrono::NaiveDate, i64)>> {
    schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .order(schedule_lines::number.asc())
        .select((
            schedule_lines::number,
            schedule_lines::kind,
            schedule_lines::due,
            schedule_lines::amount_minor,
        ))
        .load(conn)
}

/// The sales reported on the agreement's contract, oldest quarter first.
pub fn sales_reports(
    conn: &mut DbConn,
    agreement_id: &str,
) -> QueryResult<Vec<model::SalesReport>> {
    use crate::db::schema::sales_reports;
    let rows: Vec<(NaiveDate, NaiveDate, i64, i64, i32)> = sales_reports::table
        .filter(sales_reports::agreement_id.eq(agreement_id))
        .order(sales_reports::period_start.asc())
        .select((
            sales_reports::period_start,
            sales_reports::period_end,
            sales_reports::net_sales_minor,
            sales_reports::royalty_minor,
            sales_reports::line_number,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(period_start, period_end, net_sales_minor, royalty_minor, line_number)| {
                model::SalesReport {
                    period_start,
                    period_end,
                    net_sales_minor,
                    royalty_minor,
                    line_number,
                }
            },
        )
        .collect())
}
