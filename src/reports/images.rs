//! Evidence pictures for a report: each image file is decoded within the same
//! memory caps as a thumbnail ([`crate::files::Caps`]), made upright, scaled so
//! its longest side is at most [`EVIDENCE_SIDE`] and re-encoded as a JPEG. Only
//! the pixels are kept, so nothing of the original's metadata (EXIF, GPS, the
//! camera's serial) reaches the document.
//!
//! Decoding is CPU-bound and may hold a large pixel buffer (up to the caps'
//! `max_decoded_bytes`): [`prepare_image_bounded`] runs it on the blocking pool
//! in one of the process's decode slots ([`THUMBNAILS`]), shared with uploads'
//! thumbnails.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::model::PreparedImage;
use crate::files::{Caps, Fitted, THUMBNAILS, decode_fitted, write_jpeg};

/// Longest side of an embedded picture: sharp across A4's text width (17 cm at
/// about 190 dpi), a few hundred KB as a JPEG.
pub const EVIDENCE_SIDE: u32 = 1280;

/// Decodes the image at `src` and re-encodes it for embedding: upright, longest
/// side at most `max_side` (never enlarged), JPEG quality 80, no metadata.
///
/// `Ok(None)` when the image is over the decode caps (it is left out of the
/// document, as it gets no thumbnail); errors are for people: the file could
/// not be read or decoded. Synchronous and CPU-bound: from async code use
/// [`prepare_image_bounded`].
pub fn prepare_image(
    file_id: Uuid,
    src: &Path,
    max_side: u32,
) -> Result<Option<PreparedImage>, String> {
    let img = match decode_fitted(src, max_side, Caps::DEFAULT)? {
        Fitted::Image(img) => img,
        Fitted::TooLarge(why) => {
            tracing::info!(file = %file_id, %why, "image too large to embed in a report");
            return Ok(None);
        }
    };
    let mut jpeg = Vec::new();
    write_jpeg(&img, &mut jpeg)?;
    Ok(Some(PreparedImage {
        file_id,
        jpeg,
        width: img.width(),
        height: img.height(),
    }))
}

/// [`prepare_image`] on the blocking pool, once one of the process's decode
/// slots is free.
pub async fn prepare_image_bounded(
    file_id: Uuid,
    src: PathBuf,
    max_side: u32,
) -> Result<Option<PreparedImage>, String> {
    THUMBNAILS
        .run(move || prepare_image(file_id, &src, max_side))
        .await?
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use image::codecs::jpeg::JpegEncoder;
    use image::{ImageEncoder, RgbImage};

    use super::*;

    /// An EXIF block (TIFF structure, big-endian) holding only the orientation.
    fn exif_with_orientation(orientation: u16) -> Vec<u8> {
        let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec();
        exif.extend_from_slice(&1u16.to_be_bytes()); // one entry
        // 0x0112 Orientation, SHORT, count 1, the value in the first two bytes.
        exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        exif.extend_from_slice(&orientation.to_be_bytes());
        exif.extend_from_slice(&[0, 0]);
        exif.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        exif
    }

    /// A JPEG of `w`×`h` with a gradient (so the encoder has something to do),
    /// carrying `exif` when given.
    pub(crate) fn jpeg(w: u32, h: u32, exif: Option<Vec<u8>>) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
        });
        let mut out = Cursor::new(Vec::new());
        let mut encoder = JpegEncoder::new_with_quality(&mut out, 85);
        if let Some(exif) = exif {
            encoder.set_exif_metadata(exif).unwrap();
        }
        encoder
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out.into_inner()
    }

    /// Where a JPEG has an `Exif` APP1 segment.
    fn has_exif(jpeg: &[u8]) -> bool {
        jpeg.windows(6).any(|w| w == b"Exif\0\0")
    }

    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("andon-evidence-{}", Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_large_photo_is_scaled_to_the_evidence_side_and_keeps_its_shape() {
        let scratch = Scratch::new();
        let id = Uuid::new_v4();
        let src = scratch.file("wide.jpg", &jpeg(3000, 1500, None));
        let prepared = prepare_image(id, &src, EVIDENCE_SIDE).unwrap().unwrap();
        assert_eq!(prepared.file_id, id);
        assert_eq!((prepared.width, prepared.height), (1280, 640));
        let decoded = image::load_from_memory(&prepared.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (1280, 640));
        assert_eq!(
            image::guess_format(&prepared.jpeg).unwrap(),
            image::ImageFormat::Jpeg
        );
        // A small one keeps its size.
        let src = scratch.file("small.jpg", &jpeg(300, 200, None));
        let prepared = prepare_image(id, &src, EVIDENCE_SIDE).unwrap().unwrap();
        assert_eq!((prepared.width, prepared.height), (300, 200));
    }

    #[test]
    fn exif_orientation_is_applied_and_no_metadata_survives() {
        let scratch = Scratch::new();
        let original = jpeg(400, 200, Some(exif_with_orientation(6)));
        assert!(has_exif(&original), "the test image carries EXIF");
        let src = scratch.file("rotated.jpg", &original);
        let prepared = prepare_image(Uuid::new_v4(), &src, EVIDENCE_SIDE)
            .unwrap()
            .unwrap();
        // Orientation 6: the camera was turned a quarter; upright it is tall.
        assert_eq!((prepared.width, prepared.height), (200, 400));
        assert!(!has_exif(&prepared.jpeg), "the re-encoded JPEG has no EXIF");
        let decoded = image::load_from_memory(&prepared.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (200, 400));
    }

    #[test]
    fn an_image_over_the_caps_is_left_out_and_a_broken_one_is_an_error() {
        let scratch = Scratch::new();
        // 12000×12000 declared in a few bytes: over MAX_PIXELS, never decoded.
        let bomb = scratch.file("bomb.png", &crate::files::png_declaring(12_000, 12_000));
        assert!(
            prepare_image(Uuid::new_v4(), &bomb, EVIDENCE_SIDE)
                .unwrap()
                .is_none()
        );
        let broken = scratch.file("broken.jpg", b"\xff\xd8\xff\xe0 not a jpeg");
        assert!(prepare_image(Uuid::new_v4(), &broken, EVIDENCE_SIDE).is_err());
        let missing = scratch.0.join("missing.jpg");
        assert!(prepare_image(Uuid::new_v4(), &missing, EVIDENCE_SIDE).is_err());
    }

    #[tokio::test]
    async fn the_bounded_variant_runs_on_the_blocking_pool() {
        let scratch = Scratch::new();
        let src = scratch.file("photo.jpg", &jpeg(2000, 1000, None));
        let prepared = prepare_image_bounded(Uuid::new_v4(), src, 640)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((prepared.width, prepared.height), (640, 320));
    }
}
