//! Streaming document uploads: the `file` part is written to a temporary file while its
//! SHA-256 and size are computed, so memory stays flat however large the document; past
//! the limit the upload stops with 413 and nothing is kept.

use crate::error::{AppError, AppResult, Kind};
use crate::state::AppState;
use axum::extract::Multipart;
use sha2::{Digest, Sha256};
use songda_core::document::Sha256Hex;
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

pub struct Upload {
    pub tmp: PathBuf,
    pub sha256: Sha256Hex,
    pub size: u64,
    /// The other (text) parts of the form.
    pub fields: HashMap<String, String>,
}

impl Upload {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Removes the temporary file unless the upload was handed on.
struct TmpGuard(Option<PathBuf>);

impl Drop for TmpGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub fn too_large(limit: u64) -> AppError {
    AppError::new(
        Kind::TooLarge,
        "too_large",
        format!(
            "the file is larger than the limit of {} MiB",
            limit / (1024 * 1024)
        ),
    )
}

pub async fn receive(state: &AppState, mut multipart: Multipart) -> AppResult<Upload> {
    let limit = state.settings.max_upload_bytes;
    let mut fields = HashMap::new();
    let mut file: Option<(PathBuf, Sha256Hex, u64)> = None;
    let mut guard = TmpGuard(None);
    while let Some(mut part) = multipart.next_field().await.map_err(bad_multipart)? {
        let name = part.name().unwrap_or("").to_string();
        if name == "file" {
            if file.is_some() {
                return Err(AppError::field("file", "send one file per upload"));
            }
            let tmp = state.blobs.tmp_path();
            guard.0 = Some(tmp.clone());
            let mut out = tokio::fs::File::create(&tmp).await?;
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            while let Some(chunk) = part.chunk().await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(limit)
                } else {
                    bad_multipart(e)
                }
            })? {
                size += chunk.len() as u64;
                if size > limit {
                    return Err(too_large(limit));
                }
                hasher.update(&chunk);
                out.write_all(&chunk).await?;
            }
            out.flush().await?;
            drop(out);
            if size == 0 {
                return Err(AppError::field("file", "the file is empty"));
            }
            file = Some((tmp, Sha256Hex::from_bytes(&hasher.finalize().into()), size));
        } else {
            let text = part.text().await.map_err(bad_multipart)?;
            if text.len() > 10_000 {
                return Err(AppError::field(&name, "field too long"));
            }
            fields.insert(name, text);
        }
    }
    let (tmp, sha256, size) =
        file.ok_or_else(|| AppError::field("file", "choose a PDF file to upload"))?;
    guard.0 = None;
    Ok(Upload {
        tmp,
        sha256,
        size,
        fields,
    })
}

fn bad_multipart(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::new(Kind::BadRequest, "malformed_multipart", e.body_text())
}
