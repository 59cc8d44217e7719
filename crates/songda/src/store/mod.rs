//! Storage: the database of cases, services, accounts, the evidence log and the outbox.
//!
//! On SQLite, reads go through a pool of connections and writes through a single
//! connection, so that SQLite's one writer is queued here instead of failing with
//! `SQLITE_BUSY`. On PostgreSQL one pool serves both. Every method
//! that changes state applies one decision in one transaction: the change, its evidence
//! events and the notifications it queues commit together or not at all.
//!
//! Two backends behind this one type: the embedded SQLite file (the default) and
//! PostgreSQL (scale-out, many processes). Both run the same SQL text through sqlx's `Any`
//! driver: `$n` placeholders, ids and times as text (times fixed-width RFC 3339, so text
//! order is time order), integers as 64-bit. Where the engines differ (row locks on queue
//! claims, the evidence sequencer, migrations under a lock) the code asks `backend()`.
//! `docs/design.md` says why this is one adapter with two dialects rather than two.

/// Declares a struct read from a query row by column name, as `#[derive(sqlx::FromRow)]`
/// would. The derive needs sqlx's macro crate, which builds both database drivers (SQLite's
/// C source included) a second time for the compiler; this costs nothing to build.
macro_rules! row_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty),*
        }

        impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for $name {
            fn from_row(row: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(Self {
                    $($field: row.try_get(stringify!($field))?),*
                })
            }
        }
    };
}

mod accounts;
mod audit;
mod calendar;
mod cases;
mod certificates;
mod evidence;
mod heads;
mod migrate;
mod outbox;
mod paper;
mod records;
mod services;

pub use accounts::*;
pub use audit::AuditRow;
pub use calendar::CalendarVersion;
pub use cases::*;
pub use certificates::LogEntry;
pub use heads::LogKey;
pub use migrate::{apply as migrate, apply_through as migrate_through};
pub use outbox::*;
pub use paper::*;
pub use records::*;
pub use services::*;

use crate::config::redact_url;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// What can go wrong in storage. Callers match on `NotFound`, `Conflict` and
/// `Unavailable`; anything else is an internal error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the text names which (e.g. `phone_taken`).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database cannot be reached (connection refused or lost, pool exhausted). The
    /// operation did not happen and may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A position or size beyond the log (a proof asked for a leaf it does not have).
    #[error("out of range: {0}")]
    OutOfRange(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Db(e)
        }
    }
}

/// Whether an error means "the database is not there right now" rather than "this
/// statement is wrong": the difference between 503 and 500.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL shutting down or starting up (class 57P: operator intervention;
        // 08: connection exception).
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub type Tx<'a> = Transaction<'a, Any>;

/// Which database engine a store runs on. The SQL is shared; the few places where the
/// engines differ ask this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, one writer, one process.
    Sqlite,
    /// The scale-out backend: any number of processes share it.
    Postgres,
}

/// Where the database is, as configured.
#[derive(Clone, Debug)]
pub enum Location {
    SqliteFile(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// `SONGDA_DATABASE_URL` if given (postgres:// or sqlite://), else the SQLite file in
    /// the data dir.
    pub fn from_config(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        match url {
            None | Some("") => Ok(Location::SqliteFile(data_dir.join("songda.db"))),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Location::Postgres(u.to_string()))
            }
            Some(u) if u.starts_with("sqlite://") => Ok(Location::SqliteFile(
                u.trim_start_matches("sqlite://").into(),
            )),
            Some(u) => anyhow::bail!(
                "SONGDA_DATABASE_URL must start with postgres:// or sqlite://, not {:?}",
                redact_url(u)
            ),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Location::SqliteFile(_) => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        }
    }

    /// For messages and logs: the password never shows.
    pub fn describe(&self) -> String {
        match self {
            Location::SqliteFile(p) => format!("SQLite file {}", p.display()),
            Location::Postgres(u) => format!("PostgreSQL at {}", redact_url(u)),
        }
    }
}

/// How many connections a PostgreSQL-backed process keeps open at most.
const PG_MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
pub struct Store {
    reader: AnyPool,
    writer: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to the database and applies pending migrations.
    pub async fn open(location: &Location) -> anyhow::Result<Self> {
        let store = Self::connect(location).await?;
        migrate::apply(&store).await?;
        let sealed = evidence::seal_unsealed(&store).await?;
        if sealed > 0 {
            tracing::info!(
                sealed,
                "added events stored before the Merkle log to the log"
            );
        }
        Ok(store)
    }

