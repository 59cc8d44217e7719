//! The verifier on certificates built here, without a server: the events a service would
//! record, their canonical bytes as leaves of an in-memory log among other cases' events, a
//! head signed by a real log key, and a readable part as `actions::certificate` writes it.
//! This reaches what a running server never issues: court-obtained addresses, refusals,
//! histories the state machine forbids, foreign entries that are truly in the log, other
//! keys and malformed proofs. `tests/stories/certificate.rs` covers the issued certificate.

use super::*;
use crate::log::LogSigner;
use serde_json::{Value, json};
use songda_core::consent::{Channel, ConsentBasis, NOTICE_VERSION, Provenance};
use songda_core::document::{DocType, Sha256Hex};
use songda_core::evidence::{
    Actor, CaseRef, ClientInfo, DocumentRef, Event, EventType, RecipientRef,
};
use songda_core::ids::{CaseId, DocumentId, EventId, PartyId, ServiceId, UserId};
use songda_core::merkle::MemoryTree;
use songda_core::party::PartyRole;
use songda_core::policy::CPL2021_A90;
use songda_core::service::{RefusalReason, ServiceRule, ServiceState};
use songda_core::timefmt::{parse_rfc3339, rfc3339};

const CONSENTED: &str = "2026-11-20T03:12:00.000000Z";
const DEPOSITED: &str = "2026-11-29T07:00:00.000000Z";
const NOTIFIED: &str = "2026-11-29T07:00:02.000000Z";
const VIEWED: &str = "2026-11-30T02:00:00.000000Z";
const ACTED: &str = "2026-12-02T09:30:00.000000Z";
const LATER: &str = "2026-12-03T01:15:00.000000Z";
const HEAD_AT: &str = "2026-12-04T00:00:00.000000Z";
const COURT: &str = "北京市海淀区人民法院";
const CASE_NUMBER: &str = "（2026）京0108民初12345号";
const PHONE: &str = "13900000002";

// ---------------------------------------------------------------------------------------
// The builder

/// The platform's evidence log in memory: each leaf's body and the tree of their hashes.
#[derive(Default)]
struct Log {
    bodies: Vec<String>,
    tree: MemoryTree,
}

impl Log {
    fn append_body(&mut self, body: String) -> u64 {
        let index = self.tree.push(merkle::leaf_hash(body.as_bytes()));
        self.bodies.push(body);
        index
    }

    /// Events of other cases, so that a service's entries sit at scattered indices.
    fn filler(&mut self, n: usize) {
        for _ in 0..n {
            let e = Event {
                case: Some(CaseRef {
                    id: CaseId::new(),
                    case_number: "（2026）京0108民初1号".into(),
                    court: COURT.into(),
                }),
                service_id: Some(ServiceId::new()),
                channel: Some(Channel::Email),
                gateway: Some(json!({"reference": "smtp-250-queued"})),
                ..Event::new(
                    EventType::ConsignmentNotification,
                    NOTIFIED.into(),
                    Actor::system(),
                )
            };
            self.append_body(body(&e));
        }
    }

    fn head(&self, signer: &LogSigner) -> TreeHead {
        let size = self.tree.size();
        let root = merkle::root(&self.tree, size).unwrap();
        signer.sign(size, root.to_string(), HEAD_AT.into()).unwrap()
    }

    fn entry(&self, index: u64, size: u64) -> ProofEntry {
        let body = self.bodies[index as usize].clone();
        ProofEntry {
            index,
            leaf_hash: merkle::leaf_hash(body.as_bytes()),
            inclusion: merkle::inclusion_proof(&self.tree, index, size).unwrap(),
            event: body,
        }
    }
}

/// An event's canonical bytes, as the log holds them.
fn body(e: &Event) -> String {
    String::from_utf8(e.canonical_bytes().unwrap()).unwrap()
}

fn pdf(title: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {title}\n%%EOF\n").into_bytes()
}

fn document(title: &str, doc_type: DocType) -> DocumentRef {
    DocumentRef {
        id: DocumentId::new(),
        title: title.into(),
        doc_type,
        sha256: Sha256Hex::from_bytes(&Sha256::digest(pdf(title)).into()),
    }
}

fn clerk() -> Actor {
    Actor {
        kind: "clerk".into(),
        user_id: Some(UserId::new()),
        name: "王书记员".into(),
    }
}

fn client() -> ClientInfo {
    ClientInfo {
        ip: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)".into(),
    }
}

fn new_signer() -> LogSigner {
    let dir = tempfile::tempdir().unwrap();
    LogSigner::load_or_create(
        &dir.path().join("log-signing.key"),
        crate::log::Algorithm::Ed25519,
    )
    .unwrap()
}

fn public_key(signer: &LogSigner) -> PublicKey {
    PublicKey {
        algorithm: signer.algorithm().name().into(),
        key_id: signer.key_id().into(),
        public_key: signer.public_key().into(),
    }
}

/// One service as the platform records it. `events` are what the certificate proves, in log
/// order: normally the recipient's consent and the service's own events, but a test may put
/// anything there (another service's event, a forbidden step) and it is logged all the same.
#[derive(Clone)]
struct Story {
    service_id: ServiceId,
    case: CaseRef,
    recipient: RecipientRef,
    party_user: Actor,
    documents: Vec<DocumentRef>,
    provenance: Provenance,
    consent_basis: ConsentBasis,
    events: Vec<Event>,
}

impl Story {
    /// Two documents deposited at `DEPOSITED` to an address of `provenance`. A confirmed
    /// address comes with the recipient's express consent, recorded before.
    fn deposited(provenance: Provenance) -> Self {
        let recipient = RecipientRef {
            party_id: PartyId::new(),
            name: "李四".into(),
            role: PartyRole::Defendant,
        };
        let mut story = Self {
            service_id: ServiceId::new(),
            case: CaseRef {
                id: CaseId::new(),
                case_number: CASE_NUMBER.into(),
                court: COURT.into(),
            },
            party_user: Actor {
                kind: "party".into(),
                user_id: Some(UserId::new()),
                name: recipient.name.clone(),
            },
            recipient,
            documents: vec![
                document("民事传票", DocType::Summons),
                document("起诉状副本", DocType::ComplaintCopy),
            ],
            provenance,
            consent_basis: match provenance {
                Provenance::Confirmed => ConsentBasis::Express,
                Provenance::CourtObtained => ConsentBasis::PriorAgreement,
            },
            events: Vec::new(),
        };
        if provenance == Provenance::Confirmed {
            let consent = Event {
                case: Some(story.case.clone()),
                recipient: Some(story.recipient.clone()),
                channel: Some(Channel::Platform),
                address: Some(PHONE.into()),
                provenance: Some(Provenance::Confirmed),
                consent_basis: Some(ConsentBasis::Express),
                client: Some(client()),
                notice_version: Some(NOTICE_VERSION.into()),
                note: Some("platform,sms".into()),
                ..Event::new(
                    EventType::AddressConfirmation,
                    CONSENTED.into(),
                    story.party_user.clone(),
                )
            };
            story.events.push(consent);
        }
        story.deposit()
    }

