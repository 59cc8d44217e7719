//! Embedded, append-only migrations, applied at start in one transaction each.
//!
//! A migration once applied is never edited: its checksum is stored and compared, and a
//! mismatch stops the program instead of running on a schema nobody can describe.

use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// (version, name, SQL) in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "core_flow",
    include_str!("../../migrations/sqlite/0001_core_flow.sql"),
)];

pub async fn apply(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL)",
    )
    .execute(pool)
    .await?;
    for &(version, name, sql) in MIGRATIONS {
        let checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        let applied: Option<(String,)> =
            sqlx::query_as("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(pool)
                .await?;
        match applied {
            Some((c,)) if c == checksum => continue,
            Some(_) => anyhow::bail!(
                "migration {version} ({name}) was changed after it was applied; restore the original file"
            ),
            None => {}
        }
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
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
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
