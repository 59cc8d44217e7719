//! Content-addressed blob folder: each document's bytes stored once, named by SHA-256,
//! written once and never overwritten (DOMAIN.md section 6: documents are frozen at upload).
//!
//! A blob is first written to `tmp/`, synced, then linked into place. A crash leaves at
//! most an orphan in `tmp/`, never a half-written blob under its final name; and since the
//! database row is written only after the link, no row points at a missing blob.

use songda_core::document::Sha256Hex;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        // Leftovers of uploads interrupted by a crash.
        for entry in std::fs::read_dir(root.join("tmp"))? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(Self { root })
    }

    /// A fresh temporary path for an upload in progress.
    pub fn tmp_path(&self) -> PathBuf {
        self.root
            .join("tmp")
            .join(format!("upload-{}", uuid::Uuid::new_v4()))
    }

    /// Where the blob with this hash lives.
    pub fn path(&self, sha: &Sha256Hex) -> PathBuf {
        let s = sha.as_str();
        self.root.join(&s[..2]).join(s)
    }

    /// Moves a complete, hashed temporary file into place. If a blob with this hash already
    /// exists it is kept as it is and the temporary file is dropped: the same content is
    /// stored once.
    pub async fn commit(&self, tmp: &Path, sha: &Sha256Hex) -> io::Result<()> {
        let tmp = tmp.to_path_buf();
        let dest = self.path(sha);
        tokio::task::spawn_blocking(move || commit_blocking(&tmp, &dest))
            .await
            .map_err(io::Error::other)?
    }

    pub fn exists(&self, sha: &Sha256Hex) -> bool {
        self.path(sha).is_file()
    }
}

fn commit_blocking(tmp: &Path, dest: &Path) -> io::Result<()> {
    std::fs::File::open(tmp)?.sync_all()?;
    let dir = dest
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let linked = match std::fs::hard_link(tmp, dest) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    std::fs::remove_file(tmp)?;
    if linked {
        // The new directory entry must survive a power cut before a row points at it.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[tokio::test]
    async fn the_same_content_is_stored_once_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path().to_path_buf()).unwrap();
        let data = b"%PDF-1.7 same bytes";
        let sha = Sha256Hex::from_bytes(&Sha256::digest(data).into());
        for _ in 0..2 {
            let tmp = blobs.tmp_path();
            std::fs::write(&tmp, data).unwrap();
            blobs.commit(&tmp, &sha).await.unwrap();
            assert!(!tmp.exists());
        }
        assert_eq!(std::fs::read(blobs.path(&sha)).unwrap(), data);
        // A second commit under the same name with other bytes does not replace the blob.
        let tmp = blobs.tmp_path();
        std::fs::write(&tmp, b"other").unwrap();
        blobs.commit(&tmp, &sha).await.unwrap();
        assert_eq!(std::fs::read(blobs.path(&sha)).unwrap(), data);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
