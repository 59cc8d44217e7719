//! The public evidence log (API.md): the signed tree head, proofs, and the public keys.
//! No login: anyone may check the log.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/log/head", get(get_head))
        .route("/log/inclusion", get(get_inclusion))
        .route("/log/consistency", get(get_consistency))
        .route("/log/public-key", get(get_public_key))
}

async fn get_head(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let head = crate::log::current_head(&state).await?;
    Ok(Json(
        serde_json::to_value(head).map_err(AppError::internal)?,
    ))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: Option<String>,
    size: Option<String>,
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A required non-negative integer query parameter.
fn number(name: &str, value: Option<String>) -> AppResult<u64> {
    let value = value.ok_or_else(|| AppError::field(name, format!("{name} is required")))?;
    value.trim().parse().map_err(|_| {
        AppError::field(
            name,
            format!("{name} must be a whole number, not {value:?}"),
        )
    })
}

async fn get_inclusion(
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> AppResult<Json<Value>> {
    let (index, size) = (number("index", q.index)?, number("size", q.size)?);
    let proof = state.store.log_inclusion_proof(index, size).await?;
    let (_, leaf) = state.store.log_leaf(index).await?;
    Ok(Json(json!({
        "index": index,
        "size": size,
        "leaf_hash": leaf.to_string(),
        "proof": proof.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })))
}

async fn get_consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> AppResult<Json<Value>> {
    let (from, to) = (number("from", q.from)?, number("to", q.to)?);
    let proof = state.store.log_consistency_proof(from, to).await?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "proof": proof.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })))
}

async fn get_public_key(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let keys = state.store.log_keys().await?;
    Ok(Json(json!({
        "algorithm": state.log_signer.algorithm().name(),
        "key_id": state.log_signer.key_id(),
        "public_key": state.log_signer.public_key(),
        "keys": keys,
    })))
}
