//! Running the service: the online backup (`usefirst backup`) and the metrics' readings
//! (`/metrics`).

use std::path::Path;

use crate::audit::{self, Verification};
use crate::db::Db;
use crate::error::AppError;
use crate::AppState;

/// What a backup wrote, and the audit chain walked in the copy.
#[derive(Debug)]
pub struct Backup {
    pub bytes: u64,
    pub chain: Verification,
}

/// Copies the SQLite database to `out` while the service runs (see [`Db::backup_to`]), then
/// opens the copy on its own and walks its audit chain, so a copy that would not restore is
/// known at once. PostgreSQL: refused, naming `pg_dump`.
pub fn backup(db: &Db, out: &Path) -> anyhow::Result<Backup> {
    let bytes = db.backup_to(out)?;
    let mut copy = Db::open_sqlite_file(out)?;
    let chain = audit::verify(&mut copy)?;
    Ok(Backup { bytes, chain })
}

/// Whether a `/metrics` request may read them: with `metrics.token` set, only with
/// `Authorization: Bearer <token>` (compared in constant time); without it, only from the
/// machine itself (`loopback`: the connection's address is 127.0.0.0/8 or ::1). Anyone else
/// is told there is nothing there (404).
pub fn may_read_metrics(
    state: &AppState,
    bearer: Option<&str>,
    loopback: bool,
) -> Result<(), AppError> {
    let token = state.cfg.metrics.token.as_bytes();
    let allowed = if token.is_empty() {
        loopback
    } else {
        bearer.is_some_and(|given| crate::auth::same_secret(given.as_bytes(), token))
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The metrics in Prometheus's text format: what this instance counted, with the pools, the
/// SQLite writer's queue, the outbox's depth and the age of its oldest unsent message read now.
pub fn metrics(state: &AppState) -> Result<String, AppError> {
    let (unsent, oldest) = {
        let mut conn = state.db.reader()?;
        crate::mail::admin::unsent(&mut conn)?
    };
    let now = state.clock.now().naive_utc();
    let snapshot = crate::metrics::Snapshot {
        pools: state.db.pool_use(),
        writes_waiting: state.db.writes_waiting(),
        outbox_unsent: unsent,
        outbox_oldest_seconds: oldest.map_or(0, |at| (now - at).num_seconds().max(0)),
    };
    state
        .metrics
        .render(&snapshot)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding the metrics: {e}")))
}
