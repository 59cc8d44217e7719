//! Evidence events: what the platform writes down about every step of a service.
//!
//! Names follow the ETSI EN 319 522 evidence set where one exists (DOMAIN.md section 6);
//! account and consent steps that the set does not name get names of the same style.
//! An [`Event`] carries every field the certificate needs, so that a certificate can be
//! rebuilt from events alone. `v` versions the shape; [`Event::canonical_bytes`] is its one
//! byte encoding ([`canonical`]), the bytes hashed into the append-only log.

pub mod canonical;
pub mod head;

use crate::consent::{Channel, ConsentBasis, Provenance};
use crate::document::{DocType, Sha256Hex};
use crate::ids::{CaseId, DocumentId, EventId, PartyId, ServiceId, UserId};
use crate::party::PartyRole;
use serde::{Deserialize, Serialize};

/// The current version of the event shape.
pub const EVENT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// The policy permitted the service.
    SubmissionAcceptance,
    /// The policy refused the service (reason code and rule given).
    SubmissionRejection,
    /// Documents deposited in the recipient's platform inbox.
    ContentConsignment,
    /// A notification was handed to a transport (SMS or email).
    ConsignmentNotification,
    /// A notification could not be delivered.
    ConsignmentNotificationFailure,
    /// The recipient viewed a document.
    ContentAccessTracking,
    /// The recipient downloaded a document.
    ContentHandover,
    /// The recipient signed for receipt.
    ConsignmentAcceptance,
    /// The recipient refused, with a reason code.
    ConsignmentRejection,
    /// The recipient bound the case to their account with the court's code.
    CaseBinding,
    /// The recipient confirmed their electronic service address (consent).
    AddressConfirmation,
    /// The recipient withdrew consent for future services.
    ConsentWithdrawal,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SubmissionAcceptance => "SubmissionAcceptance",
            EventType::SubmissionRejection => "SubmissionRejection",
            EventType::ContentConsignment => "ContentConsignment",
            EventType::ConsignmentNotification => "ConsignmentNotification",
            EventType::ConsignmentNotificationFailure => "ConsignmentNotificationFailure",
            EventType::ContentAccessTracking => "ContentAccessTracking",
            EventType::ContentHandover => "ContentHandover",
            EventType::ConsignmentAcceptance => "ConsignmentAcceptance",
            EventType::ConsignmentRejection => "ConsignmentRejection",
            EventType::CaseBinding => "CaseBinding",
            EventType::AddressConfirmation => "AddressConfirmation",
            EventType::ConsentWithdrawal => "ConsentWithdrawal",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EventType::SubmissionAcceptance => "送达申请通过规则审查",
            EventType::SubmissionRejection => "送达申请未通过规则审查",
            EventType::ContentConsignment => "文书送达至平台",
            EventType::ConsignmentNotification => "已发送送达提醒",
            EventType::ConsignmentNotificationFailure => "送达提醒发送失败",
            EventType::ContentAccessTracking => "受送达人查阅文书",
            EventType::ContentHandover => "受送达人下载文书",
            EventType::ConsignmentAcceptance => "受送达人签收",
            EventType::ConsignmentRejection => "受送达人拒收",
            EventType::CaseBinding => "受送达人绑定案件",
            EventType::AddressConfirmation => "受送达人确认送达地址",
            EventType::ConsentWithdrawal => "受送达人撤回电子送达同意",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            EventType::SubmissionAcceptance => "Service accepted by policy check",
            EventType::SubmissionRejection => "Service refused by policy check",
            EventType::ContentConsignment => "Documents deposited in the platform inbox",
            EventType::ConsignmentNotification => "Notification sent",
            EventType::ConsignmentNotificationFailure => "Notification failed",
            EventType::ContentAccessTracking => "Recipient viewed the document",
            EventType::ContentHandover => "Recipient downloaded the document",
            EventType::ConsignmentAcceptance => "Recipient signed for receipt",
            EventType::ConsignmentRejection => "Recipient refused",
            EventType::CaseBinding => "Recipient bound the case",
            EventType::AddressConfirmation => "Recipient confirmed the service address",
            EventType::ConsentWithdrawal => "Recipient withdrew consent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use EventType::*;
        [
            SubmissionAcceptance,
            SubmissionRejection,
            ContentConsignment,
            ConsignmentNotification,
            ConsignmentNotificationFailure,
            ContentAccessTracking,
            ContentHandover,
            ConsignmentAcceptance,
            ConsignmentRejection,
            CaseBinding,
            AddressConfirmation,
            ConsentWithdrawal,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// The case an event concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    pub id: CaseId,
    pub case_number: String,
    pub court: String,
}

/// A document an event concerns, with the hash of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub id: DocumentId,
    pub title: String,
    pub doc_type: DocType,
    pub sha256: Sha256Hex,
}

/// The recipient an event concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientRef {
    pub party_id: PartyId,
    pub name: String,
    pub role: PartyRole,
}

/// Who caused the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `clerk`, `party`, `admin` or `system`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_id: Option<UserId>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            kind: "system".into(),
            user_id: None,
            name: "Songda".into(),
        }
    }
}

/// Where a recipient action came from (Online Litigation Rules Art. 7: attributable).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

/// One evidence event. Optional fields are omitted when absent, never written as null,
/// so that adding a field in a later version does not change old events' encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub v: u32,
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// RFC 3339 UTC.
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub case: Option<CaseRef>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_id: Option<ServiceId>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub documents: Vec<DocumentRef>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recipient: Option<RecipientRef>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel: Option<Channel>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub consent_basis: Option<ConsentBasis>,
    pub actor: Actor,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client: Option<ClientInfo>,
    /// Transport references: SMTP reply, SMS message id, delivery report.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gateway: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// The policy regime the service was decided under.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub regime: Option<String>,
    /// The rule applied: the service rule on consignment, the refusing rule on rejection.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rule: Option<String>,
    /// Version of the address confirmation notice, on `AddressConfirmation`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notice_version: Option<String>,
}

impl Event {
    /// The event's canonical bytes (RFC 8785): what the evidence log hashes and what a
    /// verifier recomputes from the event's JSON.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, canonical::CanonicalError> {
        canonical::to_canonical(self)
    }

    /// A new event of `event_type` at `at` by `actor`; fill the rest with struct update.
    pub fn new(event_type: EventType, at: String, actor: Actor) -> Self {
        Self {
            v: EVENT_VERSION,
            id: EventId::new(),
            event_type,
            at,
            case: None,
            service_id: None,
            documents: Vec::new(),
            recipient: None,
            channel: None,
            address: None,
            provenance: None,
            consent_basis: None,
            actor,
            client: None,
            gateway: None,
            reason_code: None,
            note: None,
            regime: None,
            rule: None,
            notice_version: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_omitted_and_events_round_trip() {
        let e = Event::new(
            EventType::ContentConsignment,
            "2026-11-29T07:00:00.000000Z".into(),
            Actor::system(),
        );
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"type\":\"ContentConsignment\""));
        assert!(!json.contains("null"));
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(EventType::parse("ContentConsignment"), Some(e.event_type));
    }
}
