//! `/me/*`: the party's cases (bind, address confirmation) and inbox.

use super::cases::path_id;
use crate::actions::recipient::{self, ConsentInput};
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, JsonBody};
use crate::http::views::{case_json, party_json, service_json};
use crate::state::AppState;
use crate::store::InboxFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use songda_core::document::DocType;
use songda_core::service::Status;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/cases", post(post_case_binding).get(get_my_cases))
        .route(
            "/me/cases/{case_id}/consent",
            post(post_consent).get(get_consent),
        )
        .route("/me/cases/{case_id}/consent/withdraw", post(post_withdraw))
        .route("/me/services", get(get_my_services))
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

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    pub case_id: Option<String>,
    pub doc_type: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
}

/// Parses inbox filters; empty values mean "any".
pub fn inbox_filter(q: &InboxQuery) -> AppResult<InboxFilter> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(InboxFilter {
        case_id: match nonempty(&q.case_id) {
            Some(c) => Some(
                c.parse()
                    .map_err(|_| AppError::field("case_id", "unknown case"))?,
            ),
            None => None,
        },
        doc_type: match nonempty(&q.doc_type) {
            Some(t) => Some(
                DocType::parse(&t)
                    .ok_or_else(|| AppError::field("doc_type", "unknown document type"))?,
            ),
            None => None,
        },
        status: match nonempty(&q.status) {
            Some(s) => Some(Status::parse(&s).ok_or_else(|| {
                AppError::field("status", "status must be pending, signed or refused")
            })?),
            None => None,
        },
        q: nonempty(&q.q),
    })
}

async fn get_my_services(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<InboxQuery>,
) -> AppResult<Json<Value>> {
    let user = auth.who.party()?;
    let filter = inbox_filter(&q)?;
    let list = state.store.services_of_user(user.id, &filter).await?;
    let mut items = Vec::with_capacity(list.len());
    for d in &list {
        items.push(service_json(
            d,
            &state.store.service_events(d.service.id).await?,
        ));
    }
    Ok(Json(json!({ "items": items })))
}
