//! Thumbnails: longest side 320 px, JPEG, made from decoded pixels only, so no
//! metadata of the original (EXIF, GPS) can reach them. The EXIF orientation is
//! applied so the thumbnail is upright.
//!
//! Decoding allocates the whole image, so its memory is bounded twice:
//! - per image: at most [`MAX_PIXELS`] and [`MAX_DECODED_BYTES`], checked against
//!   the dimensions the file *declares*, before the pixel buffer exists. A larger
//!   image (or a decompression bomb: a small file declaring huge dimensions) is
//!   stored without a thumbnail ([`Thumbnail::TooLarge`]).
//! - per process: at most [`CONCURRENT_DECODES`] decodes at once ([`THUMBNAILS`]);
//!   further uploads wait their turn, holding only their spool file.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};
use tokio::sync::Semaphore;

pub const THUMBNAIL_SIDE: u32 = 320;

/// 8192 × 6144: the largest picture a phone camera's 50 MP mode writes.
pub const MAX_PIXELS: u64 = 8192 * 6144;
/// Longest side (panoramas are long but have fewer pixels).
pub const MAX_SIDE: u32 = 20_000;
/// The decoded pixel buffer: [`MAX_PIXELS`] at 4 bytes (RGBA, 8 bits a channel).
/// A 16-bit image gets half the pixels.
pub const MAX_DECODED_BYTES: u64 = MAX_PIXELS * 4;
/// Decodes at once in this process: CPU-bound work, and each may hold up to
/// [`MAX_DECODED_BYTES`], so eight huge images arriving together cost at most
/// twice that, not eight times.
pub const CONCURRENT_DECODES: usize = 2;

/// What became of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbnail {
    Made,
    /// Over the caps: no thumbnail; why, for the log.
    TooLarge(String),
}

/// The caps of one decode; [`Caps::DEFAULT`] in production.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_pixels: u64,
    pub max_side: u32,
    pub max_decoded_bytes: u64,
}

impl Caps {
    pub const DEFAULT: Self = Self {
        max_pixels: MAX_PIXELS,
        max_side: MAX_SIDE,
        max_decoded_bytes: MAX_DECODED_BYTES,
    };
}

/// Decodes `src` and writes its thumbnail to `dst`. Errors are for people: the
/// image could not be decoded.
pub fn make_thumbnail(src: &Path, dst: &Path) -> Result<Thumbnail, String> {
    make_thumbnail_within(src, dst, Caps::DEFAULT)
}

fn make_thumbnail_within(src: &Path, dst: &Path, caps: Caps) -> Result<Thumbnail, String> {
    let thumb = match decode_fitted(src, THUMBNAIL_SIDE, caps)? {
        Fitted::Image(img) => img,
        Fitted::TooLarge(why) => return Ok(Thumbnail::TooLarge(why)),
    };
    let mut out = BufWriter::new(std::fs::File::create(dst).map_err(|e| e.to_string())?);
    write_jpeg(&thumb, &mut out)?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(Thumbnail::Made)
}

/// An image decoded within its caps, upright and fitted into its box.
#[derive(Debug)]
pub enum Fitted {
    Image(DynamicImage),
    /// Over the caps: not decoded; why, for the log.
    TooLarge(String),
}

/// Decodes `src` within `caps`, scales it down so that its longest side is at
/// most `side` (never up), and applies its EXIF orientation. What comes out is
/// pixels only: whatever metadata the file carried stays behind. Errors are for
/// people: the image could not be decoded.
///
/// The caps are checked against the dimensions the file declares, before the
/// pixel buffer exists. CPU-bound and synchronous: run it through a
/// [`Thumbnailer`], which bounds how many run at once.
pub fn decode_fitted(src: &Path, side: u32, caps: Caps) -> Result<Fitted, String> {
    let mut reader = ImageReader::open(src)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(caps.max_side);
    limits.max_image_height = Some(caps.max_side);
    limits.max_alloc = Some(caps.max_decoded_bytes);
    reader.limits(limits.clone());
    // Reads the header only; refuses sides over the limits.
    let mut decoder = match reader.into_decoder() {
        Ok(d) => d,
        Err(ImageError::Limits(e)) => return Ok(Fitted::TooLarge(e.to_string())),
        Err(e) => return Err(e.to_string()),
    };
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > caps.max_pixels {
        return Ok(Fitted::TooLarge(format!(
            "{width}×{height} is over {} pixels",
            caps.max_pixels
        )));
    }
    // `DynamicImage::from_decoder` allocates the whole output buffer without
    // consulting `max_alloc` (only `ImageReader::decode` reserves it, and that
    // path loses the orientation): reserve it here, then hand the decoder what
    // is left for its own buffers, as `decode` does.
    if let Err(e) = limits.reserve(decoder.total_bytes()) {
        return Ok(Fitted::TooLarge(format!(
            "{width}×{height} needs {} bytes decoded: {e}",
            decoder.total_bytes()
        )));
    }
    decoder.set_limits(limits).map_err(|e| e.to_string())?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    // Scale first, then orient the small copy: rotating the full image would
    // allocate it a second time. The box is square, so the order does not matter.
    let side = side.max(1);
    let mut fitted = if img.width() > side || img.height() > side {
        img.thumbnail(side, side)
    } else {
        img
    };
    fitted.apply_orientation(orientation);
    Ok(Fitted::Image(fitted))
}

/// Writes `img` to `out` as a baseline JPEG of quality 80, without metadata.
pub fn write_jpeg(img: &DynamicImage, out: &mut impl Write) -> Result<(), String> {
    JpegEncoder::new_with_quality(out, 80)
        .encode_image(&img.to_rgb8())
        .map_err(|e| e.to_string())
}

