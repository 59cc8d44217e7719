//! `/services/*`: a service, its documents, sign, refuse, certificate.

use super::cases::path_id;
use crate::actions::records::ListParams;
use crate::actions::{bundle, certificate, deadlines, mediation, paper, recipient, records};
use crate::error::AppResult;
use crate::http::extract::{Auth, JsonBody};
use crate::http::files;
use crate::http::views::service_json;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use songda_core::ids::{DocumentId, ServiceId};
use songda_core::timefmt::rfc3339;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/bundle", post(post_bundle))
        .route("/court/services", get(get_court_services))
        .route("/court/paper-requests", get(get_paper_requests))
        .route("/services/{id}/paper-copy", post(post_paper_copy))
        .route("/paper-requests/{id}/close", post(post_paper_close))
        .route("/court/services.csv", get(get_court_services_csv))
        .route("/services/{id}", get(get_service))
        .route("/services/{id}/documents/{document_id}", get(get_document))
        .route("/services/{id}/sign", post(post_sign))
        .route("/services/{id}/refuse", post(post_refuse))
        .route("/services/{id}/certificate", get(get_certificate))
        .route("/services/{id}/certificate.pdf", get(get_certificate_pdf))
}

async fn get_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let d = recipient::visible_service(&state, &auth.who, path_id(&id)?).await?;
    if recipient::is_recipient(&d, &auth.who) {
        records::mark_read(&state, &auth.who, d.service.id).await?;
    }
    let events = state.store.service_events(d.service.id).await?;
    let (cal, _) = deadlines::calendar(&state).await?;
    let mut v = service_json(&d, &events, &cal);
    if d.documents
        .iter()
        .any(|x| x.doc_type == songda_core::document::DocType::MediationDocument)
    {
        v["mediation"] = mediation::of_case_id(&state, d.case.id)
            .await?
            .iter()
            .filter(|m| d.documents.iter().any(|x| x.id == m.document.id))
            .map(|m| m.json())
            .collect();
    }
    Ok(Json(v))
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    #[serde(default)]
    pub download: Option<String>,
}

async fn get_document(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, doc)): Path<(String, String)>,
    Query(q): Query<DownloadQuery>,
) -> AppResult<Response> {
    let service_id: ServiceId = path_id(&id)?;
    let doc_id: DocumentId = path_id(&doc)?;
    files::serve_document(&state, &auth.who, service_id, doc_id, q.download.is_some()).await
}

#[derive(Deserialize)]
struct SignBody {
    confirm: bool,
}

async fn post_sign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SignBody>,
) -> AppResult<Json<Value>> {
    let d = recipient::sign(&state, &auth.who, path_id(&id)?, b.confirm).await?;
    Ok(Json(json!({
        "id": d.service.id,
        "status": d.service.stage.status(),
        "signed_at": d.service.signed_at.map(rfc3339),
        "served_at": d.service.served_at.map(rfc3339),
        "service_rule": d.service.service_rule.map(|r| r.as_str()),
    })))
}

#[derive(Deserialize)]
struct RefuseBody {
    reason: String,
    note: Option<String>,
}

async fn post_refuse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RefuseBody>,
) -> AppResult<Json<Value>> {
    let d = recipient::refuse(
        &state,
        &auth.who,
        path_id(&id)?,
        &b.reason,
        b.note.as_deref(),
    )
    .await?;
    Ok(Json(json!({
        "id": d.service.id,
        "status": d.service.stage.status(),
        "refused_at": d.service.refused_at.map(rfc3339),
        "reason": d.service.refusal_reason,
        "served_at": d.service.served_at.map(rfc3339),
        "service_rule": d.service.service_rule.map(|r| r.as_str()),
    })))
}

async fn get_certificate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let d = recipient::visible_service(&state, &auth.who, path_id(&id)?).await?;
    Ok(Json(certificate::build(&state, &d).await?))
}

async fn get_certificate_pdf(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let d = recipient::visible_service(&state, &auth.who, path_id(&id)?).await?;
    let pdf = certificate::build_pdf(&state, &d).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"certificate-{}.pdf\"", d.service.id),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}

#[derive(Deserialize)]
struct BundleBody {
    service_ids: Vec<String>,
}

async fn post_bundle(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<BundleBody>,
) -> AppResult<Response> {
    let ids = b
        .service_ids
        .iter()
        .map(|s| path_id(s))
        .collect::<AppResult<Vec<ServiceId>>>()?;
    let zip = bundle::bundle(&state, &auth.who, &ids).await?;
    Ok(zip_response(zip))
}

/// A bundle download.
pub fn zip_response(zip: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"songda-records.zip\"".to_string(),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        zip,
    )
        .into_response()
}

/// A clerk's list of the court's services: the same parameters and answer as
/// `/me/services`.
async fn get_court_services(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<ListParams>,
) -> AppResult<Json<Value>> {
    auth.who.clerk()?;
    Ok(Json(super::me::list_json(&state, &auth.who, &p).await?))
}

async fn get_court_services_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    auth.who.clerk()?;
    let q = p.query(state.now(), 100)?;
    let csv = bundle::list_csv(&state, &auth.who, &q, false).await?;
    Ok(super::me::csv_response(csv, "court-services.csv"))
}

#[derive(Deserialize)]
struct PaperBody {
    document_id: String,
    address: String,
    #[serde(default)]
    note: String,
}

fn paper_json(r: &crate::store::PaperRequest) -> Value {
    json!({
        "id": r.id,
        "service_id": r.service_id,
        "document_id": r.document_id,
        "document_title": r.document_title,
        "case_id": r.case_id,
        "case_number": r.case_number,
        "recipient": r.party_name,
        "requested_at": rfc3339(r.requested_at),
        "address": r.address,
        "note": r.note,
        "status": if r.closed_at.is_some() { "closed" } else { "open" },
        "outcome": r.outcome,
        "closed_at": r.closed_at.map(rfc3339),
        "closed_by": r.closed_by,
        "closing_note": r.closing_note,
    })
}

/// The recipient asks for a paper copy of a judgment, ruling or mediation document.
async fn post_paper_copy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PaperBody>,
) -> AppResult<(axum::http::StatusCode, Json<Value>)> {
    let doc: DocumentId = path_id(&b.document_id)?;
    let rid = paper::request(&state, &auth.who, path_id(&id)?, doc, &b.address, &b.note).await?;
    let r = state.store.paper_request(&rid).await?;
    Ok((axum::http::StatusCode::CREATED, Json(paper_json(&r))))
}

async fn get_paper_requests(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let list = paper::open_of_court(&state, &auth.who).await?;
    Ok(Json(
        json!({ "items": list.iter().map(paper_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
struct CloseBody {
    outcome: String,
    #[serde(default)]
    note: String,
}

async fn post_paper_close(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CloseBody>,
) -> AppResult<Json<Value>> {
    let id = path_id::<uuid::Uuid>(&id)?.to_string();
    paper::close(&state, &auth.who, &id, &b.outcome, &b.note).await?;
    Ok(Json(paper_json(&state.store.paper_request(&id).await?)))
}
