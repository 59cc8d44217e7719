//! The readable part of a certificate against its proven events: every claim a reader
//! relies on (case, recipient, documents and their hashes, address and consent, legal time
//! and rule, signature record, the event list) must be what the events say. The legal time
//! is recomputed by replaying the events through the platform's own state machine.

use super::{Checks, Proven, ProvenDocument};
use serde_json::Value;
use songda_core::evidence::{Event, EventType};
use songda_core::service::{ServiceRule, ServiceState};
use songda_core::timefmt::parse_rfc3339;
use std::fmt::Display;

/// Events outside the service that a certificate may carry: the recipient's consent.
const CONSENT_EVENTS: [EventType; 3] = [
    EventType::CaseBinding,
    EventType::AddressConfirmation,
    EventType::ConsentWithdrawal,
];

/// Compares claims and fills in what the events prove.
pub(super) fn check(cert: &Value, events: &[(u64, Event)], checks: &mut Checks) -> Proven {
    let mut c = Claims {
        checks,
        failures: 0,
    };
    let mut proven = Proven {
        events: events.len(),
        ..Proven::default()
    };
    let service_id = text(cert, &["service_id"]);
    proven.service_id = service_id.clone().unwrap_or_default();
    c.events_list(cert, events);

    let mut service = Vec::new();
    for (index, e) in events {
        match &e.service_id {
            Some(id) if Some(id.to_string()) == service_id => service.push((*index, e)),
            Some(id) => c.fail(format!(
                "log entry {index} belongs to service {id}, not to this certificate's service"
            )),
            None => {} // consent events, checked against the recipient below
        }
    }
    let consignments: Vec<&Event> = service
        .iter()
        .filter(|(_, e)| e.event_type == EventType::ContentConsignment)
        .map(|(_, e)| *e)
        .collect();
    let [deposit] = consignments[..] else {
        c.fail(format!(
            "the proven events hold {} deposits (ContentConsignment) of this service, not one",
            consignments.len()
        ));
        c.checks.fail_count(c.failures);
        return proven;
    };

    // Case, court, recipient, documents, address: fixed at deposit.
    if let Some(case) = &deposit.case {
        c.same("case", text(cert, &["case", "id"]), case.id);
        c.same(
            "case number",
            text(cert, &["case", "case_number"]),
            &case.case_number,
        );
        c.same("court", text(cert, &["court", "name"]), &case.court);
        proven.case_number = case.case_number.clone();
        proven.court = case.court.clone();
    } else {
        c.fail("the deposit event names no case".to_string());
    }
    if let Some(r) = &deposit.recipient {
        c.same(
            "recipient",
            text(cert, &["recipient", "party_id"]),
            r.party_id,
        );
        c.same(
            "recipient name",
            text(cert, &["recipient", "name"]),
            &r.name,
        );
        c.same(
            "recipient role",
            text(cert, &["recipient", "role"]),
            r.role.as_str(),
        );
        proven.recipient = r.name.clone();
        proven.recipient_role = r.role.as_str().to_string();
        let deposit_index = service
            .iter()
            .find(|(_, e)| e.event_type == EventType::ContentConsignment)
            .map_or(0, |(i, _)| *i);
        for (index, e) in events.iter().filter(|(_, e)| e.service_id.is_none()) {
            if e.recipient.as_ref().map(|x| x.party_id) != Some(r.party_id) {
                c.fail(format!(
                    "log entry {index} ({}) is not about this recipient",
                    e.event_type.as_str()
                ));
            } else if !CONSENT_EVENTS.contains(&e.event_type) || *index > deposit_index {
                c.fail(format!(
                    "log entry {index} ({}) is not a consent event of this recipient before the deposit",
                    e.event_type.as_str()
                ));
            }
        }
        for (index, e) in &service {
            let other_case = e
                .case
                .as_ref()
                .zip(deposit.case.as_ref())
                .is_some_and(|(a, b)| a.id != b.id);
            let other_recipient = e
                .recipient
                .as_ref()
                .is_some_and(|x| x.party_id != r.party_id);
            let other_document = e.documents.iter().any(|d| {
                !deposit
                    .documents
                    .iter()
                    .any(|x| x.id == d.id && x.sha256 == d.sha256)
            });
            if other_case || other_recipient || other_document {
                c.fail(format!(
                    "log entry {index} ({}) names another case, recipient or document than the deposit",
                    e.event_type.as_str()
                ));
            }
        }
    } else {
        c.fail("the deposit event names no recipient".to_string());
    }
    c.documents(cert, deposit);
    proven.documents = deposit
        .documents
        .iter()
        .map(|d| ProvenDocument {
            id: d.id.to_string(),
            title: d.title.clone(),
            sha256: d.sha256.to_string(),
            matched_file: None,
        })
        .collect();
    c.same(
        "channel",
        text(cert, &["address", "channel"]),
        opt(deposit.channel.map(|x| x.as_str())),
    );
    c.same(
        "address",
        text(cert, &["address", "address"]),
        opt(deposit.address.as_deref()),
    );
    c.same(
        "address provenance",
        text(cert, &["address", "provenance"]),
        opt(deposit.provenance.map(|p| p.as_str())),
    );
    c.same(
        "consent basis",
        text(cert, &["address", "consent_basis"]),
        opt(deposit.consent_basis.map(|b| b.as_str())),
    );
    c.same(
        "regime",
        text(cert, &["regime", "id"]),
        opt(deposit.regime.as_deref()),
    );

    c.legal_time(cert, deposit, &service, &mut proven);
    c.checks.fail_count(c.failures);
    proven
}

