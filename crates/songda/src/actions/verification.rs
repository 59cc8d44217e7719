//! Public verification of service certificates (the `/verify` page): by the short code
//! printed on a certificate, or by uploading a certificate's JSON; either way optionally
//! with the document, to learn whether it is byte-identical to what was served. No login:
//! a court, a lawyer or the other side checks what a party shows them.
//!
//! The check is the offline verifier's (`crate::verify`), pinned to this platform's own
//! published keys, so a certificate signed by anyone else fails. A code only ever shows
//! what the printed certificate already shows, with the recipient's name masked; lookups
//! are rate-limited per client address.

use super::certificate::{self, normalize_code};
use crate::error::{AppError, AppResult, Kind};
use crate::state::AppState;
use crate::store::StoreError;
use crate::verify::{self, GivenDocument, Report};
use songda_core::evidence::ClientInfo;
use time::Duration;

/// Code lookups per client address and window.
const LOOKUPS: i64 = 30;
const WINDOW: Duration = Duration::minutes(10);

/// What to verify.
pub enum Subject {
    /// A verification code as typed.
    Code(String),
    /// The bytes of an uploaded certificate.
    Certificate(Vec<u8>),
}

/// The report, and the normalised code when the subject was one.
pub struct Verified {
    pub report: Report,
    pub code: Option<String>,
}

pub async fn verify(
    state: &AppState,
    client: &ClientInfo,
    subject: Subject,
    documents: &[GivenDocument],
) -> AppResult<Verified> {
    let keys = certificate::published_keys(state).await?;
    match subject {
        Subject::Code(typed) => {
            let code = normalize_code(&typed).ok_or_else(|| {
                let mut e = AppError::new(
                    Kind::BadRequest,
                    "malformed_verification_code",
                    "a verification code has 12 letters and digits, like 7KQ2-M9XD-4HRT",
                );
                e.field = Some("code".into());
                e
            })?;
            let key = format!("verify:{}", client.ip);
            if let Err(wait) = state
                .store
                .rate_limit(&key, LOOKUPS, WINDOW, state.now())
                .await?
            {
                return Err(AppError::rate_limited(wait));
            }
            let service = match state.store.service_by_verification_code(&code).await {
                Ok(id) => id,
                Err(StoreError::NotFound) => {
                    let mut e = AppError::new(
                        Kind::NotFound,
                        "unknown_verification_code",
                        "no certificate has this verification code",
                    );
                    e.field = Some("code".into());
                    return Err(e);
                }
                Err(e) => return Err(e.into()),
            };
            let detail = state.store.service(service).await?;
            let cert = certificate::build(state, &detail).await?;
            let bytes = serde_json::to_vec(&cert).map_err(AppError::internal)?;
            let mut report =
                verify::verify_with(&bytes, documents, certificate::trust(state, &keys))
                    .map_err(AppError::internal)?;
            if let Some(p) = report.proven.as_mut() {
                p.recipient = mask_name(&p.recipient);
            }
            Ok(Verified {
                report,
                code: Some(code),
            })
        }
        Subject::Certificate(bytes) => {
            let report = verify::verify_with(&bytes, documents, certificate::trust(state, &keys))
                .map_err(|e| {
                let mut err = AppError::new(Kind::BadRequest, "not_a_certificate", e.0);
                err.field = Some("certificate".into());
                err
            })?;
            Ok(Verified { report, code: None })
        }
    }
}

/// The first character of a name, the rest starred: enough to recognise, not to learn.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.map(|c| if c.is_whitespace() { c } else { '*' }))
            .collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn a_masked_name_keeps_its_first_character_and_length() {
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳小明"), "欧***");
        assert_eq!(mask_name("Ann Lee"), "A** ***");
        assert_eq!(mask_name(""), "");
    }
}
