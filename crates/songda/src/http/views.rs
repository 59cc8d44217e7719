//! JSON shapes of the API's resources, in one place so every endpoint answers alike.

use crate::actions::deadlines::{self, DocumentDeadline};
use crate::store::{CaseRecord, DocumentRecord, PartyRecord, ServiceDetail};
use serde_json::{Value, json};
use songda_core::deadline::Calendar;
use songda_core::evidence::Event;
use songda_core::timefmt::rfc3339;

pub fn case_json(c: &CaseRecord) -> Value {
    json!({
        "id": c.id,
        "case_number": c.case_number,
        "title": c.title,
        "court": c.court_name,
        "created_at": rfc3339(c.created_at),
    })
}

pub fn party_json(p: &PartyRecord) -> Value {
    json!({
        "id": p.id,
        "case_id": p.case_id,
        "name": p.name,
        "role": p.role,
        "phone": p.phone,
        "email": p.email,
        "bound": p.bound_user_id.is_some(),
        "bound_at": p.bound_at.map(rfc3339),
        "consent": p.consent.as_ref().map(|c| json!({
            "version": c.version,
            "active": c.is_active(),
            "basis": c.basis,
            "channels": c.channels,
            "phone": c.phone,
            "email": c.email,
            "provenance": c.provenance,
            "notice_version": c.notice_version,
            "recorded_at": rfc3339(c.recorded_at),
        })),
    })
}

pub fn document_json(d: &DocumentRecord) -> Value {
    json!({
        "id": d.id,
        "case_id": d.case_id,
        "title": d.title,
        "doc_type": d.doc_type,
        "sha256": d.sha256,
        "size": d.size,
        "pages": d.page_count,
        "uploaded_at": rfc3339(d.uploaded_at),
        "time_limit": d.time_limit,
        "corrects": d.corrects,
        "version": d.version,
    })
}

/// The deadlines a service starts, with the day of service, the last day by days alone and
/// the last day after rest days.
pub fn deadlines_json(list: &[DocumentDeadline]) -> Value {
    list.iter()
        .map(|x| {
            json!({
                "document_id": x.document_id,
                "kind": x.limit.kind,
                "days": x.limit.days,
                "basis": x.limit.kind.basis(),
                "nominal_end": x.deadline.nominal.to_string(),
                "ends": x.deadline.ends.to_string(),
                "moved": x.deadline.moved(),
            })
        })
        .collect()
}

pub fn service_json(d: &ServiceDetail, events: &[Event], cal: &Calendar) -> Value {
    let s = &d.service;
    json!({
        "id": s.id,
        "case_id": s.case_id,
        "case_number": d.case.case_number,
        "court": d.case.court_name,
        "party_id": s.party_id,
        "recipient": { "name": d.party.name, "role": d.party.role },
        "status": s.stage.status(),
        "stage": s.stage,
        "regime": s.regime,
        "deposited_at": rfc3339(s.deposited_at),
        "served_at": s.served_at.map(rfc3339),
        "service_rule": s.service_rule.map(|r| r.as_str()),
        "viewed_at": s.first_viewed_at.map(rfc3339),
        "signed_at": s.signed_at.map(rfc3339),
        "refused_at": s.refused_at.map(rfc3339),
        "refusal_reason": s.refusal_reason,
        "refusal_note": s.refusal_note,
        "documents": d.documents.iter().map(|doc| json!({
            "id": doc.id,
            "title": doc.title,
            "doc_type": doc.doc_type,
            "sha256": doc.sha256,
            "size": doc.size,
            "pages": doc.page_count,
            "time_limit": doc.time_limit,
            "corrects": doc.corrects,
            "version": doc.version,
        })).collect::<Vec<_>>(),
        "deadlines": deadlines_json(&deadlines::of_service(d, cal)),
        "events": events.iter().map(|e| json!({ "type": e.event_type.as_str(), "at": e.at })).collect::<Vec<_>>(),
    })
}
