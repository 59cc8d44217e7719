//! Embedded, append-only migrations, one folder per backend, applied at start in one
//! transaction each.
//!
//! A migration once applied is never edited: its checksum is stored and compared, and a
//! mismatch stops the program instead of running on a schema nobody can describe. On
//! PostgreSQL, processes starting together take turns under an advisory lock.

use super::{Backend, Store};
use sha2::{Digest, Sha256};
use sqlx::Connection;

type Migration = (i64, &'static str, &'static str);

/// (version, name, SQL) in order. Both lists have the same versions and names.
const SQLITE: &[Migration] = &[
    (
        1,
        "core_flow",
        include_str!("../../migrations/sqlite/0001_core_flow.sql"),
    ),
    (
        2,
        "deployment",
        include_str!("../../migrations/sqlite/0002_deployment.sql"),
    ),
    (
        3,
        "merkle_log",
        include_str!("../../migrations/sqlite/0003_merkle_log.sql"),
    ),
    (
        4,
        "tree_heads",
        include_str!("../../migrations/sqlite/0004_tree_heads.sql"),
    ),
    (
        5,
        "certificates",
        include_str!("../../migrations/sqlite/0005_certificates.sql"),
    ),
    (
        6,
        "head_timestamps",
        include_str!("../../migrations/sqlite/0006_head_timestamps.sql"),
    ),
    (
        7,
        "leaves_once",
        include_str!("../../migrations/sqlite/0007_leaves_once.sql"),
    ),
    (
        8,
        "delivery_reports",
        include_str!("../../migrations/sqlite/0008_delivery_reports.sql"),
    ),
    (
        9,
        "reminders",
        include_str!("../../migrations/sqlite/0009_reminders.sql"),
    ),
    (
        10,
        "email_documents",
        include_str!("../../migrations/sqlite/0010_email_documents.sql"),
    ),
    (
        11,
        "time_limits",
        include_str!("../../migrations/sqlite/0011_time_limits.sql"),
    ),
    (
        12,
        "records",
        include_str!("../../migrations/sqlite/0012_records.sql"),
    ),
    (
        13,
        "court_lists",
        include_str!("../../migrations/sqlite/0013_court_lists.sql"),
    ),
];
const POSTGRES: &[Migration] = &[
    (
        1,
        "core_flow",
        include_str!("../../migrations/postgres/0001_core_flow.sql"),
    ),
    (
        2,
        "deployment",
        include_str!("../../migrations/postgres/0002_deployment.sql"),
    ),
    (
        3,
        "merkle_log",
        include_str!("../../migrations/postgres/0003_merkle_log.sql"),
    ),
    (
        4,
        "tree_heads",
        include_str!("../../migrations/postgres/0004_tree_heads.sql"),
    ),
    (
        5,
        "certificates",
        include_str!("../../migrations/postgres/0005_certificates.sql"),
    ),
    (
        6,
        "head_timestamps",
        include_str!("../../migrations/postgres/0006_head_timestamps.sql"),
    ),
    (
        7,
        "leaves_once",
        include_str!("../../migrations/postgres/0007_leaves_once.sql"),
    ),
    (
        8,
        "delivery_reports",
        include_str!("../../migrations/postgres/0008_delivery_reports.sql"),
    ),
    (
        9,
        "reminders",
        include_str!("../../migrations/postgres/0009_reminders.sql"),
    ),
    (
        10,
        "email_documents",
        include_str!("../../migrations/postgres/0010_email_documents.sql"),
    ),
    (
        11,
        "time_limits",
        include_str!("../../migrations/postgres/0011_time_limits.sql"),
    ),
    (
        12,
        "records",
        include_str!("../../migrations/postgres/0012_records.sql"),
    ),
    (
        13,
        "court_lists",
        include_str!("../../migrations/postgres/0013_court_lists.sql"),
    ),
];

/// Any fixed number, the same in every process: the key of the migration lock.
const MIGRATION_LOCK: i64 = 0x536f_6e67_6461_0001;

fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// Applies the pending migrations; returns how many it applied.
pub async fn apply(store: &Store) -> anyhow::Result<usize> {
    apply_list(store, migrations(store.backend())).await
}

/// Applies the pending migrations up to schema `version` only, leaving the database as an
/// older release left it: where a test of an upgrade starts.
pub async fn apply_through(store: &Store, version: i64) -> anyhow::Result<usize> {
    let all = migrations(store.backend());
    let known = all.iter().take_while(|m| m.0 <= version).count();
    apply_list(store, &all[..known]).await
}

async fn apply_list(store: &Store, list: &[Migration]) -> anyhow::Result<usize> {
    let mut conn = store.writer().acquire().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_on(&mut conn, store.backend(), list).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_on(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    list: &[Migration],
) -> anyhow::Result<usize> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let mut applied_now = 0;
    for &(version, name, sql) in list {
        let checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        // On SQLite the transaction takes the write lock before it looks, so that two
        // processes opening a new file together (a server and `songda migrate`) take
        // turns; PostgreSQL holds the advisory lock.
        let mut tx = match backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        };
        let applied: Option<(String,)> =
            sqlx::query_as("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        match applied {
            Some((c,)) if c == checksum => continue,
            Some(_) => anyhow::bail!(
                "migration {version} ({name}) was changed after it was applied; restore the original file"
            ),
            None => {}
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(version)
        .bind(name)
        .bind(&checksum)
        .bind(songda_core::timefmt::rfc3339(time::OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        applied_now += 1;
        tracing::info!(version, name, "applied migration");
    }
    // A database from a newer release: refuse rather than guess.
    let (newest,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let known = migrations(backend).last().map_or(0, |m| m.0);
    if let Some(n) = newest.filter(|&n| n > known) {
        anyhow::bail!(
            "the database has schema version {n}, newer than this program knows ({known}); run the newer release"
        );
    }
    Ok(applied_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |l: &[Migration]| l.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
    }
}