    /// Another service of the same case to the same recipient, just deposited.
    fn another_service(&self) -> Self {
        Self {
            service_id: ServiceId::new(),
            documents: vec![document("举证通知书", DocType::Notice)],
            events: Vec::new(),
            ..self.clone()
        }
        .deposit()
    }

    /// What `actions::serve` records: the policy's acceptance, the deposit and a reminder.
    fn deposit(mut self) -> Self {
        let base = Event {
            case: Some(self.case.clone()),
            service_id: Some(self.service_id),
            documents: self.documents.clone(),
            recipient: Some(self.recipient.clone()),
            provenance: Some(self.provenance),
            consent_basis: Some(self.consent_basis),
            regime: Some(CPL2021_A90.id.into()),
            client: Some(client()),
            ..Event::new(EventType::SubmissionAcceptance, DEPOSITED.into(), clerk())
        };
        let legal = ServiceState::deposited(self.provenance, at(DEPOSITED)).legal_time();
        let accepted = Event {
            // The policy's explanation: not a service rule, and not read as one.
            rule: Some(format!("准予电子送达（{}）", CPL2021_A90.citation_zh)),
            ..base.clone()
        };
        let consigned = Event {
            id: EventId::new(),
            event_type: EventType::ContentConsignment,
            channel: Some(Channel::Platform),
            address: Some(format!("platform-inbox:{}", self.recipient.party_id)),
            rule: legal.map(|l| l.rule.as_str().to_string()),
            ..base
        };
        let reminder = Event {
            case: Some(self.case.clone()),
            service_id: Some(self.service_id),
            recipient: Some(self.recipient.clone()),
            channel: Some(Channel::Sms),
            address: Some(PHONE.into()),
            gateway: Some(json!({"reference": "sms-20261129-0001", "status": "accepted"})),
            ..Event::new(
                EventType::ConsignmentNotification,
                NOTIFIED.into(),
                Actor::system(),
            )
        };
        self.events.extend([accepted, consigned, reminder]);
        self
    }

    /// An event of the recipient on this service, as `actions::recipient` writes it.
    fn recipient_event(&self, kind: EventType, when: &str) -> Event {
        Event {
            case: Some(self.case.clone()),
            service_id: Some(self.service_id),
            documents: self.documents.clone(),
            recipient: Some(self.recipient.clone()),
            channel: Some(Channel::Platform),
            regime: Some(CPL2021_A90.id.into()),
            client: Some(client()),
            ..Event::new(kind, when.into(), self.party_user.clone())
        }
    }

    fn viewed(mut self, when: &str) -> Self {
        let mut e = self.recipient_event(EventType::ContentAccessTracking, when);
        e.documents.truncate(1);
        self.events.push(e);
        self
    }

    fn signed(mut self, when: &str) -> Self {
        let e = Event {
            provenance: Some(self.provenance),
            consent_basis: Some(self.consent_basis),
            rule: self.rule_fixed_by(EventType::ConsignmentAcceptance, when),
            ..self.recipient_event(EventType::ConsignmentAcceptance, when)
        };
        self.events.push(e);
        self
    }

    fn refused(mut self, when: &str, reason: RefusalReason, note: &str) -> Self {
        let e = Event {
            provenance: Some(self.provenance),
            consent_basis: Some(self.consent_basis),
            reason_code: Some(reason.as_str().into()),
            note: Some(note.into()),
            rule: self.rule_fixed_by(EventType::ConsignmentRejection, when),
            ..self.recipient_event(EventType::ConsignmentRejection, when)
        };
        self.events.push(e);
        self
    }

    /// The rule a sign-off or refusal names when it is the step that fixed the legal time
    /// (`actions::recipient::rule_fixed_now`); none when the step would not be allowed.
    fn rule_fixed_by(&self, kind: EventType, when: &str) -> Option<String> {
        let (mut machine, ..) = self.replay();
        let step = match kind {
            EventType::ConsignmentAcceptance => machine.sign(at(when)),
            _ => machine.refuse(at(when)),
        };
        step.ok()?;
        machine
            .legal_time()
            .filter(|l| l.at == at(when))
            .map(|l| l.rule.as_str().to_string())
    }

    /// This service's events through the state machine, skipping steps it refuses, as the
    /// platform's stored service would stand; with the sign-off and refusal that took.
    fn replay(&self) -> (ServiceState, Option<&Event>, Option<&Event>) {
        let mut machine = ServiceState::deposited(self.provenance, at(DEPOSITED));
        let (mut signed, mut refused) = (None, None);
        for e in self.own_events() {
            match e.event_type {
                EventType::ContentAccessTracking | EventType::ContentHandover => {
                    machine.view(at(&e.at))
                }
                EventType::ConsignmentAcceptance if machine.sign(at(&e.at)).is_ok() => {
                    signed = Some(e)
                }
                EventType::ConsignmentRejection if machine.refuse(at(&e.at)).is_ok() => {
                    refused = Some(e)
                }
                _ => {}
            }
        }
        (machine, signed, refused)
    }

    fn own_events(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(move |e| e.service_id == Some(self.service_id))
    }

    fn issue(&self) -> Issued {
        self.issue_by(new_signer(), &[])
    }

    /// Logs the story's events (and `also`, raw leaf bodies the proof should carry too)
    /// among other cases' events, signs the head with `signer` and writes the certificate.
    fn issue_by(&self, signer: LogSigner, also: &[&str]) -> Issued {
        let mut log = Log::default();
        log.filler(3);
        let bodies: Vec<String> = self
            .events
            .iter()
            .map(body)
            .chain(also.iter().map(|s| s.to_string()))
            .collect();
        let mut indices = Vec::new();
        for (i, b) in bodies.iter().enumerate() {
            indices.push(log.append_body(b.clone()));
            log.filler(1 + i % 2);
        }
        let head = log.head(&signer);
        let proof = Proof {
            log: LogFormat::current(),
            public_key: public_key(&signer),
            entries: indices.iter().map(|&i| log.entry(i, head.size)).collect(),
            head,
            timestamp: None,
        };
        let listed: Vec<Value> = bodies
            .iter()
            .map(|b| serde_json::from_str(b).unwrap())
            .collect();
        let mut cert = self.readable();
        cert["events"] = Value::Array(listed);
        cert["proof"] = serde_json::to_value(&proof).unwrap();
        Issued { cert, signer }
    }

