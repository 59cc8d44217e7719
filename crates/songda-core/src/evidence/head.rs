//! Signed tree heads: the platform's signed statement "the evidence log had `size` leaves
//! with root `root` at `timestamp`". What is signed is the canonical JSON (RFC 8785) of
//! the head without its signature, so any verifier can rebuild the exact bytes.

use super::canonical::{CanonicalError, to_canonical};
use serde::{Deserialize, Serialize};

/// The version of the signed statement's shape.
pub const HEAD_VERSION: u32 = 1;

/// A tree head and its signature. Hashes are lowercase hex; the signature is lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    pub size: u64,
    pub root: String,
    /// RFC 3339 UTC.
    pub timestamp: String,
    /// `ed25519`.
    pub algorithm: String,
    /// Names the key that signed (see the log's public keys).
    pub key_id: String,
    pub signature: String,
}

/// The signed part of a head.
#[derive(Serialize)]
struct Statement<'a> {
    v: u32,
    size: u64,
    root: &'a str,
    timestamp: &'a str,
    algorithm: &'a str,
    key_id: &'a str,
}

impl TreeHead {
    /// The bytes the signature covers: the canonical JSON of every field but the signature,
    /// with `v` = [`HEAD_VERSION`].
    pub fn signed_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        to_canonical(&Statement {
            v: HEAD_VERSION,
            size: self.size,
            root: &self.root,
            timestamp: &self.timestamp,
            algorithm: &self.algorithm,
            key_id: &self.key_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_bytes_are_the_canonical_statement_without_the_signature() {
        let head = TreeHead {
            size: 7,
            root: "ab".into(),
            timestamp: "2026-11-29T08:00:00.000000Z".into(),
            algorithm: "ed25519".into(),
            key_id: "k1".into(),
            signature: "ignored".into(),
        };
        assert_eq!(
            String::from_utf8(head.signed_bytes().unwrap()).unwrap(),
            r#"{"algorithm":"ed25519","key_id":"k1","root":"ab","size":7,"timestamp":"2026-11-29T08:00:00.000000Z","v":1}"#
        );
    }
}
