//! Delivery reports: what the carrier says became of an SMS after its gateway accepted it.
//! They come from the SMPP session (`deliver_sm` receipts, handed over by [`run`]) or from an
//! HTTP gateway's callback (`POST /api/v1/sms/reports`); both end in [`record`].
//!
//! For a notice about a service, a report that the message reached the phone is appended as
//! `ConsignmentNotification` with the report under `gateway.delivery_report`; one that it
//! did not (undeliverable, expired, rejected, deleted) as `ConsignmentNotificationFailure`,
//! `final: true`, and the notification is marked failed, which the clerk's board shows. A
//! report repeated (the SMSC sends it again when our answer was lost) is recorded once.

use crate::jobs::outbox::service_event;
use crate::notify::SmsTransport;
use crate::notify::smpp::IncomingReceipt;
use crate::notify::smpp::pdu::{MessageState, Receipt};
use crate::state::AppState;
use crate::store::DeliveryReport;
use songda_core::evidence::EventType;

/// What became of a report.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now.
    New,
    /// The same state was already recorded for that message.
    Repeated,
    /// No message of ours has that id (yet: a report may overtake the recording of the
    /// gateway's acceptance; the gateway is asked to send it again).
    Unknown,
}

/// Records the receipts of the SMPP session for as long as the process runs.
pub async fn run(state: AppState) {
    let SmsTransport::Smpp(smpp) = &state.transports.sms else {
        return;
    };
    let Some(mut receipts) = smpp.take_receipts() else {
        return;
    };
    while let Some(IncomingReceipt { receipt, done }) = receipts.recv().await {
        let ok = match record(&state, "smpp", &receipt).await {
            Ok(Recorded::New | Recorded::Repeated) => true,
            Ok(Recorded::Unknown) => {
                tracing::info!(message_id = %receipt.message_id, "a receipt for a message not (yet) recorded: the SMSC will send it again");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, message_id = %receipt.message_id, "could not record a receipt");
                false
            }
        };
        let _ = done.send(ok);
    }
}

/// Records one delivery report from `gateway` ("smpp", "http").
pub async fn record(
    state: &AppState,
    gateway: &str,
    receipt: &Receipt,
) -> anyhow::Result<Recorded> {
    let now = state.now();
    let Some((n, part)) = state
        .store
        .notification_by_gateway_id(gateway, &receipt.message_id)
        .await?
    else {
        return Ok(Recorded::Unknown);
    };
    let failed = receipt.state.is_failure();
    let final_state = failed || receipt.state == MessageState::Delivered;
    let error = failed.then(|| {
        format!(
            "delivery report: {}{}",
            receipt.state.as_str(),
            receipt
                .error
                .as_deref()
                .map(|e| format!(" (err {e})"))
                .unwrap_or_default()
        )
    });
    let follow = match &error {
        Some(why) => Some(crate::jobs::escalation::after_failure(state, &n, why).await?),
        None => None,
    };
    // Intermediate states (en route, accepted) are kept on the message, not as evidence.
    let event = if final_state {
        let mut gateway_json = serde_json::json!({
            "notification_id": n.id,
            "purpose": n.purpose,
            "message_id": receipt.message_id,
            "part": part,
            "delivery_report": {
                "gateway": gateway,
                "state": receipt.state.as_str(),
                "error": receipt.error,
                "done_date": receipt.done_date,
                "text": receipt.text,
            },
            "error": error,
        });
        if failed {
            gateway_json["final"] = true.into();
        }
        if let Some(ch) = follow.as_ref().and_then(|f| f.escalated_to) {
            gateway_json["escalated_to"] = ch.into();
        }
        let event_type = if failed {
            EventType::ConsignmentNotificationFailure
        } else {
            EventType::ConsignmentNotification
        };
        service_event(state, &n, event_type, gateway_json, now).await?
    } else {
        None
    };
    let new = state
        .store
        .record_delivery_report(
            &DeliveryReport {
                gateway,
                message_id: &receipt.message_id,
                state: receipt.state.as_str(),
                error: error.as_deref(),
            },
            event.as_ref(),
            follow.as_ref().map_or(&[][..], |f| &f.notices),
            now,
        )
        .await?;
    if new && failed {
        tracing::warn!(id = %n.id, message_id = %receipt.message_id, state = receipt.state.as_str(), "the carrier could not deliver a notification");
    }
    Ok(if new {
        Recorded::New
    } else {
        Recorded::Repeated
    })
}
