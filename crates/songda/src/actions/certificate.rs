//! The service certificate (电子送达凭证) as JSON: every field of DOMAIN.md section 6 that
//! exists by now, and the service's evidence events in log order. `proof` is reserved for
//! the signed tree head and inclusion proofs of the evidence log, so that adding them does
//! not change any other field.

use crate::state::AppState;
use crate::store::ServiceDetail;
use serde_json::{Value, json};
use songda_core::policy::Regime;
use songda_core::timefmt::rfc3339;

/// Version of the certificate's JSON shape.
pub const CERTIFICATE_VERSION: u32 = 1;

pub async fn build(state: &AppState, d: &ServiceDetail) -> anyhow::Result<Value> {
    let events = state.store.service_events(d.service.id).await?;
    let notifications = state.store.service_notifications(d.service.id).await?;
    let regime = Regime::by_id(&d.service.regime);
    let s = &d.service;
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
        })).collect::<Vec<_>>(),
        "events": events,
        "proof": Value::Null,
    }))
}
