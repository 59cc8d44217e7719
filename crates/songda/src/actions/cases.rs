//! The clerk's case work: cases, parties (with binding codes) and documents.

use super::{Who, case_ref, clerk_case};
use crate::error::{AppError, AppResult, Kind};
use crate::messages::{self, BindingNotice};
use crate::secrets;
use crate::state::AppState;
use crate::store::{CaseRecord, DocumentRecord, NewConsent, NewDocument, NewParty, PartyRecord};
use songda_core::case::{CaseNumber, CaseTitle};
use songda_core::consent::{Channel, ConsentBasis, Provenance};
use songda_core::document::{DocType, DocumentTitle, Sha256Hex};
use songda_core::evidence::{Event, EventType, RecipientRef};
use songda_core::ids::{CaseId, PartyId};
use songda_core::party::{EmailAddress, PartyRole, PersonName, PhoneNumber};
use songda_core::timefmt::rfc3339;
use std::path::Path;

pub async fn create_case(
    state: &AppState,
    who: &Who,
    number: &str,
    title: &str,
) -> AppResult<CaseRecord> {
    let clerk = who.clerk()?;
    let number =
        CaseNumber::parse(number).map_err(|e| AppError::field("case_number", e.to_string()))?;
    let title = CaseTitle::parse(title).map_err(|e| AppError::field("title", e.to_string()))?;
    let court = clerk
        .court_id
        .ok_or_else(|| AppError::forbidden("this clerk belongs to no court"))?;
    Ok(state
        .store
        .create_case(
            court,
            number.as_str(),
            &number.key(),
            title.as_str(),
            clerk.id,
            state.now(),
        )
        .await?)
}

pub struct NewPartyInput<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub phone: &'a str,
    pub email: Option<&'a str>,
    /// A consent the court holds on paper: `prior_agreement` or `filing_address`.
    pub consent_basis: Option<&'a str>,
}

/// Adds a party; sends its binding code by SMS (and email). Returns the party and the
/// binding code in clear, which exists only in this answer and in the messages sent.
pub async fn add_party(
    state: &AppState,
    who: &Who,
    case_id: CaseId,
    input: &NewPartyInput<'_>,
) -> AppResult<(PartyRecord, String)> {
    let case = clerk_case(state, who, case_id).await?;
    let name = PersonName::parse(input.name).map_err(|e| AppError::field("name", e.to_string()))?;
    let role = PartyRole::parse(input.role).ok_or_else(|| {
        AppError::field(
            "role",
            "role must be one of plaintiff, defendant, third_party, agent",
        )
    })?;
    let phone =
        PhoneNumber::parse(input.phone).map_err(|e| AppError::field("phone", e.to_string()))?;
    let email = match input.email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => {
            Some(EmailAddress::parse(e).map_err(|err| AppError::field("email", err.to_string()))?)
        }
        None => None,
    };
    let basis = match input.consent_basis.map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => match ConsentBasis::parse(b) {
            Some(basis) if basis.clerk_may_record() => Some(basis),
            _ => {
                return Err(AppError::field(
                    "consent_basis",
                    "a clerk may record prior_agreement or filing_address; express consent is given by the party",
                ));
            }
        },
    };
    let now = state.now();
    let code = secrets::binding_code();
    let code_hmac = state.secrets.code_hmac("binding", &code);
    let url = state.public_url().to_string();
    let notices = messages::binding_code(
        &state.templates,
        &BindingNotice {
            court: &case.court_name,
            case_number: &case.case_number,
            party_name: name.as_str(),
            phone: phone.as_str(),
            email: email.as_ref().map(|e| e.as_str()),
            code: &code,
            url: &url,
            case_id,
        },
        now,
    );
    let mut channels = vec![Channel::Platform, Channel::Sms];
    if email.is_some() {
        channels.push(Channel::Email);
    }
    let consent = basis.map(|basis| {
        let mut e = Event::new(EventType::AddressConfirmation, rfc3339(now), who.actor());
        e.case = Some(case_ref(&case));
        e.recipient = Some(RecipientRef {
            // Filled in with the new party's id by the store.
            party_id: PartyId::new(),
            name: name.as_str().to_string(),
            role,
        });
        e.channel = Some(Channel::Platform);
        e.address = Some(phone.as_str().to_string());
        e.provenance = Some(Provenance::Confirmed);
        e.consent_basis = Some(basis);
        e.client = Some(who.client.clone());
        (basis, e)
    });
    let new_consent = consent.as_ref().map(|(basis, _)| NewConsent {
        basis: Some(*basis),
        channels: &channels,
        phone: Some(phone.as_str()),
        email: email.as_ref().map(|e| e.as_str()),
        provenance: Provenance::Confirmed,
        notice_version: None,
    });
    let party = state
        .store
        .add_party(
            &NewParty {
                case_id,
                name: name.as_str(),
                role,
                phone: phone.as_str(),
                email: email.as_ref().map(|e| e.as_str()),
                binding_code_hmac: &code_hmac,
            },
            new_consent.as_ref().zip(consent.as_ref().map(|(_, e)| e)),
            &notices,
            who.user.id,
            now,
        )
        .await?;
    state.wake.notify_one();
    Ok((party, code))
}

pub struct UploadInput<'a> {
    pub title: &'a str,
    pub doc_type: &'a str,
    /// The uploaded bytes, already streamed to a temporary file and hashed.
    pub tmp: &'a Path,
    pub sha256: Sha256Hex,
    pub size: u64,
}

/// Checks that the upload is a real PDF, freezes its bytes in the blob store and records
/// the document. The temporary file is consumed or removed whatever happens.
pub async fn add_document(
    state: &AppState,
    who: &Who,
    case_id: CaseId,
    input: UploadInput<'_>,
) -> AppResult<DocumentRecord> {
    let result = add_document_inner(state, who, case_id, &input).await;
    if input.tmp.exists() {
        let _ = tokio::fs::remove_file(input.tmp).await;
    }
    result
}

async fn add_document_inner(
    state: &AppState,
    who: &Who,
    case_id: CaseId,
    input: &UploadInput<'_>,
) -> AppResult<DocumentRecord> {
    let case = clerk_case(state, who, case_id).await?;
    let title =
        DocumentTitle::parse(input.title).map_err(|e| AppError::field("title", e.to_string()))?;
    let doc_type = DocType::parse(input.doc_type).ok_or_else(|| {
        AppError::field(
            "doc_type",
            "doc_type must be one of summons, notice, complaint_copy, evidence, judgment, ruling, mediation_document, decision, other",
        )
    })?;
    let path = input.tmp.to_path_buf();
    let info = tokio::task::spawn_blocking(move || crate::pdf::inspect(&path))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| {
            AppError::new(
                Kind::Unsupported,
                "not_pdf",
                format!("the file is not a usable PDF: {e}"),
            )
        })?;
    state.blobs.commit(input.tmp, &input.sha256).await?;
    Ok(state
        .store
        .add_document(
            &NewDocument {
                case_id: case.id,
                title: title.as_str(),
                doc_type,
                sha256: &input.sha256,
                size: input.size as i64,
                page_count: i64::from(info.page_count),
            },
            who.user.id,
            state.now(),
        )
        .await?)
}
