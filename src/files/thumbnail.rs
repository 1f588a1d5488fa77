//! Thumbnails: longest side 320 px, JPEG, made from decoded pixels only, so no
//! metadata of the original (EXIF, GPS) can reach them. The EXIF orientation is
//! applied first so the thumbnail is upright.

use std::io::BufWriter;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

pub const THUMBNAIL_SIDE: u32 = 320;

/// Decodes `src` and writes its thumbnail to `dst`. Errors are for people: the
/// image could not be decoded.
pub fn make_thumbnail(src: &Path, dst: &Path) -> Result<(), String> {
    let mut reader = ImageReader::open(src)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    // Refuse decompression bombs instead of allocating gigabytes.
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    let thumb = if img.width() > THUMBNAIL_SIDE || img.height() > THUMBNAIL_SIDE {
        img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        img
    };
    let file = std::fs::File::create(dst).map_err(|e| e.to_string())?;
    JpegEncoder::new_with_quality(BufWriter::new(file), 80)
        .encode_image(&thumb.to_rgb8())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_side_becomes_320_and_aspect_is_kept() {
        let dir = std::env::temp_dir().join(format!("andon-thumb-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (src, dst) = (dir.join("in.png"), dir.join("out.jpg"));
        image::RgbImage::from_pixel(1000, 500, image::Rgb([200, 10, 10]))
            .save(&src)
            .unwrap();
        make_thumbnail(&src, &dst).unwrap();
        let t = image::open(&dst).unwrap();
        assert_eq!((t.width(), t.height()), (320, 160));
        assert!(make_thumbnail(&dst.with_extension("missing"), &dst).is_err());
        std::fs::write(&src, b"\x89PNG\r\n\x1a\nbroken").unwrap();
        assert!(make_thumbnail(&src, &dst).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod props;
