//! The log's signing key and the two signature algorithms a tree head can carry:
//!
//! - `ed25519` (the default): Ed25519 (RFC 8032) over the head's signed bytes; the public
//!   key is the 32 raw bytes.
//! - `sm2-sm3`, the national-crypto option: SM2 (GB/T 32918.2, GM/T 0003) over SM3 with the
//!   standard's default distinguishing ID `1234567812345678`, the signature DER-encoded
//!   (`SEQUENCE { r, s }`, as OpenSSL writes it); the public key is the 65-byte uncompressed
//!   SEC1 point.
//!
//! The private key is kept as PKCS#8 DER in either case (`openssl pkey -inform DER` reads
//! it); a PKCS#8 PEM file, as `openssl genpkey` writes, is read too. A key's id is the first 16 hex digits of the SHA-256 of its raw public key.

use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::elliptic_curve::Generate;
use sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use songda_core::evidence::head::TreeHead;
use std::path::Path;

/// The distinguishing ID of SM2 signatures: the default of GB/T 32918 and GM/T 0009, the
/// one OpenSSL and most national-crypto tools assume.
pub const SM2_DISTINGUISHING_ID: &str = "1234567812345678";

/// A signature algorithm of tree heads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Ed25519,
    Sm2Sm3,
}

impl Algorithm {
    /// The name heads and published keys carry.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Sm2Sm3 => "sm2-sm3",
        }
    }

    /// Reads a name as heads and published keys carry it.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "ed25519" => Ok(Algorithm::Ed25519),
            "sm2-sm3" => Ok(Algorithm::Sm2Sm3),
            other => Err(format!(
                "unknown signature algorithm {other:?} (known: ed25519, sm2-sm3)"
            )),
        }
    }

    /// Reads an operator's setting (`SONGDA_LOG_ALGORITHM`): `ed25519` or `sm2`.
    pub fn from_setting(name: &str) -> Result<Self, String> {
        match name {
            "sm2" => Ok(Algorithm::Sm2Sm3),
            other => Self::parse(other),
        }
    }

    /// The length of a raw public key.
    pub fn public_key_len(self) -> usize {
        match self {
            Algorithm::Ed25519 => 32,
            Algorithm::Sm2Sm3 => 65,
        }
    }

    /// The key file's name in the data dir when none is configured. Each algorithm has its
    /// own, so switching algorithm is a key rotation: the old key stays on disk and published.
    pub fn default_key_file(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "log-signing.key",
            Algorithm::Sm2Sm3 => "log-signing-sm2.key",
        }
    }
}

enum Key {
    Ed25519(Ed25519KeyPair),
    Sm2(Box<sm2::dsa::SigningKey>),
}

pub struct LogSigner {
    key: Key,
    key_id: String,
    public_key: String,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("algorithm", &self.algorithm().name())
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl LogSigner {
    /// Loads the `algorithm` key from `path`, making it on first start.
    pub fn load_or_create(path: &Path, algorithm: Algorithm) -> anyhow::Result<Self> {
        let pkcs8 = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let made = generate(algorithm)?;
                crate::secrets::write_private(path, &made)
                    .with_context(|| format!("writing the log signing key {}", path.display()))?;
                made
            }
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", path.display()));
            }
        };
        let key = read_key(&pkcs8).with_context(|| {
            format!(
                "{} is neither an Ed25519 nor an SM2 key in PKCS#8 form (DER, or PEM \"PRIVATE KEY\")",
                path.display()
            )
        })?;
        let signer = Self::from_key(key);
        if signer.algorithm() != algorithm {
            anyhow::bail!(
                "{} holds an {} key, but the log is configured to sign with {} (SONGDA_LOG_ALGORITHM); give the {} key's file in SONGDA_LOG_KEY_FILE, or leave it unset to use {} in the data dir",
                path.display(),
                signer.algorithm().name(),
                algorithm.name(),
                algorithm.name(),
                algorithm.default_key_file()
            );
        }
        Ok(signer)
    }

    fn from_key(key: Key) -> Self {
        let public = match &key {
            Key::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
            Key::Sm2(signing) => signing.verifying_key().to_sec1_bytes().to_vec(),
        };
        Self {
            key_id: key_id(&public),
            public_key: hex::encode(&public),
            key,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.key {
            Key::Ed25519(_) => Algorithm::Ed25519,
            Key::Sm2(_) => Algorithm::Sm2Sm3,
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw public key, lowercase hex.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Signs the head of a log of `size` leaves with root `root` (hex) at `timestamp`.
    pub fn sign(&self, size: u64, root: String, timestamp: String) -> anyhow::Result<TreeHead> {
        let mut head = TreeHead {
            size,
            root,
            timestamp,
            algorithm: self.algorithm().name().into(),
            key_id: self.key_id.clone(),
            signature: String::new(),
        };
        let bytes = head.signed_bytes()?;
        head.signature = match &self.key {
            Key::Ed25519(pair) => hex::encode(pair.sign(&bytes).as_ref()),
            Key::Sm2(signing) => {
                let signature: sm2::dsa::Signature = signing
                    .try_sign(&bytes)
                    .map_err(|_| anyhow::anyhow!("SM2 signing failed"))?;
                hex::encode(sm2::dsa::DerSignature::from(signature).as_bytes())
            }
        };
        Ok(head)
    }
}

fn generate(algorithm: Algorithm) -> anyhow::Result<Vec<u8>> {
    Ok(match algorithm {
        Algorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("cannot generate the log signing key"))?
            .as_ref()
            .to_vec(),
        Algorithm::Sm2Sm3 => sm2::SecretKey::generate()
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("cannot encode the SM2 signing key: {e}"))?
            .as_bytes()
            .to_vec(),
    })
}

