//! Storage: the embedded SQLite database under the data dir.
//!
//! Reads go through a pool of connections; writes through a single connection, so that
//! SQLite's one writer is queued here instead of failing with `SQLITE_BUSY`. Every method
//! that changes state applies one decision in one transaction: the change, its evidence
//! events and the notifications it queues commit together or not at all.
//!
//! SQL is written to run on PostgreSQL as well (`$n` placeholders, text ids and times), so
//! that a second adapter can share it.

mod accounts;
mod cases;
mod evidence;
mod migrate;
mod outbox;
mod services;

pub use accounts::*;
pub use cases::*;
pub use outbox::*;
pub use services::*;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// What can go wrong in storage. Callers match on `NotFound` and `Conflict`; anything else
/// is an internal error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the text names which (e.g. `phone_taken`).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub type Tx<'a> = Transaction<'a, Sqlite>;

#[derive(Clone, Debug)]
pub struct Store {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode survives a process kill; a power cut may lose the last
            // transactions but never corrupts the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(opts.clone())
            .await?;
        migrate::apply(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Self { reader, writer })
    }

    pub(crate) async fn begin(&self) -> Result<Tx<'static>> {
        Ok(self.writer.begin().await?)
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Maps a unique-constraint violation to `Conflict(what)`, anything else to `Db`.
pub(crate) fn conflict_on_unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Db(e),
    }
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
