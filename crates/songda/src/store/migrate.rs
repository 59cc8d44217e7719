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
    let mut conn = store.writer().acquire().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_on(&mut conn, store.backend(), migrations(store.backend())).await;
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

    /// Migration 13 copies each existing service's court, case, stage and times to its
    /// search row, where a court's lists read them.
    #[tokio::test]
    async fn upgrading_to_court_lists_fills_the_search_rows_of_existing_services() {
        use crate::store::{Location, Scope, ServiceQuery, StatusFilter, Store};
        use songda_core::ids::{CaseId, CourtId, PartyId, ServiceId, UserId};
        let dir = tempfile::tempdir().unwrap();
        let location = Location::SqliteFile(dir.path().join("old.db"));
        let store = Store::connect(&location).await.unwrap();
        let mut conn = store.writer().acquire().await.unwrap();
        let old = apply_on(&mut conn, Backend::Sqlite, &SQLITE[..12]).await;
        assert_eq!(old.unwrap(), 12);
        let (court, clerk, case, party) = (
            CourtId::new().to_string(),
            UserId::new().to_string(),
            CaseId::new().to_string(),
            PartyId::new().to_string(),
        );
        let t = "2026-11-02T03:04:05.000000Z";
        for sql in [
            "INSERT INTO courts (id, name, created_at) VALUES ($1, '北京市朝阳区人民法院', $5)",
            "INSERT INTO users (id, role, name, login, password_hash, court_id, created_at)
             VALUES ($2, 'clerk', '书记员', 'clerk', 'x', $1, $5)",
            "INSERT INTO cases (id, court_id, case_number, case_key, title, created_by, created_at)
             VALUES ($3, $1, '(2026)京0105民初1号', '(2026)京0105民初1号', '张三诉李四', $2, $5)",
            "INSERT INTO parties (id, case_id, name, role, phone, binding_code_hmac, created_by, created_at)
             VALUES ($4, $3, '李四', 'defendant', '13800000000', 'h', $2, $5)",
        ] {
            sqlx::query(sql)
                .bind(&court)
                .bind(&clerk)
                .bind(&case)
                .bind(&party)
                .bind(t)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let (viewed, refused) = (ServiceId::new().to_string(), ServiceId::new().to_string());
        for (id, stage) in [(&viewed, "viewed"), (&refused, "refused")] {
            sqlx::query(
                "INSERT INTO services (id, case_id, party_id, stage, regime, provenance, consent_basis,
                    consent_version, deposited_at, created_by, created_at)
                 VALUES ($1, $2, $3, $4, 'CPL2021-A90', 'confirmed', 'prior_agreement', 1, $5, $6, $5)",
            )
            .bind(id)
            .bind(&case)
            .bind(&party)
            .bind(stage)
            .bind(t)
            .bind(&clerk)
            .execute(&mut *conn)
            .await
            .unwrap();
            sqlx::query("INSERT INTO service_search (service_id, body) VALUES ($1, $2)")
                .bind(id)
                .bind(format!("民事裁定书 李四 {stage}"))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let new = apply_on(&mut conn, Backend::Sqlite, SQLITE).await;
        assert_eq!(new.unwrap(), SQLITE.len() - 12);
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT court_id, case_id, stage, deposited_at, created_at
             FROM service_search WHERE service_id = $1",
        )
        .bind(&viewed)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let expected = (
            court.clone(),
            case,
            "viewed".to_string(),
            t.into(),
            t.into(),
        );
        assert_eq!(rows, [expected]);
        drop(conn);
        // The court's lists find them by stage and through the text indexes.
        let scope = Scope::Court(court.parse().unwrap());
        let list = |q: ServiceQuery| {
            let store = &store;
            async move {
                let (page, _) = store.list_services(scope, &q).await.unwrap();
                page.items
                    .iter()
                    .map(|i| i.detail.service.id.to_string())
                    .collect::<Vec<_>>()
            }
        };
        let pending = ServiceQuery {
            status: Some(StatusFilter::Pending),
            ..Default::default()
        };
        assert_eq!(list(pending).await, vec![viewed.clone()]);
        let search = ServiceQuery {
            q: Some("裁定书 refused".into()),
            ..Default::default()
        };
        assert_eq!(list(search).await, vec![refused.clone()]);
        // A two-character term, through the index of pairs the migration filled.
        let pair = ServiceQuery {
            q: Some("李四".into()),
            limit: 20,
            ..Default::default()
        };
        assert_eq!(list(pair).await, [viewed, refused]);
        store.close().await;
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |l: &[Migration]| l.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
    }
}
