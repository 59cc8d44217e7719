//! The JSON-lines SMS sink: each message appended as `{"to": "...", "text": "..."}`.

use super::{Accepted, SendError};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

pub struct SmsFile {
    path: PathBuf,
    // One writer at a time, so lines never interleave.
    lock: Mutex<()>,
}

impl SmsFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub async fn send(&self, to: &str, text: &str) -> Result<Accepted, SendError> {
        let mut line = serde_json::to_string(&serde_json::json!({"to": to, "text": text}))
            .map_err(|e| SendError::permanent(e.to_string()))?;
        line.push('\n');
        let _guard = self.lock.lock().await;
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| SendError::transient(e.to_string()))?;
        }
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| SendError::transient(format!("{}: {e}", self.path.display())))?;
        f.write_all(line.as_bytes())
            .await
            .map_err(|e| SendError::transient(e.to_string()))?;
        f.sync_data()
            .await
            .map_err(|e| SendError::transient(e.to_string()))?;
        Ok(Accepted {
            reference: format!("file:{}", self.path.display()),
            message_id: None,
            receipts: Vec::new(),
        })
    }
}
