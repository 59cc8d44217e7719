//! The notification outbox: queued with the fact it reports, claimed by the worker with a
//! lease, and marked sent or failed with each attempt's result.

use super::{Backend, Result, Store, Tx, parse_id, parse_opt_time, parse_time, ts};
use songda_core::ids::{CaseId, NotificationId, PartyId, ServiceId};
use time::{Duration, OffsetDateTime};

/// A notification to queue. `idempotency_key` makes queuing the same message twice a no-op.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub idempotency_key: String,
    pub channel: &'static str,
    pub purpose: &'static str,
    pub recipient: String,
    pub subject: Option<String>,
    /// May contain `{{code}}`, replaced by `secret` when sent.
    pub body: String,
    /// A one-time code: kept only until the message is accepted, never shown or logged.
    pub secret: Option<String>,
    pub case_id: Option<CaseId>,
    pub service_id: Option<ServiceId>,
    pub party_id: Option<PartyId>,
    /// An email that carries the service's documents (the court serves by email too).
    pub attach_documents: bool,
    pub now: OffsetDateTime,
}

/// A delivery report to record: the state a gateway reported for one of its message ids,
/// and the error when the message did not arrive.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryReport<'a> {
    pub gateway: &'a str,
    pub message_id: &'a str,
    pub state: &'a str,
    pub error: Option<&'a str>,
}

/// A queued or delivered notification, as the worker and the admin page see it.
#[derive(Clone, Debug)]
pub struct Notification {
    pub id: NotificationId,
    pub channel: String,
    pub purpose: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub secret: Option<String>,
    pub case_id: Option<CaseId>,
    pub service_id: Option<ServiceId>,
    pub party_id: Option<PartyId>,
    /// Carries the service's documents as attachments.
    pub attach_documents: bool,
    pub status: String,
    pub attempts: i64,
    /// When a queued message is due (a retry, or one held for quiet hours or a limit).
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub gateway_ref: Option<String>,
    /// The last delivery state an SMS gateway reported (`DELIVRD`, `UNDELIV`, ...).
    pub delivery: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    /// While claimed: the end of the lease, as stored. It is the claim's token: recording
    /// an outcome or renewing the lease needs it unchanged, so a worker whose lease ran out
    /// and was taken over cannot overwrite what the new holder records.
    pub lease_until: Option<String>,
}

row_struct! {
    struct Row {
        id: String,
        channel: String,
        purpose: String,
        recipient: String,
        subject: Option<String>,
        body: String,
        secret: Option<String>,
        case_id: Option<String>,
        service_id: Option<String>,
        party_id: Option<String>,
        attach_documents: i64,
        status: String,
        attempts: i64,
        next_attempt_at: String,
        last_error: Option<String>,
        gateway_ref: Option<String>,
        delivery: Option<String>,
        created_at: String,
        sent_at: Option<String>,
        lease_until: Option<String>,
    }
}

const COLUMNS: &str = "id, channel, purpose, recipient, subject, body, secret, case_id, service_id, party_id, attach_documents, status, attempts, next_attempt_at, last_error, gateway_ref, delivery, created_at, sent_at, lease_until";

impl Row {
    fn into_notification(self) -> Result<Notification> {
        Ok(Notification {
            id: parse_id(&self.id)?,
            channel: self.channel,
            purpose: self.purpose,
            recipient: self.recipient,
            subject: self.subject,
            body: self.body,
            secret: self.secret,
            case_id: self.case_id.as_deref().map(parse_id).transpose()?,
            service_id: self.service_id.as_deref().map(parse_id).transpose()?,
            party_id: self.party_id.as_deref().map(parse_id).transpose()?,
            attach_documents: self.attach_documents != 0,
            status: self.status,
            attempts: self.attempts,
            next_attempt_at: parse_time(&self.next_attempt_at)?,
            last_error: self.last_error,
            gateway_ref: self.gateway_ref,
            delivery: self.delivery,
            created_at: parse_time(&self.created_at)?,
            sent_at: parse_opt_time(self.sent_at)?,
            lease_until: self.lease_until,
        })
    }
}

