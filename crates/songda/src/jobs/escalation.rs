//! What follows a notice that failed for good, and a refusal: the recipient is told on
//! their other channel (escalation), and the clerk who served is alerted by email when their
//! account has an address. Both are queued in the transaction that records the failure or
//! the refusal, with idempotency keys, so they are queued once.

use crate::actions::serve::notice_addresses;
use crate::messages::{self, Purpose, ServiceNotice};
use crate::state::AppState;
use crate::store::{NewNotification, Notification, ServiceDetail};

/// The notices a final failure leads to, and the channel the recipient is now told on.
pub struct FollowUp {
    pub notices: Vec<NewNotification>,
    pub escalated_to: Option<&'static str>,
}

fn channel_zh(channel: &str) -> &'static str {
    if channel == "sms" {
        "短信"
    } else {
        "电子邮件"
    }
}

/// After a notice about a service failed for good on `n.channel` (`why`): the same notice
/// on the recipient's other channel, unless they were told there already, and an alert to
/// the clerk.
pub async fn after_failure(
    state: &AppState,
    n: &Notification,
    why: &str,
) -> anyhow::Result<FollowUp> {
    let none = FollowUp {
        notices: Vec::new(),
        escalated_to: None,
    };
    let Some(service_id) = n.service_id else {
        return Ok(none);
    };
    if !matches!(n.purpose.as_str(), "new_service" | "escalation") {
        return Ok(none);
    }
    let d = state.store.service(service_id).await?;
    let titles = d.titles();
    let url = format!("{}/services/{service_id}", state.public_url());
    // An email that could not carry the documents (too large for the server, say): the
    // same address still gets the notice that only tells.
    if n.attach_documents {
        let mut plain = messages::about_service(
            &state.templates,
            Purpose::NewService,
            &ServiceNotice::of(&d, &titles, &url, None, Some(&n.recipient)),
            "",
            state.now(),
        );
        for p in &mut plain {
            p.idempotency_key = format!("service:{service_id}:email:without_documents");
        }
        let mut follow = FollowUp {
            notices: plain,
            escalated_to: None,
        };
        let detail = format!(
            "附文书的电子邮件未能发出（{}）：{}\n已改发不附文书的提醒邮件；文书已送达至平台账户。",
            n.recipient,
            why.chars().take(300).collect::<String>()
        );
        follow
            .notices
            .extend(failure_alert(state, &d, n, "附文书的电子邮件未能发出", &detail).await?);
        return Ok(follow);
    }
    let notes = state.store.service_notifications(service_id).await?;
    let is_notice = |m: &&Notification| matches!(m.purpose.as_str(), "new_service" | "escalation");
    let other = if n.channel == "sms" { "email" } else { "sms" };
    let there: Vec<&Notification> = notes
        .iter()
        .filter(is_notice)
        .filter(|m| m.channel == other)
        .collect();
    let told_elsewhere = there.iter().any(|m| m.status != "failed");
    let mut follow = none;
    // Escalate once, to a channel not yet tried: never back to one that failed.
    if there.is_empty() {
        // The consented address of that channel, else the one the court has for the party:
        // a notice only tells, it serves nothing.
        let consented = d
            .party
            .consent
            .as_ref()
            .filter(|c| c.is_active())
            .map(|c| notice_addresses(&d.party, c))
            .unwrap_or_default();
        let (phone, email) = match other {
            "sms" => (consented.0.or_else(|| Some(d.party.phone.clone())), None),
            _ => (None, consented.1.or_else(|| d.party.email.clone())),
        };
        if phone.is_some() || email.is_some() {
            follow.notices = messages::about_service(
                &state.templates,
                Purpose::Escalation,
                &ServiceNotice::of(&d, &titles, &url, phone.as_deref(), email.as_deref()),
                "",
                state.now(),
            );
            follow.escalated_to = Some(other);
        }
    }
    let next = match (follow.escalated_to, told_elsewhere) {
        (Some(ch), _) => format!("已改用{}通知受送达人。", channel_zh(ch)),
        (None, true) => format!("受送达人已通过{}收到通知。", channel_zh(other)),
        (None, false) => "没有其他可用的通知方式，请考虑以其他方式送达。".to_string(),
    };
    let detail = format!(
        "{} {}：{}\n{next}",
        channel_zh(&n.channel),
        n.recipient,
        why.chars().take(300).collect::<String>()
    );
    follow
        .notices
        .extend(failure_alert(state, &d, n, "送达提醒发送失败", &detail).await?);
    Ok(follow)
}

/// The clerk's alert about the failure of `n`, once per notification.
async fn failure_alert(
    state: &AppState,
    d: &ServiceDetail,
    n: &Notification,
    what: &str,
    detail: &str,
) -> anyhow::Result<Option<NewNotification>> {
    clerk_alert(
        state,
        d,
        what,
        detail,
        &format!("clerk_alert:{}:failed", n.id),
    )
    .await
}

/// An email to the clerk who served `d`, if their account has an address.
pub async fn clerk_alert(
    state: &AppState,
    d: &ServiceDetail,
    what: &str,
    detail: &str,
    key: &str,
) -> anyhow::Result<Option<NewNotification>> {
    let Some(email) = state.store.service_clerk_email(d.service.id).await? else {
        return Ok(None);
    };
    let titles = d.titles().join("、");
    let url = format!("{}/cases/{}", state.public_url(), d.case.id);
    let text = state.templates.render(
        "clerk_alert.email",
        &[
            ("court", &d.case.court_name),
            ("case_number", &d.case.case_number),
            ("party_name", &d.party.name),
            ("titles", &titles),
            ("what", what),
            ("detail", detail),
            ("url", &url),
        ],
    );
    Ok(Some(NewNotification {
        idempotency_key: key.to_string(),
        channel: "email",
        purpose: "clerk_alert",
        recipient: email,
        subject: text.subject,
        body: text.body,
        secret: None,
        case_id: Some(d.case.id),
        // Not a message to the recipient: no evidence of the service.
        service_id: None,
        party_id: None,
        attach_documents: false,
        now: state.now(),
    }))
}
