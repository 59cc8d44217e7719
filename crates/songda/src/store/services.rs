//! Services: creation after a policy decision, the recipient's actions (view, sign,
//! refuse), policy decisions, and the lists that clerks and recipients see.

use super::cases::{CaseRecord, DocumentRecord, PartyRecord, documents_of_service_tx};
use super::{
    Backend, Result, Store, StoreError, evidence, exists, parse_id, parse_opt_time, parse_time, ts,
};
use crate::store::outbox::{NewNotification, enqueue};
use songda_core::consent::{ConsentBasis, Provenance};
use songda_core::evidence::Event;
use songda_core::ids::{CaseId, DocumentId, PartyId, ServiceId, UserId};
use songda_core::service::{LegalTime, RefusalReason, ServiceRule, ServiceState, Stage};
use std::collections::hash_map::Entry;
use time::OffsetDateTime;

#[derive(Clone, Debug)]
pub struct ServiceRecord {
    pub id: ServiceId,
    pub case_id: CaseId,
    pub party_id: PartyId,
    pub stage: Stage,
    pub regime: String,
    pub provenance: Provenance,
    pub consent_basis: ConsentBasis,
    pub consent_version: i64,
    pub deposited_at: OffsetDateTime,
    pub served_at: Option<OffsetDateTime>,
    pub service_rule: Option<ServiceRule>,
    pub first_viewed_at: Option<OffsetDateTime>,
    pub signed_at: Option<OffsetDateTime>,
    pub refused_at: Option<OffsetDateTime>,
    pub refusal_reason: Option<RefusalReason>,
    pub refusal_note: Option<String>,
    pub created_at: OffsetDateTime,
    /// The code printed on its certificate, once one was issued.
    pub verification_code: Option<String>,
    /// When the email carrying its documents was accepted (a court that serves by email).
    pub email_arrived_at: Option<OffsetDateTime>,
}

impl ServiceRecord {
    /// The state machine's view of this service.
    pub fn state(&self) -> ServiceState {
        ServiceState {
            stage: self.stage,
            provenance: self.provenance,
            deposited_at: self.deposited_at,
            first_viewed_at: self.first_viewed_at,
            signed_at: self.signed_at,
            refused_at: self.refused_at,
            email_arrived_at: self.email_arrived_at,
        }
    }
}

/// Records that the email carrying a service's documents was accepted, in the transaction
/// that records the acceptance: the first acceptance, and never before the deposit (the
/// email is sent after it; an earlier time is a worker's clock behind). The legal time
/// stays the deposit's, the earliest arrival.
pub(crate) async fn record_email_arrival_tx(
    tx: &mut super::Tx<'_>,
    id: ServiceId,
    at: OffsetDateTime,
) -> Result<()> {
    // Times are fixed-width RFC 3339 text, so they compare as they sort.
    sqlx::query(
        "UPDATE services SET email_arrived_at = CASE WHEN deposited_at > $1 THEN deposited_at ELSE $1 END
         WHERE id = $2 AND email_arrived_at IS NULL",
    )
    .bind(ts(at))
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A service with everything a page or certificate shows about it.
#[derive(Clone, Debug)]
pub struct ServiceDetail {
    pub service: ServiceRecord,
    pub case: CaseRecord,
    pub party: PartyRecord,
    pub documents: Vec<DocumentRecord>,
}

impl ServiceDetail {
    /// The titles of its documents, in their order.
    pub fn titles(&self) -> Vec<String> {
        self.documents.iter().map(|d| d.title.clone()).collect()
    }
}

pub struct NewService {
    pub id: ServiceId,
    pub case_id: CaseId,
    pub party_id: PartyId,
    pub regime: &'static str,
    pub provenance: Provenance,
    pub consent_basis: ConsentBasis,
    pub consent_version: i64,
    pub deposited_at: OffsetDateTime,
    pub legal: Option<LegalTime>,
    pub document_ids: Vec<DocumentId>,
    pub created_by: UserId,
}

pub struct NewPolicyDecision<'a> {
    pub case_id: CaseId,
    pub party_id: PartyId,
    pub document_ids: &'a [DocumentId],
    pub permitted: bool,
    pub regime: Option<&'a str>,
    pub reason_code: Option<&'a str>,
    pub explanation: &'a str,
    pub decided_by: UserId,
    pub decided_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct PolicyDecisionRecord {
    pub party_id: PartyId,
    pub document_ids: Vec<DocumentId>,
    pub permitted: bool,
    pub regime: Option<String>,
    pub reason_code: Option<String>,
    pub explanation: String,
    pub service_id: Option<ServiceId>,
    pub decided_at: OffsetDateTime,
}

row_struct! {
    pub(super) struct Row {
        pub(super) id: String,
        case_id: String,
        party_id: String,
        stage: String,
        regime: String,
        provenance: String,
        consent_basis: String,
        consent_version: i64,
        deposited_at: String,
        served_at: Option<String>,
        service_rule: Option<String>,
        first_viewed_at: Option<String>,
        signed_at: Option<String>,
        refused_at: Option<String>,
        refusal_reason: Option<String>,
        refusal_note: Option<String>,
        created_at: String,
        verification_code: Option<String>,
        email_arrived_at: Option<String>,
    }
}

pub(super) const COLUMNS: &str =
    "s.id, s.case_id, s.party_id, s.stage, s.regime, s.provenance, s.consent_basis,
    s.consent_version, s.deposited_at, s.served_at, s.service_rule, s.first_viewed_at, s.signed_at,
    s.refused_at, s.refusal_reason, s.refusal_note, s.created_at, s.verification_code,
    s.email_arrived_at";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {v:?}"))
}