/// Runs image decodes (thumbnails, a report's evidence pictures) on the blocking
/// pool, a bounded number at once.
pub struct Thumbnailer {
    permits: Semaphore,
    busy: AtomicUsize,
    busy_high_water: AtomicUsize,
}

/// The process's decoder slots: the bound is on the process's memory, so it is
/// shared by everything in it that decodes images.
pub static THUMBNAILS: Thumbnailer = Thumbnailer::new(CONCURRENT_DECODES);

impl Thumbnailer {
    pub const fn new(concurrent: usize) -> Self {
        Self {
            permits: Semaphore::const_new(concurrent),
            busy: AtomicUsize::new(0),
            busy_high_water: AtomicUsize::new(0),
        }
    }

    /// [`make_thumbnail`] once a decode slot is free.
    pub async fn make(&'static self, src: PathBuf, dst: PathBuf) -> Result<Thumbnail, String> {
        self.make_within(src, dst, Caps::DEFAULT).await
    }

    async fn make_within(
        &'static self,
        src: PathBuf,
        dst: PathBuf,
        caps: Caps,
    ) -> Result<Thumbnail, String> {
        self.run(move || make_thumbnail_within(&src, &dst, caps))
            .await?
    }

    /// Runs `decode` on the blocking pool once a decode slot is free; for work
    /// that decodes an image (see [`decode_fitted`]). The error is for people:
    /// the decode panicked.
    pub async fn run<T: Send + 'static>(
        &'static self,
        decode: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        // The permit moves into the blocking task: a request cancelled while the
        // decode runs must not free its slot before the memory is freed.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let busy = self.busy.fetch_add(1, Ordering::SeqCst) + 1;
            self.busy_high_water.fetch_max(busy, Ordering::SeqCst);
            let result = decode();
            self.busy.fetch_sub(1, Ordering::SeqCst);
            result
        })
        .await
        .map_err(|e| format!("the decoder failed: {e}"))
    }

    /// The most decodes that ran at once.
    pub fn busy_high_water(&self) -> usize {
        self.busy_high_water.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("andon-thumb-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn longest_side_becomes_320_and_aspect_is_kept() {
        let dir = temp_dir();
        let (src, dst) = (dir.join("in.png"), dir.join("out.jpg"));
        image::RgbImage::from_pixel(1000, 500, image::Rgb([200, 10, 10]))
            .save(&src)
            .unwrap();
        assert_eq!(make_thumbnail(&src, &dst), Ok(Thumbnail::Made));
        let t = image::open(&dst).unwrap();
        assert_eq!((t.width(), t.height()), (320, 160));
        assert!(make_thumbnail(&dst.with_extension("missing"), &dst).is_err());
        std::fs::write(&src, b"\x89PNG\r\n\x1a\nbroken").unwrap();
        assert!(make_thumbnail(&src, &dst).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_decoded_buffer_is_bounded_before_it_is_allocated() {
        let dir = temp_dir();
        let (src, dst) = (dir.join("in.png"), dir.join("out.jpg"));
        // 1000×1000 at 16 bits RGBA: 8 MB decoded, from a file of a few KB.
        image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(1000, 1000, image::Rgba([7; 4]))
            .save(&src)
            .unwrap();
        let within = |max_decoded_bytes| Caps {
            max_pixels: 2_000_000,
            max_side: 5000,
            max_decoded_bytes,
        };
        let refused = make_thumbnail_within(&src, &dst, within(4_000_000)).unwrap();
        assert!(matches!(refused, Thumbnail::TooLarge(_)), "{refused:?}");
        assert!(!dst.exists());
        assert_eq!(
            make_thumbnail_within(&src, &dst, within(9_000_000)),
            Ok(Thumbnail::Made)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A PNG of a few bytes that declares `width`×`height` RGB pixels: what a
    /// decoder would allocate before finding out the data is not there.
    pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        // A zlib stream of one empty row: far too little data.
        chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
        );
        chunk(b"IEND", &[]);
        out
    }

    #[test]
    fn a_small_file_declaring_huge_dimensions_is_not_decoded() {
        let dir = temp_dir();
        let (src, dst) = (dir.join("bomb.png"), dir.join("out.jpg"));
        // 12000×12000 (144 MP, 432 MB as RGB) in 70 bytes; each side is allowed.
        std::fs::write(&src, png_declaring(12_000, 12_000)).unwrap();
        let outcome = make_thumbnail(&src, &dst).unwrap();
        assert!(
            matches!(&outcome, Thumbnail::TooLarge(why) if why.contains("12000×12000")),
            "{outcome:?}"
        );
        // Sides over the limit are refused from the header alone, too.
        std::fs::write(&src, png_declaring(30_000, 10)).unwrap();
        let outcome = make_thumbnail(&src, &dst).unwrap();
        assert!(matches!(outcome, Thumbnail::TooLarge(_)), "{outcome:?}");
        // Under the caps, the same lack of data is an error for people.
        std::fs::write(&src, png_declaring(64, 64)).unwrap();
        assert!(make_thumbnail(&src, &dst).is_err());
        assert!(!dst.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_the_configured_number_of_decodes_run_at_once() {
        static BOUNDED: Thumbnailer = Thumbnailer::new(2);
        let dir = temp_dir();
        let src = dir.join("in.png");
        image::RgbImage::from_pixel(1500, 1500, image::Rgb([9, 90, 200]))
            .save(&src)
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (src, dst) = (src.clone(), dir.join(format!("out{i}.jpg")));
                tokio::spawn(BOUNDED.make_within(src, dst, Caps::DEFAULT))
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(Thumbnail::Made));
        }
        assert_eq!(BOUNDED.busy_high_water(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod props;
