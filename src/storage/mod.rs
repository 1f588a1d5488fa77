//! Object storage for uploaded files (PRODUCT.md F4): a local directory (the
//! default) or any S3-compatible server. Uploads are first spooled to a local file
//! (size-limited, hashed, sniffed as they stream in); a driver then stores that
//! finished file, so neither driver ever holds a whole upload in memory.
//!
//! Keys: `rooms/<room id>/<file id>`, `rooms/<room id>/<file id>.thumb.jpg` and
//! `rooms/<room id>/<report id>.report.docx`, so a room's objects can be removed
//! by prefix.

mod local;
mod s3;

use std::path::{Path, PathBuf};

pub use local::LocalStorage;
pub use s3::S3Storage;

use crate::config::StorageConfig;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("object not found")]
    NotFound,
}

/// How a client gets an object.
pub enum Download {
    /// Streamed by the server (with range support).
    File(PathBuf),
    /// A presigned URL to redirect to.
    Redirect(String),
}

#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Creates what the driver needs (directory, bucket) if missing.
    async fn prepare(&self) -> Result<(), StorageError>;
    /// Whether the storage answers (`/readyz`).
    async fn check(&self) -> Result<(), StorageError>;
    /// Where uploads are spooled before they are stored.
    fn spool_dir(&self) -> PathBuf;
    /// Stores the finished local file `path` under `key`.
    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError>;
    /// How to serve `key`, with the headers a presigned URL must carry.
    async fn download(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
    ) -> Result<Download, StorageError>;
    /// Copies the object `key` to the local file `dest` (streamed: an object
    /// is never held in memory whole).
    async fn fetch(&self, key: &str, dest: &Path) -> Result<(), StorageError>;
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
    /// Deletes every object under `prefix`; returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError>;
}

pub fn room_prefix(room: uuid::Uuid) -> String {
    format!("rooms/{room}/")
}

pub fn object_key(room: uuid::Uuid, file: uuid::Uuid) -> String {
    format!("rooms/{room}/{file}")
}

pub fn thumbnail_key(room: uuid::Uuid, file: uuid::Uuid) -> String {
    format!("rooms/{room}/{file}.thumb.jpg")
}

pub fn report_key(room: uuid::Uuid, report: uuid::Uuid) -> String {
    format!("rooms/{room}/{report}.report.docx")
}

/// Builds the configured driver and prepares it.
pub async fn open(config: &StorageConfig) -> anyhow::Result<std::sync::Arc<dyn Storage>> {
    let storage: std::sync::Arc<dyn Storage> = match config {
        StorageConfig::Local(dir) => std::sync::Arc::new(LocalStorage::new(dir.clone())),
        StorageConfig::S3(s3) => std::sync::Arc::new(S3Storage::new(s3)),
    };
    // A storage that is down at start is reported and retried on use, like the
    // database: the server still starts and /readyz tells.
    if let Err(e) = storage.prepare().await {
        tracing::warn!(error = %e, "storage not ready at start");
    }
    Ok(storage)
}
