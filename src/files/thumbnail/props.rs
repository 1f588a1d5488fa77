//! Properties of the thumbnailer (issue 15), beside the `cargo fuzz` target
//! `tests/fuzz/fuzz_targets/thumbnail.rs`. Each case decodes and encodes real
//! images, so there are few cases.

use std::io::Cursor;
use std::path::PathBuf;

use image::{ImageFormat, RgbImage};
use proptest::prelude::*;

use super::{THUMBNAIL_SIDE, Thumbnail, make_thumbnail};

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("andon-thumb-prop-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Thumbnails `bytes`: the thumbnail's size (`None`: too large for one), or
    /// the error.
    fn thumbnail(&self, bytes: &[u8]) -> Result<Option<(u32, u32)>, String> {
        let (src, dst) = (self.0.join("in"), self.0.join("out.jpg"));
        std::fs::write(&src, bytes).unwrap();
        let _ = std::fs::remove_file(&dst);
        match make_thumbnail(&src, &dst)? {
            Thumbnail::Made => {
                let thumb = image::open(&dst).expect("a thumbnail is a decodable image");
                Ok(Some((thumb.width(), thumb.height())))
            }
            Thumbnail::TooLarge(_) => {
                assert!(!dst.exists(), "no thumbnail is written for a large image");
                Ok(None)
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn format() -> impl Strategy<Value = ImageFormat> {
    prop_oneof![
        Just(ImageFormat::Png),
        Just(ImageFormat::Jpeg),
        Just(ImageFormat::Gif),
        Just(ImageFormat::WebP),
    ]
}

/// An image of `w`×`h` with a gradient, encoded as `format`.
fn encoded(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// The property the fuzz target checks: no panic, and a thumbnail within bounds.
fn fits(scratch: &Scratch, bytes: &[u8]) -> Result<(), String> {
    match scratch.thumbnail(bytes) {
        Ok(Some((w, h)))
            if !(1..=THUMBNAIL_SIDE).contains(&w) || !(1..=THUMBNAIL_SIDE).contains(&h) =>
        {
            Err(format!("a thumbnail of {w}x{h}"))
        }
        _ => Ok(()),
    }
}

/// Inputs that once failed the fuzz target (`tests/fuzz/regressions/thumbnail`).
#[test]
fn fuzz_regressions_hold() {
    let scratch = Scratch::new();
    for (path, data) in crate::test_support::fuzz_regressions("thumbnail") {
        if let Err(e) = fits(&scratch, &data) {
            panic!("{}: {e}", path.display());
        }
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(16))]

    /// The longest side is 320 (or the original's when smaller) and the shape
    /// is kept to within a pixel.
    #[test]
    fn a_thumbnail_fits_its_bounds_and_keeps_the_shape(
        (w, h) in (1u32..900, 1u32..900),
        format in format(),
    ) {
        // GIF encoding quantizes colours, slowly: smaller GIFs keep the run short.
        let (w, h) = if format == ImageFormat::Gif { (w / 3 + 1, h / 3 + 1) } else { (w, h) };
        let scratch = Scratch::new();
        let (tw, th) = scratch
            .thumbnail(&encoded(w, h, format))
            .unwrap()
            .expect("a small image gets a thumbnail");
        prop_assert!(tw <= THUMBNAIL_SIDE && th <= THUMBNAIL_SIDE, "{tw}x{th} from {w}x{h}");
        prop_assert!(tw >= 1 && th >= 1);
        let longest = w.max(h).min(THUMBNAIL_SIDE);
        prop_assert_eq!(tw.max(th), longest, "from {}x{}", w, h);
        // Aspect: th/tw ≈ h/w, within the rounding of the short side.
        let want_short = f64::from(w.min(h)) * f64::from(longest) / f64::from(w.max(h));
        prop_assert!((f64::from(tw.min(th)) - want_short).abs() <= 1.0, "{tw}x{th} from {w}x{h}");
    }

    /// Damaged images (bytes overwritten, or cut short) never panic; whatever
    /// still decodes gives a thumbnail within bounds.
    #[test]
    fn damaged_images_fail_cleanly_or_fit(
        w in 1u32..400,
        h in 1u32..400,
        format in format(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        keep in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encoded(w, h, format);
        for (at, byte) in damage {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(1 + keep.index(bytes.len()));
        fits(&Scratch::new(), &bytes).map_err(TestCaseError::fail)?;
    }
}
