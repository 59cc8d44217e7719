//! What a service certificate needs from storage: the log entries that prove the service
//! (with their positions in the log, for inclusion proofs) and the certificate's short
//! verification code.

use super::{Result, Store, StoreError, conflict_on_unique, parse_id};
use songda_core::evidence::{Event, EventType};
use songda_core::ids::{CaseId, PartyId, ServiceId};

/// One event as the log holds it: its position (leaf index) and its exact canonical bytes.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub index: u64,
    pub body: String,
    pub event: Event,
}

/// Consent events of the recipient that show the basis of a service.
const CONSENT_EVENTS: [EventType; 3] = [
    EventType::CaseBinding,
    EventType::AddressConfirmation,
    EventType::ConsentWithdrawal,
];

impl Store {
    /// The entries that prove a service: every event of the service, and before them the
    /// recipient's binding and consent events in the case (the consent basis), in log
    /// order.
    pub async fn certificate_entries(
        &self,
        service: ServiceId,
        case: CaseId,
        party: PartyId,
    ) -> Result<Vec<LogEntry>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT seq, body, service_id FROM evidence
             WHERE service_id = $1
                OR (case_id = $2 AND service_id IS NULL AND event_type IN ($3, $4, $5))
             ORDER BY seq",
        )
        .bind(service.to_string())
        .bind(case.to_string())
        .bind(CONSENT_EVENTS[0].as_str())
        .bind(CONSENT_EVENTS[1].as_str())
        .bind(CONSENT_EVENTS[2].as_str())
        .fetch_all(self.reader())
        .await?;
        let first_of_service = rows
            .iter()
            .find(|(_, _, s)| s.is_some())
            .map_or(i64::MAX, |(seq, _, _)| *seq);
        let mut out = Vec::with_capacity(rows.len());
        for (seq, body, service_id) in rows {
            let event: Event =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let keep = service_id.is_some()
                || (seq < first_of_service
                    && event
                        .recipient
                        .as_ref()
                        .is_some_and(|r| r.party_id == party));
            if keep {
                out.push(LogEntry {
                    index: (seq - 1) as u64,
                    body,
                    event,
                });
            }
        }
        Ok(out)
    }

    /// The service's verification code, giving it `candidate` if it has none yet. A
    /// candidate already taken by another service is `Conflict("verification_code")`.
    pub async fn verification_code(&self, service: ServiceId, candidate: &str) -> Result<String> {
        sqlx::query(
            "UPDATE services SET verification_code = $2
             WHERE id = $1 AND verification_code IS NULL",
        )
        .bind(service.to_string())
        .bind(candidate)
        .execute(self.writer())
        .await
        .map_err(conflict_on_unique("verification_code"))?;
        let code: Option<(Option<String>,)> =
            sqlx::query_as("SELECT verification_code FROM services WHERE id = $1")
                .bind(service.to_string())
                .fetch_optional(self.reader())
                .await?;
        code.and_then(|(c,)| c).ok_or(StoreError::NotFound)
    }

    /// The service a verification code was given to.
    pub async fn service_by_verification_code(&self, code: &str) -> Result<ServiceId> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM services WHERE verification_code = $1")
                .bind(code)
                .fetch_optional(self.reader())
                .await?;
        let (id,) = row.ok_or(StoreError::NotFound)?;
        parse_id(&id)
    }
}
