//! SMS through an HTTP gateway (`SONGDA_SMS_URL=https://...`, `SONGDA_SMS_SECRET`).
//!
//! Each message is a `POST` of `{"id", "to", "text", "callback"}` (JSON). `id` is the
//! notification's id, the same on every retry, so the gateway can drop a repeat; `callback`
//! is where it reports delivery. The gateway answers 2xx with `{"message_id": "..."}`.
//! Requests and reports are signed alike: `X-Songda-Timestamp` (Unix seconds) and
//! `X-Songda-Signature: v1=HEX`, the HMAC-SHA256 under the shared secret of
//! `TIMESTAMP.BODY`. A report is `{"message_id", "status", "error"?, "done_at"?}` posted to
//! `/api/v1/sms/reports`; status is `delivered`, `failed`, `expired`, `rejected`,
//! `undeliverable` or an SMPP stat word such as `DELIVRD`.

use super::smpp::pdu::{MessageState, Receipt};
use super::{Accepted, SendError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::Duration;

pub const TIMESTAMP_HEADER: &str = "x-songda-timestamp";
pub const SIGNATURE_HEADER: &str = "x-songda-signature";
/// How far a signed report's time may be from ours.
pub const REPORT_WINDOW_SECS: i64 = 300;

pub struct HttpGateway {
    url: String,
    secret: Vec<u8>,
    http: reqwest::Client,
}

/// `v1=` and the HMAC of `TIMESTAMP.BODY`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether a report's signature is the secret's and its time within the window.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let timestamp: i64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or("X-Songda-Timestamp is missing or not a number")?;
    let given = signature_header.ok_or("X-Songda-Signature is missing")?;
    let expected = signature(secret, timestamp, body);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        given.trim().as_bytes(),
    )) {
        return Err("the signature does not match");
    }
    if (now - timestamp).abs() > REPORT_WINDOW_SECS {
        return Err("the signed time is more than 5 minutes away");
    }
    Ok(())
}

/// A delivery report as a gateway posts it.
#[derive(serde::Deserialize)]
pub struct Report {
    pub message_id: String,
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub done_at: Option<String>,
}

impl Report {
    pub fn receipt(self, text: String) -> Result<Receipt, String> {
        let state = match self.status.to_ascii_lowercase().as_str() {
            "delivered" | "delivrd" => MessageState::Delivered,
            "failed" | "undeliverable" | "undeliv" => MessageState::Undeliverable,
            "expired" => MessageState::Expired,
            "rejected" | "rejectd" => MessageState::Rejected,
            "deleted" => MessageState::Deleted,
            "accepted" | "acceptd" => MessageState::Accepted,
            "enroute" | "sent" | "queued" => MessageState::Enroute,
            other => return Err(format!("unknown status {other:?}")),
        };
        if self.message_id.is_empty() || self.message_id.len() > 200 {
            return Err("message_id must be 1 to 200 characters".into());
        }
        Ok(Receipt {
            message_id: self.message_id,
            state,
            error: self.error,
            done_date: self.done_at,
            text,
        })
    }
}

impl HttpGateway {
    pub fn new(url: &str, secret: Option<&str>) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("SONGDA_SMS_URL {url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("SONGDA_SMS_URL must be smpp://, http:// or https://");
        }
        let secret = secret.filter(|s| s.len() >= 16).ok_or_else(|| {
            anyhow::anyhow!(
                "an HTTP SMS gateway needs SONGDA_SMS_SECRET (16 characters or more): it signs the requests and the gateway's delivery reports"
            )
        })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            url: url.to_string(),
            secret: secret.as_bytes().to_vec(),
            http,
        })
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    pub fn describe(&self) -> String {
        crate::config::redact_url(&self.url)
    }

    pub async fn send(
        &self,
        id: &str,
        to: &str,
        text: &str,
        callback: &str,
        now: i64,
    ) -> Result<Accepted, SendError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "id": id, "to": to, "text": text, "callback": callback,
        }))
        .map_err(|e| SendError::permanent(e.to_string()))?;
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, now.to_string())
            .header(SIGNATURE_HEADER, signature(&self.secret, now, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::transient(format!("{}: {e}", self.describe())))?;
        let status = response.status();
        let answer = response.bytes().await.unwrap_or_default();
        let shown = String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
        if !status.is_success() {
            let message = format!("{}: HTTP {status}: {shown}", self.describe());
            // 408 and 429 are "later"; other 4xx say the request itself is refused.
            return Err(
                if status.is_client_error() && status != 408 && status != 429 {
                    SendError::permanent(message)
                } else {
                    SendError::transient(message)
                },
            );
        }
        let message_id = serde_json::from_slice::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| match &v["message_id"] {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        Ok(Accepted {
            reference: format!("{}: HTTP {status}: {shown}", self.describe()),
            message_id: message_id.clone(),
            receipts: message_id.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_time_and_body_and_expires() {
        let secret = b"0123456789abcdef";
        let sig = signature(secret, 1_700_000_000, b"{}");
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64);
        let ok =
            |ts: &str, sig: &str, body: &[u8], now| verify(secret, Some(ts), Some(sig), body, now);
        assert!(ok("1700000000", &sig, b"{}", 1_700_000_100).is_ok());
        assert!(ok("1700000000", &sig, b"{ }", 1_700_000_100).is_err());
        assert!(ok("1700000001", &sig, b"{}", 1_700_000_100).is_err());
        assert!(ok("1700000000", &sig, b"{}", 1_700_000_301).is_err());
        assert!(
            verify(
                b"another secret!!",
                Some("1700000000"),
                Some(&sig),
                b"{}",
                1_700_000_000
            )
            .is_err()
        );
        assert!(verify(secret, None, Some(&sig), b"{}", 1_700_000_000).is_err());
        assert!(verify(secret, Some("1700000000"), None, b"{}", 1_700_000_000).is_err());
    }

    #[test]
    fn the_gateway_needs_a_url_and_a_long_enough_secret() {
        assert!(HttpGateway::new("https://sms.example/send", Some("0123456789abcdef")).is_ok());
        assert!(HttpGateway::new("https://sms.example/send", Some("short")).is_err());
        assert!(HttpGateway::new("https://sms.example/send", None).is_err());
        assert!(HttpGateway::new("ftp://sms.example/", Some("0123456789abcdef")).is_err());
    }
}