fn read_key(file: &[u8]) -> anyhow::Result<Key> {
    let pem = std::str::from_utf8(file)
        .ok()
        .and_then(|text| crate::pem::first(text, "PRIVATE KEY"));
    let pkcs8 = pem.as_deref().unwrap_or(file);
    if let Ok(pair) = Ed25519KeyPair::from_pkcs8(pkcs8) {
        return Ok(Key::Ed25519(pair));
    }
    let secret = sm2::SecretKey::from_pkcs8_der(pkcs8).map_err(|e| anyhow::anyhow!("{e}"))?;
    let signing = sm2::dsa::SigningKey::new(SM2_DISTINGUISHING_ID, &secret)
        .map_err(|_| anyhow::anyhow!("not a usable SM2 key"))?;
    Ok(Key::Sm2(Box::new(signing)))
}

/// A key's id: the first 16 hex digits of the SHA-256 of its raw public key.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// Checks that `raw` is a public key of `algorithm`: the right length, and for SM2 a point
/// on the curve.
pub fn check_public_key(algorithm: Algorithm, raw: &[u8]) -> Result<(), String> {
    if raw.len() != algorithm.public_key_len() {
        return Err(format!(
            "an {} public key has {} bytes, not {}",
            algorithm.name(),
            algorithm.public_key_len(),
            raw.len()
        ));
    }
    if algorithm == Algorithm::Sm2Sm3 {
        sm2::PublicKey::from_sec1_bytes(raw)
            .map_err(|_| "the SM2 public key is not a point on the curve".to_string())?;
    }
    Ok(())
}

/// Checks a head's signature against a public key of `key_algorithm` (raw, hex).
pub fn verify_head(
    head: &TreeHead,
    key_algorithm: &str,
    public_key_hex: &str,
) -> Result<(), String> {
    let algorithm = Algorithm::parse(&head.algorithm)?;
    if key_algorithm != head.algorithm {
        return Err(format!(
            "the head is signed with {}, the key is for {key_algorithm}",
            head.algorithm
        ));
    }
    let public = hex::decode(public_key_hex).map_err(|_| "the public key is not hex")?;
    check_public_key(algorithm, &public)?;
    if key_id(&public) != head.key_id {
        return Err(format!("the head names key {}, not this key", head.key_id));
    }
    let signature = hex::decode(&head.signature).map_err(|_| "the signature is not hex")?;
    let bytes = head.signed_bytes().map_err(|e| e.to_string())?;
    let mismatch = || "the signature does not match the head".to_string();
    match algorithm {
        Algorithm::Ed25519 => UnparsedPublicKey::new(&ED25519, public)
            .verify(&bytes, &signature)
            .map_err(|_| mismatch()),
        Algorithm::Sm2Sm3 => {
            let key = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTINGUISHING_ID, &public)
                .map_err(|_| "the SM2 public key is not a point on the curve".to_string())?;
            let der = sm2::dsa::DerSignature::try_from(signature.as_slice())
                .map_err(|_| "the SM2 signature is not DER SEQUENCE { r, s }".to_string())?;
            let signature = sm2::dsa::Signature::try_from(der).map_err(|_| mismatch())?;
            key.verify(&bytes, &signature).map_err(|_| mismatch())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(algorithm: Algorithm) -> (tempfile::TempDir, LogSigner) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(algorithm.default_key_file());
        let signer = LogSigner::load_or_create(&path, algorithm).unwrap();
        (dir, signer)
    }

    #[test]
    fn both_algorithms_sign_heads_that_verify_and_catch_a_change() {
        for algorithm in [Algorithm::Ed25519, Algorithm::Sm2Sm3] {
            let (_dir, signer) = signer(algorithm);
            let head = signer
                .sign(9, "ab".repeat(32), "2026-11-29T08:00:00.000000Z".into())
                .unwrap();
            assert_eq!(head.algorithm, algorithm.name());
            verify_head(&head, algorithm.name(), signer.public_key()).unwrap();
            let mut moved = head.clone();
            moved.size = 10;
            assert_eq!(
                verify_head(&moved, algorithm.name(), signer.public_key()).unwrap_err(),
                "the signature does not match the head"
            );
        }
    }

    #[test]
    fn a_key_is_made_once_and_read_back_as_the_same_key() {
        let (dir, first) = signer(Algorithm::Sm2Sm3);
        let path = dir.path().join(Algorithm::Sm2Sm3.default_key_file());
        let again = LogSigner::load_or_create(&path, Algorithm::Sm2Sm3).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        assert_eq!(first.public_key().len(), 130);
        let err = LogSigner::load_or_create(&path, Algorithm::Ed25519).unwrap_err();
        assert!(err.to_string().contains("holds an sm2-sm3 key"), "{err:#}");
    }

    #[test]
    fn a_signature_by_one_algorithm_is_not_taken_for_the_other() {
        let (_a, ed) = signer(Algorithm::Ed25519);
        let (_b, sm) = signer(Algorithm::Sm2Sm3);
        let head = sm.sign(1, "00".repeat(32), "t".into()).unwrap();
        let err = verify_head(&head, "ed25519", ed.public_key()).unwrap_err();
        assert!(err.contains("the key is for ed25519"), "{err}");
        let mut relabelled = head.clone();
        relabelled.algorithm = "ed25519".into();
        assert!(verify_head(&relabelled, "ed25519", sm.public_key()).is_err());
    }
}
