//! The local blob folder (the embedded default).
//!
//! A blob is first written to `tmp/`, synced, then linked into place. A crash leaves at
//! most an orphan in `tmp/`, never a half-written blob under its final name; and since the
//! database row is written only after the link, no row points at a missing blob.

use songda_core::document::Sha256Hex;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub fn open(root: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
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

    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut out = vec![];
        for dir in std::fs::read_dir(&self.root)? {
            let dir = dir?;
            let name = dir.file_name();
            // Blob folders are two hex digits; tmp/ holds uploads in progress.
            if name.len() != 2 || !dir.file_type()?.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir.path())? {
                out.push(file?.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(out)
    }

    pub async fn open_file(&self, sha: &Sha256Hex) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path(sha)).await
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
