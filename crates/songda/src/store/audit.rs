//! Reads for `songda audit`: the log in order, in chunks, with the stored node hashes of
//! each chunk, every signed head, and the hashes of every stored document. Nothing here
//! writes.

use super::heads::{HEAD_COLUMNS, HeadRow, head_of_row};
use super::{Result, Store};
use songda_core::evidence::head::TreeHead;

row_struct! {
    /// One stored event row as the audit sees it: what was hashed, and what was stored as
    /// its leaf (the level-0 node proofs are built from).
    #[derive(Debug)]
    pub struct AuditRow {
        pub seq: i64,
        pub body: String,
        pub leaf_hash: Option<String>,
    }
}

impl Store {
    /// Up to `limit` events after `after_seq`, in log order.
    pub async fn audit_events(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
        Ok(sqlx::query_as(
            "SELECT seq, body, leaf_hash FROM evidence WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// The id and type of the event at `seq`, to name it in a report.
    pub async fn audit_event_name(&self, seq: i64) -> Result<Option<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT event_type, id FROM evidence WHERE seq = $1")
                .bind(seq)
                .fetch_optional(self.reader())
                .await?,
        )
    }

    /// The stored nodes of one level with `lo <= idx < hi`, in order.
    pub async fn audit_nodes(&self, level: u32, lo: u64, hi: u64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT idx, hash FROM log_nodes WHERE level = $1 AND idx >= $2 AND idx < $3
             ORDER BY idx",
        )
        .bind(level as i64)
        .bind(lo as i64)
        .bind(hi as i64)
        .fetch_all(self.reader())
        .await?)
    }

    /// Every stored node above `level`, as (level, idx, hash): few, one per 2^level leaves.
    pub async fn audit_nodes_above(&self, level: u32) -> Result<Vec<(i64, i64, String)>> {
        Ok(
            sqlx::query_as("SELECT level, idx, hash FROM log_nodes WHERE level > $1")
                .bind(level as i64)
                .fetch_all(self.reader())
                .await?,
        )
    }

    /// How many node rows each level holds, for spotting rows beyond the log.
    pub async fn audit_node_counts(&self) -> Result<Vec<(i64, i64)>> {
        Ok(
            sqlx::query_as("SELECT level, COUNT(*) FROM log_nodes GROUP BY level ORDER BY level")
                .fetch_all(self.reader())
                .await?,
        )
    }

    /// Every signed head, smallest first.
    pub async fn tree_heads(&self) -> Result<Vec<TreeHead>> {
        let rows: Vec<HeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY size, timestamp"
        )))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(head_of_row).collect())
    }

    /// The hash (and one title) of every stored document, by hash.
    pub async fn document_hashes(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT sha256, MIN(title) FROM documents GROUP BY sha256 ORDER BY sha256",
        )
        .fetch_all(self.reader())
        .await?)
    }
}
