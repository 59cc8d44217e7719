//! The recipient's side: binding a case, confirming the address, opening, signing for or
//! refusing a service. Only the bound recipient can act on a service; staff never can.

use super::{Who, case_ref, doc_refs, recipient_ref};
use crate::error::{AppError, AppResult, Kind};
use crate::secrets;
use crate::state::AppState;
use crate::store::{NewConsent, PartyRecord, Role, ServiceDetail};
use songda_core::case::CaseNumber;
use songda_core::consent::{Channel, ConsentBasis, NOTICE_VERSION, Provenance};
use songda_core::evidence::{Event, EventType};
use songda_core::ids::{CaseId, DocumentId, ServiceId};
use songda_core::party::EmailAddress;
use songda_core::service::{RefusalReason, ServiceState, TransitionError};
use songda_core::timefmt::rfc3339;
use time::Duration;

/// Wrong binding codes allowed per account and per address in a window.
const BIND_TRIES: i64 = 5;
const BIND_WINDOW: Duration = Duration::minutes(15);

/// Binds the party record that the court created for this user's case.
pub async fn bind_case(
    state: &AppState,
    who: &Who,
    case_number: &str,
    code: &str,
) -> AppResult<CaseId> {
    let user = who.party()?;
    let number = CaseNumber::parse(case_number)
        .map_err(|e| AppError::field("case_number", e.to_string()))?;
    let code = secrets::normalize_binding_code(code);
    if code.is_empty() {
        return Err(AppError::field(
            "code",
            "enter the binding code from the court's message",
        ));
    }
    let now = state.now();
    let keys = [
        format!("bind-user:{}", user.id),
        format!("bind-ip:{}", who.client.ip),
    ];
    for k in &keys {
        if let Some(wait) = state
            .store
            .rate_limited(k, BIND_TRIES, BIND_WINDOW, now)
            .await?
        {
            return Err(AppError::rate_limited(wait));
        }
    }
    let hmac = state.secrets.code_hmac("binding", &code);
    let party = match state.store.find_binding(&number.key(), &hmac).await {
        Ok(p) => p,
        Err(e) => {
            for k in &keys {
                let _ = state
                    .store
                    .rate_limit(k, BIND_TRIES, BIND_WINDOW, now)
                    .await?;
            }
            return Err(match AppError::from(e) {
                e if e.kind == Kind::NotFound => AppError::new(
                    Kind::BadRequest,
                    "invalid_code",
                    "the case number and binding code do not match",
                ),
                e => e,
            });
        }
    };
    let case = state.store.case(party.case_id).await?;
    let mut e = Event::new(EventType::CaseBinding, rfc3339(now), who.actor());
    e.case = Some(case_ref(&case));
    e.recipient = Some(recipient_ref(&party));
    e.client = Some(who.client.clone());
    state.store.bind_party(party.id, user.id, &e, now).await?;
    Ok(case.id)
}

/// The party record of this user in this case; 404 if the user is not bound to it.
pub async fn my_party(state: &AppState, who: &Who, case_id: CaseId) -> AppResult<PartyRecord> {
    let user = who.party()?;
    state
        .store
        .parties_of_user(user.id)
        .await?
        .into_iter()
        .find(|(c, _)| c.id == case_id)
        .map(|(_, p)| p)
        .ok_or_else(AppError::not_found)
}

pub struct ConsentInput<'a> {
    pub channels: &'a [String],
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub acknowledged: bool,
}

