//! Paper copies on request (DOMAIN.md section 4): under a regime that allows it
//! (`CPL2021-A90`: judgments, rulings, mediation documents) the recipient may ask for a
//! paper copy of a document served electronically; the legal time of service stays the
//! electronic one. The clerk sees the request and closes it with what was done.

use super::Who;
use super::recipient::{is_recipient, visible_service};
use crate::error::{AppError, AppResult, Kind};
use crate::state::AppState;
use crate::store::{NewPaperRequest, PaperRequest, StoreError};
use songda_core::ids::{DocumentId, ServiceId};
use songda_core::policy::Regime;

/// What closing a request may record.
pub const OUTCOMES: [&str; 3] = ["mailed", "handed_over", "declined"];

/// Whether the recipient may ask for a paper copy of this document of this service.
pub fn available(d: &crate::store::ServiceDetail, doc: DocumentId) -> bool {
    let Some(regime) = Regime::by_id(&d.service.regime) else {
        return false;
    };
    d.documents
        .iter()
        .any(|x| x.id == doc && regime.paper_copy_on_request.contains(&x.doc_type))
}

/// The recipient asks for a paper copy, to be sent to `address`.
pub async fn request(
    state: &AppState,
    who: &Who,
    service: ServiceId,
    document: DocumentId,
    address: &str,
    note: &str,
) -> AppResult<String> {
    let user = who.party()?;
    let d = visible_service(state, who, service).await?;
    if !is_recipient(&d, who) || !d.documents.iter().any(|x| x.id == document) {
        return Err(AppError::not_found());
    }
    if !available(&d, document) {
        return Err(AppError::new(
            Kind::Unprocessable,
            "paper_not_available",
            format!(
                "a paper copy can be asked for judgments, rulings and mediation documents served under CPL2021-A90; this service is under {}",
                d.service.regime
            ),
        ));
    }
    let address = address.trim();
    if address.chars().count() < 5 || address.chars().count() > 200 {
        return Err(AppError::field(
            "address",
            "give the postal address for the paper copy (5 to 200 characters)",
        ));
    }
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(AppError::field("note", "the note is over 500 characters"));
    }
    state
        .store
        .request_paper(
            &NewPaperRequest {
                service_id: service,
                document_id: document,
                case_id: d.case.id,
                requested_by: user.id,
                address,
                note: (!note.is_empty()).then_some(note),
            },
            state.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::conflict(
                "paper_requested",
                "a paper copy of this document was asked for already",
            ),
            e => e.into(),
        })
}

/// The clerk of the request's court closes it: `mailed`, `handed_over`, or `declined`
/// with a reason.
pub async fn close(
    state: &AppState,
    who: &Who,
    id: &str,
    outcome: &str,
    note: &str,
) -> AppResult<()> {
    let clerk = who.clerk()?;
    let r = state.store.paper_request(id).await?;
    let case = state.store.case(r.case_id).await?;
    if Some(case.court_id) != clerk.court_id {
        return Err(AppError::not_found());
    }
    if !OUTCOMES.contains(&outcome) {
        return Err(AppError::field(
            "outcome",
            "outcome must be mailed, handed_over or declined",
        ));
    }
    let note = note.trim();
    if outcome == "declined" && note.is_empty() {
        return Err(AppError::field(
            "note",
            "say why the paper copy is declined",
        ));
    }
    if note.chars().count() > 500 {
        return Err(AppError::field("note", "the note is over 500 characters"));
    }
    state
        .store
        .close_paper(
            id,
            clerk.id,
            outcome,
            (!note.is_empty()).then_some(note),
            state.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::conflict("paper_closed", "this request was closed already")
            }
            e => e.into(),
        })
}

/// The requests a clerk's court has open.
pub async fn open_of_court(state: &AppState, who: &Who) -> AppResult<Vec<PaperRequest>> {
    let clerk = who.clerk()?;
    let court = clerk
        .court_id
        .ok_or_else(|| AppError::forbidden("a clerk without a court"))?;
    Ok(state.store.open_paper_requests(court).await?)
}

/// One request in the reader's language: what, to where, and how it stands.
pub fn describe(r: &PaperRequest, en: bool) -> String {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    match (&r.closed_at, r.outcome.as_deref()) {
        (Some(at), Some(outcome)) => format!(
            "{} {} · {}{}",
            match outcome {
                "mailed" => t("已邮寄", "Mailed"),
                "handed_over" => t("已当面交付", "Handed over"),
                _ => t("不予提供", "Declined"),
            },
            songda_core::timefmt::court_minutes(*at),
            r.closed_by.clone().unwrap_or_default(),
            r.closing_note
                .as_deref()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default()
        ),
        _ => t("待处理", "Open").to_string(),
    }
}
