//! The service certificate (电子送达凭证) as JSON, self-contained for `songda verify`: the
//! readable fields of DOMAIN.md section 6, the service's evidence events, and the proof
//! (each event's canonical bytes, its inclusion proof to a signed tree head, the head and
//! the public key). The readable fields are what the events say; the verifier
//! (`crate::verify`) checks each against them.

use crate::error::{AppError, AppResult, Kind};
use crate::log::{current_head, head_timestamp};
use crate::state::AppState;
use crate::store::{ServiceDetail, StoreError};
use crate::verify::{
    CERTIFICATE_VERSION, HeadTimestamp, LogFormat, Proof, ProofEntry, PublicKey, TIMESTAMP_FORMAT,
};
use base64::Engine;
use rand::RngExt;
use serde_json::{Value, json};
use songda_core::policy::Regime;
use songda_core::timefmt::rfc3339;

/// Builds the certificate and checks it with the offline verifier before handing it out.
/// The readable part and the events are read one after the other, so a step taken in
/// between (the recipient signing at that moment) makes them disagree: such a certificate
/// is built again from a fresh read. One that still fails is logged as an error and
/// returned as it is, for the verifier to show what is wrong (see `songda audit`).
pub async fn build(state: &AppState, d: &ServiceDetail) -> AppResult<Value> {
    const ATTEMPTS: usize = 3;
    let keys = published_keys(state).await?;
    let mut detail = d.clone();
    let mut attempt = 1;
    loop {
        let cert = assemble(state, &detail, &keys).await?;
        let bytes = serde_json::to_vec(&cert).map_err(AppError::internal)?;
        let report = crate::verify::verify_with(&bytes, &[], trust(state, &keys))
            .map_err(AppError::internal)?;
        if report.valid {
            return Ok(cert);
        }
        if attempt == ATTEMPTS {
            tracing::error!(
                service = %d.service.id,
                report = %report.to_text(),
                "an issued certificate does not verify; run songda audit"
            );
            return Ok(cert);
        }
        attempt += 1;
        detail = state.store.service(d.service.id).await?;
    }
}

/// What the platform trusts when it checks a certificate: its own keys, and the timestamp
/// authority's certificate if one is configured.
pub fn trust<'a>(state: &'a AppState, keys: &'a [PublicKey]) -> crate::verify::Trust<'a> {
    crate::verify::Trust {
        keys: Some(keys),
        tsa_certificates: state
            .timestamper
            .as_ref()
            .map(|t| t.authority().trusted())
            .unwrap_or_default(),
    }
}

/// Every key that ever signed the log, as a verifier takes them.
pub async fn published_keys(state: &AppState) -> AppResult<Vec<PublicKey>> {
    Ok(state
        .store
        .log_keys()
        .await?
        .into_iter()
        .map(|k| PublicKey {
            algorithm: k.algorithm,
            key_id: k.key_id,
            public_key: k.public_key,
        })
        .collect())
}

