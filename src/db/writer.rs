//! Group commit for SQLite's single writer connection.
//!
//! SQLite allows one writer at a time, and every COMMIT writes each page the transaction
//! changed to the WAL. Concurrent requests that each commit on their own therefore queue on
//! the writer connection (a thread wake-up per hand-over) and write the same hot pages (the
//! last leaf of each table and index they insert into, the audit chain's head) over and over.
//!
//! Here one thread owns the writer connection. A caller of [`Db::write`](super::Db::write)
//! queues its closure and waits. The thread opens a transaction (`BEGIN IMMEDIATE`), runs the
//! queued closures one after another, each in its own savepoint, and commits once for all of
//! them. A closure's error rolls back its savepoint only, so the others' changes stand and a
//! failed request still changes nothing. A caller learns its result only after the COMMIT that
//! holds its changes has succeeded; if that COMMIT fails, every caller in the batch gets the
//! error and nothing of the batch is kept. A batch holds what has queued up while the thread
//! was busy, up to [`MAX_BATCH`] closures: under a light load each write is its own batch.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::Pool;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::{DbConn, Manager};

/// The most closures one COMMIT covers. Each is a request's worth of statements (well under a
/// millisecond), so a full batch holds the write lock for a few milliseconds at most.
pub const MAX_BATCH: usize = 64;

thread_local! {
    /// Set on the writer thread: a closure that calls `Db::write` again would wait for itself.
    static ON_WRITER: Cell<bool> = const { Cell::new(false) };
}

/// What a job hands back once its batch's COMMIT has succeeded or failed.
type Finish<'a> = Box<dyn FnOnce(Result<(), &DieselError>) + Send + 'a>;

/// A queued closure. Its true lifetime is the caller's stack frame: see [`Writer::run`].
/// Given no connection (no transaction could be opened), it fails without running.
type Job<'a> = Box<dyn FnOnce(Option<&mut DbConn>) -> Finish<'a> + Send + 'a>;

/// A job as queued, with the state its caller and the writer thread agree on.
struct Queued {
    state: Arc<AtomicU8>,
    job: Job<'static>,
}

/// Waiting in the queue; the writer may start it or its caller may give up on it.
const QUEUED: u8 = 0;
/// Taken by the writer thread: its caller waits for the outcome, however long.
const STARTED: u8 = 1;
/// Its caller gave up waiting; the writer thread must not touch it.
const CANCELLED: u8 = 2;

/// What the writer thread sends back to a waiting caller.
enum Outcome<T, E> {
    Done(Result<T, E>),
    Panicked(Box<dyn Any + Send>),
}

/// The handle callers queue work on; the thread ends when the last handle is dropped.
pub struct Writer {
    queue: mpsc::Sender<Queued>,
    /// How long a caller waits for its write to start before answering "busy".
    patience: Duration,
}

impl Writer {
    /// Starts the writer thread over `pool` (SQLite's one-connection writer pool). A caller
    /// whose write has not started after `patience` (`database.busy_timeout_ms`) gets a busy
    /// error, as it would waiting for SQLite's lock, and its write never runs.
    pub fn start(pool: Pool<Manager>, patience: Duration) -> std::io::Result<Writer> {
        let (queue, jobs) = mpsc::channel::<Queued>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_batches(&pool, &jobs))?;
        Ok(Writer { queue, patience })
    }

    /// Runs `f` in the next batch and returns its result once that batch is committed.
    pub fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send,
        T: Send,
        E: From<DieselError> + Send,
    {
        assert!(
            !ON_WRITER.get(),
            "Db::write called from inside a write: it would wait for itself"
        );
        let (done, answer) = mpsc::sync_channel::<Outcome<T, E>>(1);
        let job = move |conn: Option<&mut DbConn>| -> Finish<'_> {
            let Some(conn) = conn else {
                drop(f);
                return Box::new(move |opened: Result<(), &DieselError>| {
                    let err = opened.err().map_or_else(writer_gone, copy_error);
                    let _ = done.send(Outcome::Done(Err(E::from(err))));
                });
            };
            match catch_unwind(AssertUnwindSafe(|| conn.transaction(f))) {
                Ok(result) => Box::new(move |commit: Result<(), &DieselError>| {
                    let result = match (result, commit) {
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(err)) => Err(E::from(copy_error(err))),
                        // Its own savepoint was rolled back: nothing of it was in the batch.
                        (Err(err), _) => Err(err),
                    };
                    let _ = done.send(Outcome::Done(result));
                }),
                Err(panic) => Box::new(move |_| {
                    let _ = done.send(Outcome::Panicked(panic));
                }),
            }
        };
        let job: Job<'_> = Box::new(job);
        // SAFETY: the job borrows from this stack frame (through `f`, `T` and `E`), and is
        // made `'static` only to cross the channel. This frame does not return while the
        // writer thread may still touch the job: it either waits for `done`, which the job
        // sends on only after `f` has run and been dropped, or it cancels the job while it is
        // still queued, after which the writer thread neither runs nor drops it
        // (`next_job`). A job dropped unrun because the thread is gone drops `done` with it,
        // which ends the wait. The writer thread never unwinds through a job: panics in `f`
        // are caught above and resumed here, on the caller's thread.
        let job: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        let state = Arc::new(AtomicU8::new(QUEUED));
        let queued = Queued {
            state: Arc::clone(&state),
            job,
        };
        if self.queue.send(queued).is_err() {
            return Err(E::from(writer_gone()));
        }
        let outcome = match answer.recv_timeout(self.patience) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if state
                    .compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    // The writer thread will leave the job alone: see `run_batches`.
                    return Err(E::from(busy(format!(
                        "database is busy: no turn to write within {} ms",
                        self.patience.as_millis()
                    ))));
                }
                // Already started: its outcome comes, and this frame must outlive it.
                answer.recv()
            }
            other => other.map_err(|_| mpsc::RecvError),
        };
        match outcome {
            Ok(Outcome::Done(result)) => result,
            Ok(Outcome::Panicked(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(E::from(writer_gone())),
        }
    }
}

