//! Users an admin invites by e-mail, and the directory as admins manage it. An invited user
//! is created without a password (none can sign in with it); the mailed link — a random
//! 256-bit token stored only as its SHA-256, working once and for a limited time — lets them
//! set one. Using a link uses up every other link of the user. Field errors carry a code
//! (`required`, `email`, `taken_email`, `role`, …) the pages say in the visitor's language.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::audit::Who;
use crate::auth::session::{new_token, token_hash};
use crate::config::LOCALES;
use crate::db::schema::{invitations, organisations, users};
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::rules::roles::{OrgKind, Role};

use super::model::{Invite, Organisation, OrganisationForm, User};
use super::registration::text;

/// The password an invited user has until they set one: no password verifies against it.
const NO_PASSWORD: &str = "!invited";

/// The form's errors as codes, before [`super::create_organisation`] (whose messages are the
/// API's): a kind of the list, the texts, the address, a tax code no open organisation of the
/// kind has.
pub fn check_organisation(
    conn: &mut DbConn,
    form: &OrganisationForm,
) -> QueryResult<(Vec<FieldError>, Option<OrgKind>)> {
    let mut errors = Vec::new();
    let kind = OrgKind::ALL
        .into_iter()
        .find(|k| k.as_str() == form.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new("kind", "required"));
    }
    text(&mut errors, "name", &form.name, 200);
    let no = text(&mut errors, "registration_no", &form.registration_no, 50);
    text(&mut errors, "province", &form.province, 100);
    if super::normalize_email(&form.contact_email).is_none() {
        errors.push(FieldError::new("contact_email", "email"));
    }
    if let (Some(kind), false) = (kind, no.is_empty()) {
        let taken: i64 = organisations::table
            .filter(organisations::kind.eq(kind.as_str()))
            .filter(organisations::registration_no.eq(&no))
            .filter(organisations::closed_at.is_null())
            .count()
            .get_result(conn)?;
        if taken > 0 {
            errors.push(FieldError::new("registration_no", "taken_tax_code"));
        }
    }
    Ok((errors, kind))
}

/// Creates the user `input` describes in organisation `org`, without a password, and a link
/// for them to set one (working for `ttl`), inside the caller's transaction; appends
/// `user.invited`. Returns the user and the link's token.
pub fn invite(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    who: Who<'_>,
    org: &Organisation,
    input: &Invite,
    ttl: Duration,
) -> Result<(User, String), AppError> {
    let mut errors = Vec::new();
    let display_name = text(&mut errors, "display_name", &input.display_name, 200);
    let email = super::normalize_email(&input.email);
    match &email {
        None => errors.push(FieldError::new("email", "email")),
        Some(e) if super::email_taken(conn, e)? => {
            errors.push(FieldError::new("email", "taken_email"))
        }
        Some(_) => {}
    }
    let role =
        Role::parse(input.role.trim()).filter(|r| r.organisation_kind().as_str() == org.kind);
    if role.is_none() {
        errors.push(FieldError::new("role", "role"));
    }
    if !LOCALES.contains(&input.locale.as_str()) {
        errors.push(FieldError::new("locale", "required"));
    }
    if org.closed_at.is_some() {
        return Err(AppError::Conflict("the organisation is closed".into()));
    }
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        email,
        display_name,
        role: role.as_str().to_string(),
        locale: input.locale.clone(),
        active: true,
        created_at: now.naive_utc(),
    };
    super::insert_user(conn, now, who, &user, NO_PASSWORD, "user.invited")?;
    let by = who.user_id.unwrap_or_default();
    let token = issue(conn, &user.id, by, now, ttl)?;
    Ok((user, token))
}

