//! The outbox as admins see it: the messages by status, newest first, and a failed message
//! sent again.

use diesel::prelude::*;

use super::model::{Notification, OutboxFilter, OutboxMessage};
use crate::db::schema::outbox;
use crate::db::DbConn;
use crate::error::AppError;

/// A page of the outbox (`status` only, when given), newest first, and how many messages
/// there are in all.
pub fn list(
    conn: &mut DbConn,
    status: Option<&str>,
    per_page: i64,
    offset: i64,
) -> Result<(Vec<OutboxMessage>, i64), AppError> {
    let filtered = || {
        let mut q = outbox::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(outbox::status.eq(s.to_string()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let items: Vec<OutboxMessage> = filtered()
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(per_page)
        .offset(offset)
        .select(OutboxMessage::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// Puts failed message `id` back in the queue, due at `now`, with its Message-ID, inside the
/// caller's transaction (404 when there is no such message, 409 when it has not failed).
pub fn retry(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
    id: &str,
) -> Result<OutboxMessage, AppError> {
    let status: String = outbox::table
        .find(id)
        .select(outbox::status)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    if status != "failed" {
        return Err(AppError::Conflict(format!(
            "only failed messages are retried; this one is {status}"
        )));
    }
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("pending"),
            outbox::next_attempt_at.eq(now),
            outbox::claimed_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(outbox::table
        .find(id)
        .select(OutboxMessage::as_select())
        .first(conn)?)
}

/// A page of the messages sent to `email`, newest first, and how many there are in all.
pub fn to_recipient(
    conn: &mut DbConn,
    email: &str,
    per_page: i64,
    offset: i64,
) -> Result<(Vec<Notification>, i64), AppError> {
    let total: i64 = outbox::table
        .filter(outbox::recipient_email.eq(email))
        .count()
        .get_result(conn)?;
    let items: Vec<Notification> = outbox::table
        .filter(outbox::recipient_email.eq(email))
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(per_page)
        .offset(offset)
        .select(Notification::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// A page of the messages `filter` asks for, newest first, and how many there are.
pub fn search(
    conn: &mut DbConn,
    filter: &OutboxFilter,
    per_page: i64,
    offset: i64,
) -> Result<(Vec<OutboxMessage>, i64), AppError> {
    let pattern = filter.recipient.as_ref().map(|r| {
        let escaped = r
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let filtered = || {
        let mut q = outbox::table.into_boxed();
        if let Some(s) = &filter.status {
            q = q.filter(outbox::status.eq(s.clone()));
        }
        if let Some(k) = &filter.kind {
            q = q.filter(outbox::kind.eq(k.clone()));
        }
        if let Some(p) = &pattern {
            q = q.filter(outbox::recipient_email.like(p.clone()).escape('\\'));
        }
        if let Some(from) = filter.from {
            q = q.filter(outbox::created_at.ge(from));
        }
        if let Some(until) = filter.until {
            q = q.filter(outbox::created_at.lt(until));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let items: Vec<OutboxMessage> = filtered()
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(per_page)
        .offset(offset)
        .select(OutboxMessage::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// One message (404 when there is no such message).
pub fn get(conn: &mut DbConn, id: &str) -> Result<OutboxMessage, AppError> {
    outbox::table
        .find(id)
        .select(OutboxMessage::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// How many messages wait to be sent (`pending`: new, or to be retried), and when the oldest
/// of them was queued.
pub fn unsent(conn: &mut DbConn) -> Result<(i64, Option<chrono::NaiveDateTime>), AppError> {
    Ok(outbox::table
        .filter(outbox::status.eq("pending"))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::created_at),
        ))
        .first(conn)?)
}

/// How many messages are in each state.
pub fn by_status(conn: &mut DbConn) -> Result<Vec<(String, i64)>, AppError> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}
