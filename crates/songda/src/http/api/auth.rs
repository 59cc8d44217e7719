//! `/auth/*`: register, verify phone, resend code, login, logout, whoami.

use crate::actions::accounts::{self, Registration};
use crate::error::AppResult;
use crate::http::extract::{Auth, Client, JsonBody};
use crate::state::AppState;
use crate::store::User;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(post_register))
        .route("/auth/verify-phone", post(post_verify_phone))
        .route("/auth/resend-code", post(post_resend_code))
        .route("/auth/login", post(post_login))
        .route("/auth/logout", post(post_logout))
        .route("/me", get(get_me))
}

pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "role": u.role.as_str(),
        "phone": u.phone,
        "email": u.email,
        "court_id": u.court_id,
    })
}

#[derive(Deserialize)]
struct RegisterBody {
    name: String,
    phone: String,
    #[serde(default)]
    email: String,
    password: String,
}

async fn post_register(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(b): JsonBody<RegisterBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let user = accounts::register(
        &state,
        &Registration {
            name: &b.name,
            phone: &b.phone,
            email: &b.email,
            password: &b.password,
        },
        &client,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user_json(&user) })),
    ))
}

#[derive(Deserialize)]
struct VerifyBody {
    phone: String,
    code: String,
}

async fn post_verify_phone(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(b): JsonBody<VerifyBody>,
) -> AppResult<Json<Value>> {
    accounts::verify_phone(&state, &b.phone, &b.code, &client).await?;
    Ok(Json(json!({ "verified": true })))
}

#[derive(Deserialize)]
struct ResendBody {
    phone: String,
}

async fn post_resend_code(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(b): JsonBody<ResendBody>,
) -> AppResult<Json<Value>> {
    accounts::resend_code(&state, &b.phone, &client).await?;
    Ok(Json(json!({ "sent": true })))
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

async fn post_login(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(b): JsonBody<LoginBody>,
) -> AppResult<Json<Value>> {
    let li = accounts::login(&state, &b.login, &b.password, "api", &client).await?;
    Ok(Json(
        json!({ "token": li.token, "user": user_json(&li.user) }),
    ))
}

async fn post_logout(State(state): State<AppState>, auth: Auth) -> AppResult<StatusCode> {
    accounts::logout(&state, &auth.token, &auth.who.user, &auth.who.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_me(auth: Auth) -> Json<Value> {
    Json(json!({ "user": user_json(&auth.who.user) }))
}