    /// The readable part, with the keys `actions::certificate::build` writes.
    fn readable(&self) -> Value {
        let (machine, signed, refused) = self.replay();
        let legal = machine.legal_time();
        let regime = &CPL2021_A90;
        let code = "7KQ2-M9XD-4HRT";
        json!({
            "certificate_version": CERTIFICATE_VERSION,
            "service_id": self.service_id,
            "issued_at": HEAD_AT,
            "verification_code": code,
            "verify_url": format!("https://songda.example.court/verify?code={code}"),
            "court": { "name": self.case.court },
            "case": {
                "id": self.case.id,
                "case_number": self.case.case_number,
                "title": "张三诉李四民间借贷纠纷",
            },
            "documents": self.documents.iter().enumerate().map(|(i, d)| json!({
                "id": d.id,
                "title": d.title,
                "doc_type": d.doc_type,
                "sha256": d.sha256,
                "size": 48213 + i,
                "pages": 2 + i,
            })).collect::<Vec<_>>(),
            "recipient": {
                "party_id": self.recipient.party_id,
                "name": self.recipient.name,
                "role": self.recipient.role,
            },
            "address": {
                "channel": "platform",
                "address": format!("platform-inbox:{}", self.recipient.party_id),
                "provenance": self.provenance,
                "consent_basis": self.consent_basis,
                "consent_version": (self.provenance == Provenance::Confirmed)
                    .then_some(NOTICE_VERSION),
            },
            "regime": {
                "id": regime.id,
                "citation_zh": regime.citation_zh,
                "citation_en": regime.citation_en,
            },
            "status": machine.stage.status(),
            "stage": machine.stage,
            "deposited_at": DEPOSITED,
            "served_at": legal.map(|l| rfc3339(l.at)),
            "service_rule": legal.map(|l| l.rule.as_str()),
            "service_rule_text": legal.map(|l| json!({
                "id": l.rule.as_str(),
                "zh": l.rule.explain_zh(regime),
                "en": l.rule.explain_en(regime),
            })),
            "signature": {
                "first_viewed_at": machine.first_viewed_at.map(rfc3339),
                "signed_at": signed.map(|e| e.at.clone()),
                "refused_at": refused.map(|e| e.at.clone()),
                "refusal_reason": refused.and_then(|e| e.reason_code.clone()),
                "refusal_note": refused.and_then(|e| e.note.clone()),
            },
            "notifications": [{
                "channel": "sms",
                "purpose": "new_service",
                "recipient": PHONE,
                "status": "sent",
                "attempts": 1,
                "sent_at": NOTIFIED,
                "reference": "sms-20261129-0001",
            }],
        })
    }
}

fn at(s: &str) -> time::OffsetDateTime {
    parse_rfc3339(s).unwrap()
}

/// A certificate as issued, and the key that signed its head.
struct Issued {
    cert: Value,
    signer: LogSigner,
}

impl Issued {
    fn key(&self) -> PublicKey {
        public_key(&self.signer)
    }

    /// Verified with the signing key pinned, as a court would.
    fn verify(&self) -> Report {
        check(&self.cert, Some(&[self.key()]))
    }

    /// A changed copy, verified with the signing key pinned.
    fn variant(&self, change: impl FnOnce(&mut Value)) -> Report {
        let mut cert = self.cert.clone();
        change(&mut cert);
        check(&cert, Some(&[self.key()]))
    }

    /// Changes the head and signs it again with the log's own key: a head the platform could
    /// have signed, so only what follows the signature check can object.
    fn resign(&self, cert: &mut Value, change: impl FnOnce(&mut TreeHead)) {
        let mut head: TreeHead = serde_json::from_value(cert["proof"]["head"].clone()).unwrap();
        change(&mut head);
        let head = self
            .signer
            .sign(head.size, head.root, head.timestamp)
            .unwrap();
        cert["proof"]["head"] = serde_json::to_value(head).unwrap();
    }

    /// The log index of the proven entry whose event has `event_type`.
    fn index_of(&self, event_type: EventType, nth: usize) -> u64 {
        self.cert["proof"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                let event: Event = serde_json::from_str(e["event"].as_str().unwrap()).unwrap();
                event.event_type == event_type
            })
            .nth(nth)
            .unwrap()["index"]
            .as_u64()
            .unwrap()
    }
}

fn check(cert: &Value, pinned: Option<&[PublicKey]>) -> Report {
    verify(&serde_json::to_vec(cert).unwrap(), &[], pinned)
        .unwrap_or_else(|e| panic!("the certificate should be usable: {e}"))
}

fn failures(r: &Report) -> Vec<&str> {
    r.checks
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| c.detail.as_str())
        .collect()
}

#[track_caller]
fn assert_valid(r: &Report) {
    assert!(r.valid, "expected a valid report:\n{}", r.to_text());
    assert!(failures(r).is_empty(), "{}", r.to_text());
}

#[track_caller]
fn assert_fails(r: &Report, says: &str) {
    assert!(!r.valid, "expected an invalid report:\n{}", r.to_text());
    assert!(
        failures(r).iter().any(|f| f.contains(says)),
        "expected a failure saying {says:?}:\n{}",
        r.to_text()
    );
}

fn proven(r: &Report) -> &Proven {
    r.proven
        .as_ref()
        .unwrap_or_else(|| panic!("the proof should hold:\n{}", r.to_text()))
}

// ---------------------------------------------------------------------------------------
// The builder itself

#[test]
fn a_certificate_built_here_verifies_with_its_documents_at_scattered_log_entries() {
    let story = Story::deposited(Provenance::Confirmed)
        .viewed(VIEWED)
        .signed(ACTED);
    let issued = story.issue();
    let files = [
        GivenDocument::new("summons.pdf", &pdf("民事传票")),
        GivenDocument::new("complaint.pdf", &pdf("起诉状副本")),
    ];
    let r = verify(
        &serde_json::to_vec(&issued.cert).unwrap(),
        &files,
        Some(&[issued.key()]),
    )
    .unwrap();
    assert_valid(&r);
    assert!(r.checks.iter().all(|c| c.outcome == Outcome::Ok));

    let p = proven(&r);
    assert_eq!(p.service_id, story.service_id.to_string());
    assert_eq!(
        (p.court.as_str(), p.case_number.as_str()),
        (COURT, CASE_NUMBER)
    );
    assert_eq!(
        (p.recipient.as_str(), p.recipient_role.as_str()),
        ("李四", "defendant")
    );
    assert_eq!(p.served_at.as_deref(), Some(DEPOSITED));
    assert_eq!(
        p.service_rule.as_deref(),
        Some("inbox_deposit_confirmed_address")
    );
    assert_eq!(p.signed_at.as_deref(), Some(ACTED));
    assert_eq!(p.refused_at, None);
    let matched: Vec<_> = p
        .documents
        .iter()
        .map(|d| d.matched_file.as_deref())
        .collect();
    assert_eq!(matched, [Some("summons.pdf"), Some("complaint.pdf")]);
    assert_eq!(p.events, story.events.len());
    assert_eq!(p.key_id, issued.signer.key_id());

    // Consent, acceptance, deposit, reminder, view, sign-off; among other cases' entries.
    let indices: Vec<u64> = issued.cert["proof"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices.len(), 6);
    assert!(indices[0] > 0 && indices.windows(2).all(|w| w[1] > w[0] + 1));
    assert!(p.head_size > indices[5] + 1);
}

