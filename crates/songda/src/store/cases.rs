//! Cases, their parties (with binding codes and versioned address confirmations) and
//! their documents.

use super::{
    Backend, Result, Store, StoreError, Tx, conflict_on_unique, contains_pattern, evidence, exists,
    parse_id, parse_time, ts,
};
use crate::store::outbox::{NewNotification, enqueue};
use songda_core::consent::{Channel, ConsentBasis, Provenance};
use songda_core::deadline::{LimitKind, TimeLimit};
use songda_core::document::{DocType, Sha256Hex};
use songda_core::evidence::Event;
use songda_core::ids::{CaseId, CourtId, DocumentId, PartyId, UserId};
use songda_core::party::PartyRole;
use time::OffsetDateTime;

#[derive(Clone, Debug)]
pub struct CaseRecord {
    pub id: CaseId,
    pub court_id: CourtId,
    pub court_name: String,
    pub case_number: String,
    pub title: String,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct ConsentRecord {
    pub version: i64,
    /// `None` when the latest version is a withdrawal.
    pub basis: Option<ConsentBasis>,
    pub channels: Vec<Channel>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub provenance: Provenance,
    pub notice_version: Option<String>,
    pub recorded_at: OffsetDateTime,
}

impl ConsentRecord {
    pub fn is_active(&self) -> bool {
        self.basis.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct PartyRecord {
    pub id: PartyId,
    pub case_id: CaseId,
    pub name: String,
    pub role: PartyRole,
    pub phone: String,
    pub email: Option<String>,
    pub bound_user_id: Option<UserId>,
    pub bound_at: Option<OffsetDateTime>,
    /// The latest address confirmation version, if any.
    pub consent: Option<ConsentRecord>,
}

#[derive(Clone, Debug)]
pub struct DocumentRecord {
    pub id: DocumentId,
    pub case_id: CaseId,
    pub title: String,
    pub doc_type: DocType,
    pub sha256: Sha256Hex,
    pub size: i64,
    pub page_count: i64,
    pub uploaded_at: OffsetDateTime,
    /// The time limit its service starts, if any.
    pub time_limit: Option<TimeLimit>,
    /// The document this one corrects (an earlier version), if any.
    pub corrects: Option<DocumentId>,
    /// 1 for an original, one more for each correction.
    pub version: i64,
}

pub struct NewParty<'a> {
    pub case_id: CaseId,
    pub name: &'a str,
    pub role: PartyRole,
    pub phone: &'a str,
    pub email: Option<&'a str>,
    pub binding_code_hmac: &'a str,
}

/// One version of an address confirmation (or a withdrawal when `basis` is `None`).
pub struct NewConsent<'a> {
    pub basis: Option<ConsentBasis>,
    pub channels: &'a [Channel],
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub provenance: Provenance,
    pub notice_version: Option<&'a str>,
}

pub struct NewDocument<'a> {
    pub case_id: CaseId,
    pub title: &'a str,
    pub doc_type: DocType,
    pub sha256: &'a Sha256Hex,
    pub size: i64,
    pub page_count: i64,
    pub time_limit: Option<TimeLimit>,
    /// The document of the same case this one corrects.
    pub corrects: Option<DocumentId>,
}

row_struct! {
    struct CaseRow {
        id: String,
        court_id: String,
        court_name: String,
        case_number: String,
        title: String,
        created_at: String,
    }
}

impl CaseRow {
    fn into_record(self) -> Result<CaseRecord> {
        Ok(CaseRecord {
            id: parse_id(&self.id)?,
            court_id: parse_id(&self.court_id)?,
            court_name: self.court_name,
            case_number: self.case_number,
            title: self.title,
            created_at: parse_time(&self.created_at)?,
        })
    }
}

const CASE_SELECT: &str =
    "SELECT c.id, c.court_id, ct.name AS court_name, c.case_number, c.title, c.created_at
     FROM cases c JOIN courts ct ON ct.id = c.court_id";

