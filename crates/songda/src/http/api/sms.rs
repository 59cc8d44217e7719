//! Delivery reports from an HTTP SMS gateway: `POST /sms/reports`, signed with the secret
//! shared with the gateway (`SONGDA_SMS_SECRET`; the scheme is in `notify::sms_http`).

use crate::error::{AppError, AppResult, Kind};
use crate::jobs::receipts::{self, Recorded};
use crate::notify::SmsTransport;
use crate::notify::sms_http::{self, Report, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/sms/reports", post(post_report))
}

async fn post_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    // Without an HTTP gateway there is no secret, and nobody may report.
    let SmsTransport::Http(gateway) = &state.transports.sms else {
        return Err(AppError::not_found());
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    sms_http::verify(
        gateway.secret(),
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        state.now().unix_timestamp(),
    )
    .map_err(|why| AppError::new(Kind::Unauthorized, "bad_signature", why))?;
    let report: Report = serde_json::from_slice(&body).map_err(|e| {
        AppError::new(
            Kind::BadRequest,
            "bad_report",
            format!("a report is {{message_id, status, error?, done_at?}}: {e}"),
        )
    })?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let receipt = report
        .receipt(text)
        .map_err(|e| AppError::new(Kind::Unprocessable, "bad_report", e))?;
    match receipts::record(&state, "http", &receipt)
        .await
        .map_err(AppError::internal)?
    {
        Recorded::New => Ok(Json(json!({"recorded": true}))),
        Recorded::Repeated => Ok(Json(json!({"recorded": false, "repeated": true}))),
        // The gateway tries again later: the report may have overtaken the recording of
        // the message it is about.
        Recorded::Unknown => Err(AppError::new(
            Kind::NotFound,
            "unknown_message",
            format!("no message {:?} has been recorded", receipt.message_id),
        )),
    }
}