impl Row {
    fn into_record(self) -> Result<ServiceRecord> {
        Ok(ServiceRecord {
            id: parse_id(&self.id)?,
            case_id: parse_id(&self.case_id)?,
            party_id: parse_id(&self.party_id)?,
            stage: Stage::parse(&self.stage).ok_or_else(|| corrupt("stage", &self.stage))?,
            regime: self.regime,
            provenance: Provenance::parse(&self.provenance)
                .ok_or_else(|| corrupt("provenance", &self.provenance))?,
            consent_basis: ConsentBasis::parse(&self.consent_basis)
                .ok_or_else(|| corrupt("consent basis", &self.consent_basis))?,
            consent_version: self.consent_version,
            deposited_at: parse_time(&self.deposited_at)?,
            served_at: parse_opt_time(self.served_at)?,
            service_rule: self
                .service_rule
                .as_deref()
                .map(|r| ServiceRule::parse(r).ok_or_else(|| corrupt("service rule", r)))
                .transpose()?,
            first_viewed_at: parse_opt_time(self.first_viewed_at)?,
            signed_at: parse_opt_time(self.signed_at)?,
            refused_at: parse_opt_time(self.refused_at)?,
            refusal_reason: self
                .refusal_reason
                .as_deref()
                .map(|r| RefusalReason::parse(r).ok_or_else(|| corrupt("refusal reason", r)))
                .transpose()?,
            refusal_note: self.refusal_note,
            created_at: parse_time(&self.created_at)?,
            verification_code: self.verification_code,
            email_arrived_at: parse_opt_time(self.email_arrived_at)?,
        })
    }
}

