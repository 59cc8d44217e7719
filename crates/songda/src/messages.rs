//! The wording of SMS and email notifications. Notifications tell; they never carry the
//! documents, and their links lead to a login, never to a document by themselves
//! (DOMAIN.md section 7). One-time codes appear as `{{code}}` and are filled in by the
//! worker at send time, so the stored text never holds a usable code.

use crate::store::NewNotification;
use songda_core::ids::{CaseId, PartyId, ServiceId};
use time::OffsetDateTime;

pub const CODE_MARK: &str = "{{code}}";

pub fn phone_code_sms(
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
        body: format!(
            "【送达平台】您的验证码为{CODE_MARK}，10分钟内有效。如非本人操作，请忽略本短信。"
        ),
        secret: Some(code),
        case_id: None,
        service_id: None,
        party_id: None,
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
pub fn binding_code(n: &BindingNotice<'_>, now: OffsetDateTime) -> Vec<NewNotification> {
    let sms = format!(
        "【{court}】{name}：{court}受理的{num}案件已开通电子送达，您的案件绑定码为{CODE_MARK}。请登录 {url} 注册并绑定案件，查收诉讼文书。",
        court = n.court,
        name = n.party_name,
        num = n.case_number,
        url = n.url,
    );
    let mut out = vec![NewNotification {
        idempotency_key: "binding_code:{party}:sms".into(),
        channel: "sms",
        purpose: "binding_code",
        recipient: n.phone.to_string(),
        subject: None,
        body: sms,
        secret: Some(n.code.to_string()),
        case_id: Some(n.case_id),
        service_id: None,
        party_id: None,
        now,
    }];
    if let Some(email) = n.email {
        out.push(NewNotification {
            idempotency_key: "binding_code:{party}:email".into(),
            channel: "email",
            purpose: "binding_code",
            recipient: email.to_string(),
            subject: Some(format!("【{}】{}案件绑定码", n.court, n.case_number)),
            body: format!(
                "{name}：\n\n{court}受理的{num}案件已开通电子送达。\n\n案件绑定码：{CODE_MARK}\n\n请访问 {url} ，使用本人手机号注册并登录后，输入案号和绑定码绑定案件，即可查收本案诉讼文书。\n绑定码仅可使用一次，请妥善保管，勿转告他人。\n\n{court}\n（本邮件由送达平台自动发送，请勿直接回复。）\n\n---\nCase binding code for case {num} at {court}: see above. Register at {url} with your own phone number, then bind the case with its number and this code.\n",
                name = n.party_name,
                court = n.court,
                num = n.case_number,
                url = n.url,
            ),
            secret: Some(n.code.to_string()),
            case_id: Some(n.case_id),
            service_id: None,
            party_id: None,
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
}

/// "Documents await you": SMS and email per the recipient's confirmed channels.
pub fn new_service(n: &ServiceNotice<'_>, now: OffsetDateTime) -> Vec<NewNotification> {
    let titles = n.titles.join("、");
    let mut out = Vec::new();
    if let Some(phone) = n.phone {
        out.push(NewNotification {
            idempotency_key: format!("service:{}:sms:new_service", n.service_id),
            channel: "sms",
            purpose: "new_service",
            recipient: phone.to_string(),
            subject: None,
            body: format!(
                "【{court}】{name}：您有一份{num}案件的诉讼文书（{titles}）待签收，请登录 {url} 查看。",
                court = n.court,
                name = n.party_name,
                num = n.case_number,
                url = n.url,
            ),
            secret: None,
            case_id: Some(n.case_id),
            service_id: Some(n.service_id),
            party_id: Some(n.party_id),
            now,
        });
    }
    if let Some(email) = n.email {
        out.push(NewNotification {
            idempotency_key: format!("service:{}:email:new_service", n.service_id),
            channel: "email",
            purpose: "new_service",
            recipient: email.to_string(),
            subject: Some(format!("【{}】{}案件诉讼文书待签收", n.court, n.case_number)),
            body: format!(
                "{name}：\n\n{court}通过电子送达平台向您送达{num}案件的诉讼文书：\n\n  {titles}\n\n文书已送达至您的平台账户。请登录 {url} 查看并签收。\n为保护您的信息，本邮件不附带文书内容。\n\n{court}\n（本邮件由送达平台自动发送，请勿直接回复。）\n\n---\n{court} has served documents in case {num} on you through the e-service platform ({titles}). Log in at {url} to view and sign for them.\n",
                name = n.party_name,
                court = n.court,
                num = n.case_number,
                url = n.url,
            ),
            secret: None,
            case_id: Some(n.case_id),
            service_id: Some(n.service_id),
            party_id: Some(n.party_id),
            now,
        });
    }
    out
}
