//! Properties of the sniffer (issue 15), beside the `cargo fuzz` target
//! `tests/fuzz/fuzz_targets/sniff.rs` that checks the same on libFuzzer's inputs.

use proptest::prelude::*;

use super::{Kind, sniff};

/// Whether `head` carries the full signature of `mime`, as the formats define it.
fn has_signature(mime: &str, head: &[u8]) -> bool {
    match mime {
        "image/jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => head.starts_with(b"\x89PNG"),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP",
        "application/pdf" => head.starts_with(b"%PDF"),
        _ => false,
    }
}

fn is_text(head: &[u8]) -> bool {
    !head.contains(&0)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("line3.CSV".to_string()),
        Just("plc.log".to_string()),
        Just("photo.jpg".to_string()),
        any::<String>(),
    ]
}

/// Bytes that start like one of the five signatures, then anything.
fn signed() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let tail = || prop::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        tail().prop_map(|t| ("image/jpeg", [&[0xFF, 0xD8, 0xFF][..], &t].concat())),
        tail().prop_map(|t| ("image/png", [&b"\x89PNG\r\n\x1a\n"[..], &t].concat())),
        tail().prop_map(|t| ("image/gif", [&b"GIF89a"[..], &t].concat())),
        (any::<[u8; 4]>(), tail())
            .prop_map(|(n, t)| ("image/webp", [&b"RIFF"[..], &n, b"WEBPVP8 ", &t].concat())),
        tail().prop_map(|t| ("application/pdf", [&b"%PDF-1.7\n"[..], &t].concat())),
    ]
}

/// The fuzz target's names, picked by an input's first byte.
const NAMES: [&str; 5] = ["report.pdf", "line3.CSV", "plc.log", "photo.jpg", ""];

/// The property the fuzz target checks: a type named is the one the bytes say.
fn consistent(head: &[u8], name: &str) -> Result<(), String> {
    let Some((mime, kind)) = sniff(head, name) else {
        return Ok(());
    };
    let csv = name.to_lowercase().ends_with(".csv");
    let ok = match kind {
        Kind::Log => is_text(head) && mime == if csv { "text/csv" } else { "text/plain" },
        Kind::Image | Kind::Document => has_signature(mime, head),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{mime} for {name:?} {:02x?}",
            &head[..head.len().min(24)]
        ))
    }
}

/// Inputs that once failed the fuzz target (`tests/fuzz/regressions/sniff`).
#[test]
fn fuzz_regressions_hold() {
    for (path, data) in crate::test_support::fuzz_regressions("sniff") {
        if let Some((&pick, head)) = data.split_first() {
            let name = NAMES[pick as usize % NAMES.len()];
            if let Err(e) = consistent(head, name) {
                panic!("{}: {e}", path.display());
            }
        }
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(ProptestConfig::default().cases))]
    #[test]
    fn a_sniffed_type_is_the_one_the_bytes_say(
        head in prop::collection::vec(any::<u8>(), 0..64),
        name in name(),
    ) {
        consistent(&head, &name).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn signatures_win_over_the_name((mime, head) in signed(), name in name()) {
        let kind = if mime == "application/pdf" { Kind::Document } else { Kind::Image };
        prop_assert_eq!(sniff(&head, &name), Some((mime, kind)));
    }

    /// Text is text whatever its first words are, and however the sniffed bytes
    /// cut its last character.
    #[test]
    fn text_without_nul_is_a_log(
        text in "[A-Za-z0-9 ,;:._\n\t溫度壓力°→-]{0,80}",
        cut in 0usize..4,
        name in name(),
    ) {
        let bytes = text.as_bytes();
        let head = &bytes[..bytes.len().saturating_sub(cut)];
        // Bytes another format claims (an executable's `MZ`) are refused by design.
        prop_assume!(!has_signature_of_any(head));
        prop_assume!(infer::get(head).is_none_or(|t| OURS.contains(&t.mime_type())));
        let got = sniff(head, &name);
        prop_assert!(matches!(got, Some((_, Kind::Log))), "{:?} for {:?}", got, text);
    }

    #[test]
    fn a_nul_byte_is_never_text(
        before in "[a-z ]{0,20}",
        after in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let head = [before.as_bytes(), &[0], &after].concat();
        prop_assert!(!matches!(sniff(&head, "x.txt"), Some((_, Kind::Log))));
    }
}

const OURS: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
];

/// Text that starts with a signature Andon knows is a file of that type.
fn has_signature_of_any(head: &[u8]) -> bool {
    OURS.iter().any(|m| has_signature(m, head))
}

#[test]
fn words_that_start_like_a_signature_are_still_text() {
    // infer alone calls these GIF and WebP (it looks at 3 and at 4 bytes only).
    for text in ["GIF line 3 stopped\n", "20240611WEBP batch 7 rejected\n"] {
        assert_eq!(
            sniff(text.as_bytes(), "plc.log"),
            Some(("text/plain", Kind::Log)),
            "{text:?}"
        );
    }
}
