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
    #[error("the requested range is not satisfiable")]
    RangeNotSatisfiable,
}

/// How a client gets an object.
pub enum Download {
    /// A local file the server streams (with range support).
    File(PathBuf),
    /// A presigned URL to redirect to (S3 with a public endpoint).
    Redirect(String),
    /// An object the server relays from the storage (S3 without one).
    Stream(ObjectStream),
}

/// An object's bytes as they arrive from the storage, with what the response
/// needs to describe them.
pub struct ObjectStream {
    pub body: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, StorageError>>,
    pub length: Option<u64>,
    /// `Content-Range` when a range was asked for and served (a 206).
    pub content_range: Option<String>,
    pub etag: Option<String>,
}

/// The client's `Range` header when it is one range of bytes (`bytes=0-99`,
/// `bytes=100-`, `bytes=-50`); anything else is ignored and the whole object is
/// served, as RFC 9110 allows.
pub fn single_byte_range(header: &str) -> Option<&str> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit()) && s.len() <= 19;
    let ok = digits(start) && digits(end) && !(start.is_empty() && end.is_empty());
    ok.then_some(header.trim())
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
    /// How to serve `key`, with the headers a presigned URL must carry; `range`
    /// is a checked single byte range (see [`single_byte_range`]) for drivers
    /// that relay the bytes themselves.
    async fn download(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        range: Option<&str>,
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

#[cfg(test)]
mod tests {
    use super::single_byte_range;

    #[test]
    fn only_single_byte_ranges_are_passed_on() {
        for ok in ["bytes=0-99", "bytes=100-", "bytes=-50", " bytes=4-9 "] {
            assert_eq!(single_byte_range(ok), Some(ok.trim()), "{ok}");
        }
        for bad in [
            "bytes=0-1,5-9",
            "bytes=-",
            "items=0-5",
            "bytes=a-b",
            "bytes=0-9;x",
            "",
        ] {
            assert_eq!(single_byte_range(bad), None, "{bad}");
        }
    }
}