async fn assemble(state: &AppState, d: &ServiceDetail, keys: &[PublicKey]) -> AppResult<Value> {
    let s = &d.service;
    let entries = state
        .store
        .certificate_entries(s.id, d.case.id, d.party.id)
        .await?;
    let head = current_head(state).await?;
    let mut proof_entries = Vec::with_capacity(entries.len());
    for e in &entries {
        proof_entries.push(ProofEntry {
            index: e.index,
            leaf_hash: songda_core::merkle::leaf_hash(e.body.as_bytes()),
            inclusion: state.store.log_inclusion_proof(e.index, head.size).await?,
            event: e.body.clone(),
        });
    }
    let public_key = keys
        .iter()
        .find(|k| k.key_id == head.key_id)
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("key {} not published", head.key_id)))?;
    let timestamp = head_timestamp(state, &head).await?.and_then(|token| {
        let der = base64::engine::general_purpose::STANDARD.decode(&token).ok()?;
        let imprint = crate::timestamp::imprint(&head);
        match crate::timestamp::check(&der, &imprint, &[]) {
            Ok(stamp) => Some(HeadTimestamp {
                format: TIMESTAMP_FORMAT.into(),
                imprint: hex::encode(imprint),
                gen_time: stamp.gen_time,
                authority: stamp.authority,
                token,
            }),
            Err(e) => {
                tracing::error!(size = head.size, error = %e, "a stored head timestamp does not check out; run songda audit");
                None
            }
        }
    });
    let proof = Proof {
        log: LogFormat::current(),
        head,
        public_key,
        entries: proof_entries,
        timestamp,
    };
    let code = verification_code(state, d).await?;
    let events: Vec<_> = entries.iter().map(|e| &e.event).collect();
    let notifications = state.store.service_notifications(s.id).await?;
    let regime = Regime::by_id(&s.regime);
    let rule = s.service_rule.map(|r| {
        json!({
            "id": r.as_str(),
            "zh": regime.map(|g| r.explain_zh(g)),
            "en": regime.map(|g| r.explain_en(g)),
        })
    });
    Ok(json!({
        "certificate_version": CERTIFICATE_VERSION,
        "service_id": s.id,
        "issued_at": rfc3339(state.now()),
        "verification_code": code,
        "verify_url": format!("{}/verify?code={code}", state.public_url()),
        "court": { "name": d.case.court_name },
        "case": { "id": d.case.id, "case_number": d.case.case_number, "title": d.case.title },
        "documents": d.documents.iter().map(|doc| json!({
            "id": doc.id,
            "title": doc.title,
            "doc_type": doc.doc_type,
            "sha256": doc.sha256,
            "size": doc.size,
            "pages": doc.page_count,
        })).collect::<Vec<_>>(),
        "recipient": { "party_id": d.party.id, "name": d.party.name, "role": d.party.role },
        "address": {
            "channel": "platform",
            "address": format!("platform-inbox:{}", d.party.id),
            "provenance": s.provenance,
            "consent_basis": s.consent_basis,
            "consent_version": s.consent_version,
        },
        "regime": {
            "id": s.regime,
            "citation_zh": regime.map(|r| r.citation_zh),
            "citation_en": regime.map(|r| r.citation_en),
        },
        "status": s.stage.status(),
        "stage": s.stage,
        "deposited_at": rfc3339(s.deposited_at),
        "served_at": s.served_at.map(rfc3339),
        "service_rule": s.service_rule.map(|r| r.as_str()),
        "service_rule_text": rule,
        // Each channel's arrival; the earliest that counts fixed the legal time.
        "completions": s.state().completions().iter().map(|c| json!({
            "channel": c.channel.as_str(),
            "completed_at": rfc3339(c.at),
            "counts": c.counts,
            "fixed": c.fixed,
        })).collect::<Vec<_>>(),
        "signature": {
            "first_viewed_at": s.first_viewed_at.map(rfc3339),
            "signed_at": s.signed_at.map(rfc3339),
            "refused_at": s.refused_at.map(rfc3339),
            "refusal_reason": s.refusal_reason,
            "refusal_note": s.refusal_note,
        },
        "notifications": notifications.iter().map(|n| json!({
            "channel": n.channel,
            "purpose": n.purpose,
            "recipient": n.recipient,
            "status": n.status,
            "attempts": n.attempts,
            "sent_at": n.sent_at.map(rfc3339),
            "reference": n.gateway_ref,
            "delivery": n.delivery,
            "documents_attached": n.attach_documents,
        })).collect::<Vec<_>>(),
        "events": events,
        "proof": proof,
    }))
}

/// The printable certificate: the JSON certificate laid out on A4 with an embedded
/// subset of a CJK font, its verification code and a QR code of the verification link.
pub async fn build_pdf(state: &AppState, d: &ServiceDetail) -> AppResult<Vec<u8>> {
    let cert = build(state, d).await?;
    render_pdf(state, cert).await
}

/// A certificate already built, laid out as the printable PDF.
pub async fn render_pdf(state: &AppState, cert: Value) -> AppResult<Vec<u8>> {
    let font = state.certificate_font().await.map_err(|e| {
        tracing::error!(error = %e, "no font for printable certificates");
        AppError::new(
            Kind::Unavailable,
            "certificate_font_missing",
            "the server has no Chinese font to print certificates with; the operator must install fonts-noto-cjk or set SONGDA_CERTIFICATE_FONT",
        )
    })?;
    tokio::task::spawn_blocking(move || crate::pdf::certificate_pdf(&cert, &font))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or off paper is
/// not mistaken.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The service's verification code, `XXXX-XXXX-XXXX` (60 random bits), given at its first
/// certificate and kept.
async fn verification_code(state: &AppState, d: &ServiceDetail) -> AppResult<String> {
    if let Some(code) = &d.service.verification_code {
        return Ok(code.clone());
    }
    loop {
        match state
            .store
            .verification_code(d.service.id, &new_code())
            .await
        {
            Err(StoreError::Conflict(_)) => continue,
            other => return Ok(other?),
        }
    }
}

fn new_code() -> String {
    let mut rng = rand::rng();
    let raw: String = (0..12)
        .map(|_| CODE_ALPHABET[rng.random_range(0..32)] as char)
        .collect();
    format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
}

/// A typed verification code in its stored form: case and dashes do not matter, and the
/// letters a reader may confuse with digits are read as those digits.
pub fn normalize_code(input: &str) -> Option<String> {
    let raw: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (raw.len() == 12 && raw.bytes().all(|b| CODE_ALPHABET.contains(&b)))
        .then(|| format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..]))
}

#[cfg(test)]
mod tests {
    use super::normalize_code;

    #[test]
    fn a_typed_code_is_read_leniently_and_strictly_checked() {
        assert_eq!(
            normalize_code("7kq2-m9xd-4hrt").as_deref(),
            Some("7KQ2-M9XD-4HRT")
        );
        assert_eq!(
            normalize_code(" 7KQ2 M9XD 4HRT ").as_deref(),
            Some("7KQ2-M9XD-4HRT")
        );
        assert_eq!(
            normalize_code("OIL2M9XD4HRT").as_deref(),
            Some("0112-M9XD-4HRT")
        );
        assert_eq!(normalize_code("7KQ2-M9XD-4HR"), None);
        assert_eq!(normalize_code("7KQ2-M9XD-4HRU"), None);
        assert_eq!(normalize_code(""), None);
    }
}
