//! The outbox runner: claims due notifications with a lease, sends each through its
//! transport, and records every attempt. For notifications about a service each attempt is
//! also evidence, appended in the transaction that records it: `ConsignmentNotification`
//! with the transport's reply and message id when accepted, `ConsignmentNotificationFailure`
//! with the error when not (`final: false` and the time of the retry, with exponential
//! backoff and jitter, or `final: true` when it fails for good: a permanent refusal such as
//! SMTP 5xx, or the last attempt).
//!
//! A worker that dies after sending but before recording leaves the claim to expire and
//! the message is sent again: delivery is at least once per claim (docs/design.md,
//! Notifications, has the exact guarantee).

use crate::messages::CODE_MARK;
use crate::notify::{SendError, SmsTransport};
use crate::state::AppState;
use crate::store::Notification;
use rand::RngExt;
use songda_core::consent::Channel;
use songda_core::evidence::{Actor, CaseRef, DocumentRef, Event, EventType, RecipientRef};
use songda_core::timefmt::rfc3339;
use std::time::Duration as StdDuration;
use time::Duration;

const BATCH: i64 = 32;
/// How often the runner looks for services due a reminder.
const REMINDER_SCAN: StdDuration = StdDuration::from_secs(60);

/// Sends everything that is due now; returns how many notifications were attempted.
/// Tests call this to drain the queue explicitly.
pub async fn drain(state: &AppState) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let batch = state
            .store
            .claim_notifications(BATCH, state.settings.outbox_lease, state.now())
            .await?;
        if batch.is_empty() {
            return Ok(total);
        }
        total += batch.len();
        for n in batch {
            attempt(state, n).await?;
        }
    }
}

/// Runs until the process stops: drains the queue whenever woken, and at least every
/// second so retries come due.
pub async fn run(state: AppState) {
    match state.store.release_claims_of_dead_process().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            n,
            "re-queued notifications claimed by a process that stopped mid-send"
        ),
        Err(e) => tracing::error!(error = %e, "could not re-queue stale claims"),
    }
    let mut reminders_checked: Option<std::time::Instant> = None;
    loop {
        if reminders_checked.is_none_or(|t| t.elapsed() >= REMINDER_SCAN) {
            reminders_checked = Some(std::time::Instant::now());
            if let Err(e) = super::reminders::queue_due(&state).await {
                tracing::error!(error = %e, "could not queue reminders; trying again later");
            }
        }
        if let Err(e) = drain(&state).await {
            tracing::error!(error = %e, "outbox runner failed; retrying");
        }
        tokio::select! {
            _ = state.wake.notified() => {}
            _ = tokio::time::sleep(StdDuration::from_secs(1)) => {}
        }
    }
}

