//! Storage plumbing: the connection type for both backends, pools, SQLite pragmas, the one
//! write entry point, and embedded migrations.
//!
//! Every per-backend difference lives in this folder. Elsewhere code is written once against
//! [`DbConn`]. Writes go through [`Db::write`]. On SQLite the writer thread (`writer.rs`)
//! owns the single writer connection and runs queued writes in savepoints under one
//! `BEGIN IMMEDIATE` … COMMIT per batch, so concurrent writers queue instead of failing with
//! "database is locked"; on PostgreSQL each write is an ordinary transaction on a pooled
//! connection.

pub mod idempotency;
pub mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseConfig;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same diesel expression on the concrete connection inside a [`DbConn`].
///
/// Queries through the `MultiConnection` wrapper are not eligible for diesel's prepared
/// statement cache, so hot read paths (session lookup, single-row reads) use this to get the
/// cache on both backends: the query is still written once.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` / `postgresql://` is PostgreSQL; a path or `sqlite://PATH` is SQLite.
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The SQLite file a URL names.
pub fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(path)
}

/// Opens connections of the backend the URL names, configured for this service.
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
    url: String,
    busy_timeout_ms: u64,
    /// SQLite's page cache per connection, in KiB.
    cache_kib: u32,
    /// SQLite's temporary storage: `MEMORY` for readers (sorts and GROUP BYs); the writer
    /// keeps the default (`FILE`) so a statement journal longer than 64 KiB moves to a file.
    /// Held in memory it is never spilled, and each statement's end walks it from its start
    /// to cut it back: with the writer's savepoints under one long transaction, and the
    /// report's triggers giving every insert a statement journal, a bulk load slowed fivefold.
    temp_store: &'static str,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // Instants are stored as UTC `timestamp`; keep the session on UTC too. A statement
                // that waits longer than busy_timeout for a lock fails (answered 503) instead
                // of hanging the request.
                conn.batch_execute(&format!(
                    "SET TIME ZONE 'UTC'; SET lock_timeout = {}",
                    self.busy_timeout_ms
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Postgres(conn))
            }
            Backend::Sqlite => {
                let path = sqlite_path(&self.url);
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // busy_timeout first, so the pragmas below already wait instead of failing.
                // No memory-mapped I/O: every page a connection had read through a mapping
                // stayed in the server's resident set (a mail run reading the outbox pushed
                // it past 250 MB), while a bounded page cache per connection holds the pages
                // that matter.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA mmap_size = 0; PRAGMA cache_size = -{}; \
                     PRAGMA wal_autocheckpoint = 8000; PRAGMA temp_store = {};",
                    self.busy_timeout_ms, self.cache_kib, self.temp_store
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(|_| ())
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection still inside a transaction (one that a panic cut short and that could
    /// not be rolled back) is closed rather than handed out again.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        in_transaction(conn)
    }
}

/// Turns on SQLite's query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) for
/// every connection this process opens; called once, before the first one opens.
///
/// Without it, the bundled SQLite (built with STAT4) marks a statement whose WHERE compares an
/// indexed column with a bound parameter as "plan depends on the value", and re-prepares it on
/// the first step after every new binding: each cached statement was parsed and planned again
/// on every use, most of the cost of a point read (seen in profiles of
/// `GET /api/v1/agreements/{id}`). With it, a plan is made once per statement, whatever the
/// values; usefirst's queries are key lookups and range scans whose plan never depends on them.
fn stable_query_plans() {
    use libsqlite3_sys as ffi;
    use std::os::raw::{c_char, c_int};

    /// Runs inside `sqlite3_open` for each new connection, on the opening thread.
    unsafe extern "C" fn on_open(
        db: *mut ffi::sqlite3,
        _err: *mut *mut c_char,
        _api: *const ffi::sqlite3_api_routines,
    ) -> c_int {
        // SAFETY: `db` is the connection being opened, valid for this call; the option takes
        // an int (1 = on) and an optional out-pointer, which may be null.
        unsafe {
            ffi::sqlite3_db_config(
                db,
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            );
        }
        ffi::SQLITE_OK
    }

    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a plain function with the signature SQLite expects; it stays
        // valid for the life of the process.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(code = rc, "could not enable SQLite query plan stability");
        }
    });
}

/// SQLite page cache of the writer connection: the pages every write touches (the last leaves
/// of tables and indexes, the audit head, the agreements' id index) stay cached. Every page
/// is also in the operating system's file cache, so a larger cache saves only a `pread` per
/// page missed, while each megabyte of it is a megabyte of the server's resident set.
const WRITER_CACHE_KIB: u32 = 4 * 1024;
/// SQLite page cache of each reader connection (eight of them by default): point reads and
/// pages of lists. Kept small for the same reason: 1 MB each instead of 4 MB brought the peak
/// resident set under load down by up to 24 MB.
const READER_CACHE_KIB: u32 = 1024;

