//! `/cases/*`: the clerk's cases, parties, documents and services.

use crate::actions::cases::{self, NewPartyInput, UploadInput};
use crate::actions::{Who, clerk_case, deadlines, serve};
use crate::error::{AppError, AppResult, Kind};
use crate::http::extract::{Auth, JsonBody};
use crate::http::upload;
use crate::http::views::{case_json, document_json, party_json, service_json};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use songda_core::ids::{CaseId, DocumentId, PartyId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", post(post_case).get(get_cases))
        .route("/cases/{case_id}", get(get_case))
        .route(
            "/cases/{case_id}/parties",
            post(post_party).get(get_parties),
        )
        .route(
            "/cases/{case_id}/documents",
            post(post_document)
                .get(get_documents)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/cases/{case_id}/services",
            post(post_service).get(get_services),
        )
}

pub fn path_id<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    s.parse().map_err(|_| AppError::not_found())
}

#[derive(Deserialize)]
struct CaseBody {
    case_number: String,
    title: String,
}

async fn post_case(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<CaseBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let case = cases::create_case(&state, &auth.who, &b.case_number, &b.title).await?;
    Ok((StatusCode::CREATED, Json(case_json(&case))))
}

#[derive(Deserialize)]
struct CasesQuery {
    q: Option<String>,
}

async fn get_cases(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<CasesQuery>,
) -> AppResult<Json<Value>> {
    let clerk = auth.who.clerk()?;
    let court = clerk.court_id.ok_or_else(AppError::not_found)?;
    let list = state.store.cases_of_court(court, q.q.as_deref()).await?;
    Ok(Json(
        json!({ "items": list.iter().map(case_json).collect::<Vec<_>>() }),
    ))
}

async fn get_case(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let case = clerk_case(&state, &auth.who, path_id(&id)?).await?;
    let parties = state.store.parties_of_case(case.id).await?;
    let documents = state.store.documents_of_case(case.id).await?;
    let mut v = case_json(&case);
    v["parties"] = parties.iter().map(party_json).collect();
    v["documents"] = documents.iter().map(document_json).collect();
    Ok(Json(v))
}

#[derive(Deserialize)]
struct PartyBody {
    name: String,
    role: String,
    phone: String,
    email: Option<String>,
    consent_basis: Option<String>,
}

async fn post_party(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PartyBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let case_id: CaseId = path_id(&id)?;
    let (party, code) = cases::add_party(
        &state,
        &auth.who,
        case_id,
        &NewPartyInput {
            name: &b.name,
            role: &b.role,
            phone: &b.phone,
            email: b.email.as_deref(),
            consent_basis: b.consent_basis.as_deref(),
        },
    )
    .await?;
    let mut v = party_json(&party);
    // Returned once, so a court system can print it on paper notices too.
    v["binding_code"] = json!(code);
    Ok((StatusCode::CREATED, Json(v)))
}

async fn get_parties(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let case = clerk_case(&state, &auth.who, path_id(&id)?).await?;
    let parties = state.store.parties_of_case(case.id).await?;
    Ok(Json(
        json!({ "items": parties.iter().map(party_json).collect::<Vec<_>>() }),
    ))
}

async fn post_document(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let case_id: CaseId = path_id(&id)?;
    // Check access before reading a byte of a possibly huge body.
    clerk_case(&state, &auth.who, case_id).await?;
    let limit = state.settings.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(upload::too_large(limit));
    }
    let multipart = multipart.map_err(|e| {
        AppError::new(
            Kind::Unsupported,
            "unsupported_media_type",
            format!("send multipart/form-data: {}", e.body_text()),
        )
    })?;
    let up = upload::receive(&state, multipart).await?;
    let doc = cases::add_document(
        &state,
        &auth.who,
        case_id,
        UploadInput {
            title: up.field("title"),
            doc_type: up.field("doc_type"),
            tmp: &up.tmp,
            sha256: up.sha256.clone(),
            size: up.size,
            time_limit: up.field("time_limit"),
            time_limit_days: up.field("time_limit_days"),
            corrects: up.field("corrects"),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(document_json(&doc))))
}

async fn get_documents(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let case = clerk_case(&state, &auth.who, path_id(&id)?).await?;
    let docs = state.store.documents_of_case(case.id).await?;
    Ok(Json(
        json!({ "items": docs.iter().map(document_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
struct ServeBody {
    party_id: String,
    document_ids: Vec<String>,
}

async fn post_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ServeBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let case_id: CaseId = path_id(&id)?;
    let who: &Who = &auth.who;
    clerk_case(&state, who, case_id).await?;
    let party_id: PartyId = path_id(&b.party_id)?;
    let doc_ids = b
        .document_ids
        .iter()
        .map(|d| path_id::<DocumentId>(d))
        .collect::<AppResult<Vec<_>>>()?;
    let d = serve::serve(&state, who, case_id, party_id, &doc_ids).await?;
    let events = state.store.service_events(d.service.id).await?;
    let (cal, _) = deadlines::calendar(&state).await?;
    Ok((StatusCode::CREATED, Json(service_json(&d, &events, &cal))))
}

async fn get_services(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let case = clerk_case(&state, &auth.who, path_id(&id)?).await?;
    let list = state.store.services_of_case(case.id).await?;
    let (cal, _) = deadlines::calendar(&state).await?;
    let mut items = Vec::with_capacity(list.len());
    for d in &list {
        items.push(service_json(
            d,
            &state.store.service_events(d.service.id).await?,
            &cal,
        ));
    }
    Ok(Json(json!({ "items": items })))
}
