//! `/verify`: the public page on which anyone checks a service certificate, by the code
//! printed on it (the QR code opens `/verify?code=...`) or by uploading its JSON, and
//! optionally a document against the served ones. No login.

use super::{Chrome, Ctx, FormError, PageError, render};
use crate::actions::verification::{self, Subject, Verified};
use crate::error::{AppError, AppResult};
use crate::http::extract::Client;
use crate::http::upload::too_large;
use crate::state::AppState;
use crate::verify::{GivenDocument, Outcome};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use songda_core::evidence::ClientInfo;
use songda_core::service::ServiceRule;
use songda_core::timefmt::{court_seconds, parse_rfc3339};

/// The largest certificate JSON accepted (a service with thousands of events fits).
const MAX_CERTIFICATE: usize = 16 * 1024 * 1024;
/// Documents compared per check.
const MAX_DOCUMENTS: usize = 10;

pub fn router() -> Router<AppState> {
    // Each part is bounded as it streams (the certificate, each document, their number).
    Router::new().route(
        "/verify",
        get(get_verify)
            .post(post_verify)
            .layer(DefaultBodyLimit::disable()),
    )
}

#[derive(Template)]
#[template(path = "verify_certificate.html")]
struct VerifyPage {
    c: Chrome,
    code: String,
    err: FormError,
    result: Option<ResultView>,
}

/// The report, laid out for the page.
struct ResultView {
    valid: bool,
    by_code: bool,
    proven: Option<ProvenView>,
    checks: Vec<CheckView>,
}

struct ProvenView {
    court: String,
    case_number: String,
    recipient: String,
    documents: Vec<DocView>,
    served: Option<(String, String)>,
    signed_at: Option<String>,
    refused_at: Option<String>,
    head: String,
}

struct DocView {
    title: String,
    sha256: String,
    matched_file: Option<String>,
}

struct CheckView {
    class: &'static str,
    mark: &'static str,
    detail: String,
}

fn local(t: &str) -> String {
    parse_rfc3339(t)
        .map(|t| format!("{}（北京时间）", court_seconds(t)))
        .unwrap_or_else(|| t.to_string())
}

impl ResultView {
    fn new(v: Verified, l: super::Lang) -> Self {
        let proven = v.report.proven.map(|p| ProvenView {
            court: p.court,
            case_number: p.case_number,
            recipient: p.recipient,
            documents: p
                .documents
                .into_iter()
                .map(|d| DocView {
                    title: d.title,
                    sha256: d.sha256,
                    matched_file: d.matched_file,
                })
                .collect(),
            served: p.served_at.as_deref().map(local).map(|at| {
                let rule = p
                    .service_rule
                    .as_deref()
                    .and_then(ServiceRule::parse)
                    .map(|r| l.t(r.label_zh(), r.label_en()).to_string())
                    .unwrap_or_default();
                (at, rule)
            }),
            signed_at: p.signed_at.as_deref().map(local),
            refused_at: p.refused_at.as_deref().map(local),
            head: format!(
                "{} · {} · {}",
                p.head_size,
                local(&p.head_timestamp),
                p.key_id
            ),
        });
        let checks = v
            .report
            .checks
            .into_iter()
            .map(|c| {
                let (class, mark) = match c.outcome {
                    Outcome::Ok => ("ok", "✓"),
                    Outcome::Warning => ("warning", "!"),
                    Outcome::Failed => ("failed", "✗"),
                };
                CheckView {
                    class,
                    mark,
                    detail: c.detail,
                }
            })
            .collect();
        Self {
            valid: v.report.valid,
            by_code: v.code.is_some(),
            proven,
            checks,
        }
    }
}

#[derive(Deserialize)]
struct VerifyQuery {
    code: Option<String>,
}