pub(crate) async fn enqueue(tx: &mut Tx<'_>, n: &NewNotification) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, idempotency_key, channel, purpose, recipient, subject, body, secret,
            case_id, service_id, party_id, attach_documents, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, 'queued', 0, $12, $12)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(NotificationId::new().to_string())
    .bind(&n.idempotency_key)
    .bind(n.channel)
    .bind(n.purpose)
    .bind(&n.recipient)
    .bind(&n.subject)
    .bind(&n.body)
    .bind(&n.secret)
    .bind(n.case_id.map(|x| x.to_string()))
    .bind(n.service_id.map(|x| x.to_string()))
    .bind(n.party_id.map(|x| x.to_string()))
    .bind(ts(n.now))
    .bind(i64::from(n.attach_documents))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The ids a gateway gave the parts of a message, so that their delivery reports find it.
async fn record_gateway_ids(
    tx: &mut Tx<'_>,
    n: &Notification,
    (gateway, ids): (&str, &[String]),
) -> Result<()> {
    for (part, id) in ids.iter().enumerate() {
        // A gateway that reuses an id (a new SMSC account, say) reports on the newest.
        sqlx::query(
            "INSERT INTO gateway_messages (gateway, message_id, notification_id, part)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (gateway, message_id) DO UPDATE SET notification_id = excluded.notification_id,
                part = excluded.part, state = NULL, reported_at = NULL",
        )
        .bind(gateway)
        .bind(id)
        .bind(n.id.to_string())
        .bind(part as i64 + 1)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Claims up to `limit` due notifications for `lease`. A claim whose lease ran out
    /// (the worker died mid-send) is due again.
    pub async fn claim_notifications(
        &self,
        limit: i64,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<Notification>> {
        let mut tx = self.begin().await?;
        // PostgreSQL: rows another worker is claiming right now are skipped, not waited
        // for, so workers never claim the same row twice. SQLite: one writer, no locks.
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET status = 'sending', lease_until = $1, attempts = attempts + 1
             WHERE id IN (
                SELECT id FROM outbox
                WHERE (status = 'queued' AND next_attempt_at <= $2)
                   OR (status = 'sending' AND lease_until <= $2)
                ORDER BY next_attempt_at, id LIMIT $3 {skip_locked})
             RETURNING {COLUMNS}"
        )))
        .bind(ts(now + lease))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        // RETURNING follows no order on PostgreSQL: send in the order messages were
        // queued (ids are time-ordered), so a later message never overtakes an earlier one.
        let mut claimed = rows
            .into_iter()
            .map(Row::into_notification)
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|n| (n.created_at, n.id.to_string()));
        Ok(claimed)
    }

    /// Returns every claim to the queue. Only for a store that one process owns (the
    /// embedded SQLite file, locked by the running server): at start, any claim still held
    /// belongs to a process that died mid-send, and waiting out its lease would only delay
    /// the message.
    /// On PostgreSQL other live processes may hold claims, so this does nothing there:
    /// claims of a dead process come back when their lease runs out.
    pub async fn release_claims_of_dead_process(&self) -> Result<u64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE outbox SET status = 'queued', lease_until = NULL WHERE status = 'sending'",
        )
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Renews the lease of a claimed notification just before it is sent, so each message
    /// has the whole lease for its own send. False: the claim ran out and another worker
    /// holds the message now; it must not be sent.
    pub async fn renew_claim(
        &self,
        n: &mut Notification,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let renewed = ts(now + lease);
        let done = sqlx::query(
            "UPDATE outbox SET lease_until = $1 WHERE id = $2 AND status = 'sending' AND lease_until = $3",
        )
        .bind(&renewed)
        .bind(n.id.to_string())
        .bind(&n.lease_until)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 1 {
            n.lease_until = Some(renewed);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Marks a claimed notification sent and appends its delivery evidence, atomically,
    /// with the ids its delivery reports will name (`receipts`, under `gateway`).
    /// The evidence is appended whatever happened to the claim (the server did accept the
    /// message); the status only if the claim still holds. Returns whether it held.
    pub async fn mark_notification_sent(
        &self,
        n: &Notification,
        gateway_ref: &str,
        receipts: (&str, &[String]),
        evidence: Option<&songda_core::evidence::Event>,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        record_gateway_ids(&mut tx, n, receipts).await?;
        // The mail server's acceptance of the email carrying the documents is that
        // channel's arrival, whoever holds the claim: it happened.
        if n.attach_documents
            && n.channel == "email"
            && let Some(service) = n.service_id
        {
            super::services::record_email_arrival_tx(&mut tx, service, now).await?;
        }
        let done = sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, gateway_ref = $2, lease_until = NULL, last_error = NULL,
                secret = NULL
             WHERE id = $3 AND status = 'sending' AND lease_until = $4",
        )
        .bind(ts(now))
        .bind(gateway_ref)
        .bind(n.id.to_string())
        .bind(&n.lease_until)
        .execute(&mut *tx)
        .await?;
        if let Some(e) = evidence {
            super::evidence::append(&mut tx, self.backend, e).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt and its evidence: retried at `retry_at`, or failed for good
    /// when `None`. As for a sent one, the status changes only if the claim still holds
    /// (returned), so a late failure never undoes what a later holder recorded.
    /// `follow_ups` (escalation, the clerk's alert) are queued in the same transaction.
    pub async fn mark_notification_failed(
        &self,
        n: &Notification,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        evidence: Option<&songda_core::evidence::Event>,
        receipts: (&str, &[String]),
        follow_ups: &[NewNotification],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        record_gateway_ids(&mut tx, n, receipts).await?;
        let done = match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE outbox SET status = 'queued', next_attempt_at = $1, lease_until = NULL, last_error = $2
                     WHERE id = $3 AND status = 'sending' AND lease_until = $4",
                )
                .bind(ts(at))
                .bind(error)
                .bind(n.id.to_string())
                .bind(&n.lease_until)
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE outbox SET status = 'failed', lease_until = NULL, last_error = $1
                     WHERE id = $2 AND status = 'sending' AND lease_until = $3",
                )
                .bind(error)
                .bind(n.id.to_string())
                .bind(&n.lease_until)
                .execute(&mut *tx)
                .await?
            }
        };
        if let Some(e) = evidence {
            super::evidence::append(&mut tx, self.backend, e).await?;
        }
        // What follows a failure is the claim holder's to queue: a worker whose claim ran
        // out may be wrong that the message failed.
        if done.rows_affected() == 1 {
            for f in follow_ups {
                enqueue(&mut tx, f).await?;
            }
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a claimed notification back in the queue until `until` without counting an
    /// attempt: nothing was sent (quiet hours, or the recipient's hourly limit). False: the
    /// claim ran out meanwhile.
    pub async fn defer_notification(
        &self,
        n: &Notification,
        until: OffsetDateTime,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'queued', next_attempt_at = $1, lease_until = NULL,
                attempts = attempts - 1
             WHERE id = $2 AND status = 'sending' AND lease_until = $3",
        )
        .bind(ts(until))
        .bind(n.id.to_string())
        .bind(&n.lease_until)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many messages on `channel` to `recipient` that a limit may hold (not a court's
    /// notice of a service) were accepted after `since`, and when the earliest of them was.
    pub async fn sent_to_since(
        &self,
        channel: &str,
        recipient: &str,
        since: OffsetDateTime,
    ) -> Result<(i64, Option<OffsetDateTime>)> {
        let (count, first): (i64, Option<String>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(sent_at) FROM outbox
             WHERE recipient = $1 AND sent_at > $2 AND channel = $3
               AND purpose NOT IN ('new_service', 'escalation')",
        )
        .bind(recipient)
        .bind(ts(since))
        .bind(channel)
        .fetch_one(&self.writer)
        .await?;
        Ok((count, parse_opt_time(first)?))
    }

    /// The notification a gateway's delivery report is about, and which part of it.
    pub async fn notification_by_gateway_id(
        &self,
        gateway: &str,
        message_id: &str,
    ) -> Result<Option<(Notification, i64)>> {
        let part: Option<(String, i64)> = sqlx::query_as(
            "SELECT notification_id, part FROM gateway_messages WHERE gateway = $1 AND message_id = $2",
        )
        .bind(gateway)
        .bind(message_id)
        .fetch_optional(&self.writer)
        .await?;
        let Some((id, part)) = part else {
            return Ok(None);
        };
        let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&self.writer)
        .await?;
        Ok(Some((row.into_notification()?, part)))
    }

    /// Records a delivery report, with its evidence, once: the first final state reported
    /// for an id (delivered, or not) stands; a later report, or one repeating an
    /// intermediate state, changes nothing (false). A failure (`error` given)
    /// marks the notification failed; any report sets its delivery state.
    pub async fn record_delivery_report(
        &self,
        report: &DeliveryReport<'_>,
        evidence: Option<&songda_core::evidence::Event>,
        follow_ups: &[NewNotification],
        now: OffsetDateTime,
    ) -> Result<bool> {
        let DeliveryReport {
            gateway,
            message_id,
            state,
            error,
        } = *report;
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE gateway_messages SET state = $1, reported_at = $2
             WHERE gateway = $3 AND message_id = $4
               AND (state IS NULL OR (state IN ('ENROUTE', 'ACCEPTD', 'UNKNOWN') AND state <> $1))",
        )
        .bind(state)
        .bind(ts(now))
        .bind(gateway)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        let notification: (String,) = sqlx::query_as(
            "SELECT notification_id FROM gateway_messages WHERE gateway = $1 AND message_id = $2",
        )
        .bind(gateway)
        .bind(message_id)
        .fetch_one(&mut *tx)
        .await?;
        match error {
            Some(error) => sqlx::query(
                "UPDATE outbox SET delivery = $1, status = 'failed', last_error = $2 WHERE id = $3 AND status <> 'sending'",
            )
            .bind(state)
            .bind(error)
            .bind(&notification.0),
            None => sqlx::query("UPDATE outbox SET delivery = $1 WHERE id = $2 AND status <> 'failed'")
                .bind(state)
                .bind(&notification.0),
        }
        .execute(&mut *tx)
        .await?;
        if let Some(e) = evidence {
            super::evidence::append(&mut tx, self.backend, e).await?;
        }
        for f in follow_ups {
            enqueue(&mut tx, f).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The email of the clerk who made a service, if their account has one.
    pub async fn service_clerk_email(&self, service: ServiceId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT u.email FROM services s JOIN users u ON u.id = s.created_by WHERE s.id = $1",
        )
        .bind(service.to_string())
        .fetch_optional(self.reader())
        .await?;
        Ok(row.and_then(|(e,)| e))
    }

    /// The newest notifications first, for the admin's outgoing-message page.
    pub async fn recent_notifications(&self, limit: i64) -> Result<Vec<Notification>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Row::into_notification).collect()
    }

    /// Notifications about one service, oldest first.
    /// The notifications about each service of a case, oldest first, in one statement.
    pub async fn case_notifications(
        &self,
        case: CaseId,
    ) -> Result<std::collections::HashMap<ServiceId, Vec<Notification>>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE case_id = $1 AND service_id IS NOT NULL ORDER BY created_at"
        )))
        .bind(case.to_string())
        .fetch_all(self.reader())
        .await?;
        let mut out: std::collections::HashMap<ServiceId, Vec<Notification>> =
            std::collections::HashMap::new();
        for row in rows {
            let n = row.into_notification()?;
            if let Some(s) = n.service_id {
                out.entry(s).or_default().push(n);
            }
        }
        Ok(out)
    }

    pub async fn service_notifications(&self, service: ServiceId) -> Result<Vec<Notification>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE service_id = $1 ORDER BY created_at"
        )))
        .bind(service.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Row::into_notification).collect()
    }
}
