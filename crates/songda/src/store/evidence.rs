//! The evidence log in storage: events appended in the transaction of the fact they record,
//! in one total order (`seq`).

use super::{Result, Store, StoreError, Tx};
use songda_core::evidence::Event;
use songda_core::ids::ServiceId;

pub(crate) async fn append(tx: &mut Tx<'_>, e: &Event) -> Result<()> {
    let body = serde_json::to_string(e).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    sqlx::query(
        "INSERT INTO evidence (id, event_type, at, case_id, service_id, body)
         VALUES ($1, $2, $3, $4, $5, $6)",
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
        append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }
}
