//! The upload pipeline (PRODUCT.md F1): stream a multipart field to a spool file
//! while sniffing its type from the first bytes, enforcing the size limit of that
//! type and hashing; then make a thumbnail for images.

mod sniff;
mod thumbnail;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use actix_multipart::Field;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

pub use sniff::{Kind, sniff};
pub use thumbnail::make_thumbnail;

use crate::config::FileLimits;
use crate::error::{ApiError, ErrorCode};
use crate::realtime::Stats;

/// Bytes looked at to sniff the type.
const SNIFF_LEN: usize = 8192;

/// A spooled file, removed when dropped unless it was kept.
pub struct Spool {
    pub path: PathBuf,
}

impl Spool {
    pub fn new(dir: &Path, suffix: &str) -> Self {
        Self {
            path: dir.join(format!("{}{suffix}", uuid::Uuid::new_v4())),
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// An upload received in full.
pub struct Received {
    pub spool: Spool,
    pub size: u64,
    pub sha256: String,
    pub mime: &'static str,
    pub kind: Kind,
}

fn storage_down(e: std::io::Error) -> ApiError {
    tracing::warn!(error = %e, "cannot spool an upload");
    ApiError::new(
        ErrorCode::Unavailable,
        "File storage is unavailable; try again shortly",
    )
    .with_retry_after(5)
}

/// Streams `field` into a spool file in `dir`. Stops reading as soon as the type is
/// refused (415) or the type's limit is passed (413); the spool file is removed on
/// any failure.
pub async fn receive(
    field: &mut Field,
    name: &str,
    dir: &Path,
    limits: &FileLimits,
    stats: &Stats,
) -> Result<Received, ApiError> {
    let spool = Spool::new(dir, ".part");
    let mut out = tokio::fs::File::create(&spool.path)
        .await
        .map_err(storage_down)?;
    let mut hasher = openssl::sha::Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
    let mut sniffed: Option<(&'static str, Kind, u64)> = None;
    let mut size: u64 = 0;
    let mut ended = false;
    while !ended {
        let chunk = match field.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    format!("Upload interrupted: {e}"),
                ));
            }
            None => {
                ended = true;
                bytes::Bytes::new()
            }
        };
        size += chunk.len() as u64;
        stats
            .upload_read_high_water
            .fetch_max(size, Ordering::Relaxed);
        if sniffed.is_none() {
            head.extend_from_slice(&chunk);
            if head.len() < SNIFF_LEN && !ended {
                continue;
            }
            if head.is_empty() {
                return Err(ApiError::validation("The file is empty"));
            }
            let (mime, kind) = sniff(&head, name)
                .filter(|(mime, _)| limits.allowed_types.iter().any(|t| t == mime))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::UnsupportedMediaType,
                        format!(
                            "This type of file is not allowed; allowed: {}",
                            limits.allowed_types.join(", ")
                        ),
                    )
                })?;
            let limit = match kind {
                Kind::Image => limits.image_bytes,
                Kind::Document => limits.document_bytes,
                Kind::Log => limits.text_bytes,
            };
            sniffed = Some((mime, kind, limit));
            hasher.update(&head);
            out.write_all(&head).await.map_err(storage_down)?;
            head = Vec::new();
        } else {
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(storage_down)?;
        }
        if let Some((_, kind, limit)) = sniffed
            && size > limit
        {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("{} files may be at most {} bytes", kind.as_str(), limit),
            ));
        }
    }
    out.flush().await.map_err(storage_down)?;
    let (mime, kind, _) = sniffed.ok_or_else(|| ApiError::validation("The file is empty"))?;
    let sha256 = hasher.finish().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Received {
        spool,
        size,
        sha256,
        mime,
        kind,
    })
}

/// A file name safe to store and to put in `Content-Disposition`: no directories,
/// no control characters, at most 200 characters.
pub fn sanitize_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\x\\報告.pdf"), "報告.pdf");
        assert_eq!(sanitize_name("a\u{0}b\r\n\"c\".txt"), "abc.txt");
        assert_eq!(sanitize_name("..."), "file");
        assert_eq!(sanitize_name(&"x".repeat(300)).chars().count(), 200);
    }
}
