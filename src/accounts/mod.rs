//! Organisations and their users: the directory every other part scopes by. Admins manage
//! it; auditors read it; every user can read their own organisation.

pub mod invitation;
pub mod model;
pub mod registration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::audit::{self, Who};
use crate::auth::password;
use crate::config::LOCALES;
use crate::db::schema::{organisations, users};
use crate::db::DbConn;
use crate::error::{required_text, AppError, FieldError};
use crate::rules::roles::OrgKind;

pub use model::{NewOrganisation, NewUser, Organisation, Registration, RegistrationForm, User};

/// The longest e-mail address an account can have (RFC 5321's path limit, less the brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// A plausible e-mail address (one `@`, a dotted domain, no spaces), lower-cased.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= MAX_EMAIL_LEN
        && !email.chars().any(char::is_whitespace);
    ok.then_some(email)
}

/// The kind of organisation `id` (`sme`, `institute`, `insurer`, `operator`, …), if it exists.
pub fn kind_of(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    organisations::table
        .find(id)
        .select(organisations::kind)
        .first(conn)
        .optional()
}

/// An organisation as the agreement documents print a party: name, registration number,
/// province and contact address.
pub fn document_party(conn: &mut DbConn, id: &str) -> QueryResult<serde_json::Value> {
    let (name, registration_no, province, contact_email): (String, String, String, String) =
        organisations::table
            .find(id)
            .select((
                organisations::name,
                organisations::registration_no,
                organisations::province,
                organisations::contact_email,
            ))
            .first(conn)?;
    Ok(serde_json::json!({
        "name": name, "registration_no": registration_no, "province": province,
        "contact_email": contact_email,
    }))
}

/// Validates and creates an organisation, with its audit event.
pub fn create_organisation(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    input: &NewOrganisation,
) -> Result<Organisation, AppError> {
    let mut errors = Vec::new();
    let name = required_text(&mut errors, "name", &input.name, 200);
    let registration_no = required_text(&mut errors, "registration_no", &input.registration_no, 50);
    let province = required_text(&mut errors, "province", &input.province, 100);
    let contact_email = normalize_email(&input.contact_email);
    if contact_email.is_none() {
        errors.push(FieldError::new(
            "contact_email",
            "must be an e-mail address",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let org = Organisation {
        id: uuid::Uuid::now_v7().to_string(),
        kind: input.kind.as_str().to_string(),
        name,
        registration_no,
        province,
        contact_email: contact_email.unwrap_or_default(),
        created_at: now.naive_utc(),
        closed_at: None,
    };
    let exists: i64 = organisations::table
        .filter(organisations::kind.eq(&org.kind))
        .filter(organisations::registration_no.eq(&org.registration_no))
        .filter(organisations::closed_at.is_null())
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(AppError::Conflict(format!(
            "an organisation of kind {} with registration number {} already exists",
            org.kind, org.registration_no
        )));
    }
    diesel::insert_into(organisations::table)
        .values((
            organisations::id.eq(&org.id),
            organisations::kind.eq(&org.kind),
            organisations::name.eq(&org.name),
            organisations::registration_no.eq(&org.registration_no),
            organisations::province.eq(&org.province),
            organisations::contact_email.eq(&org.contact_email),
            organisations::created_at.eq(org.created_at),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        "organisation.created",
        "organisation",
        &org.id,
        &serde_json::json!({
            "after": {"kind": org.kind, "name": org.name, "registration_no": org.registration_no, "province": org.province}
        }),
    )?;
    Ok(org)
}

/// Validates and creates a user in an existing organisation of the matching kind.
pub fn create_user(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    input: &NewUser,
    default_locale: &str,
) -> Result<User, AppError> {
    let mut errors = Vec::new();
    let display_name = required_text(&mut errors, "display_name", &input.display_name, 200);
    let email = normalize_email(&input.email);
    match &email {
        None => errors.push(FieldError::new("email", "must be an e-mail address")),
        Some(e) => {
            if let Some(why) = password::check(&input.password, e) {
                errors.push(FieldError::new("password", why));
            }
        }
    }
    let locale = input
        .locale
        .clone()
        .unwrap_or_else(|| default_locale.to_string());
    if !LOCALES.contains(&locale.as_str()) {
        errors.push(FieldError::new(
            "locale",
            format!("must be one of {LOCALES:?}"),
        ));
    }
    let org: Option<Organisation> = organisations::table
        .find(&input.organisation_id)
        .select(Organisation::as_select())
        .first(conn)
        .optional()?;
    match &org {
        None => errors.push(FieldError::new("organisation_id", "no such organisation")),
        Some(o) if o.kind != input.role.organisation_kind().as_str() => {
            errors.push(FieldError::new(
                "role",
                format!(
                    "a {} user must belong to an organisation of kind {}, not {}",
                    input.role.as_str(),
                    input.role.organisation_kind().as_str(),
                    o.kind
                ),
            ))
        }
        Some(_) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email = email.unwrap_or_default();
    let taken: i64 = users::table
        .filter(users::email.eq(&email))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "a user with e-mail {email} already exists"
        )));
    }
    let hash = password::hash(&input.password)?;
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: input.organisation_id.clone(),
        email,
        display_name,
        role: input.role.as_str().to_string(),
        locale,
        active: true,
        created_at: now.naive_utc(),
    };
    insert_user(conn, now, who, &user, &hash, "user.created")?;
    Ok(user)
}

