//! Walking the audit chain: the check admins and auditors ask for, the nightly job and the
//! `verify-audit` command.

use crate::audit::{self, Verification};
use crate::error::AppError;

/// Walks the whole chain in order and names the first broken link.
pub fn verify(db: &crate::db::Db) -> Result<Verification, AppError> {
    let mut conn = db.reader()?;
    Ok(audit::verify(&mut conn)?)
}

/// The same walk for the operator (the nightly job, `usefirst verify-audit`): a failure keeps
/// the database's own words rather than the API's "internal error".
pub fn verify_for_operator(db: &crate::db::Db) -> anyhow::Result<Verification> {
    let mut conn = db.reader()?;
    Ok(audit::verify(&mut conn)?)
}