// ---------------------------------------------------------------------------------------
// The legal time of service, recomputed from the events

#[test]
fn a_court_obtained_address_that_was_only_viewed_is_not_yet_served() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .issue();
    assert_eq!(issued.cert["served_at"], Value::Null);
    assert_eq!(issued.cert["service_rule"], Value::Null);
    let r = issued.verify();
    assert_valid(&r);
    let p = proven(&r);
    assert_eq!((&p.served_at, &p.service_rule), (&None, &None));
    assert!(
        r.to_text().contains("not yet served in law"),
        "{}",
        r.to_text()
    );
}

#[test]
fn claiming_service_of_a_court_obtained_address_at_the_view_is_caught() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .issue();
    let r = issued.variant(|c| c["served_at"] = json!(VIEWED));
    assert_fails(&r, "legal time of service");
    assert_eq!(failures(&r).len(), 1, "{}", r.to_text());
    // A view is not a sign-off either, whatever rule is claimed with it.
    let r = issued.variant(|c| {
        c["served_at"] = json!(VIEWED);
        c["service_rule"] = json!("recipient_sign_off");
    });
    assert_fails(&r, "legal time of service");
    assert_fails(&r, "service rule");
    // Nor is the deposit.
    let r = issued.variant(|c| {
        c["served_at"] = json!(DEPOSITED);
        c["service_rule"] = json!("inbox_deposit_confirmed_address");
    });
    assert_fails(&r, "service rule");
}

#[test]
fn a_court_obtained_address_is_served_when_the_recipient_signs() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .signed(ACTED)
        .issue();
    let r = issued.verify();
    assert_valid(&r);
    let p = proven(&r);
    assert_eq!(p.served_at.as_deref(), Some(ACTED));
    assert_eq!(p.service_rule.as_deref(), Some("recipient_sign_off"));
    assert_eq!(p.signed_at.as_deref(), Some(ACTED));
    assert!(
        r.to_text().contains(&format!(
            "legal time of service {ACTED} under rule recipient_sign_off"
        )),
        "{}",
        r.to_text()
    );

    // The same instant in court time is the same claim; another instant is not.
    assert_valid(&issued.variant(|c| c["served_at"] = json!("2026-12-02T17:30:00+08:00")));
    let r = issued.variant(|c| c["served_at"] = json!("2026-12-02T17:30:00Z"));
    assert_fails(&r, "legal time of service");
    let r = issued.variant(|c| c["signature"]["signed_at"] = json!("2 December 2026"));
    assert_fails(&r, "signed at");
}

#[test]
fn claiming_the_confirmed_address_rule_for_a_court_obtained_address_is_caught() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .signed(ACTED)
        .issue();
    let r = issued.variant(|c| c["service_rule"] = json!("inbox_deposit_confirmed_address"));
    assert_fails(&r, "service rule");
    // Moving the time to the deposit as that rule would have it is caught twice over.
    let r = issued.variant(|c| {
        c["service_rule"] = json!("inbox_deposit_confirmed_address");
        c["served_at"] = json!(DEPOSITED);
    });
    assert_eq!(failures(&r).len(), 2, "{}", r.to_text());
    assert_fails(&r, "legal time of service");
}

#[test]
fn a_refusal_with_a_reason_serves_a_court_obtained_address_as_acted_on() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .refused(ACTED, RefusalReason::Unreadable, "第二页空白")
        .issue();
    let r = issued.verify();
    assert_valid(&r);
    let p = proven(&r);
    assert_eq!(p.served_at.as_deref(), Some(ACTED));
    assert_eq!(p.service_rule.as_deref(), Some("recipient_acted"));
    assert_eq!(p.refused_at.as_deref(), Some(ACTED));
    assert_eq!(p.refusal_reason.as_deref(), Some("unreadable"));
    assert_eq!(p.signed_at, None);
}

#[test]
fn a_changed_refusal_reason_or_time_is_caught() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .refused(ACTED, RefusalReason::Unreadable, "第二页空白")
        .issue();
    let r = issued
        .variant(|c| c["signature"]["refusal_reason"] = json!("objects_to_electronic_service"));
    assert_fails(&r, "refusal reason");
    let r = issued.variant(|c| c["signature"]["refusal_reason"] = Value::Null);
    assert_fails(&r, "refusal reason");
    let r = issued.variant(|c| c["signature"]["refused_at"] = json!(LATER));
    assert_fails(&r, "refused at");
    // A refusal dressed up as a signature.
    let r = issued.variant(|c| {
        c["signature"]["signed_at"] = json!(ACTED);
        c["service_rule"] = json!("recipient_sign_off");
    });
    assert_fails(&r, "signed at");
    assert_fails(&r, "service rule");
}

#[test]
fn a_confirmed_address_stays_served_at_deposit_when_the_recipient_refuses() {
    let issued = Story::deposited(Provenance::Confirmed)
        .refused(ACTED, RefusalReason::NotAddressee, "")
        .issue();
    let r = issued.verify();
    assert_valid(&r);
    let p = proven(&r);
    assert_eq!(p.served_at.as_deref(), Some(DEPOSITED));
    assert_eq!(p.refusal_reason.as_deref(), Some("not_addressee"));
    // The refusal does not move the time, nor make it the recipient's act.
    let r = issued.variant(|c| {
        c["served_at"] = json!(ACTED);
        c["service_rule"] = json!("recipient_acted");
    });
    assert_fails(&r, "legal time of service");
    assert_fails(&r, "service rule");
}

#[test]
fn a_step_the_state_machine_forbids_is_a_failure_though_it_is_in_the_log() {
    // Signed after refusing, and refused after signing: each logged and proven.
    for (story, says) in [
        (
            Story::deposited(Provenance::CourtObtained)
                .refused(ACTED, RefusalReason::WrongDocument, "缺页")
                .signed(LATER),
            "already refused, yet recorded",
        ),
        (
            Story::deposited(Provenance::CourtObtained)
                .signed(ACTED)
                .refused(LATER, RefusalReason::Other, "后悔了"),
            "already signed for, yet recorded",
        ),
    ] {
        let issued = story.issue();
        let late = story.events.last().unwrap().event_type;
        // With a signature record of the step that happened first, only the replay objects.
        let both = |c: &mut Value| {
            for e in &story.events[..story.events.len() - 1] {
                match e.event_type {
                    EventType::ConsignmentAcceptance => c["signature"]["signed_at"] = json!(e.at),
                    EventType::ConsignmentRejection => {
                        c["signature"]["refused_at"] = json!(e.at);
                        c["signature"]["refusal_reason"] = json!(e.reason_code);
                    }
                    _ => {}
                }
            }
        };
        let r = issued.variant(both);
        assert_fails(
            &r,
            &format!("log entry {}: {says}", issued.index_of(late, 0)),
        );
        assert_eq!(failures(&r).len(), 1, "{}", r.to_text());
        // The proof held: the events are what the log says, they just cannot have happened.
        assert!(
            r.checks.iter().any(
                |c| c.outcome == Outcome::Ok && c.detail.contains("included in the signed log")
            )
        );
        assert_eq!(proven(&r).served_at.as_deref(), Some(ACTED));
    }
}

