//! Document bytes: content-addressed (named by SHA-256), written once and never overwritten
//! (DOMAIN.md section 6: documents are frozen at upload). Two backends behind one type: a
//! local folder (the embedded default) and S3-compatible object storage (scale-out).
//!
//! An upload is streamed to a local temporary file while it is hashed and checked; only a
//! complete, checked file is committed to the backend, and only after the commit succeeded
//! does a database row name the blob. A second commit of the same hash is a no-op.

mod local;
mod s3;

pub use local::LocalBlobs;
pub use s3::S3Blobs;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use songda_core::document::Sha256Hex;
use std::path::{Path, PathBuf};

/// What can go wrong with blobs. `Unavailable` is the storage refusing or not answering:
/// the operation did not happen and may be retried.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("document storage unavailable: {0}")]
    Unavailable(String),
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
}

pub type BlobStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

#[derive(Clone, Debug)]
pub struct BlobStore {
    tmp: PathBuf,
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Local(LocalBlobs),
    S3(S3Blobs),
}

impl BlobStore {
    /// Opens the configured backend: `url` is `s3://BUCKET[/PREFIX]?endpoint=..&region=..`,
    /// or `None` for the folder `blobs/` in the data dir. Temporary upload files live in
    /// the data dir either way.
    pub fn open(data_dir: &Path, url: Option<&str>) -> anyhow::Result<Self> {
        let store = Self::open_for_reading(data_dir, url)?;
        std::fs::create_dir_all(&store.tmp)?;
        // Leftovers of uploads interrupted by a crash.
        for entry in std::fs::read_dir(&store.tmp)? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(store)
    }

    /// Opens the backend without touching the temporary folder, for a process (such as
    /// `songda audit`) that runs beside a server whose uploads are in progress.
    pub fn open_for_reading(data_dir: &Path, url: Option<&str>) -> anyhow::Result<Self> {
        let root = data_dir.join("blobs");
        let tmp = root.join("tmp");
        let backend = match url {
            None => Backend::Local(LocalBlobs::open(root)?),
            Some(url) => Backend::S3(S3Blobs::from_url(url)?),
        };
        Ok(Self { tmp, backend })
    }

    /// Checks at start that the storage answers (the bucket exists and may be read).
    pub async fn check(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Local(_) => Ok(()),
            Backend::S3(s3) => s3.check().await,
        }
    }

    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local(_) => "local folder".into(),
            Backend::S3(s3) => s3.describe(),
        }
    }

    /// A fresh temporary path for an upload in progress.
    pub fn tmp_path(&self) -> PathBuf {
        self.tmp.join(format!("upload-{}", uuid::Uuid::new_v4()))
    }

    /// Moves a complete, hashed temporary file into storage and removes it. If a blob with
    /// this hash already exists it is kept as it is: the same content is stored once.
    pub async fn commit(&self, tmp: &Path, sha: &Sha256Hex) -> Result<(), BlobError> {
        let result = match &self.backend {
            Backend::Local(l) => l.commit(tmp, sha).await.map_err(BlobError::from),
            Backend::S3(s3) => s3.commit(tmp, sha).await,
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(tmp).await;
        }
        result
    }

    pub async fn exists(&self, sha: &Sha256Hex) -> Result<bool, BlobError> {
        match &self.backend {
            Backend::Local(l) => Ok(l.exists(sha)),
            Backend::S3(s3) => s3.exists(sha).await,
        }
    }

    /// The blob as a stream of chunks: memory stays flat however large it is.
    pub async fn stream(&self, sha: &Sha256Hex) -> Result<BlobStream, BlobError> {
        match &self.backend {
            Backend::Local(l) => {
                let file = l.open_file(sha).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => BlobError::NotFound(sha.to_string()),
                    _ => BlobError::Io(e),
                })?;
                Ok(tokio_util::io::ReaderStream::new(file).boxed())
            }
            Backend::S3(s3) => s3.stream(sha).await,
        }
    }

    /// The hashes of every stored blob, sorted; for operators and audits.
    pub async fn list(&self) -> Result<Vec<String>, BlobError> {
        let mut out = match &self.backend {
            Backend::Local(l) => l.list()?,
            Backend::S3(s3) => s3.list().await?,
        };
        out.sort();
        Ok(out)
    }

    /// The whole blob in memory, for work that needs all of it (rendering a page).
    pub async fn read(&self, sha: &Sha256Hex) -> Result<Vec<u8>, BlobError> {
        let mut stream = self.stream(sha).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(BlobError::Io)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[tokio::test]
    async fn the_same_content_is_stored_once_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path(), None).unwrap();
        let data = b"%PDF-1.7 same bytes";
        let sha = Sha256Hex::from_bytes(&Sha256::digest(data).into());
        for _ in 0..2 {
            let tmp = blobs.tmp_path();
            std::fs::write(&tmp, data).unwrap();
            blobs.commit(&tmp, &sha).await.unwrap();
            assert!(!tmp.exists());
        }
        assert_eq!(blobs.read(&sha).await.unwrap(), data);
        // A second commit under the same name with other bytes does not replace the blob.
        let tmp = blobs.tmp_path();
        std::fs::write(&tmp, b"other").unwrap();
        blobs.commit(&tmp, &sha).await.unwrap();
        assert_eq!(blobs.read(&sha).await.unwrap(), data);
        assert_eq!(
            std::fs::read_dir(dir.path().join("blobs/tmp"))
                .unwrap()
                .count(),
            0
        );
    }
}
