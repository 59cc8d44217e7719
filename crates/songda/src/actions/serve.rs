//! Serving: the policy decides, and a permitted service is deposited in the recipient's
//! inbox, its evidence written and its notifications queued, all in one transaction. A
//! refusal is recorded too, naming the rule.

use super::{Who, case_ref, clerk_case, doc_refs, recipient_ref};
use crate::error::{AppError, AppResult, Kind};
use crate::messages::{self, ServiceNotice};
use crate::state::AppState;
use crate::store::{
    CaseRecord, DocumentRecord, NewPolicyDecision, NewService, PartyRecord, ServiceDetail,
};
use songda_core::consent::{Channel, Provenance};
use songda_core::evidence::{Event, EventType};
use songda_core::ids::{CaseId, DocumentId, PartyId, ServiceId};
use songda_core::policy::{self, Decision, PolicyRequest, Regime, RegimeSetting};
use songda_core::service::ServiceState;
use songda_core::timefmt::{court_date, rfc3339};

/// The policy's answer for one party, before anything is recorded: what the clerk sees
/// before confirming.
pub async fn preview(
    state: &AppState,
    case: &CaseRecord,
    party: &PartyRecord,
    docs: &[DocumentRecord],
) -> AppResult<Decision> {
    let court = state.store.court(case.court_id).await?;
    let setting = match court.regime.as_deref().and_then(Regime::by_id) {
        Some(r) => RegimeSetting::Fixed(r),
        None => RegimeSetting::ByDispatchDate,
    };
    let doc_types: Vec<_> = docs.iter().map(|d| d.doc_type).collect();
    Ok(policy::check(&PolicyRequest {
        dispatch_date: court_date(state.now()),
        setting,
        consent: party.consent.as_ref().and_then(|c| c.basis),
        doc_types: &doc_types,
    }))
}

/// Loads the party and documents of a serve request, all of the clerk's case.
pub async fn load_request(
    state: &AppState,
    who: &Who,
    case_id: CaseId,
    party_id: PartyId,
    document_ids: &[DocumentId],
) -> AppResult<(CaseRecord, PartyRecord, Vec<DocumentRecord>)> {
    let case = clerk_case(state, who, case_id).await?;
    if document_ids.is_empty() {
        return Err(AppError::field(
            "document_ids",
            "choose at least one document",
        ));
    }
    let party = state.store.party(party_id).await?;
    if party.case_id != case.id {
        return Err(AppError::not_found());
    }
    let mut ids = document_ids.to_vec();
    ids.dedup();
    let mut docs = Vec::with_capacity(ids.len());
    for id in ids {
        if docs.iter().any(|d: &DocumentRecord| d.id == id) {
            continue;
        }
        docs.push(state.store.document(case.id, id).await?);
    }
    Ok((case, party, docs))
}

