//! The registration of conversion contracts (`contract_registrations`): whether each must be
//! registered and by when, decided at conversion by `settlement::registration`, and the
//! certificate once entered; and the held schedule lines that start counting when what they
//! wait for (the certificate, the SME's first sales) is known.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{CertificateInput, RegistrationCounts, RegistrationDue, RegistrationView};
use crate::db::schema::{contract_registrations, conversion_contracts, schedule_lines};
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::settlement::allocate::Rounding;
use crate::settlement::quote::quote_from;
use crate::settlement::registration::{self, Decision};
use crate::settlement::schedule::{payments_start, Effect, Start, Waiting};
use crate::settlement::terms::Terms;

/// The kinds of line the terms fix at conversion; the others (royalties, true-ups) come later.
pub const FIXED_KINDS: [&str; 3] = ["lump_sum", "entry_fee", "installment"];

/// The stored registration of one contract.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contract_registrations)]
pub struct Record {
    pub jurisdiction: Option<String>,
    pub required: bool,
    pub reason: String,
    pub signed_on: NaiveDate,
    pub deadline: Option<NaiveDate>,
    pub takes_effect_on_certificate: bool,
    pub certificate_number: Option<String>,
    pub certificate_date: Option<NaiveDate>,
    pub issuing_office: Option<String>,
    pub vat_exemption_ref: Option<String>,
}

impl Record {
    /// When the contract takes effect, as the payment schedule sees it.
    pub fn effect(&self) -> Effect {
        match (
            self.required && self.takes_effect_on_certificate,
            self.certificate_date,
        ) {
            (false, _) => Effect::OnSigning,
            (true, Some(day)) => Effect::Certificate(day),
            (true, None) => Effect::AwaitingCertificate,
        }
    }

    /// As shown on `today`.
    pub fn view(&self, today: NaiveDate) -> RegistrationView {
        let status =
            registration::status(self.required, self.deadline, self.certificate_date, today);
        let open = matches!(
            status,
            registration::Status::Pending | registration::Status::Overdue
        );
        RegistrationView {
            status,
            jurisdiction: self.jurisdiction.clone(),
            required: self.required,
            reason: self.reason.clone(),
            signed_on: self.signed_on,
            deadline: self.deadline,
            days_left: self
                .deadline
                .filter(|_| open)
                .map(|d| (d - today).num_days()),
            takes_effect_on_certificate: self.takes_effect_on_certificate,
            certificate_number: self.certificate_number.clone(),
            certificate_date: self.certificate_date,
            issuing_office: self.issuing_office.clone(),
            vat_exemption_ref: self.vat_exemption_ref.clone(),
        }
    }
}

/// Records what the rule decided for the contract of `agreement_id`, signed on `signed_on`.
pub fn create(
    conn: &mut DbConn,
    agreement_id: &str,
    decision: &Decision,
    signed_on: NaiveDate,
) -> QueryResult<usize> {
    diesel::insert_into(contract_registrations::table)
        .values((
            contract_registrations::agreement_id.eq(agreement_id),
            contract_registrations::jurisdiction.eq(&decision.jurisdiction),
            contract_registrations::required.eq(decision.required),
            contract_registrations::reason.eq(decision.reason),
            contract_registrations::signed_on.eq(signed_on),
            contract_registrations::deadline.eq(decision.deadline),
            contract_registrations::takes_effect_on_certificate
                .eq(decision.takes_effect_on_certificate),
        ))
        .execute(conn)
}

/// The registration of the contract of `agreement_id`, if it has one.
pub fn get(conn: &mut DbConn, agreement_id: &str) -> QueryResult<Option<Record>> {
    contract_registrations::table
        .find(agreement_id)
        .select(Record::as_select())
        .first(conn)
        .optional()
}

/// Whether new lines of the contract wait for its certificate.
pub fn awaiting_certificate(conn: &mut DbConn, agreement_id: &str) -> QueryResult<bool> {
    Ok(get(conn, agreement_id)?.is_some_and(|r| r.effect() == Effect::AwaitingCertificate))
}