#[test]
fn an_event_naming_a_rule_the_replay_does_not_give_is_caught() {
    // A deposit to a court-obtained address that claims it served on arrival.
    let mut story = Story::deposited(Provenance::CourtObtained).viewed(VIEWED);
    let deposit = story
        .events
        .iter_mut()
        .find(|e| e.event_type == EventType::ContentConsignment)
        .unwrap();
    deposit.rule = Some(ServiceRule::InboxDepositConfirmedAddress.as_str().into());
    let issued = story.issue();
    let r = issued.verify();
    assert_fails(
        &r,
        &format!(
            "log entry {} names rule inbox_deposit_confirmed_address, the replayed events give nothing",
            issued.index_of(EventType::ContentConsignment, 0)
        ),
    );

    // A sign-off that names the rule of a refusal.
    let mut story = Story::deposited(Provenance::CourtObtained).signed(ACTED);
    story.events.last_mut().unwrap().rule = Some("recipient_acted".into());
    let issued = story.issue();
    assert_fails(
        &issued.verify(),
        "names rule recipient_acted, the replayed events give \"recipient_sign_off\"",
    );

    // A sign-off on a confirmed address that claims to have fixed the time.
    let mut story = Story::deposited(Provenance::Confirmed).signed(ACTED);
    story.events.last_mut().unwrap().rule = Some("recipient_sign_off".into());
    assert_fails(&story.issue().verify(), "names rule recipient_sign_off");
}

#[test]
fn a_rule_field_that_is_not_a_service_rule_is_not_read_as_one() {
    // The policy's acceptance carries its explanation in `rule` (see `deposit`).
    let story = Story::deposited(Provenance::CourtObtained);
    let acceptance = &story.events[0];
    assert_eq!(acceptance.event_type, EventType::SubmissionAcceptance);
    assert!(
        acceptance
            .rule
            .as_deref()
            .unwrap()
            .starts_with("准予电子送达")
    );
    assert_valid(&story.issue().verify());
}

// ---------------------------------------------------------------------------------------
// Which entries may be proven

#[test]
fn an_entry_of_another_service_slipped_into_the_proof_is_caught() {
    // The recipient signed another service of the same case; that sign-off, truly in the
    // log, is offered as the sign-off of this unsigned court-obtained service.
    let mut story = Story::deposited(Provenance::CourtObtained).viewed(VIEWED);
    let other = story.another_service().signed(ACTED);
    let foreign = other.events.last().unwrap().clone();
    assert_eq!(foreign.event_type, EventType::ConsignmentAcceptance);
    story.events.push(foreign);
    let issued = story.issue();
    let r = issued.variant(|c| {
        c["served_at"] = json!(ACTED);
        c["service_rule"] = json!("recipient_sign_off");
        c["signature"]["signed_at"] = json!(ACTED);
    });
    assert_fails(
        &r,
        &format!(
            "log entry {} belongs to service {}, not to this certificate's service",
            issued.index_of(EventType::ConsignmentAcceptance, 0),
            other.service_id
        ),
    );
    assert_fails(&r, "legal time of service");
    // Its inclusion was not the problem.
    assert!(!failures(&r).iter().any(|f| f.contains("included")));
    // Even with the readable part left as the builder wrote it, the entry is refused.
    assert_fails(&issued.verify(), "belongs to service");
}

#[test]
fn a_consent_event_of_another_party_in_the_same_case_is_caught() {
    let mut story = Story::deposited(Provenance::Confirmed);
    let mut consent = story.events[0].clone();
    assert_eq!(consent.event_type, EventType::AddressConfirmation);
    consent.id = EventId::new();
    consent.recipient = Some(RecipientRef {
        party_id: PartyId::new(),
        name: "王五".into(),
        role: PartyRole::ThirdParty,
    });
    story.events.insert(1, consent);
    let issued = story.issue();
    let r = issued.verify();
    assert_fails(
        &r,
        &format!(
            "log entry {} (AddressConfirmation) is not about this recipient",
            issued.index_of(EventType::AddressConfirmation, 1)
        ),
    );
    assert_eq!(failures(&r).len(), 1, "{}", r.to_text());
    // The recipient's own consent, the first one, is accepted: see the builder's test.
}

#[test]
fn two_deposits_or_none_are_caught() {
    let story = Story::deposited(Provenance::Confirmed);
    let deposit = story
        .events
        .iter()
        .position(|e| e.event_type == EventType::ContentConsignment)
        .unwrap();

    let mut twice = story.clone();
    let again = Event {
        id: EventId::new(),
        at: LATER.into(),
        ..story.events[deposit].clone()
    };
    twice.events.push(again);
    let r = twice.issue().verify();
    assert_fails(
        &r,
        "the proven events hold 2 deposits (ContentConsignment) of this service, not one",
    );
    assert!(r.proven.is_some());

    let mut none = story.clone();
    none.events.remove(deposit);
    let r = none.issue().verify();
    assert_fails(&r, "hold 0 deposits");
    assert_eq!(proven(&r).served_at, None);
}

// ---------------------------------------------------------------------------------------
// The readable claims against the deposit and the event list

