//! The upload sniffer: never panics, and a type it names is the one the bytes'
//! magic number says (text: UTF-8 without NUL, CSV only by name).
#![no_main]

use andon::files::{Kind, sniff};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 5] = ["report.pdf", "line3.CSV", "plc.log", "photo.jpg", ""];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, head)) = data.split_first() else {
        return;
    };
    let name = NAMES[pick as usize % NAMES.len()];
    let Some((mime, kind)) = sniff(head, name) else {
        return;
    };
    let magic_ok = match mime {
        "image/jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => head.starts_with(b"\x89PNG"),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
        "application/pdf" => head.starts_with(b"%PDF"),
        "text/plain" | "text/csv" => {
            let valid = match std::str::from_utf8(head) {
                Ok(_) => true,
                Err(e) => e.error_len().is_none(),
            };
            let csv = name.to_lowercase().ends_with(".csv");
            kind == Kind::Log && !head.contains(&0) && valid && (mime == "text/csv") == csv
        }
        other => panic!("sniffed an unknown type {other}"),
    };
    assert!(
        magic_ok,
        "{mime} ({kind:?}) for {:02x?}",
        &head[..head.len().min(16)]
    );
});