/// Enters the certificate of the contract of `agreement_id` on `today`, inside the caller's
/// transaction, with its audit event; then starts the lines that waited for it. The caller
/// has checked that `who` may (the institute of the agreement, or an admin). 422 naming each
/// bad field, 409 when the contract need not be registered or already is.
#[allow(clippy::too_many_arguments)]
pub fn record_certificate(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    today: NaiveDate,
    who: crate::audit::Who<'_>,
    agreement_id: &str,
    terms: &Terms,
    input: &CertificateInput,
    rounding: Rounding,
) -> Result<RegistrationView, AppError> {
    let record = get(conn, agreement_id)?.ok_or_else(|| {
        AppError::Conflict("the agreement has no conversion contract to register".into())
    })?;
    if !record.required {
        return Err(AppError::Conflict(
            "this contract need not be registered under its jurisdiction's rule".into(),
        ));
    }
    if let Some(day) = record.certificate_date {
        return Err(AppError::Conflict(format!(
            "the contract is already registered (certificate of {day})"
        )));
    }
    let mut errors = Vec::new();
    let number = crate::error::required_text(
        &mut errors,
        "certificate_number",
        &input.certificate_number,
        100,
    );
    let office =
        crate::error::required_text(&mut errors, "issuing_office", &input.issuing_office, 200);
    if input.certificate_date < record.signed_on {
        errors.push(FieldError::new(
            "certificate_date",
            format!(
                "must not be before the contract was signed ({})",
                record.signed_on
            ),
        ));
    } else if input.certificate_date > today {
        errors.push(FieldError::new(
            "certificate_date",
            format!("must not be after today ({today})"),
        ));
    }
    let vat = match input.vat_exemption_ref.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if record.jurisdiction.as_deref() != Some("cn") => {
            errors.push(FieldError::new(
                "vat_exemption_ref",
                "applies only to contracts registered in China",
            ));
            None
        }
        Some(v) if v.chars().count() > 100 => {
            errors.push(FieldError::new(
                "vat_exemption_ref",
                "must be at most 100 characters",
            ));
            None
        }
        Some(v) => Some(v.to_string()),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    diesel::update(contract_registrations::table.find(agreement_id))
        .set((
            contract_registrations::certificate_number.eq(&number),
            contract_registrations::certificate_date.eq(input.certificate_date),
            contract_registrations::issuing_office.eq(&office),
            contract_registrations::vat_exemption_ref.eq(&vat),
            contract_registrations::registered_at.eq(now.naive_utc()),
            contract_registrations::registered_by.eq(who.user_id),
        ))
        .execute(conn)?;
    let released = release(conn, agreement_id, terms, rounding)?;
    crate::audit::append(
        conn,
        now,
        who,
        "registration.recorded",
        "agreement",
        agreement_id,
        &serde_json::json!({"after": {
            "certificate_number": number, "certificate_date": input.certificate_date,
            "issuing_office": office, "vat_exemption_ref": vat, "lines_released": released,
        }}),
    )?;
    let record = get(conn, agreement_id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("registration vanished")))?;
    Ok(record.view(today))
}

/// Where the payments of the contract of `agreement_id` start, from its conversion day, its
/// first sales and its registration.
pub fn start_of(
    conn: &mut DbConn,
    agreement_id: &str,
    terms: &Terms,
) -> Result<(Start, Effect, NaiveDate), AppError> {
    let (converted_on, first_revenue_on): (NaiveDate, Option<NaiveDate>) =
        conversion_contracts::table
            .find(agreement_id)
            .select((
                conversion_contracts::converted_on,
                conversion_contracts::first_revenue_on,
            ))
            .first(conn)?;
    let effect = get(conn, agreement_id)?.map_or(Effect::OnSigning, |r| r.effect());
    let start = payments_start(
        terms.first_payment.as_ref(),
        converted_on,
        first_revenue_on,
        effect,
    );
    Ok((start, effect, converted_on))
}

