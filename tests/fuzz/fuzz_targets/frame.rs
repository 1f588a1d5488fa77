//! A client text frame: `parse`, then `check_send` for sends. Nothing may panic;
//! a send that passes is within every documented limit and holds no NUL; every
//! error answer is a JSON object that echoes the `ref`.
#![no_main]

use andon::realtime::protocol::{self, CONTENT_MAX, ClientFrame, METADATA_MAX};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn nul_free(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => items.iter().all(nul_free),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && nul_free(v)),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match protocol::parse(text) {
        Err((e, reference)) => {
            let answer: Value = serde_json::from_str(&protocol::error_frame(&e, &reference, None))
                .expect("an error answer is JSON");
            assert_eq!(answer["type"], "error");
            assert_eq!(answer.get("ref"), reference.as_ref());
        }
        Ok((ClientFrame::Send(f), _)) => {
            if protocol::check_send(&f).is_ok() {
                let cid = f.client_id.chars().count();
                assert!((1..=64).contains(&cid), "client_id of {cid} characters");
                assert!(f.content.chars().count() <= CONTENT_MAX);
                assert!(matches!(f.message_type.as_str(), "text" | "incident_data"));
                assert!(f.message_type != "text" || !f.content.trim().is_empty());
                assert!(f.metadata.is_object());
                assert!(f.metadata.to_string().len() <= METADATA_MAX);
                // What passes reaches PostgreSQL, which cannot store NUL.
                assert!(!f.client_id.chars().any(char::is_control));
                assert!(!f.content.contains('\0'));
                assert!(nul_free(&f.metadata), "{}", f.metadata);
            }
        }
        Ok(_) => {}
    }
});
