//! `/me/*`: the party's cases (bind, address confirmation) and inbox.

use super::cases::path_id;
use crate::actions::Who;
use crate::actions::deadlines;
use crate::actions::recipient::{self, ConsentInput};
use crate::actions::records::{self, ListParams, MarksInput};
use crate::actions::{bundle, progress};
use crate::error::AppResult;
use crate::http::extract::{Auth, JsonBody};
use crate::http::views::{case_json, party_json, service_json};
use crate::state::AppState;
use crate::store::{ServicePage, ServiceQuery, StatusCounts};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use songda_core::deadline::Calendar;
use songda_core::timefmt::rfc3339;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/cases", post(post_case_binding).get(get_my_cases))
        .route(
            "/me/cases/{case_id}/consent",
            post(post_consent).get(get_consent),
        )
        .route("/me/cases/{case_id}/consent/withdraw", post(post_withdraw))
        .route("/me/cases/{case_id}/progress", get(get_progress))
        .route("/me/services", get(get_my_services))
        .route("/me/services.csv", get(get_my_services_csv))
        .route("/me/services/{id}/marks", put(put_marks))
        .route("/me/folders", get(get_folders).post(post_folder))
        .route("/me/folders/{id}", delete(delete_folder))
}

#[derive(Deserialize)]
struct BindBody {
    case_number: String,
    code: String,
}

async fn post_case_binding(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<BindBody>,
) -> AppResult<Json<Value>> {
    let case_id = recipient::bind_case(&state, &auth.who, &b.case_number, &b.code).await?;
    Ok(Json(json!({ "case_id": case_id })))
}

async fn get_my_cases(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let user = auth.who.party()?;
    let list = state.store.parties_of_user(user.id).await?;
    Ok(Json(json!({
        "items": list.iter().map(|(c, p)| {
            let mut v = case_json(c);
            v["party"] = party_json(p);
            v
        }).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
struct ConsentBody {
    channels: Vec<String>,
    email: Option<String>,
    phone: Option<String>,
    acknowledged: bool,
}

async fn post_consent(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ConsentBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let case_id = path_id(&id)?;
    let version = recipient::confirm_address(
        &state,
        &auth.who,
        case_id,
        &ConsentInput {
            channels: &b.channels,
            email: b.email.as_deref(),
            phone: b.phone.as_deref(),
            acknowledged: b.acknowledged,
        },
    )
    .await?;
    let party = recipient::my_party(&state, &auth.who, case_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "version": version, "consent": party_json(&party)["consent"] })),
    ))
}

async fn get_consent(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let party = recipient::my_party(&state, &auth.who, path_id(&id)?).await?;
    Ok(Json(json!({ "consent": party_json(&party)["consent"] })))
}

async fn post_withdraw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let version = recipient::withdraw_consent(&state, &auth.who, path_id(&id)?).await?;
    Ok(Json(json!({ "version": version, "active": false })))
}

/// A page of a list as JSON: the services with the user's markers, the total, the page
/// and the counts by status.
pub fn page_json(
    page: &ServicePage,
    counts: &StatusCounts,
    q: &ServiceQuery,
    events: &[Vec<songda_core::evidence::Event>],
    cal: &Calendar,
) -> Value {
    json!({
        "items": page.items.iter().zip(events).map(|(x, ev)| {
            let mut v = service_json(&x.detail, ev, cal);
            v["pinned"] = json!(x.pinned);
            v["read_at"] = json!(x.read_at.map(rfc3339));
            v["folders"] = x.folders.iter().map(|f| json!({"id": f.id, "name": f.name})).collect();
            v
        }).collect::<Vec<_>>(),
        "total": page.total,
        "limit": q.limit,
        "offset": q.offset,
        "counts": {
            "pending": counts.pending,
            "signed": counts.signed,
            "refused": counts.refused,
            "failed": counts.failed,
            "all": counts.all(),
        },
    })
}

/// The JSON of one page of the caller's list.
pub async fn list_json(state: &AppState, who: &Who, p: &ListParams) -> AppResult<Value> {
    let q = p.query(state.now(), 100)?;
    let (page, counts) = records::list(state, who, &q).await?;
    let (cal, _) = deadlines::calendar(state).await?;
    let mut events = Vec::with_capacity(page.items.len());
    for x in &page.items {
        events.push(state.store.service_events(x.detail.service.id).await?);
    }
    Ok(page_json(&page, &counts, &q, &events, &cal))
}

async fn get_my_services(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<ListParams>,
) -> AppResult<Json<Value>> {
    auth.who.party()?;
    Ok(Json(list_json(&state, &auth.who, &p).await?))
}

async fn get_my_services_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    auth.who.party()?;
    let q = p.query(state.now(), 100)?;
    let csv = bundle::list_csv(&state, &auth.who, &q, false).await?;
    Ok(csv_response(csv, "services.csv"))
}

/// A CSV download.
pub fn csv_response(csv: String, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        csv,
    )
        .into_response()
}

async fn put_marks(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MarksInput>,
) -> AppResult<Json<Value>> {
    let id = path_id(&id)?;
    records::set_marks(&state, &auth.who, id, &b).await?;
    let user = auth.who.party()?;
    let marks = state.store.marks(user.id, id).await?;
    Ok(Json(json!({
        "pinned": marks.pinned,
        "read_at": marks.read_at.map(rfc3339),
        "folders": marks.folders.iter().map(|f| json!({"id": f.id, "name": f.name})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
struct FolderBody {
    name: String,
}

async fn get_folders(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let list = records::folders(&state, &auth.who).await?;
    Ok(Json(json!({
        "items": list.iter().map(|(f, n)| json!({"id": f.id, "name": f.name, "count": n})).collect::<Vec<_>>()
    })))
}

async fn post_folder(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<FolderBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let f = records::create_folder(&state, &auth.who, &b.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": f.id, "name": f.name, "count": 0})),
    ))
}

async fn delete_folder(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    records::delete_folder(&state, &auth.who, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_progress(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let steps = progress::of_case(&state, &auth.who, path_id(&id)?, false).await?;
    Ok(Json(
        json!({ "items": steps.iter().map(|s| s.json()).collect::<Vec<_>>() }),
    ))
}
