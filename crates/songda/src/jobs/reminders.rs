//! Reminders: a recipient who has neither signed nor refused some hours after service
//! (`SONGDA_REMIND_AFTER_HOURS`, 48 and 120 by default) is told again, on the channels of
//! their address confirmation. Each reminder is queued once per service (the count is kept
//! with the service and the queuing is one transaction with it); a service found late (the
//! worker was down) gets one reminder, the latest one due, not every one it missed. The
//! worker holds reminders during quiet hours (`jobs::outbox`).

use crate::actions::serve::notice_addresses;
use crate::messages::{self, Purpose, ServiceNotice};
use crate::state::AppState;

const BATCH: i64 = 200;

/// Queues every reminder due now; returns how many services were reminded.
pub async fn queue_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let mut reminded = 0;
    // The latest reminder first: a service past two thresholds gets only the second.
    for (i, after) in state.settings.remind_after.iter().enumerate().rev() {
        let nth = i as i64 + 1;
        loop {
            let due = state
                .store
                .services_due_reminder(nth, now - *after, BATCH)
                .await?;
            for &id in &due {
                let d = state.store.service(id).await?;
                let (phone, email) = match d.party.consent.as_ref().filter(|c| c.is_active()) {
                    Some(consent) => notice_addresses(&d.party, consent),
                    // Consent withdrawn since: nobody to remind electronically; the count
                    // still moves on so the service is not picked again.
                    None => (None, None),
                };
                let titles = d.titles();
                let url = format!("{}/services/{id}", state.public_url());
                let served_on = songda_core::timefmt::court_date(d.service.deposited_at);
                let served_on = format!(
                    "{}年{}月{}日",
                    served_on.year(),
                    u8::from(served_on.month()),
                    served_on.day()
                );
                let notices = messages::about_service(
                    &state.templates,
                    Purpose::Reminder(nth as u32),
                    &ServiceNotice::of(&d, &titles, &url, phone.as_deref(), email.as_deref()),
                    &served_on,
                    now,
                );
                if state.store.queue_reminder(id, nth, &notices).await? && !notices.is_empty() {
                    reminded += 1;
                }
            }
            if (due.len() as i64) < BATCH {
                break;
            }
        }
    }
    if reminded > 0 {
        tracing::info!(reminded, "reminders queued");
        state.wake.notify_one();
    }
    Ok(reminded)
}
