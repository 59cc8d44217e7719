//! The JSON API v1 (API.md), one router per feature.

mod auth;
mod calendar;
mod cases;
mod log;
pub mod me;
pub mod services;
mod sms;

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(calendar::router())
        .merge(cases::router())
        .merge(services::router())
        .merge(me::router())
        .merge(log::router())
        .merge(sms::router())
        .route("/openapi.json", get(get_openapi))
        .fallback(|| async { crate::error::AppError::not_found() })
}

async fn get_openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../../openapi.json"),
    )
}