pub async fn serve(
    state: &AppState,
    who: &Who,
    case_id: CaseId,
    party_id: PartyId,
    document_ids: &[DocumentId],
) -> AppResult<ServiceDetail> {
    let (case, party, docs) = load_request(state, who, case_id, party_id, document_ids).await?;
    let decision = preview(state, &case, &party, &docs).await?;
    let now = state.now();
    let ids: Vec<DocumentId> = docs.iter().map(|d| d.id).collect();
    let explanation = decision.explain_zh();

    let mut base = Event::new(EventType::SubmissionRejection, rfc3339(now), who.actor());
    base.case = Some(case_ref(&case));
    base.documents = doc_refs(&docs);
    base.recipient = Some(recipient_ref(&party));
    base.regime = decision.regime_id().map(str::to_string);
    base.client = Some(who.client.clone());
    if let Some(c) = &party.consent {
        base.provenance = Some(c.provenance);
        base.consent_basis = c.basis;
    }

    let regime =
        match &decision {
            Decision::Refused { refusal, .. } => {
                let mut e = base;
                e.reason_code = Some(refusal.reason_code().to_string());
                e.rule = Some(explanation.clone());
                state
                    .store
                    .record_policy_refusal(
                        &NewPolicyDecision {
                            case_id: case.id,
                            party_id: party.id,
                            document_ids: &ids,
                            permitted: false,
                            regime: decision.regime_id(),
                            reason_code: Some(refusal.reason_code()),
                            explanation: &explanation,
                            decided_by: who.user.id,
                            decided_at: now,
                        },
                        &e,
                    )
                    .await?;
                let message = format!("{} ({})", decision.explain_en(), explanation);
                return Err(AppError::new(Kind::Unprocessable, refusal.code(), message)
                    .with_extra(serde_json::json!({
                        "regime": decision.regime_id(),
                        "reason": refusal.reason_code(),
                        "rule": explanation,
                        "refusal": refusal,
                    })));
            }
            Decision::Permitted { regime } => *regime,
        };

    // Permitted means consent exists; its provenance decides the effect rule.
    let consent = party
        .consent
        .clone()
        .filter(|c| c.is_active())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("permitted without consent")))?;
    let service_id = ServiceId::new();
    let machine = ServiceState::deposited(consent.provenance, now);
    let legal = machine.legal_time();

    let mut accepted = base.clone();
    accepted.event_type = EventType::SubmissionAcceptance;
    accepted.service_id = Some(service_id);
    accepted.rule = Some(explanation.clone());
    let mut consigned = base;
    consigned.id = songda_core::ids::EventId::new();
    consigned.event_type = EventType::ContentConsignment;
    consigned.service_id = Some(service_id);
    consigned.channel = Some(Channel::Platform);
    consigned.address = Some(format!("platform-inbox:{}", party.id));
    consigned.rule = legal.map(|l| l.rule.as_str().to_string());

    let (sms_to, email_to) = notice_addresses(&party, &consent);
    let titles: Vec<String> = docs.iter().map(|d| d.title.clone()).collect();
    let url = format!("{}/services/{service_id}", state.public_url());
    let notifications = messages::about_service(
        &state.templates,
        messages::Purpose::NewService,
        &ServiceNotice {
            court: &case.court_name,
            case_number: &case.case_number,
            party_name: &party.name,
            titles: &titles,
            phone: sms_to.as_deref(),
            email: email_to.as_deref(),
            url: &url,
            case_id: case.id,
            party_id: party.id,
            service_id,
            // Only to an email address the recipient confirmed: that arrival serves.
            documents_by_email: consent.provenance == Provenance::Confirmed
                && consent.email.is_some()
                && email_to.is_some()
                && docs.iter().map(|d| d.size).sum::<i64>() <= EMAIL_DOCUMENTS_MAX
                && state.store.court(case.court_id).await?.email_documents,
        },
        "",
        now,
    );
    state
        .store
        .create_service(
            &NewService {
                id: service_id,
                case_id: case.id,
                party_id: party.id,
                regime: regime.id,
                provenance: consent.provenance,
                consent_basis: consent
                    .basis
                    .unwrap_or(songda_core::consent::ConsentBasis::Express),
                consent_version: consent.version,
                deposited_at: now,
                legal,
                document_ids: ids.clone(),
                created_by: who.user.id,
            },
            &NewPolicyDecision {
                case_id: case.id,
                party_id: party.id,
                document_ids: &ids,
                permitted: true,
                regime: Some(regime.id),
                reason_code: None,
                explanation: &explanation,
                decided_by: who.user.id,
                decided_at: now,
            },
            &[accepted, consigned],
            &notifications,
        )
        .await?;
    state.wake.notify_one();
    Ok(state.store.service(service_id).await?)
}

/// The most a court's email may carry in documents; a service with more is served by the
/// platform alone and its email only tells. Encoded for mail (base64) 15 MiB is about
/// 21 MB: under the 25 MB that mail servers commonly refuse.
pub const EMAIL_DOCUMENTS_MAX: i64 = 15 * 1024 * 1024;

/// Where notices about a service on `party` go: the phone and email of the channels its
/// address confirmation names.
pub fn notice_addresses(
    party: &crate::store::PartyRecord,
    consent: &crate::store::ConsentRecord,
) -> (Option<String>, Option<String>) {
    let sms_to = consent
        .channels
        .contains(&Channel::Sms)
        .then(|| consent.phone.clone().unwrap_or_else(|| party.phone.clone()));
    let email_to = consent
        .channels
        .contains(&Channel::Email)
        .then(|| consent.email.clone().or_else(|| party.email.clone()))
        .flatten();
    (sms_to, email_to)
}