/// Takes the next job that its caller still waits for, or None when the queue is empty (or,
/// with `block`, closed).
fn next_job(jobs: &mpsc::Receiver<Queued>, block: bool) -> Option<Job<'static>> {
    loop {
        let queued = if block {
            jobs.recv().ok()?
        } else {
            jobs.try_recv().ok()?
        };
        if queued
            .state
            .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Some(queued.job);
        }
        // Its caller gave up and has returned: whatever the job borrowed may be gone, so it
        // is neither run nor dropped (dropping could run a destructor that reaches into that
        // frame). This leaks one closure per write that timed out in the queue.
        std::mem::forget(queued.job);
    }
}

/// The writer thread: one transaction per batch of whatever has queued up.
fn run_batches(pool: &Pool<Manager>, jobs: &mpsc::Receiver<Queued>) {
    ON_WRITER.set(true);
    let mut finishes: Vec<Finish<'static>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = next_job(jobs, true) {
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(err) => {
                // Someone else (a migration) holds the writer for longer than the pool waits.
                let err = busy(format!("database is busy: {err}"));
                run_unwritten(first, &err);
                continue;
            }
        };
        let DbConn::Sqlite(sqlite) = &mut *conn else {
            unreachable!("the writer thread serves SQLite only")
        };
        if let Err(err) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
            run_unwritten(first, &err);
            continue;
        }
        let mut next = Some(first);
        let mut intact = true;
        while let Some(job) = next.take() {
            finishes.push(job(Some(&mut conn)));
            // A closure that panicked left its savepoint open: roll it back like an error.
            intact = back_to_batch_level(&mut conn);
            if intact && finishes.len() < MAX_BATCH {
                next = next_job(jobs, false);
            }
        }
        let DbConn::Sqlite(sqlite) = &mut *conn else {
            unreachable!("the writer thread serves SQLite only")
        };
        let commit = if intact {
            <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(
                sqlite,
            )
        } else {
            Err(DieselError::RollbackTransaction)
        };
        if commit.is_err() {
            let _ = <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(sqlite);
        }
        drop(conn);
        let outcome = commit.as_ref().map(|_| ());
        for finish in finishes.drain(..) {
            let _ = catch_unwind(AssertUnwindSafe(|| finish(outcome)));
        }
    }
}

/// Fails a job without running it: no transaction could be opened for it.
fn run_unwritten(job: Job<'static>, err: &DieselError) {
    let finish = job(None);
    let _ = catch_unwind(AssertUnwindSafe(|| finish(Err(err))));
}

/// Rolls back savepoints a panicking closure left open; false if the batch cannot go on.
fn back_to_batch_level(conn: &mut DbConn) -> bool {
    let DbConn::Sqlite(sqlite) = conn else {
        return false;
    };
    loop {
        let depth = match AnsiTransactionManager::transaction_manager_status_mut(sqlite)
            .transaction_depth()
        {
            Ok(depth) => depth.map_or(0, |d| d.get()),
            Err(_) => return false,
        };
        match depth {
            1 => return true,
            0 => return false,
            _ => {
                if <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(sqlite).is_err() {
                    return false;
                }
            }
        }
    }
}

fn busy(message: String) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message))
}

/// The writer thread has stopped (only while the process shuts down).
fn writer_gone() -> DieselError {
    busy("database is busy: the writer has stopped".into())
}

/// A fresh copy of a COMMIT error for each caller of the batch.
fn copy_error(err: &DieselError) -> DieselError {
    match err {
        DieselError::DatabaseError(kind, info) => {
            let kind = match kind {
                DatabaseErrorKind::UniqueViolation => DatabaseErrorKind::UniqueViolation,
                DatabaseErrorKind::ForeignKeyViolation => DatabaseErrorKind::ForeignKeyViolation,
                DatabaseErrorKind::CheckViolation => DatabaseErrorKind::CheckViolation,
                DatabaseErrorKind::NotNullViolation => DatabaseErrorKind::NotNullViolation,
                DatabaseErrorKind::SerializationFailure => DatabaseErrorKind::SerializationFailure,
                DatabaseErrorKind::ReadOnlyTransaction => DatabaseErrorKind::ReadOnlyTransaction,
                DatabaseErrorKind::ClosedConnection => DatabaseErrorKind::ClosedConnection,
                _ => DatabaseErrorKind::Unknown,
            };
            DieselError::DatabaseError(kind, Box::new(info.message().to_string()))
        }
        other => busy(format!("the batch's commit failed: {other}")),
    }
}
