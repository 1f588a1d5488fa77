//! The checks on text that reaches PostgreSQL (`domain::text`): each refuses
//! exactly what it says — NUL for text, any control character for identifiers, a
//! NUL in any key or string of a JSON value — and never panics or overflows the
//! stack on deeply nested JSON.
#![no_main]

use andon::domain::text::{identifier, storable, storable_json};
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
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(storable("f", input).is_ok(), !input.contains('\0'));
    assert_eq!(
        identifier("f", input).is_ok(),
        !input.chars().any(char::is_control)
    );
    // serde_json refuses nesting deeper than 128, so the oracle's recursion is safe.
    if let Ok(v) = serde_json::from_str::<Value>(input) {
        assert_eq!(storable_json("f", &v).is_ok(), nul_free(&v), "{v}");
    }
});