/// Starts the held lines whose wait is over: the fixed lines once the payments' start is
/// known (their days counted from it, as the terms say), the later lines once the contract
/// has taken effect (due no earlier than that day). Returns how many were released.
pub fn release(
    conn: &mut DbConn,
    agreement_id: &str,
    terms: &Terms,
    rounding: Rounding,
) -> Result<usize, AppError> {
    let (start, effect, converted_on) = start_of(conn, agreement_id, terms)?;
    let held: Vec<(i32, String, NaiveDate)> = schedule_lines::table
        .filter(schedule_lines::agreement_id.eq(agreement_id))
        .filter(schedule_lines::held.eq(true))
        .select((
            schedule_lines::number,
            schedule_lines::kind,
            schedule_lines::due,
        ))
        .load(conn)?;
    // Only the due days are taken from this quote: the amounts were fixed at conversion.
    let fixed_dues = match start {
        Start::From(day) => Some(
            quote_from(terms, converted_on, day, None, rounding)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("re-dating the schedule: {e}")))?
                .lines,
        ),
        Start::Waiting(_) => None,
    };
    let effective = match effect {
        Effect::OnSigning => Some(converted_on),
        Effect::Certificate(day) => Some(day),
        Effect::AwaitingCertificate => None,
    };
    let mut released = 0;
    for (number, kind, due) in held {
        let new_due = if FIXED_KINDS.contains(&kind.as_str()) {
            fixed_dues.as_ref().and_then(|lines| {
                lines
                    .iter()
                    .find(|l| l.number as i32 == number)
                    .map(|l| l.due)
            })
        } else {
            effective.map(|day| due.max(day))
        };
        if let Some(new_due) = new_due {
            diesel::update(schedule_lines::table.find((agreement_id, number)))
                .set((
                    schedule_lines::due.eq(new_due),
                    schedule_lines::held.eq(false),
                ))
                .execute(conn)?;
            released += 1;
        }
    }
    Ok(released)
}

/// What the held lines of a contract wait for.
pub fn waiting_for(start: &Start, effect: Effect) -> Vec<Waiting> {
    match start {
        Start::Waiting(w) => w.clone(),
        Start::From(_) if effect == Effect::AwaitingCertificate => vec![Waiting::Registration],
        Start::From(_) => Vec::new(),
    }
}

/// The contracts still to register whose deadline falls between `from` and `to`, soonest
/// first.
pub fn deadlines_between(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<RegistrationDue>> {
    contract_registrations::table
        .filter(contract_registrations::required)
        .filter(contract_registrations::certificate_date.is_null())
        .filter(contract_registrations::deadline.between(from, to))
        .order(contract_registrations::deadline.asc())
        .select((
            contract_registrations::agreement_id,
            contract_registrations::deadline.assume_not_null(),
        ))
        .load(conn)
}

/// The contracts of the scoped agreements kept in `zone` still to register whose deadline is
/// on or before `until` (overdue ones included), soonest first.
pub fn open_until(
    conn: &mut DbConn,
    scope: &crate::auth::policy::AgreementScope,
    zone: &str,
    until: NaiveDate,
) -> QueryResult<Vec<super::model::RegistrationOpen>> {
    use crate::db::{raw_query, Param};
    let (condition, mut params) = crate::agreements::model::scope_condition(scope);
    params.extend([Param::Text(zone.to_string()), Param::Date(until)]);
    let sql = format!(
        "SELECT a.id AS agreement_id, a.number AS number, r.deadline AS deadline \
         FROM contract_registrations r JOIN agreements a ON a.id = r.agreement_id \
         WHERE {condition} AND a.time_zone = ? AND r.required AND r.certificate_date IS NULL \
         AND r.deadline <= ? ORDER BY r.deadline, a.number"
    );
    raw_query(conn, &sql, &params)
}

/// Contracts converted up to `day` by where their registration stands on `day`: registered
/// by then, pending, overdue (`deadline` before `day`).
pub fn counts_on(conn: &mut DbConn, day: NaiveDate) -> QueryResult<RegistrationCounts> {
    let base = || {
        // `required` itself, not `required = ?`: the partial index `…_required` is only
        // chosen for a condition that says what its own WHERE says.
        contract_registrations::table
            .filter(contract_registrations::required)
            .filter(contract_registrations::signed_on.le(day))
    };
    let registered: i64 = base()
        .filter(contract_registrations::certificate_date.le(day))
        .count()
        .get_result(conn)?;
    let open = || {
        base().filter(
            contract_registrations::certificate_date
                .is_null()
                .or(contract_registrations::certificate_date.gt(day)),
        )
    };
    let overdue: i64 = open()
        .filter(contract_registrations::deadline.lt(day))
        .count()
        .get_result(conn)?;
    let all_open: i64 = open().count().get_result(conn)?;
    Ok(RegistrationCounts {
        registered,
        pending: all_open - overdue,
        overdue,
    })
}
