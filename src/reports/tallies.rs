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

/// The tables whose rows are counted; each has a view `report_tally_rows_{table}` of what its
/// rows add (written with the triggers, by scripts/report-tallies-sql.py).
const COUNTED: [&str; 5] = [
    "agreements",
    "conversion_contracts",
    "payments",
    "insurance_policies",
    "insurance_claims",
];

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
    let mut sql = String::from(match conn {
        // Writers that count while this runs wait for it, and then add to what it wrote.
        DbConn::Postgres(_) => "LOCK TABLE report_tallies IN EXCLUSIVE MODE; ",
        DbConn::Sqlite(_) => "",
    });
    sql.push_str("DELETE FROM report_tallies; ");
    for table in COUNTED {
        sql.push_str(&format!(
            "INSERT INTO report_tallies (measure, slot, k, n, amount, amount2) \
             SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) \
             FROM report_tally_rows_{table} WHERE slot IS NOT NULL AND k IS NOT NULL \
             GROUP BY measure, slot, k; "
        ));
    }
    sql.push_str("DELETE FROM report_tallies_paused;");
    crate::on_backend!(conn, |c| c.batch_execute(&sql))
}