/// Records the address confirmation (express consent) as a new version.
pub async fn confirm_address(
    state: &AppState,
    who: &Who,
    case_id: CaseId,
    input: &ConsentInput<'_>,
) -> AppResult<i64> {
    let party = my_party(state, who, case_id).await?;
    if !input.acknowledged {
        return Err(AppError::field(
            "acknowledged",
            "read the notices and tick the box to confirm",
        ));
    }
    let mut channels = vec![Channel::Platform];
    for c in input.channels {
        match Channel::parse(c) {
            Some(Channel::Sms) | Some(Channel::Email) => {
                let ch = Channel::parse(c).unwrap_or(Channel::Platform);
                if !channels.contains(&ch) {
                    channels.push(ch);
                }
            }
            _ => {
                return Err(AppError::field(
                    "channels",
                    "channels may be \"sms\" and \"email\"",
                ));
            }
        }
    }
    // The phone on the account is verified; it is the SMS address.
    let phone = who
        .user
        .phone
        .clone()
        .unwrap_or_else(|| party.phone.clone());
    if let Some(p) = input.phone.map(str::trim).filter(|p| !p.is_empty()) {
        let given = songda_core::party::PhoneNumber::parse(p)
            .map_err(|e| AppError::field("phone", e.to_string()))?;
        if given.as_str() != phone {
            return Err(AppError::field(
                "phone",
                "the SMS address is your verified phone number; change it on your account first",
            ));
        }
    }
    let email = match input.email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => {
            Some(EmailAddress::parse(e).map_err(|err| AppError::field("email", err.to_string()))?)
        }
        None => None,
    };
    if channels.contains(&Channel::Email) && email.is_none() {
        return Err(AppError::field(
            "email",
            "give an email address to be notified by email",
        ));
    }
    let now = state.now();
    let case = state.store.case(case_id).await?;
    let mut e = Event::new(EventType::AddressConfirmation, rfc3339(now), who.actor());
    e.case = Some(case_ref(&case));
    e.recipient = Some(recipient_ref(&party));
    e.channel = Some(Channel::Platform);
    e.address = Some(
        [Some(phone.as_str()), email.as_ref().map(|m| m.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
    );
    e.provenance = Some(Provenance::Confirmed);
    e.consent_basis = Some(ConsentBasis::Express);
    e.client = Some(who.client.clone());
    e.notice_version = Some(NOTICE_VERSION.to_string());
    e.note = Some(
        channels
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    Ok(state
        .store
        .record_consent(
            party.id,
            &NewConsent {
                basis: Some(ConsentBasis::Express),
                channels: &channels,
                phone: Some(&phone),
                email: email.as_ref().map(|m| m.as_str()),
                provenance: Provenance::Confirmed,
                notice_version: Some(NOTICE_VERSION),
            },
            &e,
            who.user.id,
            now,
        )
        .await?)
}

/// Withdraws consent for future services; completed services are untouched.
pub async fn withdraw_consent(state: &AppState, who: &Who, case_id: CaseId) -> AppResult<i64> {
    let party = my_party(state, who, case_id).await?;
    if !party.consent.as_ref().is_some_and(|c| c.is_active()) {
        return Err(AppError::conflict(
            "no_consent",
            "there is no consent to withdraw",
        ));
    }
    let now = state.now();
    let case = state.store.case(case_id).await?;
    let mut e = Event::new(EventType::ConsentWithdrawal, rfc3339(now), who.actor());
    e.case = Some(case_ref(&case));
    e.recipient = Some(recipient_ref(&party));
    e.client = Some(who.client.clone());
    Ok(state
        .store
        .record_consent(
            party.id,
            &NewConsent {
                basis: None,
                channels: &[],
                phone: None,
                email: None,
                provenance: Provenance::Confirmed,
                notice_version: Some(NOTICE_VERSION),
            },
            &e,
            who.user.id,
            now,
        )
        .await?)
}

/// The service if `who` may see it: its recipient, or a clerk of its court. Anyone else
/// gets 404, the same as for a service that does not exist.
pub async fn visible_service(
    state: &AppState,
    who: &Who,
    id: ServiceId,
) -> AppResult<ServiceDetail> {
    let d = state.store.service(id).await?;
    let allowed = match who.user.role {
        Role::Party => d.party.bound_user_id == Some(who.user.id),
        Role::Clerk => who.user.court_id == Some(d.case.court_id),
        Role::Admin => false,
    };
    if !allowed {
        return Err(AppError::not_found());
    }
    Ok(d)
}

pub fn is_recipient(d: &ServiceDetail, who: &Who) -> bool {
    who.user.role == Role::Party && d.party.bound_user_id == Some(who.user.id)
}

/// Records that the recipient opened (or downloaded) a document of the service. Staff
/// views are not the recipient's access and are not recorded as such.
pub async fn record_access(
    state: &AppState,
    who: &Who,
    d: &ServiceDetail,
    document: Option<DocumentId>,
    download: bool,
) -> AppResult<()> {
    if !is_recipient(d, who) {
        return Ok(());
    }
    let now = state.now();
    let kind = if download {
        EventType::ContentHandover
    } else {
        EventType::ContentAccessTracking
    };
    let mut e = Event::new(kind, rfc3339(now), who.actor());
    e.case = Some(case_ref(&d.case));
    e.service_id = Some(d.service.id);
    let docs: Vec<_> = d
        .documents
        .iter()
        .filter(|doc| document.is_none_or(|id| id == doc.id))
        .cloned()
        .collect();
    e.documents = doc_refs(&docs);
    e.recipient = Some(recipient_ref(&d.party));
    e.channel = Some(Channel::Platform);
    e.regime = Some(d.service.regime.clone());
    e.client = Some(who.client.clone());
    state.store.record_view(d.service.id, &e, now).await?;
    Ok(())
}

fn transition_error(e: TransitionError) -> AppError {
    AppError::conflict(e.code(), e.to_string())
}

/// Signs for receipt, after the recipient's explicit confirmation.
pub async fn sign(
    state: &AppState,
    who: &Who,
    id: ServiceId,
    confirm: bool,
) -> AppResult<ServiceDetail> {
    let d = visible_service(state, who, id).await?;
    if !is_recipient(&d, who) {
        return Err(AppError::forbidden(
            "only the recipient can sign for receipt",
        ));
    }
    if !confirm {
        return Err(AppError::field(
            "confirm",
            "confirm that you sign for receipt",
        ));
    }
    let now = state.now();
    let mut machine = d.service.state();
    machine.sign(now).map_err(transition_error)?;
    let mut e = outcome_event(&d, who, EventType::ConsignmentAcceptance, now, None, None);
    e.rule = rule_fixed_now(&machine, now);
    state
        .store
        .record_outcome(id, &machine, None, &e, &[])
        .await?;
    Ok(state.store.service(id).await?)
}

/// Refuses with a coded reason and an optional note.
pub async fn refuse(
    state: &AppState,
    who: &Who,
    id: ServiceId,
    reason: &str,
    note: Option<&str>,
) -> AppResult<ServiceDetail> {
    let d = visible_service(state, who, id).await?;
    if !is_recipient(&d, who) {
        return Err(AppError::forbidden("only the recipient can refuse"));
    }
    let reason = RefusalReason::parse(reason).ok_or_else(|| {
        AppError::field(
            "reason",
            "reason must be one of not_addressee, unreadable, wrong_document, objects_to_electronic_service, other",
        )
    })?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::field(
            "note",
            "the note may be at most 1000 characters",
        ));
    }
    if reason == RefusalReason::Other && note.is_none() {
        return Err(AppError::field("note", "say why you refuse"));
    }
    let now = state.now();
    let mut machine = d.service.state();
    machine.refuse(now).map_err(transition_error)?;
    let mut e = outcome_event(
        &d,
        who,
        EventType::ConsignmentRejection,
        now,
        Some(reason),
        note,
    );
    e.rule = rule_fixed_now(&machine, now);
    // The clerk hears of it, in the transaction that records it.
    let detail = format!(
        "拒收理由：{}{}",
        reason.label_zh(),
        note.map(|n| format!("\n说明：{n}")).unwrap_or_default()
    );
    let alert = crate::jobs::escalation::clerk_alert(
        state,
        &d,
        "受送达人拒收",
        &detail,
        &format!("clerk_alert:{id}:refused"),
    )
    .await
    .map_err(AppError::internal)?;
    state
        .store
        .record_outcome(id, &machine, Some((reason, note)), &e, alert.as_slice())
        .await?;
    if alert.is_some() {
        state.wake.notify_one();
    }
    Ok(state.store.service(id).await?)
}

/// The rule, when this step is the one that fixed the legal time of service (a
/// court-obtained address is served by the recipient's own act).
fn rule_fixed_now(machine: &ServiceState, now: time::OffsetDateTime) -> Option<String> {
    machine
        .legal_time()
        .filter(|l| l.at == now)
        .map(|l| l.rule.as_str().to_string())
}

fn outcome_event(
    d: &ServiceDetail,
    who: &Who,
    kind: EventType,
    now: time::OffsetDateTime,
    reason: Option<RefusalReason>,
    note: Option<&str>,
) -> Event {
    let mut e = Event::new(kind, rfc3339(now), who.actor());
    e.case = Some(case_ref(&d.case));
    e.service_id = Some(d.service.id);
    e.documents = doc_refs(&d.documents);
    e.recipient = Some(recipient_ref(&d.party));
    e.channel = Some(Channel::Platform);
    e.provenance = Some(d.service.provenance);
    e.consent_basis = Some(d.service.consent_basis);
    e.regime = Some(d.service.regime.clone());
    e.client = Some(who.client.clone());
    e.reason_code = reason.map(|r| r.as_str().to_string());
    e.note = note.map(str::to_string);
    e
}