row_struct! {
    struct PartyRow {
        id: String,
        case_id: String,
        name: String,
        role: String,
        phone: String,
        email: Option<String>,
        bound_user_id: Option<String>,
        bound_at: Option<String>,
        c_version: Option<i64>,
        c_basis: Option<String>,
        c_channels: Option<String>,
        c_phone: Option<String>,
        c_email: Option<String>,
        c_provenance: Option<String>,
        c_notice_version: Option<String>,
        c_recorded_at: Option<String>,
    }
}

const PARTY_SELECT: &str =
    "SELECT p.id, p.case_id, p.name, p.role, p.phone, p.email, p.bound_user_id, p.bound_at,
        k.version AS c_version, k.basis AS c_basis, k.channels AS c_channels, k.phone AS c_phone,
        k.email AS c_email, k.provenance AS c_provenance, k.notice_version AS c_notice_version,
        k.recorded_at AS c_recorded_at
     FROM parties p
     LEFT JOIN consents k ON k.party_id = p.id
        AND k.version = (SELECT MAX(version) FROM consents WHERE party_id = p.id)";

impl PartyRow {
    fn into_record(self) -> Result<PartyRecord> {
        let consent = match self.c_version {
            None => None,
            Some(version) => {
                let channels: Vec<String> =
                    serde_json::from_str(self.c_channels.as_deref().unwrap_or("[]"))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Some(ConsentRecord {
                    version,
                    basis: self.c_basis.as_deref().and_then(ConsentBasis::parse),
                    channels: channels.iter().filter_map(|c| Channel::parse(c)).collect(),
                    phone: self.c_phone,
                    email: self.c_email,
                    provenance: self
                        .c_provenance
                        .as_deref()
                        .and_then(Provenance::parse)
                        .ok_or_else(|| StoreError::Corrupt("consent provenance".into()))?,
                    notice_version: self.c_notice_version,
                    recorded_at: parse_time(self.c_recorded_at.as_deref().unwrap_or(""))?,
                })
            }
        };
        Ok(PartyRecord {
            id: parse_id(&self.id)?,
            case_id: parse_id(&self.case_id)?,
            name: self.name,
            role: PartyRole::parse(&self.role)
                .ok_or_else(|| StoreError::Corrupt(format!("party role {}", self.role)))?,
            phone: self.phone,
            email: self.email,
            bound_user_id: self.bound_user_id.as_deref().map(parse_id).transpose()?,
            bound_at: self.bound_at.as_deref().map(parse_time).transpose()?,
            consent,
        })
    }
}

row_struct! {
    struct DocumentRow {
        id: String,
        case_id: String,
        title: String,
        doc_type: String,
        sha256: String,
        size: i64,
        page_count: i64,
        uploaded_at: String,
        time_limit: Option<String>,
        time_limit_days: Option<i64>,
        corrects_id: Option<String>,
        version: i64,
    }
}

pub(crate) const DOCUMENT_COLUMNS: &str =
    "d.id, d.case_id, d.title, d.doc_type, d.sha256, d.size, d.page_count, d.uploaded_at,
    d.time_limit, d.time_limit_days, d.corrects_id, d.version";

impl DocumentRow {
    pub(crate) fn into_record(self) -> Result<DocumentRecord> {
        Ok(DocumentRecord {
            id: parse_id(&self.id)?,
            case_id: parse_id(&self.case_id)?,
            title: self.title,
            doc_type: DocType::parse(&self.doc_type)
                .ok_or_else(|| StoreError::Corrupt(format!("doc type {}", self.doc_type)))?,
            sha256: Sha256Hex::parse(&self.sha256)
                .map_err(|_| StoreError::Corrupt("sha256".into()))?,
            size: self.size,
            page_count: self.page_count,
            uploaded_at: parse_time(&self.uploaded_at)?,
            time_limit: match (self.time_limit.as_deref(), self.time_limit_days) {
                (Some(kind), Some(days)) => Some(TimeLimit {
                    kind: LimitKind::parse(kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("time limit {kind}")))?,
                    days: u32::try_from(days)
                        .map_err(|_| StoreError::Corrupt(format!("time limit days {days}")))?,
                }),
                _ => None,
            },
            corrects: self.corrects_id.as_deref().map(parse_id).transpose()?,
            version: self.version,
        })
    }
}