/// A new invitation link for `user_id` from admin `by`, working for `ttl` from `now`.
pub fn issue(
    conn: &mut DbConn,
    user_id: &str,
    by: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> QueryResult<String> {
    let (token, hash) = new_token();
    diesel::insert_into(invitations::table)
        .values((
            invitations::token_hash.eq(&hash),
            invitations::user_id.eq(user_id),
            invitations::invited_by.eq(by),
            invitations::created_at.eq(now.naive_utc()),
            invitations::expires_at.eq((now + ttl).naive_utc()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The user whose unused, unexpired invitation `token` is, if it is one.
pub fn holder(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> QueryResult<Option<User>> {
    let id: Option<String> = invitations::table
        .find(token_hash(token))
        .filter(invitations::used_at.is_null())
        .filter(invitations::expires_at.gt(now.naive_utc()))
        .select(invitations::user_id)
        .first(conn)
        .optional()?;
    match id {
        Some(id) => super::get_user(conn, &id).optional(),
        None => Ok(None),
    }
}

/// Uses up invitation `token` and every other invitation of its user; returns the user, or
/// `None` when the link was used or has expired (or never was).
pub fn redeem(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> QueryResult<Option<User>> {
    let Some(user) = holder(conn, token, now)? else {
        return Ok(None);
    };
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(&user.id))
            .filter(invitations::used_at.is_null()),
    )
    .set(invitations::used_at.eq(now.naive_utc()))
    .execute(conn)?;
    Ok(Some(user))
}

/// Of `ids`, the users invited who have not set their password yet (no invitation of theirs
/// was used).
pub fn not_accepted(conn: &mut DbConn, ids: &[String]) -> QueryResult<BTreeSet<String>> {
    let rows: Vec<(String, Option<chrono::NaiveDateTime>)> = invitations::table
        .filter(invitations::user_id.eq_any(ids))
        .select((invitations::user_id, invitations::used_at))
        .load(conn)?;
    let mut used: BTreeMap<String, bool> = BTreeMap::new();
    for (id, at) in rows {
        *used.entry(id).or_default() |= at.is_some();
    }
    Ok(used
        .into_iter()
        .filter(|(_, used)| !used)
        .map(|(id, _)| id)
        .collect())
}

/// An organisation as the admins' list shows it: whether it is closed and how many users it
/// has.
#[derive(Debug, Clone)]
pub struct Listed {
    pub organisation: Organisation,
    pub users: i64,
}

/// A page of organisations (of `kind`, when given) by name, each with its number of users,
/// and how many there are.
pub fn organisations(
    conn: &mut DbConn,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Listed>, i64)> {
    let filtered = || {
        let mut q = organisations::table.into_boxed();
        if let Some(k) = kind {
            q = q.filter(organisations::kind.eq(k.to_string()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let items: Vec<Organisation> = filtered()
        .order((organisations::name.asc(), organisations::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(Organisation::as_select())
        .load(conn)?;
    let ids: Vec<String> = items.iter().map(|o| o.id.clone()).collect();
    let counts: Vec<(String, i64)> = users::table
        .filter(users::organisation_id.eq_any(&ids))
        .group_by(users::organisation_id)
        .select((users::organisation_id, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: BTreeMap<String, i64> = counts.into_iter().collect();
    let items = items
        .into_iter()
        .map(|o| Listed {
            users: counts.get(&o.id).copied().unwrap_or(0),
            organisation: o,
        })
        .collect();
    Ok((items, total))
}

/// The users of organisation `id`, by name.
pub fn members(conn: &mut DbConn, id: &str) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::organisation_id.eq(id))
        .order((users::display_name.asc(), users::email.asc()))
        .select(User::as_select())
        .load(conn)
}

/// A page of users (active or deactivated only, when `active` is given; whose name or
/// address contains `q`, when given), by e-mail address, with the name of each one's
/// organisation, and how many there are.
pub fn users(
    conn: &mut DbConn,
    active: Option<bool>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<(User, String)>, i64)> {
    let pattern = q.map(|q| {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let filtered = || {
        let mut query = users::table.inner_join(organisations::table).into_boxed();
        if let Some(a) = active {
            query = query.filter(users::active.eq(a));
        }
        if let Some(p) = &pattern {
            query = query.filter(
                users::email
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(users::display_name).like(p.clone()).escape('\\')),
            );
        }
        query
    };
    let total = filtered().count().get_result(conn)?;
    let items = filtered()
        .order((users::email.asc(), users::id.asc()))
        .limit(limit)
        .offset(offset)
        .select((User::as_select(), organisations::name))
        .load(conn)?;
    Ok((items, total))
}

diesel::define_sql_function! {
    /// SQL's `lower`, so a name is found whatever its case.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Closes organisation `id` (its registration refused): its registration number is free for
/// a new registration; the record stays.
pub fn close(conn: &mut DbConn, id: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(organisations::table.find(id))
        .set(organisations::closed_at.eq(now.naive_utc()))
        .execute(conn)
}