async fn attempt(state: &AppState, mut n: Notification) -> anyhow::Result<()> {
    // Each message gets the whole lease for its own send, not what is left of the batch's.
    if !state
        .store
        .renew_claim(&mut n, state.settings.outbox_lease, state.now())
        .await?
    {
        tracing::warn!(id = %n.id, "the claim ran out before this message's turn; another worker has it");
        return Ok(());
    }
    if let Some(until) = hold_until(state, &n).await? {
        if state.store.defer_notification(&n, until).await? {
            tracing::info!(id = %n.id, channel = %n.channel, purpose = %n.purpose, until = %rfc3339(until), "notification held");
        }
        return Ok(());
    }
    let body = match &n.secret {
        Some(code) => n.body.replace(CODE_MARK, code),
        None => n.body.clone(),
    };
    // The documents an email carries, as its evidence names them.
    let mut attached: Vec<serde_json::Value> = Vec::new();
    let result = match n.channel.as_str() {
        "sms" => match &state.transports.sms {
            SmsTransport::File(file) => file.send(&n.recipient, &body).await,
            SmsTransport::Smpp(smpp) => smpp.send(&n.recipient, &body).await,
            SmsTransport::Http(gateway) => {
                let callback = format!("{}/api/v1/sms/reports", state.public_url());
                gateway
                    .send(
                        &n.id.to_string(),
                        &n.recipient,
                        &body,
                        &callback,
                        state.now().unix_timestamp(),
                    )
                    .await
            }
        },
        "email" => match documents_of(state, &n).await {
            Ok(documents) => {
                attached = documents.iter().map(|(_, d)| d.clone()).collect();
                let files: Vec<(String, Vec<u8>)> =
                    documents.into_iter().map(|(file, _)| file).collect();
                let size: usize = files.iter().map(|(_, b)| b.len()).sum();
                state
                    .transports
                    .email
                    .send(
                        &n.id.to_string(),
                        &n.recipient,
                        n.subject.as_deref().unwrap_or("送达平台通知"),
                        &body,
                        files,
                        size,
                    )
                    .await
            }
            Err(e) => Err(e),
        },
        other => Err(SendError::permanent(format!("unknown channel {other}"))),
    };
    let now = state.now();
    match result {
        Ok(accepted) => {
            let mut gateway = serde_json::json!({
                "notification_id": n.id,
                "purpose": n.purpose,
                "attempt": n.attempts,
                "reply": accepted.reference,
                "message_id": accepted.message_id,
                "error": null,
            });
            if n.attach_documents {
                gateway["documents_attached"] = attached.into();
            }
            let event =
                service_event(state, &n, EventType::ConsignmentNotification, gateway, now).await?;
            if !state
                .store
                .mark_notification_sent(
                    &n,
                    &accepted.reference,
                    (receipts_under(state, &n), &accepted.receipts),
                    event.as_ref(),
                    now,
                )
                .await?
            {
                tracing::warn!(id = %n.id, "sent after the claim ran out: recorded as evidence, the status left to the worker holding it");
            }
            tracing::info!(id = %n.id, channel = %n.channel, purpose = %n.purpose, "notification sent");
        }
        Err(err) => {
            let retry_at = (!err.permanent
                && n.attempts < i64::from(state.settings.notify_attempts))
            .then(|| {
                // 2, 4, 8 ... seconds, with up to 50% jitter so that retries of a batch
                // do not all hit a recovering server at once.
                let base = 2i64.pow(n.attempts.clamp(1, 12) as u32);
                let jitter = rand::rng().random_range(0..=base / 2);
                now + Duration::seconds(base + jitter)
            });
            let follow = match retry_at {
                None => Some(super::escalation::after_failure(state, &n, &err.message).await?),
                Some(_) => None,
            };
            let mut gateway = serde_json::json!({
                "notification_id": n.id,
                "purpose": n.purpose,
                "attempt": n.attempts,
                "reply": null,
                "message_id": null,
                "error": err.message,
                "final": retry_at.is_none(),
                "retry_at": retry_at.map(rfc3339),
            });
            if let Some(ch) = follow.as_ref().and_then(|f| f.escalated_to) {
                gateway["escalated_to"] = ch.into();
            }
            let event = service_event(
                state,
                &n,
                EventType::ConsignmentNotificationFailure,
                gateway,
                now,
            )
            .await?;
            if !state
                .store
                .mark_notification_failed(
                    &n,
                    &err.message,
                    retry_at,
                    event.as_ref(),
                    (receipts_under(state, &n), &err.receipts),
                    follow.as_ref().map_or(&[][..], |f| &f.notices),
                )
                .await?
            {
                tracing::warn!(id = %n.id, "failed after the claim ran out: recorded as evidence, the status left to the worker holding it");
            }
            tracing::warn!(id = %n.id, channel = %n.channel, error = %err.message, permanent = err.permanent, "notification attempt failed");
        }
    }
    Ok(())
}

/// The documents an email of a court that serves by email carries: each file (named after
/// its title) with what the evidence records of it. None for other messages.
async fn documents_of(
    state: &AppState,
    n: &Notification,
) -> Result<Vec<((String, Vec<u8>), serde_json::Value)>, SendError> {
    let Some(service_id) = n.service_id.filter(|_| n.attach_documents) else {
        return Ok(Vec::new());
    };
    let d = state
        .store
        .service(service_id)
        .await
        .map_err(|e| SendError::transient(format!("reading the service: {e}")))?;
    let mut out = Vec::with_capacity(d.documents.len());
    let numbered = d.documents.len() > 1;
    for (i, doc) in d.documents.iter().enumerate() {
        let bytes = state
            .blobs
            .read(&doc.sha256)
            .await
            .map_err(|e| SendError::transient(format!("reading {}: {e}", doc.title)))?;
        // The email promises the very bytes served: a stored copy that no longer matches
        // its hash is not sent (permanent: the plain notice goes instead).
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if sha256 != doc.sha256.to_string() {
            return Err(SendError::permanent(format!(
                "the stored bytes of {} do not match their SHA-256; run songda audit",
                doc.title
            )));
        }
        let record = serde_json::json!({
            "id": doc.id, "title": doc.title, "sha256": sha256, "size": bytes.len(),
        });
        out.push((
            (
                attachment_name(&doc.title, numbered.then_some(i + 1)),
                bytes,
            ),
            record,
        ));
    }
    Ok(out)
}