#[test]
fn every_readable_claim_is_checked_against_the_proven_events() {
    let issued = Story::deposited(Provenance::Confirmed)
        .viewed(VIEWED)
        .signed(ACTED)
        .issue();
    let changes: [(&str, Value, &str); 18] = [
        ("/service_id", json!(ServiceId::new()), "belongs to service"),
        ("/court/name", json!("北京市朝阳区人民法院"), "court:"),
        (
            "/case/case_number",
            json!("（2026）京0108民初99999号"),
            "case number",
        ),
        (
            "/recipient/party_id",
            json!(PartyId::new()),
            "recipient: the certificate says",
        ),
        ("/recipient/role", json!("plaintiff"), "recipient role"),
        ("/address/channel", json!("email"), "channel"),
        (
            "/address/address",
            json!("platform-inbox:someone"),
            "address: the certificate says",
        ),
        (
            "/address/provenance",
            json!("court_obtained"),
            "address provenance",
        ),
        ("/address/consent_basis", json!("conduct"), "consent basis"),
        ("/regime/id", json!("CPL2017-A87"), "regime"),
        ("/signature/refused_at", json!(ACTED), "refused at"),
        (
            "/signature/refusal_reason",
            json!("unreadable"),
            "refusal reason",
        ),
        ("/documents/1/title", json!("民事判决书"), "title"),
        ("/documents/1/doc_type", json!("judgment"), "type"),
        (
            "/documents/1/id",
            json!(DocumentId::new()),
            "was not deposited in this service",
        ),
        ("/served_at", Value::Null, "legal time of service"),
        ("/service_rule", Value::Null, "service rule"),
        (
            "/events/4/at",
            json!(LATER),
            "events[4] (ContentAccessTracking) differs",
        ),
    ];
    for (pointer, value, says) in changes {
        let r = issued.variant(|c| *c.pointer_mut(pointer).unwrap() = value.clone());
        assert!(!r.valid, "{pointer} = {value} was not caught");
        assert_fails(&r, says);
    }

    let r = issued.variant(|c| {
        c["documents"].as_array_mut().unwrap().pop();
    });
    assert_fails(&r, "the certificate lists 1 documents, the deposit holds 2");
    let r = issued.variant(|c| {
        c["events"].as_array_mut().unwrap().swap(1, 2);
    });
    assert_fails(&r, "events[1] (SubmissionAcceptance) differs");
    let r = issued.variant(|c| {
        c.as_object_mut().unwrap().remove("events");
    });
    assert_fails(&r, "the certificate lists no events");
}

// ---------------------------------------------------------------------------------------
// Keys

#[test]
fn the_right_key_among_several_pinned_keys_verifies_without_a_warning() {
    let issued = Story::deposited(Provenance::Confirmed).issue();
    let retired = new_signer();
    let file = json!({
        "algorithm": "ed25519",
        "keys": [public_key(&retired), issued.key()],
    });
    let keys = parse_public_keys(&serde_json::to_vec(&file).unwrap()).unwrap();
    assert_eq!(keys.len(), 2);
    let r = check(&issued.cert, Some(&keys));
    assert_valid(&r);
    assert!(
        r.checks.iter().all(|c| c.outcome == Outcome::Ok),
        "{}",
        r.to_text()
    );
    assert!(!r.to_text().contains("warning"));

    // Unpinned, the certificate's own key is used, with a warning naming it.
    let r = check(&issued.cert, None);
    assert!(r.valid);
    let warnings: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Warning)
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].detail.contains(issued.signer.key_id()));
}

#[test]
fn a_head_signed_by_a_key_that_is_not_pinned_fails_before_anything_else() {
    let (court_a, court_b) = (new_signer(), new_signer());
    let forger = new_signer();
    let issued = Story::deposited(Provenance::Confirmed).issue_by(forger, &[]);
    let pinned = [public_key(&court_a), public_key(&court_b)];
    let r = check(&issued.cert, Some(&pinned));
    assert!(!r.valid);
    assert!(r.proven.is_none());
    assert_eq!(r.checks.len(), 1, "{}", r.to_text());
    let detail = &r.checks[0].detail;
    assert!(detail.contains(issued.signer.key_id()), "{detail}");
    assert!(
        detail.contains("not among the given public keys"),
        "{detail}"
    );
    assert!(detail.contains(court_a.key_id()) && detail.contains(court_b.key_id()));
    // The forger's certificate is internally consistent: only pinning catches it.
    assert!(check(&issued.cert, None).valid);
    // A pinned key that is the right id but another key: the signature does not match.
    let mut impostor = public_key(&court_a);
    impostor.key_id = issued.signer.key_id().into();
    let r = check(&issued.cert, Some(&[impostor]));
    assert!(r.proven.is_none());
    assert_fails(&r, "tree head signature");
}

// ---------------------------------------------------------------------------------------
// Malformed proofs

#[test]
fn a_signed_head_whose_root_is_not_a_hash_fails_with_a_reason() {
    let issued = Story::deposited(Provenance::CourtObtained).issue();
    for root in ["not hex at all", &"AB".repeat(32), "abcd", ""] {
        let mut cert = issued.cert.clone();
        issued.resign(&mut cert, |h| h.root = root.into());
        let r = check(&cert, Some(&[issued.key()]));
        assert_fails(&r, "the tree head's root is not a hash");
        assert!(r.proven.is_none());
    }
}

#[test]
fn an_entry_at_the_wrong_index_is_not_included() {
    let issued = Story::deposited(Provenance::CourtObtained).issue();
    let index = issued.cert["proof"]["entries"][1]["index"]
        .as_u64()
        .unwrap();
    let r = issued.variant(|c| c["proof"]["entries"][1]["index"] = json!(index + 1));
    assert_fails(
        &r,
        &format!(
            "log entry {}: not included in the signed tree head",
            index + 1
        ),
    );
    assert!(r.proven.is_none());
}

