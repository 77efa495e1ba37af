//! Answers kept per user and `Idempotency-Key`, so a creating request retried under the same
//! key gets the first answer again instead of creating twice. Written in the creating
//! transaction; a retry waits for the first to commit (a lock on the key), then replays it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{lock_key, DbConn};

/// The answer stored for `key`: its request hash, status and body.
pub struct Stored {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// Waits for any other request under `user_id` and `key` to commit, then returns the answer it
/// stored, if any. Inside the caller's transaction.
pub fn replay(conn: &mut DbConn, user_id: &str, key: &str) -> QueryResult<Option<Stored>> {
    lock_key(conn, &format!("idempotency\u{1f}{user_id}\u{1f}{key}"))?;
    let prior: Option<(String, i32, String)> = idempotency_keys::table
        .find((user_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    Ok(prior.map(|(request_hash, status, body)| Stored {
        request_hash,
        status: status as u16,
        body,
    }))
}

/// Keeps the answer to the request under `user_id` and `key`.
pub fn keep(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user_id: &str,
    key: &str,
    answer: &Stored,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(&answer.request_hash),
            idempotency_keys::status.eq(i32::from(answer.status)),
            idempotency_keys::body.eq(&answer.body),
            idempotency_keys::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}
