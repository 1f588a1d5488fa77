//! The thumbnailer on arbitrary bytes: it never panics, stays within libFuzzer's
//! memory limit (decompression bombs get no thumbnail), and every thumbnail it
//! writes is a JPEG no larger than its bounds.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use andon::files::{Thumbnail, make_thumbnail};
use libfuzzer_sys::fuzz_target;

/// docs/PROTOCOL.md: thumbnails have a longest side of 320 px.
const THUMBNAIL_SIDE: u32 = 320;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("andon-fuzz-thumb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let (src, dst) = (dir().join("in"), dir().join("out.jpg"));
    std::fs::write(&src, data).expect("writing the input");
    let _ = std::fs::remove_file(&dst);
    if let Ok(Thumbnail::Made) = make_thumbnail(&src, &dst) {
        let thumb = image::open(&dst).expect("the thumbnail decodes");
        let (w, h) = (thumb.width(), thumb.height());
        assert!(
            (1..=THUMBNAIL_SIDE).contains(&w) && (1..=THUMBNAIL_SIDE).contains(&h),
            "thumbnail of {w}x{h}"
        );
    }
});