pub(crate) async fn documents_of_service_tx(
    conn: &mut sqlx::AnyConnection,
    service_id: &str,
) -> Result<Vec<DocumentRecord>> {
    let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents d
         JOIN service_documents sd ON sd.document_id = d.id
         WHERE sd.service_id = $1 ORDER BY sd.position"
    )))
    .bind(service_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(DocumentRow::into_record).collect()
}

async fn insert_consent(
    tx: &mut Tx<'_>,
    backend: Backend,
    party_id: PartyId,
    c: &NewConsent<'_>,
    by: UserId,
    now: OffsetDateTime,
) -> Result<i64> {
    // Versions of one party are numbered in turn: on PostgreSQL the party's row is locked
    // first, so concurrent records wait for each other instead of taking the same number.
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM parties WHERE id = $1 FOR UPDATE")
            .bind(party_id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    let (next,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) + 1 FROM consents WHERE party_id = $1")
            .bind(party_id.to_string())
            .fetch_one(&mut **tx)
            .await?;
    let channels: Vec<&str> = c.channels.iter().map(|ch| ch.as_str()).collect();
    sqlx::query(
        "INSERT INTO consents (party_id, version, kind, basis, channels, phone, email, provenance,
            notice_version, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(party_id.to_string())
    .bind(next)
    .bind(if c.basis.is_some() {
        "confirm"
    } else {
        "withdraw"
    })
    .bind(c.basis.map(|b| b.as_str()))
    .bind(serde_json::to_string(&channels).unwrap_or_else(|_| "[]".into()))
    .bind(c.phone)
    .bind(c.email)
    .bind(c.provenance.as_str())
    .bind(c.notice_version)
    .bind(by.to_string())
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(next)
}

impl Store {
    pub async fn create_case(
        &self,
        court_id: CourtId,
        case_number: &str,
        case_key: &str,
        title: &str,
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<CaseRecord> {
        let id = CaseId::new();
        sqlx::query(
            "INSERT INTO cases (id, court_id, case_number, case_key, title, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(court_id.to_string())
        .bind(case_number)
        .bind(case_key)
        .bind(title)
        .bind(by.to_string())
        .bind(ts(now))
        .execute(&self.writer)
        .await
        .map_err(conflict_on_unique("case_exists"))?;
        self.case(id).await
    }

    pub async fn case(&self, id: CaseId) -> Result<CaseRecord> {
        let row: Option<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CASE_SELECT} WHERE c.id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.ok_or(StoreError::NotFound)?.into_record()
    }

    /// The cases of a court, newest first, optionally filtered by a fragment of the case
    /// number or title.
    pub async fn cases_of_court(&self, court: CourtId, q: Option<&str>) -> Result<Vec<CaseRecord>> {
        let pattern = contains_pattern(q.unwrap_or(""));
        let like = self.like();
        let rows: Vec<CaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CASE_SELECT} WHERE c.court_id = $1 AND (c.case_number {like} $2 OR c.case_key {like} $2 OR c.title {like} $2)
             ORDER BY c.created_at DESC LIMIT 500"
        )))
        .bind(court.to_string())
        .bind(pattern)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(CaseRow::into_record).collect()
    }

    /// Adds a party, records a consent the clerk holds on paper (if any) and queues the
    /// binding-code notifications, in one transaction.
    pub async fn add_party(
        &self,
        new: &NewParty<'_>,
        consent: Option<(&NewConsent<'_>, &Event)>,
        notifications: &[NewNotification],
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<PartyRecord> {
        let id = PartyId::new();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO parties (id, case_id, name, role, phone, email, binding_code_hmac, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(new.case_id.to_string())
        .bind(new.name)
        .bind(new.role.as_str())
        .bind(new.phone)
        .bind(new.email)
        .bind(new.binding_code_hmac)
        .bind(by.to_string())
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("binding_code_clash"))?;
        if let Some((c, event)) = consent {
            insert_consent(&mut tx, self.backend, id, c, by, now).await?;
            let mut event = event.clone();
            if let Some(r) = event.recipient.as_mut() {
                r.party_id = id;
            }
            evidence::append(&mut tx, self.backend, &event).await?;
        }
        for n in notifications {
            let mut n = n.clone();
            n.party_id = Some(id);
            n.idempotency_key = n.idempotency_key.replace("{party}", &id.to_string());
            enqueue(&mut tx, &n).await?;
        }
        tx.commit().await?;
        self.party(id).await
    }

    pub async fn party(&self, id: PartyId) -> Result<PartyRecord> {
        let row: Option<PartyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PARTY_SELECT} WHERE p.id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.writer)
        .await?;
        row.ok_or(StoreError::NotFound)?.into_record()
    }

    /// Parties by id, read in a few statements however many there are.
    pub(crate) async fn parties_by_id(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<PartyId, PartyRecord>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(super::IN_CHUNK) {
            let mut q = sqlx::query_as::<_, PartyRow>(sqlx::AssertSqlSafe(format!(
                "{PARTY_SELECT} WHERE p.id IN ({})",
                super::placeholders(chunk.len())
            )));
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for row in q.fetch_all(self.reader()).await? {
                let p = row.into_record()?;
                out.insert(p.id, p);
            }
        }
        Ok(out)
    }

    /// The documents of each service, in their order, read in a few statements however
    /// many services there are.
    pub(crate) async fn documents_of_services(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<DocumentRecord>>> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for chunk in ids.chunks(super::IN_CHUNK) {
            let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(format!(
                "SELECT service_id, document_id FROM service_documents WHERE service_id IN ({})
                 ORDER BY service_id, position",
                super::placeholders(chunk.len())
            )));
            for id in chunk {
                q = q.bind(id.as_str());
            }
            pairs.extend(q.fetch_all(self.reader()).await?);
        }
        let mut doc_ids: Vec<String> = pairs.iter().map(|(_, d)| d.clone()).collect();
        doc_ids.sort();
        doc_ids.dedup();
        let mut docs = std::collections::HashMap::with_capacity(doc_ids.len());
        for chunk in doc_ids.chunks(super::IN_CHUNK) {
            let mut q = sqlx::query_as::<_, DocumentRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id IN ({})",
                super::placeholders(chunk.len())
            )));
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for row in q.fetch_all(self.reader()).await? {
                let d = row.into_record()?;
                docs.insert(d.id.to_string(), d);
            }
        }
        let mut out: std::collections::HashMap<String, Vec<DocumentRecord>> =
            std::collections::HashMap::with_capacity(ids.len());
        for (service, doc) in pairs {
            let d = docs.get(&doc).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("document {doc} of service {service}"))
            })?;
            out.entry(service).or_default().push(d);
        }
        Ok(out)
    }

    pub async fn parties_of_case(&self, case: CaseId) -> Result<Vec<PartyRecord>> {
        let rows: Vec<PartyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PARTY_SELECT} WHERE p.case_id = $1 ORDER BY p.created_at"
        )))
        .bind(case.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(PartyRow::into_record).collect()
    }

    /// The party records bound to a user, with their cases, newest case first.
    pub async fn parties_of_user(&self, user: UserId) -> Result<Vec<(CaseRecord, PartyRecord)>> {
        let rows: Vec<PartyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PARTY_SELECT} WHERE p.bound_user_id = $1 ORDER BY p.bound_at DESC"
        )))
        .bind(user.to_string())
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let party = row.into_record()?;
            out.push((self.case(party.case_id).await?, party));
        }
        Ok(out)
    }

    /// Finds the unbound party of the case with this number whose binding code has this
    /// HMAC. `Conflict("code_used")` when the code already bound an account.
    pub async fn find_binding(&self, case_key: &str, code_hmac: &str) -> Result<PartyRecord> {
        let row: Option<PartyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PARTY_SELECT} JOIN cases c ON c.id = p.case_id
             WHERE c.case_key = $1 AND p.binding_code_hmac = $2"
        )))
        .bind(case_key)
        .bind(code_hmac)
        .fetch_optional(&self.writer)
        .await?;
        let party = row.ok_or(StoreError::NotFound)?.into_record()?;
        if party.bound_user_id.is_some() {
            return Err(StoreError::Conflict("code_used"));
        }
        Ok(party)
    }

    /// Binds the party to the user; a code binds once, so a second bind fails with
    /// `Conflict("code_used")` even if two requests race.
    pub async fn bind_party(
        &self,
        party: PartyId,
        user: UserId,
        event: &Event,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE parties SET bound_user_id = $1, bound_at = $2 WHERE id = $3 AND bound_user_id IS NULL",
        )
        .bind(user.to_string())
        .bind(ts(now))
        .bind(party.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(if exists(&mut tx, "parties", &party.to_string()).await? {
                StoreError::Conflict("code_used")
            } else {
                StoreError::NotFound
            });
        }
        evidence::append(&mut tx, self.backend, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a new version of the party's address confirmation (or a withdrawal) with its
    /// evidence. Returns the version number.
    pub async fn record_consent(
        &self,
        party: PartyId,
        consent: &NewConsent<'_>,
        event: &Event,
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let v = insert_consent(&mut tx, self.backend, party, consent, by, now).await?;
        evidence::append(&mut tx, self.backend, event).await?;
        tx.commit().await?;
        Ok(v)
    }

    pub async fn add_document(
        &self,
        new: &NewDocument<'_>,
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<DocumentRecord> {
        let id = DocumentId::new();
        sqlx::query(
            "INSERT INTO documents (id, case_id, title, doc_type, sha256, size, page_count, uploaded_by, uploaded_at,
                                    time_limit, time_limit_days, corrects_id, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                     COALESCE((SELECT version + 1 FROM documents WHERE id = $12), 1))",
        )
        .bind(id.to_string())
        .bind(new.case_id.to_string())
        .bind(new.title)
        .bind(new.doc_type.as_str())
        .bind(new.sha256.as_str())
        .bind(new.size)
        .bind(new.page_count)
        .bind(by.to_string())
        .bind(ts(now))
        .bind(new.time_limit.map(|l| l.kind.as_str()))
        .bind(new.time_limit.map(|l| i64::from(l.days)))
        .bind(new.corrects.map(|c| c.to_string()))
        .execute(&self.writer)
        .await
        .map_err(conflict_on_unique("already_corrected"))?;
        self.document(new.case_id, id).await
    }

    /// A document of a case; `NotFound` if it belongs to another case.
    pub async fn document(&self, case: CaseId, id: DocumentId) -> Result<DocumentRecord> {
        let row: Option<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1 AND d.case_id = $2"
        )))
        .bind(id.to_string())
        .bind(case.to_string())
        .fetch_optional(&self.writer)
        .await?;
        row.ok_or(StoreError::NotFound)?.into_record()
    }

    /// The documents that correct this one (at most one, as corrections form a chain).
    pub async fn corrections_of(&self, id: DocumentId) -> Result<Vec<DocumentRecord>> {
        let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.corrects_id = $1 ORDER BY d.uploaded_at"
        )))
        .bind(id.to_string())
        .fetch_all(&self.writer)
        .await?;
        rows.into_iter().map(DocumentRow::into_record).collect()
    }

    pub async fn documents_of_case(&self, case: CaseId) -> Result<Vec<DocumentRecord>> {
        let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.case_id = $1 ORDER BY d.uploaded_at"
        )))
        .bind(case.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(DocumentRow::into_record).collect()
    }
}