/// A pooled connection.
pub type Conn = PooledConnection<Manager>;

/// The database. SQLite: a reader pool, and a one-connection writer pool that the writer
/// thread (and `migrate`) take the writer connection from. PostgreSQL: one pool for both.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    read: Pool<Manager>,
    write: Pool<Manager>,
    /// SQLite only: the thread that owns the writer connection and commits in batches.
    writer: Option<std::sync::Arc<writer::Writer>>,
}

impl Db {
    /// Opens the pools; creates the SQLite file's folder if needed.
    pub fn connect(cfg: &DatabaseConfig) -> anyhow::Result<Db> {
        let backend = Backend::of(&cfg.url);
        if backend == Backend::Sqlite {
            stable_query_plans();
            let path = sqlite_path(&cfg.url);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating data folder {}", dir.display()))?;
            }
        }
        let manager = Manager {
            backend,
            url: cfg.url.clone(),
            busy_timeout_ms: cfg.busy_timeout_ms,
            cache_kib: READER_CACHE_KIB,
            temp_store: "MEMORY",
        };
        let timeout = Duration::from_millis(cfg.busy_timeout_ms.max(1000));
        // Connections open only while someone waits for one (`min_idle = 0`); the first is
        // opened here so a bad URL fails at start. With a minimum above zero r2d2 tops the
        // pool up from its own threads after every check-out, unwaited for, and a process that
        // exits while such a thread is inside libpq's TLS handshake can crash in OpenSSL's exit
        // handlers (seen as a segfault at the end of `usefirst migrate` on PostgreSQL).
        let build = |size: u32, manager: Manager| -> anyhow::Result<Pool<Manager>> {
            let pool = Pool::builder()
                .max_size(size)
                .min_idle(Some(0))
                .connection_timeout(timeout)
                .test_on_check_out(false)
                .build_unchecked(manager);
            drop(
                pool.get()
                    .with_context(|| format!("connecting to the {} database", backend.name()))?,
            );
            Ok(pool)
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                // The writer opens first so the WAL switch happens before readers exist.
                let write = build(
                    1,
                    Manager {
                        cache_kib: WRITER_CACHE_KIB,
                        temp_store: "DEFAULT",
                        ..manager.clone()
                    },
                )?;
                (build(cfg.pool_size, manager)?, write)
            }
            Backend::Postgres => {
                let pool = build(cfg.pool_size, manager)?;
                (pool.clone(), pool)
            }
        };
        let writer = match backend {
            Backend::Sqlite => Some(std::sync::Arc::new(
                writer::Writer::start(write.clone(), Duration::from_millis(cfg.busy_timeout_ms))
                    .context("starting the database writer")?,
            )),
            Backend::Postgres => None,
        };
        Ok(Db {
            backend,
            read,
            write,
            writer,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reading.
    pub fn reader(&self) -> Result<Conn, diesel::r2d2::PoolError> {
        self.read.get()
    }

    /// A reader connection if one is idle right now, without waiting.
    pub fn idle_reader(&self) -> Option<Conn> {
        self.read.try_get()
    }

    /// Runs `f` in a write transaction and returns once its changes are committed; an error
    /// from `f` rolls back everything `f` did.
    ///
    /// On SQLite, `f` runs on the writer thread in its own savepoint, batched with the writes
    /// of other callers under one COMMIT (see [`writer`]); on PostgreSQL, in its own
    /// transaction on a pooled connection. Either way, `f` must not call `write` itself.
    pub fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send,
        T: Send,
        E: From<diesel::result::Error> + From<diesel::r2d2::PoolError> + Send,
    {
        match &self.writer {
            Some(writer) => writer.run(f),
            // A panic in `f` leaves the transaction open; the pool then closes the connection
            // instead of reusing it (`has_broken`), which rolls the transaction back.
            None => (*self.write.get()?).transaction(f),
        }
    }

    /// SQLite: how many batches (COMMITs) the writer thread has run; None on PostgreSQL.
    pub fn write_batches(&self) -> Option<u64> {
        self.writer.as_ref().map(|w| w.batches())
    }

    /// SQLite: writes a consistent copy of the whole database to `out` while the service runs,
    /// by `VACUUM INTO` on a reader connection; returns its size in bytes. PostgreSQL: an error
    /// saying to use `pg_dump`.
    ///
    /// Why `VACUUM INTO` and not the `sqlite3_backup_*` API: it is one statement diesel runs as
    /// it is (the backup API needs the raw handle of the connection, which diesel keeps to
    /// itself); it reads one snapshot in one read transaction, which in WAL mode never waits
    /// for the writer nor makes it wait, so every write committed before it starts is in the
    /// copy and none after; and the copy is a single compact file with no `-wal` beside it.
    /// The backup API instead copies page by page and starts over whenever another connection
    /// writes, which under steady writes may never finish.
    ///
    /// The copy is written under a temporary name beside `out`, flushed to disk, then renamed,
    /// so `out` is either absent or whole. An existing `out` is refused, never overwritten.
    pub fn backup_to(&self, out: &Path) -> anyhow::Result<u64> {
        if self.backend != Backend::Sqlite {
            anyhow::bail!(
                "backup copies SQLite databases only; back up PostgreSQL with pg_dump, e.g. \
                 `pg_dump --format=custom --file=usefirst.dump \"$USEFIRST_DATABASE__URL\"` \
                 (see the README)"
            );
        }
        if out.exists() {
            anyhow::bail!("{} exists already; choose a new file", out.display());
        }
        let name = out
            .file_name()
            .ok_or_else(|| anyhow::anyhow!("{} is not a file name", out.display()))?;
        let dir = match out.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let partial = dir.join(format!(".{}.partial", name.to_string_lossy()));
        let _ = std::fs::remove_file(&partial);
        let target = partial
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("{} is not UTF-8", partial.display()))?
            .to_owned();
        let mut conn = self.reader().context("connecting for the backup")?;
        let copied = diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(&target)
            .execute(&mut *conn);
        drop(conn);
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(anyhow::anyhow!("copying the database to {target}: {e}"));
        }
        let file = std::fs::File::open(&partial)?;
        file.sync_all()
            .with_context(|| format!("flushing {}", partial.display()))?;
        let size = file.metadata()?.len();
        drop(file);
        std::fs::rename(&partial, out)
            .with_context(|| format!("renaming {} to {}", partial.display(), out.display()))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(size)
    }

    /// One plain connection to the SQLite file `path` (a backup, say), outside any pool and
    /// with no writer thread: for reading it once.
    pub fn open_sqlite_file(path: &Path) -> anyhow::Result<DbConn> {
        let conn = SqliteConnection::establish(&path.to_string_lossy())
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(DbConn::Sqlite(conn))
    }

    /// SQLite: how many writes wait for their COMMIT right now (queued for the writer thread,
    /// or in the batch it is committing); None on PostgreSQL, which has no such queue.
    pub fn writes_waiting(&self) -> Option<u64> {
        self.writer.as_ref().map(|w| w.waiting())
    }

    /// The connection pools' use now: `(pool, in use, idle, most)` for `read` and, on SQLite,
    /// `write` (PostgreSQL has one pool for both, named `read`).
    pub fn pool_use(&self) -> Vec<(&'static str, u32, u32, u32)> {
        let mut pools = vec![("read", &self.read)];
        if self.backend == Backend::Sqlite {
            pools.push(("write", &self.write));
        }
        pools
            .into_iter()
            .map(|(name, pool)| {
                let state = pool.state();
                (
                    name,
                    state.connections - state.idle_connections,
                    state.idle_connections,
                    pool.max_size(),
                )
            })
            .collect()
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.write.get().context("connecting for migrations")?;
        let ran = conn
            .run_pending_migrations(self.migrations())
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(ran.len())
    }

    /// Reverts every migration (for the up/down/up check).
    pub fn revert_all(&self) -> anyhow::Result<usize> {
        let mut conn = self.write.get().context("connecting for migrations")?;
        let ran = conn
            .revert_all_migrations(self.migrations())
            .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
        Ok(ran.len())
    }

    /// Migrations not yet applied.
    pub fn pending_migrations(&self) -> anyhow::Result<usize> {
        let mut conn = self.read.get().context("connecting for migrations")?;
        let pending = conn
            .pending_migrations(self.migrations())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(pending.len())
    }

    fn migrations(&self) -> EmbeddedMigrations {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }

    /// Is the database answering? Used by `/health/ready`.
    pub fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.read.get()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn)?;
        Ok(())
    }
}

