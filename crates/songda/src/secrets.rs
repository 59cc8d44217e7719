//! The server secret and what is derived from it: HMACs of one-time codes, random tokens,
//! verification and binding codes, password hashing.
//!
//! Codes are never stored or logged in clear: the database holds `HMAC-SHA256(secret,
//! purpose || code)`, so a copy of the database does not reveal a usable code.

use anyhow::Context;
use hmac::{Hmac, KeyInit, Mac};
use rand::{Rng, RngExt};
use sha2::{Digest, Sha256};
use std::path::Path;

pub struct Secrets {
    key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Symbols of binding codes: no 0/O, 1/I/L, so a code read aloud or off paper is typed right.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

impl Secrets {
    /// Loads the secret from `path`, creating it (mode 0600) on first start.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if let Ok(bytes) = std::fs::read(path) {
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .with_context(|| format!("{} must hold exactly 32 bytes", path.display()))?;
            return Ok(Self { key });
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private(path, &key)
            .with_context(|| format!("writing the server secret {}", path.display()))?;
        Ok(Self { key })
    }

    /// A value that names this key without revealing it: processes of one deployment
    /// compare it to make sure they share the key.
    pub fn fingerprint(&self) -> String {
        self.code_hmac("key-fingerprint", "songda")
    }

    /// HMAC of a code for storage; `purpose` separates phone codes from binding codes.
    pub fn code_hmac(&self, purpose: &str, code: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// 256 random bits as hex: session and API tokens, CSRF tokens.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The SHA-256 of a token, as stored; a stolen sessions table cannot be replayed.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A 6-digit SMS verification code.
pub fn six_digits() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// A 10-symbol binding code from a 31-symbol alphabet (about 49 bits): unguessable within
/// the rate limit on tries.
pub fn binding_code() -> String {
    let mut rng = rand::rng();
    (0..10)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// What a person typed as a binding code, in the form it was issued: upper case, without
/// the spaces and dashes people add when copying.
pub fn normalize_binding_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    let Ok(parsed) = argon2::PasswordHash::new(hash) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_shape_and_hmacs_depend_on_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let s = Secrets::load_or_create(&dir.path().join("k")).unwrap();
        let again = Secrets::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(s.code_hmac("p", "123456"), again.code_hmac("p", "123456"));
        assert_ne!(s.code_hmac("p", "123456"), s.code_hmac("q", "123456"));
        assert_eq!(six_digits().len(), 6);
        let c = binding_code();
        assert_eq!(c.len(), 10);
        assert_eq!(
            normalize_binding_code(&format!(" {}-{} ", &c[..5], &c[5..]).to_lowercase()),
            c
        );
        assert_ne!(binding_code(), binding_code());
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
    }
}