#[test]
fn an_included_entry_that_is_not_an_event_fails_with_a_reason() {
    let story = Story::deposited(Provenance::CourtObtained);
    let issued = story.issue_by(new_signer(), &[r#"{"kind":"memo","text":"not an event"}"#]);
    let entry = issued.cert["proof"]["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let r = issued.verify();
    assert_fails(
        &r,
        &format!(
            "log entry {}: not an event",
            entry["index"].as_u64().unwrap()
        ),
    );
    assert!(r.proven.is_none());
    // Only the shape was wrong: the entry is in the log.
    assert!(!failures(&r).iter().any(|f| f.contains("included")));
}

#[test]
fn malformed_proofs_are_refused_with_a_reason_and_never_panic() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .issue();
    type Change = Box<dyn Fn(&mut Value, &Issued)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "the certificate has no proof",
            Box::new(|c, _| {
                c.as_object_mut().unwrap().remove("proof");
            }),
        ),
        (
            "the proof is malformed",
            Box::new(|c, _| c["proof"] = json!(42)),
        ),
        (
            "the proof is malformed",
            Box::new(|c, _| c["proof"]["entries"][0]["leaf_hash"] = json!("xyz")),
        ),
        (
            "the proof is malformed",
            Box::new(|c, _| c["proof"]["entries"][0]["index"] = json!(-1)),
        ),
        (
            "the proof is malformed",
            Box::new(|c, _| {
                c["proof"]["head"]
                    .as_object_mut()
                    .unwrap()
                    .remove("signature");
            }),
        ),
        (
            "the proof has no entries",
            Box::new(|c, _| c["proof"]["entries"] = json!([])),
        ),
        (
            "not included in the signed tree head",
            Box::new(|c, _| {
                // The last entry, so that the entries stay in log order.
                let last = c["proof"]["entries"].as_array().unwrap().len() - 1;
                c["proof"]["entries"][last]["index"] = json!(u64::MAX)
            }),
        ),
        (
            "not included in the signed tree head",
            Box::new(|c, _| c["proof"]["entries"][0]["inclusion"] = json!([])),
        ),
        (
            "not included in the signed tree head",
            Box::new(|c, _| {
                let extra = c["proof"]["entries"][0]["inclusion"][0].clone();
                c["proof"]["entries"][0]["inclusion"]
                    .as_array_mut()
                    .unwrap()
                    .push(extra);
            }),
        ),
        (
            "not included in the signed tree head",
            Box::new(|c, _| {
                c["proof"]["entries"][0]["inclusion"] =
                    c["proof"]["entries"][1]["inclusion"].clone()
            }),
        ),
        (
            "not included in the signed tree head",
            Box::new(|c, i| i.resign(c, |h| h.size = 0)),
        ),
        (
            "not included in the signed tree head",
            // The largest size a head can be signed for (canonical JSON stops at 2^53).
            Box::new(|c, i| i.resign(c, |h| h.size = 1 << 53)),
        ),
        (
            "tree head signature: the number 18446744073709551615 has no canonical form",
            Box::new(|c, _| c["proof"]["head"]["size"] = json!(u64::MAX)),
        ),
        (
            "not included in the signed tree head",
            Box::new(|c, i| i.resign(c, |h| h.root = merkle::empty_root().to_string())),
        ),
        (
            "does not hash to the leaf hash given",
            Box::new(|c, _| c["proof"]["entries"][0]["event"] = json!("")),
        ),
        (
            "does not hash to the leaf hash given",
            Box::new(|c, _| {
                c["proof"]["entries"][0]["leaf_hash"] =
                    c["proof"]["entries"][1]["leaf_hash"].clone()
            }),
        ),
        (
            "tree head signature: unknown signature algorithm",
            Box::new(|c, _| c["proof"]["head"]["algorithm"] = json!("rsa")),
        ),
        (
            "tree head signature: the signature is not hex",
            Box::new(|c, _| c["proof"]["head"]["signature"] = json!("zz")),
        ),
        (
            "tree head signature: the signature does not match",
            Box::new(|c, _| c["proof"]["head"]["signature"] = json!("00".repeat(64))),
        ),
        (
            "tree head signature: the signature does not match",
            Box::new(|c, _| c["proof"]["head"]["timestamp"] = json!(LATER)),
        ),
    ];
    for (says, change) in &cases {
        let mut cert = issued.cert.clone();
        change(&mut cert, &issued);
        let r = check(&cert, Some(&[issued.key()]));
        assert_fails(&r, says);
        assert!(r.proven.is_none(), "{says}: {}", r.to_text());
    }

    // What the verifier cannot read at all is unusable, not invalid.
    let unusable = |c: &Value| {
        verify(&serde_json::to_vec(c).unwrap(), &[], None)
            .unwrap_err()
            .0
    };
    let mut cert = issued.cert.clone();
    cert["proof"]["log"]["tree"] = json!("sparse-merkle");
    assert!(unusable(&cert).contains("log format"));
    let mut cert = issued.cert.clone();
    cert["certificate_version"] = json!("2");
    assert!(unusable(&cert).contains("not a Songda service certificate"));
}

// ---------------------------------------------------------------------------------------
// The report

#[test]
fn the_text_report_says_valid_or_invalid_and_lists_each_failure() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .viewed(VIEWED)
        .signed(ACTED)
        .issue();
    let text = issued.verify().to_text();
    assert!(text.ends_with("\nVALID\n"), "{text}");
    assert!(
        !text.contains("FAILED") && !text.contains("INVALID"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "proven: {COURT} {CASE_NUMBER}, served on 李四 (defendant)"
    )));
    assert!(text.contains("document «民事传票» SHA-256"), "{text}");

    let r = issued.variant(|c| {
        c["served_at"] = json!(DEPOSITED);
        c["recipient"]["name"] = json!("王五");
    });
    let text = r.to_text();
    assert!(text.ends_with("\nINVALID: 2 check(s) failed\n"), "{text}");
    for failure in failures(&r) {
        assert!(text.contains(&format!("FAILED  {failure}\n")), "{text}");
    }
    assert!(
        text.contains(
            "recipient name: the certificate says \"王五\", the proven events say \"李四\""
        )
    );
    // The proof held, so what it proves is printed from the events, not from the claims.
    assert!(text.contains("served on 李四"), "{text}");

    // A failure before the claims: no proven part at all.
    let mut cert = issued.cert.clone();
    issued.resign(&mut cert, |h| h.root = "00".into());
    let text = check(&cert, Some(&[issued.key()])).to_text();
    assert!(text.ends_with("\nINVALID: 1 check(s) failed\n") && !text.contains("proven:"));
}

