//! The signed evidence log: the platform's signing key and the tree heads it signs.
//!
//! The key is made at first start (PKCS#8, file mode 0600, in the data dir or
//! `SONGDA_LOG_KEY_FILE`) and its public half is published in the database, where it stays
//! after a rotation, so heads signed by an old key still verify. Ed25519 by default, SM2
//! over SM3 when configured (see [`signer`]). A head is signed whenever the log has grown
//! since the last one: on demand (`GET /log/head`) and, in a running server, at least once
//! a second while events arrive.

mod signer;
mod timestamps;

pub use signer::{
    Algorithm, LogSigner, SM2_DISTINGUISHING_ID, check_public_key, key_id, verify_head,
};
pub use timestamps::{Timestamper, head_timestamp, run_timestamper};

use crate::state::AppState;
use crate::store::{LogKey, StoreError};
use songda_core::evidence::head::TreeHead;

/// The newest head, signing a new one first if the log has grown since the last.
pub async fn current_head(state: &AppState) -> Result<TreeHead, StoreError> {
    let size = state.store.log_size().await?;
    if let Some(head) = state.store.latest_tree_head().await?
        && head.size == size
    {
        return Ok(head);
    }
    let root = state.store.log_root(size).await?;
    let head = state
        .log_signer
        .sign(
            size,
            root.to_string(),
            songda_core::timefmt::rfc3339(state.now()),
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    state.store.add_tree_head(&head).await
}

/// Signs heads while events arrive, checking once a second, until the process stops.
pub async fn run_sequencer(state: AppState) {
    loop {
        if let Err(e) = current_head(&state).await {
            tracing::warn!(error = %e, "could not sign a tree head; retrying");
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Publishes the signer's public key (once per key).
pub async fn publish_key(
    store: &crate::store::Store,
    signer: &LogSigner,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    store
        .add_log_key(&LogKey {
            key_id: signer.key_id().to_string(),
            algorithm: signer.algorithm().name().to_string(),
            public_key: signer.public_key().to_string(),
            created_at: songda_core::timefmt::rfc3339(now),
        })
        .await
}