/// Is `conn` inside a transaction (or unsure of it)?
fn in_transaction(conn: &mut DbConn) -> bool {
    fn depth<C>(c: &mut C) -> bool
    where
        C: Connection<TransactionManager = AnsiTransactionManager>,
    {
        !matches!(
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
            Ok(None)
        )
    }
    on_backend!(conn, |c| depth(c))
}

/// Rolls back open transaction levels on `conn` until `depth` levels are left; false if
/// that failed (the pool then discards the connection, see `has_broken`).
fn roll_back_to(conn: &mut DbConn, depth: u32) -> bool {
    fn unwind<C>(c: &mut C, depth: u32) -> bool
    where
        C: Connection<TransactionManager = AnsiTransactionManager>,
    {
        loop {
            let open = match AnsiTransactionManager::transaction_manager_status_mut(c)
                .transaction_depth()
            {
                Ok(open) => open.map_or(0, |d| d.get()),
                Err(_) => return false,
            };
            if open <= depth {
                return open == depth;
            }
            if <AnsiTransactionManager as TransactionManager<C>>::rollback_transaction(c).is_err() {
                return false;
            }
        }
    }
    on_backend!(conn, |c| unwind(c, depth))
}

/// Serialises transactions that use the same `key` until the caller's transaction ends.
/// PostgreSQL takes a transaction-scoped advisory lock; SQLite needs nothing, since its
/// writes already go one at a time through the single writer connection.
pub fn lock_key(conn: &mut DbConn, key: &str) -> diesel::QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// A description of the database for messages, without any password.
pub fn describe(url: &str) -> String {
    match Backend::of(url) {
        Backend::Postgres => {
            // Hide a password if the URL has one.
            match url.split_once('@') {
                Some((head, tail)) if head.contains(':') && head.matches(':').count() > 1 => {
                    let scheme_user = head.rsplit_once(':').map(|(a, _)| a).unwrap_or(head);
                    format!("{scheme_user}:***@{tail}")
                }
                _ => url.to_string(),
            }
        }
        Backend::Sqlite => format!("SQLite file {}", Path::new(&sqlite_path(url)).display()),
    }
}