#[test]
fn a_report_is_valid_exactly_when_no_check_failed() {
    let issued = Story::deposited(Provenance::CourtObtained)
        .refused(ACTED, RefusalReason::Unreadable, "")
        .issue();
    let mut reports = vec![
        issued.verify(),
        check(&issued.cert, None),
        issued.variant(|c| c["served_at"] = Value::Null),
        issued.variant(|c| c["signature"]["refusal_reason"] = json!("other")),
        issued.variant(|c| c["proof"]["entries"][0]["index"] = json!(0)),
        issued.variant(|c| c["proof"]["head"]["size"] = json!(1)),
        check(&issued.cert, Some(&[public_key(&new_signer())])),
    ];
    reports.push(verify(br#"{"certificate_version": 1}"#, &[], None).unwrap());
    let mut seen = (0, 0);
    for r in &reports {
        let failed = r.checks.iter().any(|c| c.outcome == Outcome::Failed);
        assert_eq!(r.valid, !failed, "{}", r.to_text());
        assert!(!r.checks.is_empty());
        if r.valid {
            seen.0 += 1;
        } else {
            seen.1 += 1;
        }
    }
    assert_eq!(seen, (2, 6));
    // A warning is not a failure.
    assert!(
        reports[1]
            .checks
            .iter()
            .any(|c| c.outcome == Outcome::Warning)
    );
}

// ---------------------------------------------------------------------------------------
// Every field, every character

/// What the verifier deliberately does not check: display fields that the events do not
/// carry or that only restate them. `*` is any array index.
const IGNORED: &[&[&str]] = &[
    &["notifications"],
    &["issued_at"],
    &["service_rule_text"],
    &["regime", "citation_zh"],
    &["regime", "citation_en"],
    &["documents", "*", "size"],
    &["documents", "*", "pages"],
    &["verification_code"],
    &["verify_url"],
    &["case", "title"],
    &["address", "consent_version"],
];

/// With the keys pinned, the key the certificate carries is not used at all.
const IGNORED_WHEN_PINNED: &[&[&str]] = &[&["proof", "public_key"]];

/// Unpinned, nothing more is ignored: the carried key's id and algorithm must be the head's.
const UNCHECKED_WHEN_UNPINNED: &[&[&str]] = &[];

fn ignored(path: &[String], pinned: bool) -> bool {
    let extra = if pinned {
        IGNORED_WHEN_PINNED
    } else {
        UNCHECKED_WHEN_UNPINNED
    };
    IGNORED.iter().chain(extra).any(|pattern| {
        pattern.len() <= path.len()
            && pattern
                .iter()
                .zip(path)
                .all(|(p, seg)| *p == "*" || p == seg)
    })
}

/// Another character of the same kind where there is one, so that many flips still parse.
fn flip(c: char) -> char {
    match c {
        '0'..='8' | 'a'..='y' | 'A'..='Y' => char::from(c as u8 + 1),
        '9' => '0',
        'z' => 'a',
        'Z' => 'A',
        c if c.is_ascii() => char::from(c as u8 ^ 1),
        c => char::from_u32(c as u32 + 1).unwrap_or('?'),
    }
}

/// Null members dropped: the verifier reads an absent claim as a null one.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Two times that name the same instant are the same claim (the verifier compares times
/// as instants, as `time` reads RFC 3339: it takes any byte between date and time).
fn same_instant(a: &str, b: &str) -> bool {
    matches!((parse_rfc3339(a), parse_rfc3339(b)), (Some(x), Some(y)) if x == y)
}

/// Every leaf (scalar or empty container) under `v`, as paths from `path`.
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    if children.is_empty() {
        out.push(path.clone());
    }
    for (k, v) in children {
        path.push(k);
        leaves(v, path, out);
        path.pop();
    }
}

/// The paths of the original document where `b` says something else than `a`. A member
/// renamed by a flip counts as its original member gone: each leaf under it changed.
fn changed_paths(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut removed = false;
            for (k, v) in x {
                path.push(k.clone());
                match y.get(k) {
                    Some(w) => changed_paths(v, w, path, out),
                    None => {
                        removed = true;
                        leaves(v, path, out);
                    }
                }
                path.pop();
            }
            if !removed && y.keys().any(|k| !x.contains_key(k)) {
                out.push(path.clone());
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                path.push(i.to_string());
                changed_paths(v, w, path, out);
                path.pop();
            }
        }
        (Value::String(x), Value::String(y)) if same_instant(x, y) => {}
        (a, b) if a == b => {}
        _ => out.push(path.clone()),
    }
}

fn rich_certificates() -> [Issued; 2] {
    [
        Story::deposited(Provenance::Confirmed)
            .viewed(VIEWED)
            .signed(ACTED)
            .issue(),
        Story::deposited(Provenance::CourtObtained)
            .viewed(VIEWED)
            .refused(ACTED, RefusalReason::WrongDocument, "缺少第3页")
            .issue(),
    ]
}

/// A different value of the same kind: one character flipped, one more, the opposite; and
/// for an absent claim a time, which no rule, reason or time claim proven absent matches.
fn another(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            let middle = chars.len() / 2;
            match chars.get_mut(middle) {
                Some(ch) => *ch = flip(*ch),
                None => chars.push('x'),
            }
            json!(chars.into_iter().collect::<String>())
        }
        Value::Number(n) => json!(n.as_u64().unwrap() + 1),
        Value::Bool(b) => json!(!b),
        Value::Null => json!(LATER),
        Value::Array(_) => json!(["x"]),
        Value::Object(_) => json!({"x": 1}),
    }
}

#[test]
fn each_readable_field_is_checked_unless_it_is_one_the_verifier_ignores() {
    let unserved = Story::deposited(Provenance::CourtObtained).issue();
    let [signed, refused] = rich_certificates();
    for issued in [&signed, &refused, &unserved] {
        let mut readable = issued.cert.clone();
        let members = readable.as_object_mut().unwrap();
        members.remove("events");
        members.remove("proof");
        let mut paths = Vec::new();
        leaves(&readable, &mut Vec::new(), &mut paths);
        let mut seen = (0, 0);
        for path in paths {
            let pointer: String = path.iter().map(|seg| format!("/{seg}")).collect();
            let mut cert = issued.cert.clone();
            let leaf = cert.pointer_mut(&pointer).unwrap();
            *leaf = another(leaf);
            // `certificate_version` changed is unusable (Err), not a report.
            let r = verify(
                &serde_json::to_vec(&cert).unwrap(),
                &[],
                Some(&[issued.key()]),
            );
            if ignored(&path, true) {
                assert_valid(&r.unwrap());
                seen.0 += 1;
            } else {
                assert!(
                    !matches!(r, Ok(r) if r.valid),
                    "a change of {pointer} was not caught"
                );
                seen.1 += 1;
            }
        }
        assert!(seen.0 >= 12 && seen.1 >= 25, "{seen:?}");
    }
}

#[test]
fn flipping_one_character_outside_the_ignored_fields_never_leaves_a_valid_certificate() {
    let mut violations = Vec::new();
    let (mut caught, mut ignored_and_valid) = (0, 0);
    for issued in &rich_certificates() {
        assert_valid(&issued.verify());
        let original = without_nulls(&issued.cert);
        let text: Vec<char> = serde_json::to_string(&issued.cert)
            .unwrap()
            .chars()
            .collect();
        // A fixed pseudo-random walk: the same 100 positions of each certificate every run.
        let mut x: u64 = 0x5EED_5014_DA00_0001;
        for _ in 0..100 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let pos = ((x >> 33) % text.len() as u64) as usize;
            let mut flipped = text.clone();
            flipped[pos] = flip(text[pos]);
            let flipped: String = flipped.into_iter().collect();
            let changed = serde_json::from_str::<Value>(&flipped).ok();
            let mut paths = Vec::new();
            if let Some(changed) = &changed {
                changed_paths(
                    &original,
                    &without_nulls(changed),
                    &mut Vec::new(),
                    &mut paths,
                );
            }
            let key = [issued.key()];
            for pinned in [Some(&key[..]), None] {
                let valid = matches!(verify(flipped.as_bytes(), &[], pinned), Ok(r) if r.valid);
                let allowed =
                    changed.is_some() && paths.iter().all(|p| ignored(p, pinned.is_some()));
                match (valid, allowed) {
                    (true, true) => ignored_and_valid += 1,
                    (true, false) => violations.push(format!(
                        "{:?} -> {:?} at {pos} (pinned: {}) changed {paths:?} and still verified",
                        text[pos],
                        flip(text[pos]),
                        pinned.is_some()
                    )),
                    (false, _) => caught += 1,
                }
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    // The walk reaches both kinds of field.
    assert!(
        ignored_and_valid > 0 && caught > 300,
        "{ignored_and_valid} valid in ignored fields, {caught} caught"
    );
}