fn page(ctx: &Ctx, code: String, result: Result<Option<Verified>, AppError>) -> Response {
    let (result, err) = match result {
        Ok(v) => (v.map(|v| ResultView::new(v, ctx.l)), FormError::default()),
        Err(e) => (None, FormError::from(ctx.l, &e)),
    };
    let status = err.status;
    FormError::apply(
        status,
        render(&VerifyPage {
            c: ctx.chrome(),
            code,
            err,
            result,
        }),
    )
}

/// The form, or the result for a code (the QR code's link).
async fn get_verify(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, PageError> {
    let code = q.code.unwrap_or_default();
    if code.trim().is_empty() {
        return Ok(page(&ctx, code, Ok(None)));
    }
    let result = verification::verify(&state, &client, Subject::Code(code.clone()), &[]).await;
    Ok(page(&ctx, code, result.map(Some)))
}

/// A code or a certificate file, and documents to compare.
async fn post_verify(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let (code, result) = match receive(&state, multipart).await {
        Ok(form) => {
            let code = form.code.clone();
            (code, check(&state, &client, form).await)
        }
        Err(e) => (String::new(), Err(e)),
    };
    Ok(page(&ctx, code, result.map(Some)))
}

async fn check(state: &AppState, client: &ClientInfo, form: VerifyForm) -> AppResult<Verified> {
    let subject = match (form.certificate, form.code.trim().is_empty()) {
        (Some(bytes), _) => Subject::Certificate(bytes),
        (None, false) => Subject::Code(form.code),
        (None, true) => {
            return Err(AppError::field(
                "code",
                "enter the verification code or choose a certificate file",
            ));
        }
    };
    verification::verify(state, client, subject, &form.documents).await
}

struct VerifyForm {
    code: String,
    certificate: Option<Vec<u8>>,
    documents: Vec<GivenDocument>,
}

/// Reads the form: the certificate into memory (bounded), each document hashed as it
/// streams (never kept).
async fn receive(state: &AppState, mut multipart: Multipart) -> AppResult<VerifyForm> {
    let limit = state.settings.max_upload_bytes;
    let mut form = VerifyForm {
        code: String::new(),
        certificate: None,
        documents: Vec::new(),
    };
    while let Some(mut part) = multipart.next_field().await.map_err(bad_form)? {
        let name = part.name().unwrap_or("").to_string();
        let file_name = part.file_name().unwrap_or("").to_string();
        match name.as_str() {
            "code" => {
                form.code = part
                    .text()
                    .await
                    .map_err(bad_form)?
                    .chars()
                    .take(64)
                    .collect()
            }
            "certificate" | "document" => {
                let mut bytes = Vec::new();
                let mut hasher = Sha256::new();
                let mut size = 0u64;
                while let Some(chunk) = part.chunk().await.map_err(bad_form)? {
                    size += chunk.len() as u64;
                    if name == "certificate" {
                        if bytes.len() + chunk.len() > MAX_CERTIFICATE {
                            return Err(AppError::field(
                                "certificate",
                                "this file is too large to be a certificate",
                            ));
                        }
                        bytes.extend_from_slice(&chunk);
                    } else {
                        if size > limit {
                            return Err(too_large(limit));
                        }
                        hasher.update(&chunk);
                    }
                }
                if size == 0 {
                    continue; // a file input left empty
                }
                if name == "certificate" {
                    form.certificate = Some(bytes);
                } else {
                    if form.documents.len() == MAX_DOCUMENTS {
                        return Err(AppError::field(
                            "document",
                            format!("compare at most {MAX_DOCUMENTS} documents at a time"),
                        ));
                    }
                    let shown = if file_name.is_empty() {
                        format!("document {}", form.documents.len() + 1)
                    } else {
                        file_name
                    };
                    form.documents.push(GivenDocument {
                        name: shown,
                        sha256: hex::encode(hasher.finalize()),
                    });
                }
            }
            _ => {
                // Unknown parts are read and dropped.
                while part.chunk().await.map_err(bad_form)?.is_some() {}
            }
        }
    }
    Ok(form)
}

fn bad_form(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::new(
        crate::error::Kind::BadRequest,
        "malformed_multipart",
        e.body_text(),
    )
}
