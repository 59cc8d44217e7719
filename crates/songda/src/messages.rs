//! The SMS and email notifications, rendered from their templates (`notify::templates`).
//! Notifications tell; they never carry the documents, and their links lead to a login,
//! never to a document by themselves (DOMAIN.md section 7). One-time codes appear as
//! `{{code}}` and are filled in by the worker at send time, so the stored text never holds
//! a usable code.

use crate::notify::templates::Templates;
use crate::store::NewNotification;
use songda_core::ids::{CaseId, PartyId, ServiceId};
use time::OffsetDateTime;

pub const CODE_MARK: &str = "{{code}}";

pub fn phone_code_sms(
    t: &Templates,
    phone: &str,
    code: String,
    nonce: &str,
    now: OffsetDateTime,
) -> NewNotification {
    NewNotification {
        idempotency_key: format!("phone_code:{phone}:{nonce}"),
        channel: "sms",
        purpose: "phone_code",
        recipient: phone.to_string(),
        subject: None,
        body: t.render("phone_code.sms", &[("code", CODE_MARK)]).body,
        secret: Some(code),
        case_id: None,
        service_id: None,
        party_id: None,
        attach_documents: false,
        now,
    }
}

pub struct BindingNotice<'a> {
    pub court: &'a str,
    pub case_number: &'a str,
    pub party_name: &'a str,
    pub phone: &'a str,
    pub email: Option<&'a str>,
    pub code: &'a str,
    pub url: &'a str,
    pub case_id: CaseId,
}

/// The binding code, by SMS and (if known) email. `{party}` in the key is filled in with
/// the party id when the party is stored.
pub fn binding_code(
    t: &Templates,
    n: &BindingNotice<'_>,
    now: OffsetDateTime,
) -> Vec<NewNotification> {
    let vars = [
        ("court", n.court),
        ("case_number", n.case_number),
        ("party_name", n.party_name),
        ("code", CODE_MARK),
        ("url", n.url),
    ];
    let mut out = vec![NewNotification {
        idempotency_key: "binding_code:{party}:sms".into(),
        channel: "sms",
        purpose: "binding_code",
        recipient: n.phone.to_string(),
        subject: None,
        body: t.render("binding_code.sms", &vars).body,
        secret: Some(n.code.to_string()),
        case_id: Some(n.case_id),
        service_id: None,
        party_id: None,
        attach_documents: false,
        now,
    }];
    if let Some(email) = n.email {
        let mail = t.render("binding_code.email", &vars);
        out.push(NewNotification {
            idempotency_key: "binding_code:{party}:email".into(),
            channel: "email",
            purpose: "binding_code",
            recipient: email.to_string(),
            subject: mail.subject,
            body: mail.body,
            secret: Some(n.code.to_string()),
            case_id: Some(n.case_id),
            service_id: None,
            party_id: None,
            attach_documents: false,
            now,
        });
    }
    out
}

pub struct ServiceNotice<'a> {
    pub court: &'a str,
    pub case_number: &'a str,
    pub party_name: &'a str,
    pub titles: &'a [String],
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub url: &'a str,
    pub case_id: CaseId,
    pub party_id: PartyId,
    pub service_id: ServiceId,
    /// The court serves by email too: the email carries the documents.
    pub documents_by_email: bool,
}

impl<'a> ServiceNotice<'a> {
    /// The notice of a stored service, to `phone` and `email`.
    pub fn of(
        d: &'a crate::store::ServiceDetail,
        titles: &'a [String],
        url: &'a str,
        phone: Option<&'a str>,
        email: Option<&'a str>,
    ) -> Self {
        Self {
            court: &d.case.court_name,
            case_number: &d.case.case_number,
            party_name: &d.party.name,
            titles,
            phone,
            email,
            url,
            case_id: d.case.id,
            party_id: d.party.id,
            service_id: d.service.id,
            documents_by_email: false,
        }
    }
}

/// Why a message about a service goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Documents await the recipient.
    NewService,
    /// The `n`th reminder that they are still unsigned (from 1).
    Reminder(u32),
    /// Another channel failed for good: the same notice on this one.
    Escalation,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::NewService => "new_service",
            Purpose::Reminder(_) => "reminder",
            Purpose::Escalation => "escalation",
        }
    }

    fn key(self) -> String {
        match self {
            Purpose::Reminder(n) => format!("reminder:{n}"),
            other => other.as_str().to_string(),
        }
    }

    fn template(self) -> &'static str {
        match self {
            Purpose::NewService | Purpose::Escalation => "new_service",
            Purpose::Reminder(_) => "reminder",
        }
    }
}

/// "Documents await you" (or a reminder that they still do): SMS and email per the
/// recipient's channels. `served_on` is the court date of the service, for reminders.
pub fn about_service(
    t: &Templates,
    purpose: Purpose,
    n: &ServiceNotice<'_>,
    served_on: &str,
    now: OffsetDateTime,
) -> Vec<NewNotification> {
    let titles = n.titles.join("、");
    let vars = [
        ("court", n.court),
        ("case_number", n.case_number),
        ("party_name", n.party_name),
        ("titles", titles.as_str()),
        ("url", n.url),
        ("served_on", served_on),
    ];
    let mut out = Vec::new();
    for (channel, address) in [("sms", n.phone), ("email", n.email)] {
        let Some(address) = address else { continue };
        let attach = channel == "email" && n.documents_by_email && purpose == Purpose::NewService;
        let template = if attach {
            "new_service_documents"
        } else {
            purpose.template()
        };
        let text = t.render(&format!("{template}.{channel}"), &vars);
        out.push(NewNotification {
            idempotency_key: format!("service:{}:{channel}:{}", n.service_id, purpose.key()),
            channel,
            purpose: purpose.as_str(),
            recipient: address.to_string(),
            subject: text.subject,
            body: text.body,
            secret: None,
            case_id: Some(n.case_id),
            service_id: Some(n.service_id),
            party_id: Some(n.party_id),
            attach_documents: attach,
            now,
        });
    }
    out
}
