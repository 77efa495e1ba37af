//! Sign-in's records: the failed attempts by e-mail address and by client address (for
//! throttling) and a user's credentials by e-mail address; and the request and answer of
//! signing in.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::Actor;
use crate::db::schema::{login_failures, users};
use crate::db::DbConn;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: Actor,
}

/// What sign-in checks of a user: their id, password hash and whether they are active.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: String,
    pub password_hash: String,
    pub active: bool,
}

/// How many failed sign-ins `email` has had after `since`.
pub fn failures_since(conn: &mut DbConn, email: &str, since: DateTime<Utc>) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::at.gt(since.naive_utc()))
        .count()
        .get_result(conn)
}

/// How many failed sign-ins came from client address `address` (as
/// [`crate::auth::throttle::key`] writes it) after `since`, whatever e-mail they tried.
pub fn failures_from_since(
    conn: &mut DbConn,
    address: &str,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::at.gt(since.naive_utc()))
        .count()
        .get_result(conn)
}

/// What a refused applicant's address becomes, so that the address is free to register
/// again while the record still shows whose it was: `{email}#refused-{user_id}`, which no
/// one can sign in with or be mailed at.
pub const RELEASED: &str = "#refused-";

/// The credentials of the user with e-mail address `email`, if there is one; otherwise those
/// of the latest refused applicant who registered with it (its address released, never
/// active), so that the right password still learns the registration was not approved.
pub fn credentials(conn: &mut DbConn, email: &str) -> QueryResult<Option<Credentials>> {
    let mut row: Option<(String, String, bool)> = users::table
        .filter(users::email.eq(email))
        .select((users::id, users::password_hash, users::active))
        .first(conn)
        .optional()?;
    if row.is_none() {
        // `{email}#refused-{id}`: every address with that prefix, compared as text (a LIKE
        // pattern would read `_` and `%` in the address as wildcards).
        let from = format!("{email}{RELEASED}");
        // The end: the prefix with its last character, `-`, raised to the next one, `.`.
        let to = format!("{email}{}.", RELEASED.trim_end_matches('-'));
        row = users::table
            .filter(users::email.ge(from))
            .filter(users::email.lt(to))
            .filter(users::active.eq(false))
            .order(users::created_at.desc())
            .select((users::id, users::password_hash, users::active))
            .first(conn)
            .optional()?;
    }
    Ok(row.map(|(user_id, password_hash, active)| Credentials {
        user_id,
        password_hash,
        active,
    }))
}

/// Forgets the failed sign-ins of `email` (after a successful one).
pub fn clear_failures(conn: &mut DbConn, email: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn)
}

/// Records a failed sign-in of `email` at `now`, from client address `address` (empty when
/// it came from none: a wrong current password on the profile page).
pub fn record_failure(
    conn: &mut DbConn,
    email: &str,
    address: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
            login_failures::email.eq(email),
            login_failures::address.eq(address),
            login_failures::at.eq(now.naive_utc()),
        ))
        .execute(conn)
}