/// Writes `user` with password hash `hash` and appends `kind` (`user.created`,
/// `user.invited`) to the audit chain with its organisation and role.
pub(crate) fn insert_user(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    user: &User,
    hash: &str,
    kind: &str,
) -> Result<(), AppError> {
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&user.id),
            users::organisation_id.eq(&user.organisation_id),
            users::email.eq(&user.email),
            users::display_name.eq(&user.display_name),
            users::role.eq(&user.role),
            users::password_hash.eq(hash),
            users::locale.eq(&user.locale),
            users::active.eq(true),
            users::created_at.eq(user.created_at),
        ))
        .execute(conn)?;
    audit::append(
        conn,
        now,
        who,
        kind,
        "user",
        &user.id,
        &serde_json::json!({
            "after": {"organisation_id": user.organisation_id, "role": user.role}
        }),
    )?;
    Ok(())
}

/// A page of organisations by name, and how many there are.
pub fn list_organisations(
    conn: &mut DbConn,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Organisation>, i64)> {
    let total = organisations::table.count().get_result(conn)?;
    let items = organisations::table
        .order(organisations::name.asc())
        .limit(limit)
        .offset(offset)
        .select(Organisation::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// One organisation.
pub fn get_organisation(conn: &mut DbConn, id: &str) -> QueryResult<Organisation> {
    organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(conn)
}

/// A page of users by e-mail address, and how many there are.
pub fn list_users(conn: &mut DbConn, limit: i64, offset: i64) -> QueryResult<(Vec<User>, i64)> {
    let total = users::table.count().get_result(conn)?;
    let items = users::table
        .order(users::email.asc())
        .limit(limit)
        .offset(offset)
        .select(User::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// The oldest organisation of `kind`, if there is one.
pub fn first_of_kind(conn: &mut DbConn, kind: OrgKind) -> QueryResult<Option<String>> {
    organisations::table
        .filter(organisations::kind.eq(kind.as_str()))
        .order(organisations::created_at.asc())
        .select(organisations::id)
        .first(conn)
        .optional()
}

/// How many users there are.
pub fn user_count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Up to this many ids are read one by one: a point read is kept prepared by the connection,
/// while `IN (…)` is parsed anew for each count of ids (a page names a few organisations).
const POINT_READS: usize = 8;

/// The organisations of `ids` (each once).
pub fn organisations_by_id(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Organisation>> {
    if ids.len() > POINT_READS {
        return organisations::table
            .filter(organisations::id.eq_any(ids))
            .select(Organisation::as_select())
            .load(conn);
    }
    let mut found: Vec<Organisation> = Vec::with_capacity(ids.len());
    for id in ids {
        if found.iter().any(|o| &o.id == id) {
            continue;
        }
        // On the concrete connection, so the prepared statement is cached.
        if let Some(o) = crate::on_backend!(&mut *conn, |c| organisations::table
            .find(id)
            .select(Organisation::as_select())
            .first(c)
            .optional())?
        {
            found.push(o);
        }
    }
    Ok(found)
}

/// The display names of the users `ids`, as (id, name), each once.
pub fn display_names(conn: &mut DbConn, ids: Vec<&String>) -> QueryResult<Vec<(String, String)>> {
    if ids.len() > POINT_READS {
        return users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::display_name))
            .load(conn);
    }
    let mut found: Vec<(String, String)> = Vec::with_capacity(ids.len());
    for id in ids {
        if found.iter().any(|(known, _)| known == id) {
            continue;
        }
        if let Some(name) = crate::on_backend!(&mut *conn, |c| users::table
            .find(id)
            .select(users::display_name)
            .first::<String>(c)
            .optional())?
        {
            found.push((id.clone(), name));
        }
    }
    Ok(found)
}

/// One user.
pub fn get_user(conn: &mut DbConn, id: &str) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

/// The user with e-mail address `email` (already normalised), if there is one.
pub fn user_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Sets the language `user_id` reads the pages and mail in (`vi` or `en`).
pub fn set_locale(conn: &mut DbConn, user_id: &str, locale: &str) -> Result<(), AppError> {
    if !LOCALES.contains(&locale) {
        return Err(AppError::Validation(vec![FieldError::new(
            "locale", "locale",
        )]));
    }
    diesel::update(users::table.find(user_id))
        .set(users::locale.eq(locale))
        .execute(conn)?;
    Ok(())
}

/// Stores `hash` (an argon2id PHC string) as the password of `user_id`.
pub fn set_password_hash(conn: &mut DbConn, user_id: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
}

/// Whether an open organisation (of any kind) has registration (tax) number
/// `registration_no`: a closed one's (its registration refused) is free again.
pub fn registration_no_taken(conn: &mut DbConn, registration_no: &str) -> QueryResult<bool> {
    let n: i64 = organisations::table
        .filter(organisations::registration_no.eq(registration_no))
        .filter(organisations::closed_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Whether a user has e-mail address `email` (already normalised).
pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    let n: i64 = users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Frees `email`, the address of `user_id` (a refused applicant, who cannot sign in), for a
/// new registration or invitation.
pub fn release_email(conn: &mut DbConn, user_id: &str, email: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::email.eq(format!("{email}{}{user_id}", model::RELEASED)))
        .execute(conn)
}

/// Lets `user_id` sign in, or not.
pub fn set_active(conn: &mut DbConn, user_id: &str, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::active.eq(active))
        .execute(conn)
}
