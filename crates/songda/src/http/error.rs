//! How an [`AppError`] answers over HTTP: `{"error": {"code", "message", ...}}` with a
//! fitting status. Internal errors are logged here, once, and stay opaque to the client.

use crate::error::{AppError, Kind};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::BadRequest => StatusCode::BAD_REQUEST,
        Kind::Unauthorized => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs an internal error once; returns whether it was one.
pub fn log_if_internal(e: &AppError) -> bool {
    if e.kind == Kind::Internal {
        match &e.source {
            Some(src) => tracing::error!(error = format!("{src:#}"), "internal error"),
            None => tracing::error!(message = %e.message, "internal error"),
        }
        true
    } else {
        false
    }
}

impl IntoResponse for AppError {
    fn into_response(mut self) -> Response {
        let status = status_of(self.kind);
        let mut body = if log_if_internal(&self) {
            json!({"code": "internal", "message": "internal error"})
        } else {
            json!({"code": self.code, "message": self.message})
        };
        if let Some(field) = &self.field {
            body["field"] = json!(field);
        }
        if let Some(serde_json::Value::Object(extra)) = self.extra.take() {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        let mut resp = (status, axum::Json(json!({ "error": body }))).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
