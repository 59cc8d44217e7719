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

    /// Stores a signed head and returns the head stored for its size and key: this one, or
    /// the one a concurrent signer stored first.
    pub async fn add_tree_head(&self, head: &TreeHead) -> Result<TreeHead> {
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
        let row: HeadRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {HEAD_COLUMNS} FROM tree_heads WHERE size = $1 AND key_id = $2"
        )))
        .bind(head.size as i64)
        .bind(&head.key_id)
        .fetch_one(self.writer())
        .await?;
        Ok(head_of_row(row))
    }

    /// Keeps the timestamp token (DER, base64) of a stored head; a head keeps its first.
    pub async fn set_head_timestamp(&self, head: &TreeHead, token: &str) -> Result<()> {
        sqlx::query(
            "UPDATE tree_heads SET tsa_token = $1
             WHERE size = $2 AND key_id = $3 AND signature = $4 AND tsa_token IS NULL",
        )
        .bind(token)
        .bind(head.size as i64)
        .bind(&head.key_id)
        .bind(&head.signature)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The timestamp token of a stored head, if it has one.
    pub async fn head_timestamp(&self, head: &TreeHead) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT tsa_token FROM tree_heads WHERE size = $1 AND key_id = $2 AND signature = $3",
        )
        .bind(head.size as i64)
        .bind(&head.key_id)
        .bind(&head.signature)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.and_then(|(t,)| t))
    }

    /// Every stored head with a timestamp, and its token, smallest first.
    pub async fn head_timestamps(&self) -> Result<Vec<(TreeHead, String)>> {
        let rows: Vec<(i64, String, String, String, String, String, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {HEAD_COLUMNS}, tsa_token FROM tree_heads
                 WHERE tsa_token IS NOT NULL ORDER BY size, timestamp"
            )))
            .fetch_all(self.reader())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(a, b, c, d, e, f, token)| (head_of_row((a, b, c, d, e, f)), token))
            .collect())
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

row_struct! {
    /// A published public key of the log.
    #[derive(Clone, Debug, serde::Serialize)]
    pub struct LogKey {
        pub key_id: String,
        pub algorithm: String,
        /// The raw key, lowercase hex (32 bytes for Ed25519, 65 for SM2).
        pub public_key: String,
        pub created_at: String,
    }
}
