//! Request extractors: who is calling (bearer token or session cookie), from where, and
//! JSON bodies whose errors name the field at fault.

use crate::actions::Who;
use crate::error::{AppError, Kind};
use crate::secrets::token_hash;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde::de::DeserializeOwned;
use songda_core::evidence::ClientInfo;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "songda_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller's address and user agent, recorded with their actions.
pub fn client_info(parts: &Parts) -> ClientInfo {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(400)
        .collect();
    ClientInfo { ip, user_agent }
}

pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(Client(client_info(parts)))
    }
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Auth {
    pub who: Who,
    pub token: String,
    pub csrf: String,
    /// Authenticated by the browser cookie (so state changes need the CSRF token).
    pub via_cookie: bool,
}

/// The caller, if authenticated.
pub struct MaybeAuth(pub Option<Auth>);

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Auth>, AppError> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let (token, via_cookie) = match bearer {
        Some(t) => (t.to_string(), false),
        None => match cookie(parts, SESSION_COOKIE) {
            Some(t) => (t.to_string(), true),
            None => return Ok(None),
        },
    };
    let Some(session) = state
        .store
        .session(&token_hash(&token), state.now())
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Auth {
        who: Who {
            user: session.user,
            client: client_info(parts),
        },
        token,
        csrf: session.csrf,
        via_cookie,
    }))
}

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(MaybeAuth(authenticate(parts, state).await?))
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = authenticate(parts, state)
            .await?
            .ok_or_else(AppError::unauthorized)?;
        // A browser session changing state through the JSON API must prove it is our page.
        // (Pages take the user through `MaybeAuth` and check the token in their forms.)
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if auth.via_cookie && !safe {
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if given != Some(auth.csrf.as_str()) {
                return Err(AppError::new(
                    Kind::Forbidden,
                    "csrf",
                    "missing or wrong CSRF token",
                ));
            }
        }
        Ok(auth)
    }
}

/// A JSON body. Malformed JSON and wrong types answer 400 naming the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        if !is_json {
            return Err(AppError::new(
                Kind::Unsupported,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::new(Kind::TooLarge, "body_too_large", e.body_text()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(JsonBody(v)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    Err(AppError::new(
                        Kind::BadRequest,
                        "malformed_json",
                        format!("malformed JSON: {inner}"),
                    ))
                } else {
                    let msg = inner.to_string();
                    // A missing field is reported by serde at the parent path; name it.
                    let field = if path == "." {
                        msg.split('`').nth(1).unwrap_or("body").to_string()
                    } else {
                        path
                    };
                    Err(AppError::field(&field, format!("{field}: {msg}")))
                }
            }
        }
    }
}