struct Claims<'a> {
    checks: &'a mut Checks,
    failures: usize,
}

impl Claims<'_> {
    fn fail(&mut self, detail: String) {
        self.failures += 1;
        self.checks.fail(detail);
    }

    /// A readable claim against what the events say; absent on both sides is agreement.
    fn same(&mut self, what: &str, claimed: Option<String>, proven: impl Display) {
        let proven = proven.to_string();
        let claimed_text = claimed.clone().unwrap_or_default();
        if claimed_text != proven {
            self.fail(format!(
                "{what}: the certificate says {}, the proven events say {}",
                shown(&claimed),
                shown(&Some(proven).filter(|p| !p.is_empty()))
            ));
        }
    }

    /// A time claim, compared as instants (any RFC 3339 spelling of the same instant).
    fn same_time(&mut self, what: &str, claimed: Option<String>, proven: Option<&str>) {
        let instant = |s: Option<&str>| s.and_then(parse_rfc3339);
        let agree = match (claimed.as_deref(), proven) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                instant(Some(a)).is_some() && instant(Some(a)) == instant(Some(b))
            }
            _ => false,
        };
        if !agree {
            self.fail(format!(
                "{what}: the certificate says {}, the proven events say {}",
                shown(&claimed),
                shown(&proven.map(str::to_string))
            ));
        }
    }

    /// The readable event list must be the proven events, in order.
    fn events_list(&mut self, cert: &Value, events: &[(u64, Event)]) {
        let listed = cert.get("events").and_then(Value::as_array);
        let Some(listed) = listed else {
            self.fail("the certificate lists no events".to_string());
            return;
        };
        if listed.len() != events.len() {
            self.fail(format!(
                "the certificate lists {} events but proves {}",
                listed.len(),
                events.len()
            ));
            return;
        }
        for (i, (listed, (index, event))) in listed.iter().zip(events).enumerate() {
            let proven = serde_json::to_value(event).unwrap_or(Value::Null);
            if *listed != proven {
                self.fail(format!(
                    "events[{i}] ({}) differs from the proven log entry {index}",
                    event.event_type.as_str()
                ));
            }
        }
    }

    /// The documents listed must be exactly those deposited, with the same hashes.
    fn documents(&mut self, cert: &Value, deposit: &Event) {
        let listed = cert
            .get("documents")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if listed.len() != deposit.documents.len() {
            self.fail(format!(
                "the certificate lists {} documents, the deposit holds {}",
                listed.len(),
                deposit.documents.len()
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for doc in &listed {
            let id = text(doc, &["id"]).unwrap_or_default();
            if !seen.insert(id.clone()) {
                self.fail(format!("document {id} is listed twice"));
                continue;
            }
            match deposit.documents.iter().find(|d| d.id.to_string() == id) {
                Some(d) => {
                    let what = format!("document {id}");
                    self.same(
                        &format!("{what} SHA-256"),
                        text(doc, &["sha256"]),
                        &d.sha256,
                    );
                    self.same(&format!("{what} title"), text(doc, &["title"]), &d.title);
                    self.same(
                        &format!("{what} type"),
                        text(doc, &["doc_type"]),
                        d.doc_type.as_str(),
                    );
                }
                None => self.fail(format!("document {id} was not deposited in this service")),
            }
        }
    }

    /// Replays the service's events through the state machine and compares the legal time,
    /// its rule and the signature record.
    fn legal_time(
        &mut self,
        cert: &Value,
        deposit: &Event,
        service: &[(u64, &Event)],
        proven: &mut Proven,
    ) {
        let (Some(provenance), Some(deposited_at)) =
            (deposit.provenance, parse_rfc3339(&deposit.at))
        else {
            self.fail("the deposit event has no provenance or no valid time".to_string());
            return;
        };
        let mut machine = ServiceState::deposited(provenance, deposited_at);
        let (mut signed, mut refused) = (None, None);
        for (index, e) in service {
            let Some(at) = parse_rfc3339(&e.at) else {
                self.fail(format!("log entry {index} has no valid time"));
                continue;
            };
            let acts = matches!(
                e.event_type,
                EventType::ContentAccessTracking
                    | EventType::ContentHandover
                    | EventType::ConsignmentAcceptance
                    | EventType::ConsignmentRejection
            );
            if acts && at < deposited_at {
                self.fail(format!(
                    "log entry {index} ({}) is dated before the deposit",
                    e.event_type.as_str()
                ));
                continue;
            }
            let step = match e.event_type {
                EventType::ContentAccessTracking | EventType::ContentHandover => {
                    machine.view(at);
                    Ok(())
                }
                // The mail server accepted the email carrying the documents: that
                // channel's arrival (a court that also serves by email).
                EventType::ConsignmentNotification if carried_documents(e) => {
                    machine.email_arrived(at);
                    Ok(())
                }
                EventType::ConsignmentAcceptance => machine.sign(at).map(|()| signed = Some(*e)),
                EventType::ConsignmentRejection => machine.refuse(at).map(|()| refused = Some(*e)),
                _ => Ok(()),
            };
            if let Err(err) = step {
                self.fail(format!("log entry {index}: {err}, yet recorded"));
            }
        }
        self.same_time(
            "deposited at",
            text(cert, &["deposited_at"]),
            Some(&deposit.at),
        );
        self.same_time(
            "first viewed at",
            text(cert, &["signature", "first_viewed_at"]),
            machine
                .first_viewed_at
                .map(songda_core::timefmt::rfc3339)
                .as_deref(),
        );
        let stage = serde_json::to_value(machine.stage).unwrap_or_default();
        let status = serde_json::to_value(machine.stage.status()).unwrap_or_default();
        self.same(
            "stage",
            text(cert, &["stage"]),
            stage.as_str().unwrap_or_default(),
        );
        self.same(
            "status",
            text(cert, &["status"]),
            status.as_str().unwrap_or_default(),
        );
        let legal = machine.legal_time();
        let served_at = legal.map(|l| songda_core::timefmt::rfc3339(l.at));
        self.same_time(
            "legal time of service",
            text(cert, &["served_at"]),
            served_at.as_deref(),
        );
        self.same(
            "service rule",
            text(cert, &["service_rule"]),
            opt(legal.map(|l| l.rule.as_str())),
        );
        // An event that names the rule it fixed must agree with the replay.
        for (index, e) in service {
            if let Some(rule) = e.rule.as_deref().and_then(ServiceRule::parse)
                && legal.map(|l| l.rule) != Some(rule)
            {
                self.fail(format!(
                    "log entry {index} names rule {}, the replayed events give {}",
                    rule.as_str(),
                    shown(&legal.map(|l| l.rule.as_str().to_string()))
                ));
            }
        }
        self.same_time(
            "signed at",
            text(cert, &["signature", "signed_at"]),
            signed.map(|e| e.at.as_str()),
        );
        self.same_time(
            "refused at",
            text(cert, &["signature", "refused_at"]),
            refused.map(|e| e.at.as_str()),
        );
        self.same(
            "refusal reason",
            text(cert, &["signature", "refusal_reason"]),
            opt(refused.and_then(|e| e.reason_code.as_deref())),
        );
        self.same(
            "refusal note",
            text(cert, &["signature", "refusal_note"]),
            opt(refused.and_then(|e| e.note.as_deref())),
        );
        // Each channel's arrival, when the certificate lists them.
        if let Some(claimed) = cert.get("completions") {
            let replayed: Vec<Value> = machine
                .completions()
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "channel": c.channel.as_str(),
                        "completed_at": songda_core::timefmt::rfc3339(c.at),
                        "counts": c.counts,
                        "fixed": c.fixed,
                    })
                })
                .collect();
            if *claimed != Value::Array(replayed.clone()) {
                self.fail(format!(
                    "the channels' arrivals: the certificate says {claimed}, the proven events say {}",
                    Value::Array(replayed)
                ));
            }
        }
        proven.served_at = served_at;
        proven.service_rule = legal.map(|l| l.rule.as_str().to_string());
        proven.signed_at = signed.map(|e| e.at.clone());
        proven.refused_at = refused.map(|e| e.at.clone());
        proven.refusal_reason = refused.and_then(|e| e.reason_code.clone());
    }
}

impl Checks {
    /// One line for all the claims that held, if none failed.
    fn fail_count(&mut self, failures: usize) {
        if failures == 0 {
            self.ok(
                "the certificate's case, recipient, documents, address, consent, legal time and signature record are those of the proven events",
            );
        }
    }
}

/// A string (or number) at `path`; null and absent are None.
fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut v = v;
    for key in path {
        v = v.get(key)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn opt(s: Option<&str>) -> String {
    s.unwrap_or_default().to_string()
}

fn shown(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("{s:?}"),
        None => "nothing".into(),
    }
}

/// An acceptance of the email that carried the service's documents (not a notice, not a
/// delivery report).
fn carried_documents(e: &Event) -> bool {
    e.channel == Some(songda_core::consent::Channel::Email)
        && e.gateway.as_ref().is_some_and(|g| {
            g.get("delivery_report").is_none()
                && g.get("documents_attached")
                    .and_then(|d| d.as_array())
                    .is_some_and(|d| !d.is_empty())
        })
}