    /// Connects without migrating; `open` is what programs want.
    pub async fn connect(location: &Location) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        match location {
            Location::SqliteFile(path) => Self::connect_sqlite(path).await,
            Location::Postgres(url) => Self::connect_postgres(url).await,
        }
    }

    async fn connect_sqlite(path: &Path) -> anyhow::Result<Self> {
        // The path goes into a URL: escape what would end it early.
        let escaped = path
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        let rw = AnyConnectOptions::from_str(&format!("sqlite://{escaped}?mode=rwc"))?;
        let ro = AnyConnectOptions::from_str(&format!("sqlite://{escaped}?mode=ro"))?;
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers never wait for the writer. NORMAL in WAL mode survives a
                    // process kill; a power cut may lose the last transactions but never
                    // corrupts the file. The writer checkpoints every 8,000 pages (32 MiB of
                    // WAL, not SQLite's 4 MiB), so a page changed by many transactions is
                    // copied into the database once, and keeps 64 MiB of pages in memory,
                    // so index pages are not read again for each transaction.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;
                         PRAGMA wal_autocheckpoint = 8000; PRAGMA cache_size = -65536",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(rw)
            .await?;
        // Create the file (and switch it to WAL) before the read-only pool opens it.
        writer.acquire().await?;
        let reader = AnyPoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    Ok(())
                })
            })
            .connect_with(ro)
            .await?;
        Ok(Self {
            reader,
            writer,
            backend: Backend::Sqlite,
        })
    }

    async fn connect_postgres(url: &str) -> anyhow::Result<Self> {
        let opts = AnyConnectOptions::from_str(url)
            .map_err(|e| anyhow::anyhow!("bad database URL {}: {e}", redact_url(url)))?;
        // One plain connection first: at start the real reason (refused, bad password, no
        // such database) is worth more than the pool's "timed out".
        sqlx::AnyConnection::connect_with(&opts)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {}", one_line(&e)))?
            .close()
            .await?;
        let pool = AnyPoolOptions::new()
            .max_connections(PG_MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection that died with the server is noticed here, not by a request.
            .test_before_acquire(true)
            .connect_with(opts)
            .await
            // The caller names the database (password redacted) in its context.
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {}", one_line(&e)))?;
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            backend: Backend::Postgres,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The operator for "contains, ignoring ASCII case": SQLite's LIKE already ignores it,
    /// PostgreSQL's does not. Use with `contains_pattern`.
    pub(crate) fn like(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        }
    }

    pub(crate) async fn begin(&self) -> Result<Tx<'static>> {
        Ok(self.writer.begin().await?)
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Whether the database answers; for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// An error as one line of text, without the chain of wrapper types.
fn one_line(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string().replace('\n', " "),
    }
}

/// Maps a unique-constraint violation to `Conflict(what)`, anything else to `Db`.
pub(crate) fn conflict_on_unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Db(e),
    }
}

/// How many values one `IN (...)` list binds: far under either engine's limit.
pub(crate) const IN_CHUNK: usize = 400;

/// `$1, $2, ..., $n`.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A LIKE pattern for "contains `q`": the wildcards and PostgreSQL's escape character are
/// dropped from the query, so they match themselves nowhere rather than everything.
pub(crate) fn contains_pattern(q: &str) -> String {
    format!("%{}%", q.trim().replace(['%', '_', '\\'], ""))
}

/// Whether `table` has a row with this id; tells "not there" from "not in that state"
/// after a conditional update changed nothing. `table` is a constant of the caller.
pub(crate) async fn exists(tx: &mut Tx<'_>, table: &'static str, id: &str) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT 1 FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

pub(crate) fn parse_id<T: FromStr>(s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad id {s:?}")))
}

pub(crate) fn parse_time(s: &str) -> Result<time::OffsetDateTime> {
    songda_core::timefmt::parse_rfc3339(s)
        .ok_or_else(|| StoreError::Corrupt(format!("bad time {s:?}")))
}

pub(crate) fn parse_opt_time(s: Option<String>) -> Result<Option<time::OffsetDateTime>> {
    s.as_deref().map(parse_time).transpose()
}

pub(crate) use songda_core::timefmt::rfc3339 as ts;
