//! Links to set a forgotten password: a random token (256 bits) mailed to the user, stored
//! only as its SHA-256, working once and for a limited time.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::auth::session::{new_token, token_hash};
use crate::db::schema::password_resets;
use crate::db::DbConn;

/// A new link token for `user_id`, working for `ttl` from `now`.
pub fn issue(
    conn: &mut DbConn,
    user_id: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> QueryResult<String> {
    let (token, hash) = new_token();
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(&hash),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(now.naive_utc()),
            password_resets::expires_at.eq((now + ttl).naive_utc()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// How many links `user_id` was sent after `since`.
pub fn issued_since(conn: &mut DbConn, user_id: &str, since: DateTime<Utc>) -> QueryResult<i64> {
    password_resets::table
        .filter(password_resets::user_id.eq(user_id))
        .filter(password_resets::created_at.gt(since.naive_utc()))
        .count()
        .get_result(conn)
}

/// The user whose unused, unexpired link `token` is, if it is one.
pub fn holder(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> QueryResult<Option<String>> {
    password_resets::table
        .find(token_hash(token))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now.naive_utc()))
        .select(password_resets::user_id)
        .first(conn)
        .optional()
}

/// Uses up link `token` and every other link of its user; returns the user, or `None` when
/// the link was used or has expired (or never was).
pub fn redeem(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> QueryResult<Option<String>> {
    let Some(user_id) = holder(conn, token, now)? else {
        return Ok(None);
    };
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(&user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now.naive_utc()))
    .execute(conn)?;
    Ok(Some(user_id))
}
