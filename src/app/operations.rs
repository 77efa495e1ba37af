//! Running the service: the online backup (`usefirst backup`).

use std::path::Path;

use crate::audit::{self, Verification};
use crate::db::Db;

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