/// The service's stage, copied to its search row (which a court's lists read) in the
/// transaction that changed it; left alone when unchanged (a view after the first).
async fn stage_to_search(tx: &mut super::Tx<'_>, id: ServiceId) -> Result<()> {
    sqlx::query(
        "UPDATE service_search SET stage = (SELECT s.stage FROM services s WHERE s.id = $1)
         WHERE service_id = $1 AND stage <> (SELECT s.stage FROM services s WHERE s.id = $1)",
    )
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_decision(
    tx: &mut super::Tx<'_>,
    d: &NewPolicyDecision<'_>,
    service: Option<ServiceId>,
) -> Result<()> {
    let ids: Vec<String> = d.document_ids.iter().map(|i| i.to_string()).collect();
    sqlx::query(
        "INSERT INTO policy_decisions (id, case_id, party_id, document_ids, outcome, regime, reason_code,
            explanation, service_id, decided_by, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(d.case_id.to_string())
    .bind(d.party_id.to_string())
    .bind(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
    .bind(if d.permitted { "permitted" } else { "refused" })
    .bind(d.regime)
    .bind(d.reason_code)
    .bind(d.explanation)
    .bind(service.map(|s| s.to_string()))
    .bind(d.decided_by.to_string())
    .bind(ts(d.decided_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records a refused policy decision and its `SubmissionRejection` evidence.
    pub async fn record_policy_refusal(
        &self,
        decision: &NewPolicyDecision<'_>,
        event: &Event,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_decision(&mut tx, decision, None).await?;
        evidence::append(&mut tx, self.backend, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a permitted service: the decision, the service deposited in the inbox, its
    /// evidence and its notifications, in one transaction.
    pub async fn create_service(
        &self,
        new: &NewService,
        decision: &NewPolicyDecision<'_>,
        events: &[Event],
        notifications: &[NewNotification],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO services (id, case_id, party_id, stage, regime, provenance, consent_basis,
                consent_version, deposited_at, served_at, service_rule, created_by, created_at)
             VALUES ($1, $2, $3, 'deposited', $4, $5, $6, $7, $8, $9, $10, $11, $8)",
        )
        .bind(new.id.to_string())
        .bind(new.case_id.to_string())
        .bind(new.party_id.to_string())
        .bind(new.regime)
        .bind(new.provenance.as_str())
        .bind(new.consent_basis.as_str())
        .bind(new.consent_version)
        .bind(ts(new.deposited_at))
        .bind(new.legal.map(|l| ts(l.at)))
        .bind(new.legal.map(|l| l.rule.as_str()))
        .bind(new.created_by.to_string())
        .execute(&mut *tx)
        .await?;
        for (pos, doc) in new.document_ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO service_documents (service_id, document_id, position) VALUES ($1, $2, $3)",
            )
            .bind(new.id.to_string())
            .bind(doc.to_string())
            .bind(pos as i64)
            .execute(&mut *tx)
            .await?;
        }
        // What the service is found by in searches (see `records`).
        let titles = match self.backend {
            Backend::Sqlite => "group_concat(d.title, ' ')",
            Backend::Postgres => "string_agg(d.title, ' ')",
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO service_search (service_id, body, court_id, case_id, stage, deposited_at, created_at)
             SELECT s.id, c.case_number || ' ' || c.title || ' ' || ct.name || ' ' || p.name || ' ' ||
                    COALESCE((SELECT {titles} FROM service_documents sd JOIN documents d ON d.id = sd.document_id
                              WHERE sd.service_id = s.id), ''),
                    c.court_id, s.case_id, s.stage, s.deposited_at, s.created_at
             FROM services s JOIN cases c ON c.id = s.case_id JOIN courts ct ON ct.id = c.court_id
             JOIN parties p ON p.id = s.party_id
             WHERE s.id = $1"
        )))
        .bind(new.id.to_string())
        .execute(&mut *tx)
        .await?;
        // Its two-character pairs (SQLite): a trigger cannot compute them (no WITH in a
        // trigger), so they are indexed here. The text is written once, never changed.
        if self.backend == Backend::Sqlite {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO service_search_pairs (rowid, pairs)
                 SELECT id, {} FROM service_search WHERE service_id = $1",
                super::records::PAIRS
            )))
            .bind(new.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        insert_decision(&mut tx, decision, Some(new.id)).await?;
        evidence::append_all(&mut tx, self.backend, events).await?;
        for n in notifications {
            enqueue(&mut tx, n).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Services still awaiting the recipient (not signed, not refused) deposited at or
    /// before `cutoff` that have had fewer than `nth` reminders: the `nth` is due.
    pub async fn services_due_reminder(
        &self,
        nth: i64,
        cutoff: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<ServiceId>> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM services
             WHERE stage IN ('deposited', 'viewed') AND reminders < $1 AND deposited_at <= $2
             ORDER BY deposited_at LIMIT $3",
        )
        .bind(nth)
        .bind(ts(cutoff))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        ids.iter().map(|(id,)| parse_id(id)).collect()
    }

    /// Queues the `nth` reminder of a service, once: false if it already was (another
    /// worker, or the service was signed or refused meanwhile).
    pub async fn queue_reminder(
        &self,
        service: ServiceId,
        nth: i64,
        notices: &[NewNotification],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE services SET reminders = $1
             WHERE id = $2 AND reminders < $1 AND stage IN ('deposited', 'viewed')",
        )
        .bind(nth)
        .bind(service.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for n in notices {
            enqueue(&mut tx, n).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn service(&self, id: ServiceId) -> Result<ServiceDetail> {
        let mut conn = self.writer.acquire().await?;
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM services s WHERE s.id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
        let service = row.ok_or(StoreError::NotFound)?.into_record()?;
        let documents = documents_of_service_tx(&mut conn, &id.to_string()).await?;
        drop(conn);
        let case = self.case(service.case_id).await?;
        let party = self.party(service.party_id).await?;
        Ok(ServiceDetail {
            service,
            case,
            party,
            documents,
        })
    }

    /// The services of these rows with their documents, cases and parties, each read in a
    /// few statements however many rows there are.
    pub(super) async fn details(&self, rows: Vec<Row>) -> Result<Vec<ServiceDetail>> {
        let services = rows
            .into_iter()
            .map(Row::into_record)
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<String> = services.iter().map(|s| s.id.to_string()).collect();
        let mut documents = self.documents_of_services(&ids).await?;
        let mut party_ids: Vec<String> = services.iter().map(|s| s.party_id.to_string()).collect();
        party_ids.sort();
        party_ids.dedup();
        let parties = self.parties_by_id(&party_ids).await?;
        // Lists repeat the same few cases: read each once.
        let mut cases = std::collections::HashMap::new();
        let mut details = Vec::with_capacity(services.len());
        for service in services {
            if let Entry::Vacant(e) = cases.entry(service.case_id) {
                e.insert(self.case(service.case_id).await?);
            }
            let party = parties
                .get(&service.party_id)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("party of service {}", service.id)))?;
            details.push(ServiceDetail {
                case: cases[&service.case_id].clone(),
                party,
                documents: documents
                    .remove(&service.id.to_string())
                    .unwrap_or_default(),
                service,
            });
        }
        Ok(details)
    }

    /// Every service of a case, newest first.
    pub async fn services_of_case(&self, case: CaseId) -> Result<Vec<ServiceDetail>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM services s WHERE s.case_id = $1 ORDER BY s.created_at DESC"
        )))
        .bind(case.to_string())
        .fetch_all(self.reader())
        .await?;
        self.details(rows).await
    }

    /// Records a view: evidence always; the first view also moves the stage.
    pub async fn record_view(
        &self,
        id: ServiceId,
        event: &Event,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE services SET first_viewed_at = COALESCE(first_viewed_at, $1),
                stage = CASE WHEN stage = 'deposited' THEN 'viewed' ELSE stage END
             WHERE id = $2",
        )
        .bind(ts(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        stage_to_search(&mut tx, id).await?;
        evidence::append(&mut tx, self.backend, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies a sign-off or refusal decided by the state machine, if the service is still
    /// open (`Conflict` otherwise: someone else's request won the race), with its evidence
    /// and the notifications it queues.
    pub async fn record_outcome(
        &self,
        id: ServiceId,
        state: &ServiceState,
        refusal: Option<(RefusalReason, Option<&str>)>,
        event: &Event,
        notifications: &[NewNotification],
    ) -> Result<()> {
        let legal = state.legal_time();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE services SET stage = $1, signed_at = $2, refused_at = $3, refusal_reason = $4,
                refusal_note = $5, served_at = $6, service_rule = $7
             WHERE id = $8 AND stage IN ('deposited', 'viewed')",
        )
        .bind(state.stage.as_str())
        .bind(state.signed_at.map(ts))
        .bind(state.refused_at.map(ts))
        .bind(refusal.map(|(r, _)| r.as_str()))
        .bind(refusal.and_then(|(_, n)| n))
        .bind(legal.map(|l| ts(l.at)))
        .bind(legal.map(|l| l.rule.as_str()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(if exists(&mut tx, "services", &id.to_string()).await? {
                StoreError::Conflict("service_closed")
            } else {
                StoreError::NotFound
            });
        }
        stage_to_search(&mut tx, id).await?;
        evidence::append(&mut tx, self.backend, event).await?;
        for n in notifications {
            enqueue(&mut tx, n).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    pub async fn policy_decisions_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<PolicyDecisionRecord>> {
        let rows: Vec<(
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            String,
            String,
        )> = sqlx::query_as(
            "SELECT party_id, outcome, regime, reason_code, explanation, service_id, decided_at, document_ids
                 FROM policy_decisions WHERE case_id = $1 ORDER BY decided_at DESC",
        )
        .bind(case.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(
                |(party, outcome, regime, reason_code, explanation, service, at, docs)| {
                    let docs: Vec<String> = serde_json::from_str(&docs)
                        .map_err(|_| StoreError::Corrupt(format!("document ids {docs}")))?;
                    Ok(PolicyDecisionRecord {
                        party_id: parse_id(&party)?,
                        document_ids: docs.iter().map(|d| parse_id(d)).collect::<Result<_>>()?,
                        permitted: outcome == "permitted",
                        regime,
                        reason_code,
                        explanation,
                        service_id: service.as_deref().map(parse_id).transpose()?,
                        decided_at: parse_time(&at)?,
                    })
                },
            )
            .collect()
    }
}
