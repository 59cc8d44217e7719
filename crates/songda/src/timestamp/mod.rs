//! Trusted time: RFC 3161 timestamps of the log's signed tree heads.
//!
//! With `SONGDA_TSA_URL` set, each signed head is sent (as the SHA-256 of its signed bytes,
//! [`imprint`]) to a timestamp authority over HTTP (`application/timestamp-query`). The
//! token that comes back is checked ([`token::check`]) and stored with the head, so a
//! certificate carries the authority's signed word that its head, and with it every event
//! the head covers, existed at that time: evidence of time that does not rest on the
//! platform's own clock.

pub mod der;
pub mod token;

pub use token::{Stamp, check, read_certificates};

use rand::Rng;
use sha2::{Digest, Sha256};
use songda_core::evidence::head::TreeHead;
use std::time::Duration;

/// What the token of a head stamps: the SHA-256 of the head's signed bytes (the canonical
/// statement of size, root, time and key, see `TreeHead::signed_bytes`).
pub fn imprint(head: &TreeHead) -> [u8; 32] {
    let bytes = head
        .signed_bytes()
        .expect("a head's statement is always canonical JSON");
    Sha256::digest(bytes).into()
}

/// A timestamp authority the platform asks.
#[derive(Clone)]
pub struct Authority {
    url: String,
    http: reqwest::Client,
    /// The authority's certificate or its CA (DER), if the operator gave one: tokens must
    /// chain to it.
    trusted: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").field("url", &self.url).finish()
    }
}

impl Authority {
    pub fn new(url: &str, trusted: Vec<Vec<u8>>) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("SONGDA_TSA_URL {url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("SONGDA_TSA_URL {url:?} must be an http:// or https:// URL");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            url: url.to_string(),
            http,
            trusted,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The certificates tokens must chain to (empty: any authority certificate).
    pub fn trusted(&self) -> &[Vec<u8>] {
        &self.trusted
    }

    /// Asks the authority to stamp `head`; returns the checked token (DER).
    pub async fn stamp(&self, head: &TreeHead) -> Result<Vec<u8>, String> {
        let imprint = imprint(head);
        let mut nonce = [0u8; 8];
        rand::rng().fill_bytes(&mut nonce);
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/timestamp-query")
            .header("accept", "application/timestamp-reply")
            .body(request(&imprint, &nonce))
            .send()
            .await
            .map_err(|e| format!("the timestamp authority {} did not answer: {e}", self.url))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "the timestamp authority {} answered HTTP {status}",
                self.url
            ));
        }
        // A token with its certificates is a few kilobytes; refuse to buffer much more.
        const MAX_REPLY: usize = 256 * 1024;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_REPLY as u64)
        {
            return Err(format!(
                "the timestamp authority's answer is over {MAX_REPLY} bytes"
            ));
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the timestamp authority's answer: {e}"))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_REPLY {
                return Err(format!(
                    "the timestamp authority's answer is over {MAX_REPLY} bytes"
                ));
            }
        }
        let token = granted_token(&body)?;
        let stamp = check(&token, &imprint, &self.trusted)?;
        if stamp.nonce.as_deref() != Some(token::strip_sign_byte(&nonce_contents(&nonce))) {
            return Err("the timestamp authority's answer is not for this request (nonce)".into());
        }
        Ok(token)
    }
}

/// A TimeStampReq (RFC 3161 2.4.1): version 1, the SHA-256 imprint, a nonce, and certReq so
/// the token carries the authority's certificate.
pub fn request(imprint: &[u8; 32], nonce: &[u8]) -> Vec<u8> {
    let algorithm = der::write_all(
        der::SEQUENCE,
        &[
            &der::write(der::OID, token::SHA256),
            &der::write(der::NULL, &[]),
        ],
    );
    let message_imprint = der::write_all(
        der::SEQUENCE,
        &[&algorithm, &der::write(der::OCTET_STRING, imprint)],
    );
    der::write_all(
        der::SEQUENCE,
        &[
            &der::write(der::INTEGER, &[1]),
            &message_imprint,
            &der::write_unsigned(nonce),
            &der::write(der::BOOLEAN, &[0xff]),
        ],
    )
}

/// The contents of the nonce INTEGER as [`request`] writes it.
fn nonce_contents(nonce: &[u8]) -> Vec<u8> {
    let encoded = der::write_unsigned(nonce);
    der::single(&encoded, der::INTEGER, "nonce")
        .map(|i| i.value.to_vec())
        .unwrap_or_default()
}

/// The token of a TimeStampResp whose status is granted (0) or grantedWithMods (1).
pub fn granted_token(response: &[u8]) -> Result<Vec<u8>, String> {
    let resp = der::single(response, der::SEQUENCE, "the timestamp response")?;
    let mut r = resp.items();
    let mut status = r
        .expect(der::SEQUENCE, "the timestamp response status")?
        .items();
    let code = status.expect(der::INTEGER, "the status code")?.value;
    if !matches!(code, [0] | [1]) {
        let mut said = Vec::new();
        if let Some(texts) = status.optional(der::SEQUENCE, "the status text")? {
            let mut texts = texts.items();
            while let Ok(t) = texts.next_item("status text") {
                said.push(String::from_utf8_lossy(t.value).into_owned());
            }
        }
        return Err(format!(
            "the timestamp authority refused (status {}){}",
            code.first().copied().unwrap_or_default(),
            if said.is_empty() {
                String::new()
            } else {
                format!(": {}", said.join("; "))
            }
        ));
    }
    let token = r.expect(der::SEQUENCE, "the timestamp token")?;
    Ok(token.raw.to_vec())
}
