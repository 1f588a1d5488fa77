//! File type from the bytes: magic numbers for images and PDF (`infer`), and valid
//! UTF-8 without NUL bytes for text. The client's `Content-Type` and the name's
//! extension are never trusted; the name only tells CSV from plain text.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Document,
    Log,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Document => "document",
            Self::Log => "log",
        }
    }
}

/// The MIME type and kind of a file starting with `head`, or `None` when it is not
/// one Andon knows (executables, archives, …).
pub fn sniff(head: &[u8], name: &str) -> Option<(&'static str, Kind)> {
    if let Some(t) = infer::get(head) {
        let known = match t.mime_type() {
            "image/jpeg" => Some(("image/jpeg", Kind::Image)),
            "image/png" => Some(("image/png", Kind::Image)),
            "image/gif" => Some(("image/gif", Kind::Image)),
            "image/webp" => Some(("image/webp", Kind::Image)),
            "application/pdf" => Some(("application/pdf", Kind::Document)),
            _ => None,
        };
        match known {
            // Not the image infer guessed from part of a signature: maybe text.
            Some((mime, _)) if !full_signature(mime, head) => {}
            other => return other,
        }
    }
    if looks_like_text(head) {
        let csv = name.to_lowercase().ends_with(".csv");
        return Some((if csv { "text/csv" } else { "text/plain" }, Kind::Log));
    }
    None
}

/// infer calls a file GIF on `GIF` alone and WebP on `WEBP` at offset 8 alone, so
/// a log starting "GIF line 3 stopped" would be an image that fails to decode.
fn full_signature(mime: &str, head: &[u8]) -> bool {
    match mime {
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.starts_with(b"RIFF"),
        _ => true,
    }
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut in the middle of a character at the end of the sniffed bytes.
        Err(e) => e.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, "report.pdf"), Some(("image/png", Kind::Image)));
        assert_eq!(
            sniff(b"%PDF-1.7\n", "x.jpg"),
            Some(("application/pdf", Kind::Document))
        );
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF", "a"),
            Some(("image/jpeg", Kind::Image))
        );
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        assert_eq!(sniff(elf, "photo.jpg"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0", "photo.jpg"), None);
    }

    #[test]
    fn text_is_utf8_without_nul_and_csv_by_name() {
        assert_eq!(
            sniff("溫度,壓力\n21,3\n".as_bytes(), "line3.CSV"),
            Some(("text/csv", Kind::Log))
        );
        assert_eq!(
            sniff(b"ERROR motor stalled\n", "plc.log"),
            Some(("text/plain", Kind::Log))
        );
        let cut = &"溫度".as_bytes()[..4];
        assert_eq!(sniff(cut, "x.txt"), Some(("text/plain", Kind::Log)));
        assert_eq!(sniff(b"abc\0def", "x.txt"), None);
        assert_eq!(sniff(b"\xff\xfe\xfd", "x.txt"), None);
    }
}

#[cfg(test)]
mod props;