/// Runs `f` in one read-only transaction that sees a single snapshot of the database:
/// `REPEATABLE READ` on PostgreSQL; on SQLite (WAL) every transaction reads one snapshot.
pub fn read_snapshot<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConn::Postgres(pg) = conn {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(pg)?;
        }
        f(conn)
    })
}

/// A parameter of a [`raw_query`].
#[derive(Debug, Clone)]
pub enum Param {
    Date(chrono::NaiveDate),
    Instant(chrono::NaiveDateTime),
    Text(String),
}

/// Runs hand-written SQL (aggregates the query builder cannot say) on either backend: `sql`
/// uses `?` for parameters (never inside a literal), numbered `$1…` for PostgreSQL. The SQL itself must be
/// portable; columns are read by name.
pub fn raw_query<T: 'static>(
    conn: &mut DbConn,
    sql: &str,
    params: &[Param],
) -> diesel::QueryResult<Vec<T>>
where
    T: diesel::QueryableByName<diesel::pg::Pg> + diesel::QueryableByName<diesel::sqlite::Sqlite>,
{
    let query = Prepared { sql, params };
    match conn {
        DbConn::Postgres(c) => query.load(c),
        DbConn::Sqlite(c) => query.load(c),
    }
}

/// One statement of [`raw_query`]: its SQL and parameters. Unlike `diesel::sql_query` (which
/// may hold several statements, so diesel never keeps it prepared), this is always one
/// statement written in this program, so the connection keeps it prepared by its text: a
/// dashboard's aggregates are parsed once per connection, not on every page.
struct Prepared<'a> {
    sql: &'a str,
    params: &'a [Param],
}

impl diesel::query_builder::QueryId for Prepared<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Prepared<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

macro_rules! prepared_on {
    ($backend:ty) => {
        impl diesel::query_builder::QueryFragment<$backend> for Prepared<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, $backend>,
            ) -> diesel::QueryResult<()> {
                use diesel::sql_types::{Date, Text, Timestamp};
                // Each `?` becomes the backend's own placeholder (`?`, `$1`…).
                let mut pieces = self.sql.split('?');
                out.push_sql(pieces.next().unwrap_or_default());
                let mut params = self.params.iter();
                for piece in pieces {
                    match params.next() {
                        Some(Param::Date(d)) => out.push_bind_param::<Date, _>(d)?,
                        Some(Param::Instant(t)) => out.push_bind_param::<Timestamp, _>(t)?,
                        Some(Param::Text(s)) => out.push_bind_param::<Text, _>(s)?,
                        None => {
                            return Err(diesel::result::Error::QueryBuilderError(
                                "a raw query has more `?` than parameters".into(),
                            ))
                        }
                    }
                    out.push_sql(piece);
                }
                if params.next().is_some() {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "a raw query has more parameters than `?`".into(),
                    ));
                }
                Ok(())
            }
        }
    };
}
prepared_on!(diesel::sqlite::Sqlite);
prepared_on!(diesel::pg::Pg);