/// A document's file name in an email: its title, at most 80 characters, without path,
/// control or direction-changing characters, numbered when there are several, ending in
/// one `.pdf`.
fn attachment_name(title: &str, number: Option<usize>) -> String {
    let bidi = |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let base = title.trim();
    let base = base
        .strip_suffix(".pdf")
        .or_else(|| base.strip_suffix(".PDF"))
        .unwrap_or(base);
    let mut name: String = base
        .chars()
        .filter(|c| !c.is_control() && !bidi(*c))
        .map(|c| if "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .take(80)
        .collect();
    if name.trim().is_empty() {
        name = "document".into();
    }
    match number {
        Some(n) => format!("{n}-{name}.pdf"),
        None => format!("{name}.pdf"),
    }
}

/// The name a message's gateway ids are filed under, for its delivery reports.
fn receipts_under(state: &AppState, n: &Notification) -> &'static str {
    match n.channel.as_str() {
        "sms" => state.transports.sms.gateway(),
        _ => "email",
    }
}

/// When a message must wait instead of going now: a reminder in quiet hours, or a message
/// to a recipient who has had the hourly limit on this channel (no floods through sign-up
/// codes, binding codes or reminders). A court's notice of a new service is never held:
/// it counts towards the limit but goes at once. Nothing is lost: held messages go later.
async fn hold_until(
    state: &AppState,
    n: &Notification,
) -> anyhow::Result<Option<time::OffsetDateTime>> {
    let now = state.now();
    if n.purpose == "reminder"
        && let Some(end) = state.settings.quiet_hours.and_then(|q| q.ends_after(now))
    {
        return Ok(Some(end));
    }
    if matches!(n.purpose.as_str(), "new_service" | "escalation") {
        return Ok(None);
    }
    let limit = match n.channel.as_str() {
        "sms" => state.settings.sms_per_number_per_hour,
        _ => state.settings.email_per_address_per_hour,
    };
    let hour = Duration::hours(1);
    let (count, first) = state
        .store
        .sent_to_since(&n.channel, &n.recipient, now - hour)
        .await?;
    if count >= i64::from(limit) {
        // Until the oldest of the hour's messages falls out of the window.
        return Ok(Some(first.map_or(now + Duration::minutes(1), |f| {
            f + hour + Duration::seconds(1)
        })));
    }
    Ok(None)
}

/// Delivery evidence for notifications about a service, with what the transport said
/// (`gateway`); other notifications (codes) are recorded in the outbox only.
pub(crate) async fn service_event(
    state: &AppState,
    n: &Notification,
    event_type: EventType,
    gateway: serde_json::Value,
    at: time::OffsetDateTime,
) -> anyhow::Result<Option<Event>> {
    let Some(service_id) = n.service_id else {
        return Ok(None);
    };
    let d = state.store.service(service_id).await?;
    let mut e = Event::new(event_type, rfc3339(at), Actor::system());
    e.case = Some(CaseRef {
        id: d.case.id,
        case_number: d.case.case_number.clone(),
        court: d.case.court_name.clone(),
    });
    e.service_id = Some(service_id);
    e.documents = d
        .documents
        .iter()
        .map(|doc| DocumentRef {
            id: doc.id,
            title: doc.title.clone(),
            doc_type: doc.doc_type,
            sha256: doc.sha256.clone(),
        })
        .collect();
    e.recipient = Some(RecipientRef {
        party_id: d.party.id,
        name: d.party.name.clone(),
        role: d.party.role,
    });
    e.channel = Channel::parse(&n.channel);
    e.address = Some(n.recipient.clone());
    e.provenance = Some(d.service.provenance);
    e.consent_basis = Some(d.service.consent_basis);
    e.regime = Some(d.service.regime.clone());
    e.gateway = Some(gateway);
    e.note = Some(n.body.clone());
    Ok(Some(e))
}

#[cfg(test)]
mod tests {
    use super::attachment_name;

    #[test]
    fn attachment_names_are_safe_short_and_end_in_one_pdf() {
        assert_eq!(attachment_name("民事传票", None), "民事传票.pdf");
        assert_eq!(attachment_name("判决书.pdf", Some(2)), "2-判决书.pdf");
        assert_eq!(
            attachment_name("a/b:c\u{202e}fdp.exe", None),
            "a_b_cfdp.exe.pdf"
        );
        assert_eq!(attachment_name(" \u{7} ", None), "document.pdf");
        assert_eq!(attachment_name(&"字".repeat(200), None).chars().count(), 84);
    }
}
