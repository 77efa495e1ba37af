//! What mail does across the parts: the `deliver-mail` job, which reads the files a message
//! carries from where they are stored (the monthly reports of `reports`) as it sends; the
//! admins told of a problem; and the admins' outbox, listed and retried.

use chrono::{DateTime, Utc};

use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::error::AppError;
use crate::mail::deliver::{deliver_due, Delivery};
use crate::mail::model::{Attachment, DeliveryCounts, File, Notification, OutboxMessage};
use crate::AppState;

/// Delivers the messages that are due; returns what happened to them.
pub fn deliver(state: &AppState) -> Result<DeliveryCounts, AppError> {
    deliver_due(&Delivery {
        db: &state.db,
        cfg: &state.cfg.mail,
        clock: &state.clock,
        transport: &state.mail_transport,
        read_file: &attachment,
    })
}

/// A stored report's file, for a message that carries it; `None` when there is no such
/// report or format.
fn attachment(conn: &mut DbConn, a: &Attachment) -> Result<Option<File>, AppError> {
    let file = crate::reports::store::file(conn, &a.report_id, &a.format, &a.lang)?;
    Ok(file.map(|f| File {
        name: f.name,
        content_type: f.content_type.to_string(),
        bytes: std::sync::Arc::new(f.bytes),
    }))
}

/// Writes one message of `kind` to every active platform administrator, inside the caller's
/// transaction. Returns how many were written.
pub fn enqueue_admins(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    ctx: serde_json::Value,
) -> Result<usize, AppError> {
    crate::mail::enqueue_admins(conn, now, kind, ctx)
}

/// A page of the outbox (`status` only, when given), newest first, and how many messages
/// there are in all.
pub fn outbox(
    state: &AppState,
    status: Option<&str>,
    per_page: i64,
    offset: i64,
) -> Result<(Vec<OutboxMessage>, i64), AppError> {
    let mut conn = state.db.reader()?;
    crate::mail::admin::list(&mut conn, status, per_page, offset)
}

/// Sends failed message `id` again: it goes back to the queue, due now, with its Message-ID.
pub fn retry(state: &AppState, id: &str) -> Result<OutboxMessage, AppError> {
    let now = state.clock.now().naive_utc();
    state
        .db
        .write(|conn| crate::mail::admin::retry(conn, now, id))
}

/// A page of the messages sent to the signed-in user (to their e-mail address), newest
/// first, and how many there are in all: theirs only.
pub fn notifications(
    state: &AppState,
    actor: &Actor,
    per_page: i64,
    offset: i64,
) -> Result<(Vec<Notification>, i64), AppError> {
    let mut conn = state.db.reader()?;
    crate::mail::admin::to_recipient(&mut conn, &actor.email, per_page, offset)
}
