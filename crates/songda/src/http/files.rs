//! Document bytes and page images: streamed from the blob store, never held whole in
//! memory, and recorded as the recipient's access.

use crate::actions::Who;
use crate::actions::recipient;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use songda_core::ids::{DocumentId, ServiceId};

pub async fn serve_document(
    state: &AppState,
    who: &Who,
    service_id: ServiceId,
    doc_id: DocumentId,
    download: bool,
) -> AppResult<Response> {
    let d = recipient::visible_service(state, who, service_id).await?;
    let doc = d
        .documents
        .iter()
        .find(|x| x.id == doc_id)
        .ok_or_else(AppError::not_found)?
        .clone();
    let stream = state.blobs.stream(&doc.sha256).await?;
    recipient::record_access(state, who, &d, Some(doc.id), download).await?;
    let disposition = format!(
        "{}; filename=\"document.pdf\"; filename*=UTF-8''{}.pdf",
        if download { "attachment" } else { "inline" },
        percent_encode(&doc.title)
    );
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(doc.size as u64));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", doc.sha256)) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// A page of a document as a PNG, for reading on a phone.
pub async fn page_image(
    state: &AppState,
    who: &Who,
    service_id: ServiceId,
    doc_id: DocumentId,
    page: u32,
) -> AppResult<Response> {
    let d = recipient::visible_service(state, who, service_id).await?;
    let doc = d
        .documents
        .iter()
        .find(|x| x.id == doc_id)
        .ok_or_else(AppError::not_found)?;
    let data = state.blobs.read(&doc.sha256).await?;
    let png = tokio::task::spawn_blocking(move || crate::pdf::render_page_png(data, page, 1200))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| match e {
            crate::pdf::PdfError::NoSuchPage(_) => AppError::not_found(),
            other => AppError::internal(anyhow::anyhow!("rendering page: {other}")),
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png,
    )
        .into_response())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
