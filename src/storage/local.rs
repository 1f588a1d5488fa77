//! The local-directory driver: objects are files under the root; uploads are
//! spooled in `<root>/.tmp` so that storing is a rename on the same filesystem.

use std::path::{Path, PathBuf};

use super::{Download, Storage, StorageError};

pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        // Keys are built by the server, but never let one climb out of the root.
        if key
            .split('/')
            .any(|part| part.is_empty() || part == ".." || part == ".")
        {
            return Err(StorageError::NotFound);
        }
        Ok(self.root.join(key))
    }
}

fn unavailable(e: std::io::Error) -> StorageError {
    StorageError::Unavailable(e.to_string())
}

#[async_trait::async_trait]
impl Storage for LocalStorage {
    async fn prepare(&self) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(self.spool_dir())
            .await
            .map_err(unavailable)
    }

    async fn check(&self) -> Result<(), StorageError> {
        let meta = tokio::fs::metadata(&self.root).await.map_err(unavailable)?;
        if !meta.is_dir() {
            return Err(StorageError::Unavailable(format!(
                "{} is not a directory",
                self.root.display()
            )));
        }
        let probe = self
            .spool_dir()
            .join(format!(".probe-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&probe, b"").await.map_err(unavailable)?;
        let _ = tokio::fs::remove_file(&probe).await;
        Ok(())
    }

    fn spool_dir(&self) -> PathBuf {
        self.root.join(".tmp")
    }

    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        _content_type: &str,
    ) -> Result<(), StorageError> {
        let target = self.path(key)?;
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(unavailable)?;
        }
        // A copy, not a rename: the spool file is the caller's to delete.
        tokio::fs::copy(path, &target).await.map_err(unavailable)?;
        Ok(())
    }

    async fn download(
        &self,
        key: &str,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Download, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(_) => Ok(Download::File(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::NotFound),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn fetch(&self, key: &str, dest: &Path) -> Result<(), StorageError> {
        match tokio::fs::copy(self.path(key)?, dest).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::NotFound),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let dir = self.path(prefix.trim_end_matches('/'))?;
        let mut n = 0;
        match tokio::fs::read_dir(&dir).await {
            Ok(mut entries) => {
                while let Some(entry) = entries.next_entry().await.map_err(unavailable)? {
                    tokio::fs::remove_file(entry.path())
                        .await
                        .map_err(unavailable)?;
                    n += 1;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(unavailable(e)),
        }
        tokio::fs::remove_dir(&dir).await.map_err(unavailable)?;
        Ok(n)
    }
}
