//! Enterprises registering themselves: the organisation and its first user are created with
//! the application, the user unable to sign in; the applicant confirms the e-mail address
//! with a mailed link (single use, limited in time), then an admin approves (the user may
//! sign in) or refuses with a reason. Field errors name the form's fields and carry a code
//! (`required`, `taken_tax_code`, …) the pages say in the visitor's language.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::audit::Who;
use crate::auth::password;
use crate::auth::session::{new_token, token_hash};
use crate::db::schema::{organisations, registrations, users};
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::rules::roles::{OrgKind, Role};

use super::model::{NewOrganisation, NewUser, Registration, RegistrationForm};

pub const UNCONFIRMED: &str = "unconfirmed";
pub const CONFIRMED: &str = "confirmed";
pub const APPROVED: &str = "approved";
pub const REFUSED: &str = "refused";

/// A text field that must be given and at most `max` characters; its trimmed value (the error
/// a code for the pages' words, where `crate::error::required_text` writes the API's message).
pub(super) fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(field, "too_long"));
    }
    v.to_string()
}

/// Checks the form and creates the enterprise, its first user (who cannot sign in yet) and
/// the application, inside the caller's transaction; returns the application and the token
/// of the link that confirms the e-mail address (working for `confirm_ttl`).
pub fn register(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    form: &RegistrationForm,
    locale: &str,
    confirm_ttl: Duration,
) -> Result<(Registration, String), AppError> {
    let mut errors = Vec::new();
    let organisation_name = text(
        &mut errors,
        "organisation_name",
        &form.organisation_name,
        200,
    );
    let registration_no = text(&mut errors, "registration_no", &form.registration_no, 50);
    let province = text(&mut errors, "province", &form.province, 100);
    let sector = text(&mut errors, "sector", &form.sector, 100);
    let address = text(&mut errors, "address", &form.address, 300);
    let name = text(&mut errors, "name", &form.name, 200);
    if !registration_no.is_empty() && super::registration_no_taken(conn, &registration_no)? {
        errors.push(FieldError::new("registration_no", "taken_tax_code"));
    }
    let email = super::normalize_email(&form.email);
    match &email {
        None => errors.push(FieldError::new("email", "email")),
        Some(e) if super::email_taken(conn, e)? => {
            errors.push(FieldError::new("email", "taken_email"))
        }
        Some(_) => {}
    }
    if let Some(w) = password::weakness(&form.password, email.as_deref().unwrap_or("")) {
        errors.push(FieldError::new("password", w.code()));
    } else if form.password != form.password_again {
        errors.push(FieldError::new("password_again", "mismatch"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email = email.unwrap_or_default();
    let org = super::create_organisation(
        conn,
        now,
        Who::SYSTEM,
        &NewOrganisation {
            kind: OrgKind::Sme,
            name: organisation_name,
            registration_no,
            province,
            contact_email: email.clone(),
        },
    )?;
    let user = super::create_user(
        conn,
        now,
        Who::SYSTEM,
        &NewUser {
            organisation_id: org.id.clone(),
            email,
            display_name: name,
            role: Role::Sme,
            password: form.password.clone(),
            locale: Some(locale.to_string()),
        },
        locale,
    )?;
    super::set_active(conn, &user.id, false)?;
    let (token, hash) = new_token();
    diesel::insert_into(registrations::table)
        .values((
            registrations::organisation_id.eq(&org.id),
            registrations::user_id.eq(&user.id),
            registrations::sector.eq(&sector),
            registrations::address.eq(&address),
            registrations::status.eq(UNCONFIRMED),
            registrations::confirm_token_hash.eq(&hash),
            registrations::confirm_expires_at.eq((now + confirm_ttl).naive_utc()),
            registrations::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let registration = get(conn, &org.id)?.ok_or(AppError::NotFound)?;
    Ok((registration, token))
}

/// The application whose confirmation link `token` is, while the link works (the address
/// not confirmed yet, the link not expired).
pub fn confirmable(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<String>> {
    registrations::table
        .filter(registrations::confirm_token_hash.eq(token_hash(token)))
        .filter(registrations::status.eq(UNCONFIRMED))
        .filter(registrations::confirm_expires_at.gt(now.naive_utc()))
        .select(registrations::organisation_id)
        .first(conn)
        .optional()
}

/// Confirms the e-mail address of the application whose link `token` is; `None` when the
/// link was used or has expired (or never was).
pub fn confirm(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Registration>> {
    let Some(id) = confirmable(conn, token, now)? else {
        return Ok(None);
    };
    diesel::update(registrations::table.find(&id))
        .set((
            registrations::status.eq(CONFIRMED),
            registrations::confirmed_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    get(conn, &id)
}

/// The state of the application `user_id` made, if they registered themselves.
pub fn status_of_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<String>> {
    registrations::table
        .filter(registrations::user_id.eq(user_id))
        .select(registrations::status)
        .first(conn)
        .optional()
}

type Row = (
    (
        String,
        String,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<String>,
    ),
    (String, String, String),
    (String, String, String, String),
);

fn from_row(row: Row) -> Registration {
    let (
        (organisation_id, sector, address, status, created_at, confirmed_at, decided_at, reason),
        (organisation_name, registration_no, province),
        (user_id, name, email, locale),
    ) = row;
    Registration {
        organisation_id,
        organisation_name,
        registration_no,
        province,
        sector,
        address,
        user_id,
        name,
        email: super::model::registered_email(&email).to_string(),
        locale,
        status,
        created_at,
        confirmed_at,
        decided_at,
        reason,
    }
}

/// Applications whose state is one of `statuses`.
fn load(conn: &mut DbConn, statuses: &[&str], id: Option<&str>) -> QueryResult<Vec<Registration>> {
    let mut query = registrations::table
        .inner_join(organisations::table)
        .inner_join(users::table)
        .filter(registrations::status.eq_any(statuses.to_vec()))
        .select((
            (
                registrations::organisation_id,
                registrations::sector,
                registrations::address,
                registrations::status,
                registrations::created_at,
                registrations::confirmed_at,
                registrations::decided_at,
                registrations::reason,
            ),
            (
                organisations::name,
                organisations::registration_no,
                organisations::province,
            ),
            (users::id, users::display_name, users::email, users::locale),
        ))
        .into_boxed();
    if let Some(id) = id {
        query = query.filter(registrations::organisation_id.eq(id.to_string()));
    }
    let rows: Vec<Row> = query.load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// One application.
pub fn get(conn: &mut DbConn, organisation_id: &str) -> QueryResult<Option<Registration>> {
    let all = [UNCONFIRMED, CONFIRMED, APPROVED, REFUSED];
    Ok(load(conn, &all, Some(organisation_id))?.into_iter().next())
}

/// The applications waiting for an admin: the confirmed ones first (the longest waiting
/// first), then those whose address is not confirmed yet (oldest first).
pub fn open(conn: &mut DbConn) -> QueryResult<Vec<Registration>> {
    let mut all = load(conn, &[UNCONFIRMED, CONFIRMED], None)?;
    all.sort_by(|a, b| {
        (a.status != CONFIRMED, a.confirmed_at, a.created_at).cmp(&(
            b.status != CONFIRMED,
            b.confirmed_at,
            b.created_at,
        ))
    });
    Ok(all)
}

/// Approves (`reason` none) or refuses an application, by admin `by`: approval needs a
/// confirmed address and lets the user sign in; refusal takes an application not yet
/// decided. Anything else is a conflict. Returns the application before the decision.
pub fn decide(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    organisation_id: &str,
    by: &str,
    reason: Option<&str>,
) -> Result<Registration, AppError> {
    let reg = get(conn, organisation_id)?.ok_or(AppError::NotFound)?;
    let allowed = match reason {
        None => reg.status == CONFIRMED,
        Some(_) => reg.status == CONFIRMED || reg.status == UNCONFIRMED,
    };
    if !allowed {
        return Err(AppError::Conflict(format!(
            "the registration is {}",
            reg.status
        )));
    }
    let status = if reason.is_none() { APPROVED } else { REFUSED };
    diesel::update(registrations::table.find(organisation_id))
        .set((
            registrations::status.eq(status),
            registrations::decided_at.eq(now.naive_utc()),
            registrations::decided_by.eq(by),
            registrations::reason.eq(reason),
        ))
        .execute(conn)?;
    match reason {
        None => super::set_active(conn, &reg.user_id, true)?,
        // The record stays; the tax code and the address are free for a new registration.
        Some(_) => {
            super::invitation::close(conn, organisation_id, now)?;
            super::release_email(conn, &reg.user_id, &reg.email)?
        }
    };
    Ok(reg)
}
