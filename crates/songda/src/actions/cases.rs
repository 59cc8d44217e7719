//! The clerk's case work: cases, parties (with binding codes) and documents.

use super::{Who, case_ref, clerk_case};
use crate::error::{AppError, AppResult, Kind};
use crate::messages::{self, BindingNotice};
use crate::secrets;
use crate::state::AppState;
use crate::store::{CaseRecord, DocumentRecord, NewConsent, NewDocument, NewParty, PartyRecord};
use songda_core::case::{CaseNumber, CaseTitle};
use songda_core::consent::{Channel, ConsentBasis, Provenance};
use songda_core::deadline::{LimitKind, TimeLimit};
use songda_core::document::{DocType, DocumentTitle, Sha256Hex};
use songda_core::evidence::{Event, EventType, RecipientRef};
use songda_core::ids::{CaseId, DocumentId, PartyId};
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
    /// `appeal`, `answer`, `evidence`, `none`, or empty for the law's default for the type.
    pub time_limit: &'a str,
    /// The limit's length in days; empty for the default of its kind and type.
    pub time_limit_days: &'a str,
    /// The id of the case's document this one corrects; empty for an original.
    pub corrects: &'a str,
}

/// The time limit an upload asks for: the law's default for its type unless the clerk
/// names one (a ruling that cannot be appealed: `none`; a notice with an evidence period:
/// `evidence` and its days).
pub fn parse_time_limit(doc_type: DocType, kind: &str, days: &str) -> AppResult<Option<TimeLimit>> {
    let default = TimeLimit::default_for(doc_type);
    let days = match days.trim() {
        "" => None,
        d => Some(
            d.parse::<u32>()
                .ok()
                .filter(|d| (1..=TimeLimit::MAX_DAYS).contains(d))
                .ok_or_else(|| {
                    AppError::field(
                        "time_limit_days",
                        format!(
                            "time_limit_days must be a whole number of days from 1 to {}",
                            TimeLimit::MAX_DAYS
                        ),
                    )
                })?,
        ),
    };
    let kind = match kind.trim() {
        "none" if days.is_some() => {
            return Err(AppError::field(
                "time_limit_days",
                "a document without a time limit takes no time_limit_days",
            ));
        }
        "none" => return Ok(None),
        "" => match default {
            Some(d) => d.kind,
            None if days.is_some() => {
                return Err(AppError::field(
                    "time_limit",
                    "say which time limit the days are for: appeal, answer or evidence",
                ));
            }
            None => return Ok(None),
        },
        k => LimitKind::parse(k).ok_or_else(|| {
            AppError::field(
                "time_limit",
                "time_limit must be appeal, answer, evidence or none",
            )
        })?,
    };
    let days = match (days, default) {
        (Some(d), _) => d,
        (None, Some(d)) if d.kind == kind => d.days,
        (None, _) => {
            return Err(AppError::field(
                "time_limit_days",
                format!(
                    "say how many days the {} is",
                    kind.label_en().to_lowercase()
                ),
            ));
        }
    };
    Ok(Some(TimeLimit { kind, days }))
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
    let time_limit = parse_time_limit(doc_type, input.time_limit, input.time_limit_days)?;
    let corrects = match input.corrects.trim() {
        "" => None,
        id => {
            let unknown = || AppError::field("corrects", "not a document of this case");
            let id: DocumentId = id.parse().map_err(|_| unknown())?;
            let old = state
                .store
                .document(case.id, id)
                .await
                .map_err(|e| match e {
                    crate::store::StoreError::NotFound => unknown(),
                    e => e.into(),
                })?;
            if !state.store.corrections_of(old.id).await?.is_empty() {
                return Err(AppError::conflict(
                    "already_corrected",
                    "this document was corrected already: correct its latest version",
                ));
            }
            Some(old.id)
        }
    };
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
                time_limit,
                corrects,
            },
            who.user.id,
            state.now(),
        )
        .await?)
}
