//! The signed evidence log: the platform's Ed25519 key and the tree heads it signs.
//!
//! The key is made at first start (PKCS#8, file mode 0600, `log-signing.key` in the data
//! dir or `SONGDA_LOG_KEY_FILE`) and its public half is published in the database, where
//! it stays after a rotation, so heads signed by an old key still verify. A head is signed
//! whenever the log has grown since the last one: on demand (`GET /log/head`) and, in a
//! running server, at least once a second while events arrive.

use crate::state::AppState;
use crate::store::{LogKey, StoreError};
use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use songda_core::evidence::head::TreeHead;
use std::path::Path;

pub const ALGORITHM: &str = "ed25519";

pub struct LogSigner {
    key: Ed25519KeyPair,
    key_id: String,
    public_key: String,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl LogSigner {
    /// Loads the key from `path`, making it on first start.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        let pkcs8 = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(|_| anyhow::anyhow!("cannot generate the log signing key"))?;
                crate::secrets::write_private(path, doc.as_ref())
                    .with_context(|| format!("writing the log signing key {}", path.display()))?;
                doc.as_ref().to_vec()
            }
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", path.display()));
            }
        };
        let key = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| {
            anyhow::anyhow!("{} is not an Ed25519 key in PKCS#8 form", path.display())
        })?;
        let public = key.public_key().as_ref().to_vec();
        Ok(Self {
            key_id: key_id(&public),
            public_key: hex::encode(&public),
            key,
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Signs the head of a log of `size` leaves with root `root` (hex) at `timestamp`.
    pub fn sign(&self, size: u64, root: String, timestamp: String) -> anyhow::Result<TreeHead> {
        let mut head = TreeHead {
            size,
            root,
            timestamp,
            algorithm: ALGORITHM.into(),
            key_id: self.key_id.clone(),
            signature: String::new(),
        };
        head.signature = hex::encode(self.key.sign(&head.signed_bytes()?).as_ref());
        Ok(head)
    }
}

/// A key's id: the first 16 hex digits of the SHA-256 of its public key.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// Checks a head's signature against a public key (32 bytes, hex).
pub fn verify_head(head: &TreeHead, public_key_hex: &str) -> Result<(), String> {
    if head.algorithm != ALGORITHM {
        return Err(format!("unknown signature algorithm {:?}", head.algorithm));
    }
    let public = hex::decode(public_key_hex).map_err(|_| "the public key is not hex")?;
    if key_id(&public) != head.key_id {
        return Err(format!("the head names key {}, not this key", head.key_id));
    }
    let signature = hex::decode(&head.signature).map_err(|_| "the signature is not hex")?;
    let bytes = head.signed_bytes().map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&ED25519, public)
        .verify(&bytes, &signature)
        .map_err(|_| "the signature does not match the head".to_string())
}

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
    state.store.add_tree_head(&head).await?;
    Ok(head)
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
            algorithm: ALGORITHM.to_string(),
            public_key: signer.public_key().to_string(),
            created_at: songda_core::timefmt::rfc3339(now),
        })
        .await
}
