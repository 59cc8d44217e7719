//! The evidence log in storage: events appended in the transaction of the fact they record,
//! in one total order (`seq`).

use super::{Backend, Result, Store, StoreError, Tx};
use songda_core::evidence::Event;
use songda_core::ids::ServiceId;

/// Any fixed number, the same in every process: the key of the sequencer lock.
const SEQUENCER_LOCK: i64 = 0x536f_6e67_6461_0002;

/// Appends an event as the next entry of the log, inside the caller's transaction.
///
/// The log has one total order, and an entry's number must never be taken by a
/// transaction that commits after a later one (a reader would see a gap fill in). SQLite
/// has one writer, so this holds by construction. On PostgreSQL the first append of a
/// transaction takes a transaction-scoped advisory lock, held until commit: appenders take
/// turns, and the next number is read after the previous appender committed.
pub(crate) async fn append(tx: &mut Tx<'_>, backend: Backend, e: &Event) -> Result<()> {
    let body = serde_json::to_string(e).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SEQUENCER_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO evidence (seq, id, event_type, at, case_id, service_id, body)
         VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM evidence), $1, $2, $3, $4, $5, $6)",
    )
    .bind(e.id.to_string())
    .bind(e.event_type.as_str())
    .bind(&e.at)
    .bind(e.case.as_ref().map(|c| c.id.to_string()))
    .bind(e.service_id.map(|s| s.to_string()))
    .bind(body)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The events of one service in log order.
    pub async fn service_events(&self, service: ServiceId) -> Result<Vec<Event>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM evidence WHERE service_id = $1 ORDER BY seq")
                .bind(service.to_string())
                .fetch_all(self.reader())
                .await?;
        rows.into_iter()
            .map(|(b,)| serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    /// The whole log in order, as (seq, event); for audits and tests.
    pub async fn all_events(&self) -> Result<Vec<(i64, Event)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM evidence ORDER BY seq")
                .fetch_all(self.reader())
                .await?;
        rows.into_iter()
            .map(|(seq, b)| {
                serde_json::from_str(&b)
                    .map(|e| (seq, e))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// How many events the log holds.
    pub async fn evidence_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evidence")
            .fetch_one(self.reader())
            .await?;
        Ok(n)
    }

    /// Appends a standalone event (one not tied to another state change).
    pub async fn append_event(&self, e: &Event) -> Result<()> {
        let mut tx = self.begin().await?;
        append(&mut tx, self.backend, e).await?;
        tx.commit().await?;
        Ok(())
    }
}
