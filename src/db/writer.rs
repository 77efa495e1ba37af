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
//!
//! A caller whose write has not started within `database.busy_timeout_ms` takes it back out
//! of its slot and answers "busy"; the writer thread finds the slot empty and moves on.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::Pool;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::{roll_back_to, DbConn, Manager};

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

/// Where a queued job waits. The writer thread takes the job out to run it; a caller that
/// gives up waiting takes it back out first. Whoever takes it owns it, so a job is dropped
/// either by the writer thread while its caller waits, or by the caller itself.
type Slot = Arc<Mutex<Option<Job<'static>>>>;

fn take(slot: &Slot) -> Option<Job<'static>> {
    // A poisoned lock only means a panic elsewhere while holding it; the Option is intact.
    let mut guard: MutexGuard<'_, _> = slot.lock().unwrap_or_else(|e| e.into_inner());
    guard.take()
}

/// What the writer thread sends back to a waiting caller.
enum Outcome<T, E> {
    Done(Result<T, E>),
    Panicked(Box<dyn Any + Send>),
}

/// The handle callers queue work on; the thread ends when the last handle is dropped.
pub struct Writer {
    queue: mpsc::Sender<Slot>,
    /// How long a caller waits for its write to start before answering "busy".
    patience: Duration,
    /// COMMITs (batches) so far.
    batches: Arc<AtomicU64>,
    /// Writes whose callers wait: queued, or in the batch being committed.
    waiting: AtomicU64,
}

/// Counts a caller among the waiting while it lives.
struct Waiting<'a>(&'a AtomicU64);

impl Waiting<'_> {
    /// Counts one more write waiting, until the guard is dropped.
    fn enter(count: &AtomicU64) -> Waiting<'_> {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Writer {
    /// Starts the writer thread over `pool` (SQLite's one-connection writer pool). A caller
    /// whose write has not started after `patience` (`database.busy_timeout_ms`) gets a busy
    /// error, as it would waiting for SQLite's lock, and its write never runs.
    pub fn start(pool: Pool<Manager>, patience: Duration) -> std::io::Result<Writer> {
        let (queue, jobs) = mpsc::channel::<Slot>();
        let batches = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&batches);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_batches(&pool, &jobs, &counted))?;
        Ok(Writer {
            queue,
            patience,
            batches,
            waiting: AtomicU64::new(0),
        })
    }

    /// How many batches (COMMITs) the writer thread has run.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// How many writes wait for their COMMIT right now: queued, or in the batch under way.
    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
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
        let _waiting = Waiting::enter(&self.waiting);
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
        // made `'static` only to cross the channel. This frame does not return while anyone
        // else may hold the job: either it takes the job back out of the slot itself (and
        // drops it here), or the writer thread took it, and then this frame waits for
        // `answer`, which ends only once the job and its finish have been consumed or
        // dropped (`done` goes with them). Panics in `f` are caught above and resumed here,
        // on the caller's thread.
        let job: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        let slot: Slot = Arc::new(Mutex::new(Some(job)));
        if self.queue.send(Arc::clone(&slot)).is_err() {
            drop(take(&slot));
            return Err(E::from(writer_gone()));
        }
        let outcome = match answer.recv_timeout(self.patience) {
            Err(mpsc::RecvTimeoutError::Timeout) => match take(&slot) {
                Some(job) => {
                    drop(job);
                    return Err(E::from(busy(format!(
                        "database is busy: no turn to write within {} ms",
                        self.patience.as_millis()
                    ))));
                }
                // Already started: its outcome comes, and this frame must outlive it.
                None => answer.recv(),
            },
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
fn next_job(jobs: &mpsc::Receiver<Slot>, block: bool) -> Option<Job<'static>> {
    loop {
        let slot = if block {
            jobs.recv().ok()?
        } else {
            jobs.try_recv().ok()?
        };
        // An empty slot: its caller gave up and took the job back.
        if let Some(job) = take(&slot) {
            return Some(job);
        }
    }
}

/// The writer thread: one transaction per batch of whatever has queued up.
fn run_batches(pool: &Pool<Manager>, jobs: &mpsc::Receiver<Slot>, batches: &AtomicU64) {
    ON_WRITER.set(true);
    let mut finishes: Vec<Finish<'static>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = next_job(jobs, true) {
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(err) => {
                // Someone else (a migration) holds the writer for longer than the pool waits.
                run_unwritten(first, &busy(format!("database is busy: {err}")));
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
            match catch_unwind(AssertUnwindSafe(|| job(Some(&mut conn)))) {
                Ok(finish) => finishes.push(finish),
                Err(_) => intact = false,
            }
            // A closure that panicked left its savepoint open: roll it back like an error.
            intact = intact && roll_back_to(&mut conn, 1);
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
            Err(busy(
                "database is busy: the batch was rolled back after a write could not be undone"
                    .into(),
            ))
        };
        if commit.is_err() {
            roll_back_to(&mut conn, 0);
        }
        drop(conn);
        batches.fetch_add(1, Ordering::Relaxed);
        let outcome = commit.as_ref().map(|_| ());
        for finish in finishes.drain(..) {
            let _ = catch_unwind(AssertUnwindSafe(|| finish(outcome)));
        }
    }
}

/// Fails a job without running it: no transaction could be opened for it.
fn run_unwritten(job: Job<'static>, err: &DieselError) {
    let _ = catch_unwind(AssertUnwindSafe(|| job(None)(Err(err))));
}

fn busy(message: String) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message))
}

/// The writer thread is gone: only after a panic outside any write, which it guards against.
fn writer_gone() -> DieselError {
    busy("database is busy: the writer has stopped".into())
}

/// A fresh copy of a COMMIT error for each caller of the batch. Callers whose own writes
/// succeeded answer "busy" (retry), whatever sank the batch.
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
        other => busy(format!(
            "database is busy: the batch's commit failed: {other}"
        )),
    }
}
