//! The signed tree heads of the evidence log and the public keys that signed them. A key
//! stays published after a rotation, so every head ever signed still verifies.

use super::{Result, Store};
use songda_core::evidence::head::TreeHead;

impl Store {
    /// Publishes a signing key; publishing it again changes nothing.
    pub async fn add_log_key(&self, key: &LogKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO log_keys (key_id, algorithm, public_key, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key_id) DO NOTHING",
        )
        .bind(&key.key_id)
        .bind(&key.algorithm)
        .bind(&key.public_key)
        .bind(&key.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Every key that ever signed, oldest first.
    pub async fn log_keys(&self) -> Result<Vec<LogKey>> {
        Ok(sqlx::query_as(
            "SELECT key_id, algorithm, public_key, created_at FROM log_keys ORDER BY created_at, key_id",
        )
        .fetch_all(self.reader())
        .await?)
    }

    /// Stores a signed head (a second head of the same size by the same key is dropped).
    pub async fn add_tree_head(&self, head: &TreeHead) -> Result<()> {
        sqlx::query(
            "INSERT INTO tree_heads (size, root, timestamp, algorithm, key_id, signature)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (size, key_id) DO NOTHING",
        )
        .bind(head.size as i64)
        .bind(&head.root)
        .bind(&head.timestamp)
        .bind(&head.algorithm)
        .bind(&head.key_id)
        .bind(&head.signature)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The head of the largest tree signed so far.
    pub async fn latest_tree_head(&self) -> Result<Option<TreeHead>> {
        let row: Option<HeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY size DESC, timestamp DESC LIMIT 1"
        )))
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(head_of_row))
    }
}

/// The columns of a stored head, in the order of [`HeadRow`].
pub(super) const HEAD_COLUMNS: &str = "size, root, timestamp, algorithm, key_id, signature";
pub(super) type HeadRow = (i64, String, String, String, String, String);

pub(super) fn head_of_row(
    (size, root, timestamp, algorithm, key_id, signature): HeadRow,
) -> TreeHead {
    TreeHead {
        size: size as u64,
        root,
        timestamp,
        algorithm,
        key_id,
        signature,
    }
}

/// A published public key of the log.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct LogKey {
    pub key_id: String,
    pub algorithm: String,
    /// 32 bytes, lowercase hex.
    pub public_key: String,
    pub created_at: String,
}
