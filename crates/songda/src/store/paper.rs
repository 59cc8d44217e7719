//! Requests for paper copies of documents served electronically (CPL2021-A90), and how
//! the clerk closed them.

use super::{
    Result, Store, StoreError, conflict_on_unique, parse_id, parse_opt_time, parse_time, ts,
};
use songda_core::ids::{CaseId, CourtId, DocumentId, ServiceId, UserId};
use time::OffsetDateTime;

#[derive(Clone, Debug)]
pub struct PaperRequest {
    pub id: String,
    pub service_id: ServiceId,
    pub document_id: DocumentId,
    pub document_title: String,
    pub case_id: CaseId,
    pub case_number: String,
    pub party_name: String,
    pub requested_at: OffsetDateTime,
    pub address: String,
    pub note: Option<String>,
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<String>,
    pub outcome: Option<String>,
    pub closing_note: Option<String>,
}

pub struct NewPaperRequest<'a> {
    pub service_id: ServiceId,
    pub document_id: DocumentId,
    pub case_id: CaseId,
    pub requested_by: UserId,
    pub address: &'a str,
    pub note: Option<&'a str>,
}

row_struct! {
    struct Row {
        id: String,
        service_id: String,
        document_id: String,
        document_title: String,
        case_id: String,
        case_number: String,
        party_name: String,
        requested_at: String,
        address: String,
        note: Option<String>,
        closed_at: Option<String>,
        closed_by: Option<String>,
        outcome: Option<String>,
        closing_note: Option<String>,
    }
}

impl Row {
    fn into_record(self) -> Result<PaperRequest> {
        Ok(PaperRequest {
            id: self.id,
            service_id: parse_id(&self.service_id)?,
            document_id: parse_id(&self.document_id)?,
            document_title: self.document_title,
            case_id: parse_id(&self.case_id)?,
            case_number: self.case_number,
            party_name: self.party_name,
            requested_at: parse_time(&self.requested_at)?,
            address: self.address,
            note: self.note,
            closed_at: parse_opt_time(self.closed_at)?,
            closed_by: self.closed_by,
            outcome: self.outcome,
            closing_note: self.closing_note,
        })
    }
}

const SELECT: &str =
    "SELECT r.id, r.service_id, r.document_id, d.title AS document_title, r.case_id,
        c.case_number, p.name AS party_name, r.requested_at, r.address, r.note, r.closed_at,
        u.name AS closed_by, r.outcome, r.closing_note
     FROM paper_requests r
     JOIN documents d ON d.id = r.document_id
     JOIN cases c ON c.id = r.case_id
     JOIN services s ON s.id = r.service_id
     JOIN parties p ON p.id = s.party_id
     LEFT JOIN users u ON u.id = r.closed_by";

impl Store {
    /// Records a request; `Conflict("paper_requested")` if that document of that service
    /// was asked for already.
    pub async fn request_paper(
        &self,
        new: &NewPaperRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO paper_requests (id, service_id, document_id, case_id, requested_by, requested_at, address, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(new.service_id.to_string())
        .bind(new.document_id.to_string())
        .bind(new.case_id.to_string())
        .bind(new.requested_by.to_string())
        .bind(ts(now))
        .bind(new.address)
        .bind(new.note)
        .execute(&self.writer)
        .await
        .map_err(conflict_on_unique("paper_requested"))?;
        Ok(id)
    }

    pub async fn paper_request(&self, id: &str) -> Result<PaperRequest> {
        let row: Option<Row> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
                .bind(id)
                .fetch_optional(&self.writer)
                .await?;
        row.ok_or(StoreError::NotFound)?.into_record()
    }

    /// The requests about one service.
    pub async fn paper_requests_of_service(&self, service: ServiceId) -> Result<Vec<PaperRequest>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE r.service_id = $1 ORDER BY r.requested_at"
        )))
        .bind(service.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Row::into_record).collect()
    }

    /// A case's requests, oldest first.
    pub async fn paper_requests_of_case(&self, case: CaseId) -> Result<Vec<PaperRequest>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE r.case_id = $1 ORDER BY r.requested_at"
        )))
        .bind(case.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Row::into_record).collect()
    }

    /// A court's requests not yet closed, oldest first.
    pub async fn open_paper_requests(&self, court: CourtId) -> Result<Vec<PaperRequest>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.court_id = $1 AND r.closed_at IS NULL ORDER BY r.requested_at LIMIT 500"
        )))
        .bind(court.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Row::into_record).collect()
    }

    /// Closes an open request; `Conflict("paper_closed")` if it was closed already.
    pub async fn close_paper(
        &self,
        id: &str,
        by: UserId,
        outcome: &str,
        note: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE paper_requests SET closed_by = $1, closed_at = $2, outcome = $3, closing_note = $4
             WHERE id = $5 AND closed_at IS NULL",
        )
        .bind(by.to_string())
        .bind(ts(now))
        .bind(outcome)
        .bind(note)
        .bind(id)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            self.paper_request(id).await?;
            return Err(StoreError::Conflict("paper_closed"));
        }
        Ok(())
    }
}
