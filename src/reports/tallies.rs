//! The report's roll-ups (`report_tallies`): the rows of each measure counted per slot and
//! key, kept by the database's own triggers in the same transaction as each change to the
//! rows they count (migration `…_report_tallies`), so that no code path can forget them.
//! A bulk load pauses them and counts everything again from the tables when it is done; a
//! report made while they are paused reads the tables (`figures::monthly`).

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::schema::report_tallies_paused;
use crate::db::DbConn;

/// Every tally counted again from the tables, per backend (written with the migration).
const REBUILD_SQLITE: &str = include_str!("tallies_sqlite.sql");
const REBUILD_POSTGRES: &str = include_str!("tallies_postgres.sql");

/// Whether the triggers are paused (a bulk load is under way or was cut short).
pub fn paused(conn: &mut DbConn) -> QueryResult<bool> {
    let n: i64 = crate::on_backend!(conn, |c| report_tallies_paused::table.count().get_result(c))?;
    Ok(n > 0)
}

/// Pauses the triggers, in the caller's transaction, until [`rebuild`].
pub fn pause(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<()> {
    if !paused(conn)? {
        crate::on_backend!(conn, |c| diesel::insert_into(report_tallies_paused::table)
            .values(report_tallies_paused::since.eq(now.naive_utc()))
            .execute(c))?;
    }
    Ok(())
}

/// Counts every tally again from the tables and lifts a pause, in the caller's transaction.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => {
            c.batch_execute("DELETE FROM report_tallies;")?;
            c.batch_execute(REBUILD_SQLITE)?;
            c.batch_execute("DELETE FROM report_tallies_paused;")
        }
        DbConn::Postgres(c) => {
            // Writers that count while this runs wait for it, and then add to what it wrote.
            c.batch_execute(
                "LOCK TABLE report_tallies IN EXCLUSIVE MODE; DELETE FROM report_tallies;",
            )?;
            c.batch_execute(REBUILD_POSTGRES)?;
            c.batch_execute("DELETE FROM report_tallies_paused;")
        }
    }
}
