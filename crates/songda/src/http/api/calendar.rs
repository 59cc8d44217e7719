//! `/calendar`: the holiday calendar time limits are counted over; administrators add to it.

use crate::actions::deadlines;
use crate::error::AppResult;
use crate::http::extract::{Auth, JsonBody};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use songda_core::deadline::Calendar;
use songda_core::timefmt::rfc3339;

pub fn router() -> Router<AppState> {
    Router::new().route("/calendar", get(get_calendar).put(put_calendar))
}

async fn calendar_json(state: &AppState) -> AppResult<Value> {
    let (cal, _) = deadlines::calendar(state).await?;
    let local = state.store.calendar().await?;
    Ok(json!({
        "version": local.as_ref().map_or(0, |v| v.version),
        "local": local.as_ref().map(|v| v.body.as_str()).unwrap_or(""),
        "saved_by": local.as_ref().map(|v| v.saved_by.as_str()),
        "saved_at": local.as_ref().map(|v| rfc3339(v.saved_at)),
        "builtin": Calendar::BUILTIN,
        "years": cal.years(),
    }))
}

async fn get_calendar(State(state): State<AppState>, _auth: Auth) -> AppResult<Json<Value>> {
    Ok(Json(calendar_json(&state).await?))
}

#[derive(Deserialize)]
struct CalendarBody {
    local: String,
}

async fn put_calendar(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<CalendarBody>,
) -> AppResult<Json<Value>> {
    deadlines::save_calendar(&state, &auth.who, &b.local).await?;
    Ok(Json(calendar_json(&state).await?))
}
