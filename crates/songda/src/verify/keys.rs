//! The log's public keys as a verifier is handed them: the JSON of `GET /log/public-key`
//! (every key the log ever used), one key as JSON, a PEM `PUBLIC KEY` (SubjectPublicKeyInfo,
//! as `openssl pkey -pubout` writes it; Ed25519 or SM2), or the raw key in hex (32 bytes for
//! Ed25519, the 65-byte uncompressed point for SM2).

use crate::log::{Algorithm, check_public_key, key_id};
use serde::{Deserialize, Serialize};
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::pkcs8::DecodePublicKey;

/// One public key of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub algorithm: String,
    pub key_id: String,
    /// The raw key, lowercase hex (32 bytes for Ed25519, 65 for SM2).
    pub public_key: String,
}

impl PublicKey {
    fn new(algorithm: Algorithm, raw: &[u8]) -> Self {
        Self {
            algorithm: algorithm.name().into(),
            key_id: key_id(raw),
            public_key: hex::encode(raw),
        }
    }
}

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING (0 unused bits) }, followed by the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Reads the keys in a public-key file. A key id given in the file must be the key's own.
pub fn parse_public_keys(bytes: &[u8]) -> Result<Vec<PublicKey>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "the public key file is not text".to_string())?
        .trim();
    let keys = if text.starts_with('{') {
        from_json(text)?
    } else if text.starts_with("-----BEGIN") {
        vec![from_pem(text)?]
    } else {
        let raw = hex::decode(text)
            .map_err(|_| "the public key file is neither JSON, PEM nor hex".to_string())?;
        let algorithm = match raw.len() {
            32 => Algorithm::Ed25519,
            65 => Algorithm::Sm2Sm3,
            n => {
                return Err(format!(
                    "a hex public key has 32 bytes (Ed25519) or 65 (SM2), not {n}"
                ));
            }
        };
        check_public_key(algorithm, &raw)?;
        vec![PublicKey::new(algorithm, &raw)]
    };
    if keys.is_empty() {
        return Err("the public key file holds no key".into());
    }
    Ok(keys)
}

fn from_json(text: &str) -> Result<Vec<PublicKey>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the public key file: {e}"))?;
    let list = match value.get("keys") {
        Some(keys) => serde_json::from_value::<Vec<PublicKey>>(keys.clone()),
        None => serde_json::from_value::<PublicKey>(value).map(|k| vec![k]),
    }
    .map_err(|e| format!("the public key file: {e}"))?;
    for k in &list {
        let algorithm =
            Algorithm::parse(&k.algorithm).map_err(|e| format!("key {}: {e}", k.key_id))?;
        let raw = hex::decode(&k.public_key)
            .map_err(|_| format!("key {}: the public key is not hex", k.key_id))?;
        check_public_key(algorithm, &raw).map_err(|e| format!("key {}: {e}", k.key_id))?;
        if key_id(&raw) != k.key_id {
            return Err(format!("key {}: the key id is not this key's", k.key_id));
        }
    }
    Ok(list)
}

fn from_pem(text: &str) -> Result<PublicKey, String> {
    let der = crate::pem::first(text, "PUBLIC KEY")
        .ok_or_else(|| "the PEM file holds no valid PUBLIC KEY block".to_string())?;
    if let Some(raw) = der.strip_prefix(&ED25519_SPKI_PREFIX[..])
        && raw.len() == 32
    {
        return Ok(PublicKey::new(Algorithm::Ed25519, raw));
    }
    match sm2::PublicKey::from_public_key_der(&der) {
        Ok(key) => Ok(PublicKey::new(
            Algorithm::Sm2Sm3,
            &key.to_sec1_point(false).to_bytes(),
        )),
        Err(_) => Err("the PEM file holds neither an Ed25519 nor an SM2 public key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const RAW: [u8; 32] = [7; 32];

    fn pem(raw: &[u8]) -> String {
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(raw);
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
    }

    #[test]
    fn every_accepted_form_reads_as_the_same_key() {
        let key = PublicKey::new(Algorithm::Ed25519, &RAW);
        let one = serde_json::to_string(&key).unwrap();
        let list = format!(r#"{{"algorithm":"ed25519","keys":[{one}]}}"#);
        for form in [one, list, pem(&RAW), hex::encode(RAW)] {
            assert_eq!(
                parse_public_keys(form.as_bytes()).unwrap(),
                vec![key.clone()]
            );
        }
    }

    #[test]
    fn a_key_id_that_is_not_the_keys_own_is_refused() {
        let mut key = PublicKey::new(Algorithm::Ed25519, &RAW);
        key.key_id = "0000000000000000".into();
        let err = parse_public_keys(serde_json::to_string(&key).unwrap().as_bytes()).unwrap_err();
        assert!(err.contains("not this key's"), "{err}");
    }

    #[test]
    fn other_files_are_refused_with_a_reason() {
        for (bytes, says) in [
            (&b"hello"[..], "neither JSON, PEM nor hex"),
            (&b"abcd"[..], "32 bytes (Ed25519) or 65 (SM2)"),
            (&b"{\"keys\":[]}"[..], "no key"),
            (&[0xff, 0xfe][..], "not text"),
        ] {
            let err = parse_public_keys(bytes).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        let p256 = pem(&[1; 40]);
        assert!(
            parse_public_keys(p256.as_bytes())
                .unwrap_err()
                .contains("neither an Ed25519 nor an SM2")
        );
    }
}
