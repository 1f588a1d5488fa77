//! The upload pipeline (PRODUCT.md F1): stream a multipart field to a spool file
//! while sniffing its type from the first bytes, enforcing the size limit of that
//! type and hashing; then make a thumbnail for images.

mod sniff;
mod thumbnail;

use std::path::{Path, PathBuf};

use actix_multipart::Field;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

pub use sniff::{Kind, sniff};
pub use thumbnail::{
    Caps, Fitted, THUMBNAILS, Thumbnail, decode_fitted, make_thumbnail, write_jpeg,
};

/// A tiny PNG declaring huge dimensions, for tests of the decode caps.
#[cfg(test)]
pub(crate) use thumbnail::tests::png_declaring;

use crate::config::FileLimits;
use crate::error::{ApiError, ErrorCode};
use andon_actors::metrics::RealtimeMetrics;

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
    metrics: &RealtimeMetrics,
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
        metrics.upload_read(size);
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

/// Longest stored name, in characters.
const NAME_MAX: usize = 200;

/// A file name safe to store and to put in `Content-Disposition`: no directories,
/// no control characters, at most 200 characters.
///
/// Invisible characters are removed too: format characters (Unicode category Cf:
/// bidirectional overrides and isolates, zero-width joiners and spaces, the BOM)
/// and line/paragraph separators. They have no place in a file name and let a name
/// look unlike what it is: `restart\u{202E}txt.bat` shows as `restarttab.txt`.
pub fn sanitize_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|&c| !is_invisible(c) && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .take(NAME_MAX)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.is_control()
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// Extensions that open a file of this sniffed type as that type; the first is
/// the one added when the name has none of them.
fn extensions(mime: &str) -> &'static [&'static str] {
    match mime {
        "image/jpeg" => &["jpg", "jpeg"],
        "image/png" => &["png"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "application/pdf" => &["pdf"],
        "text/csv" => &["csv"],
        // `.log` opens in a text editor too and is what machines write.
        _ => &["txt", "log"],
    }
}

/// `name` (already sanitized) with an extension that matches the sniffed type, so
/// that what a downloader's system opens it with follows the bytes, not the
/// uploader's choice: a text file named `restart.bat` is stored as
/// `restart.bat.txt`, a PNG named `photo.jpg` as `photo.png`.
pub fn with_matching_extension(name: &str, mime: &str) -> String {
    let wanted = extensions(mime);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext.to_lowercase())),
        _ => (name, None),
    };
    if ext.as_deref().is_some_and(|e| wanted.contains(&e)) {
        return name.to_string();
    }
    // A known type's extension on the wrong type is replaced; anything else is
    // kept as part of the name, so nothing the uploader wrote is lost.
    let known = crate::config::ALL_FILE_TYPES
        .iter()
        .flat_map(|m| extensions(m))
        .any(|k| ext.as_deref() == Some(*k));
    let stem = if known { stem } else { name };
    let suffix = wanted[0];
    let room = NAME_MAX - suffix.len() - 1;
    let stem: String = stem.chars().take(room).collect();
    format!("{stem}.{suffix}")
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

    #[test]
    fn names_lose_bidirectional_and_other_invisible_characters() {
        assert_eq!(sanitize_name("restart\u{202E}txt.bat"), "restarttxt.bat");
        for c in [
            '\u{200B}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202D}', '\u{2066}', '\u{2069}',
            '\u{061C}', '\u{FEFF}', '\u{00AD}', '\u{2028}', '\u{2029}',
        ] {
            assert_eq!(
                sanitize_name(&format!("a{c}b.pdf")),
                "ab.pdf",
                "U+{:04X}",
                c as u32
            );
        }
        // Visible non-ASCII stays: CJK, accents, emoji with its variation selector.
        assert_eq!(sanitize_name("報告 café ⚠️.pdf"), "報告 café ⚠️.pdf");
        assert_eq!(sanitize_name("\u{202E}\u{200B}"), "file");
    }

    #[test]
    fn stored_extension_follows_the_sniffed_type() {
        let cases = [
            ("restarttxt.bat", "text/plain", "restarttxt.bat.txt"),
            ("notes", "text/plain", "notes.txt"),
            ("plc.LOG", "text/plain", "plc.LOG"),
            ("line3.csv", "text/csv", "line3.csv"),
            ("photo.jpg", "image/png", "photo.png"),
            ("photo.JPEG", "image/jpeg", "photo.JPEG"),
            ("scan.pdf.exe", "application/pdf", "scan.pdf.exe.pdf"),
            ("report.pdf", "image/webp", "report.webp"),
            (".bashrc", "text/plain", ".bashrc.txt"),
            ("報告", "application/pdf", "報告.pdf"),
        ];
        for (name, mime, stored) in cases {
            assert_eq!(
                with_matching_extension(name, mime),
                stored,
                "{name} as {mime}"
            );
        }
        let long = with_matching_extension(&"x".repeat(200), "image/gif");
        assert_eq!(long.chars().count(), 200);
        assert!(long.ends_with("x.gif"));
    }
}
