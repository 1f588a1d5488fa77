//! Properties of the client-frame parser and validator (issue 15), beside the
//! `cargo fuzz` target `tests/fuzz/fuzz_targets/frame.rs`.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// Any text: `any::<String>()` never holds control characters, so half the time
/// short strings full of them (NUL included).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z \\x00-\\x1f\\x7f-\\x9f溫]{0,12}"]
}

/// Any JSON value, strings with any character (NUL included).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Decimals as sensors send them: serde_json (without its
        // `float_roundtrip` feature) may read a 17-digit float one ulp off.
        (any::<i32>(), 0i32..4).prop_map(|(m, e)| Value::from(f64::from(m) / 10f64.powi(e))),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text around the limits: short or long, blank or not, multi-byte characters.
fn content() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        "[ \t\n]{0,4}",
        (CONTENT_MAX - 2..CONTENT_MAX + 3).prop_map(|n| "é".repeat(n)),
    ]
}

fn client_id() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        (60usize..68).prop_map(|n| "號".repeat(n)),
        Just(String::new()),
    ]
}

fn message_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("text".to_string()),
        Just("incident_data".to_string()),
        Just("system".to_string()),
        any::<String>(),
    ]
}

fn metadata() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value(),
        (METADATA_MAX - 20..METADATA_MAX + 20).prop_map(|n| json!({ "k": "x".repeat(n) })),
    ]
}

/// Whether PostgreSQL can store every key and string of `v` (no NUL), walked
/// recursively: an oracle independent of `text::storable_json`.
fn nul_free(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => items.iter().all(nul_free),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && nul_free(v)),
        _ => true,
    }
}

/// Whether `v` as JSON text holds the `\u0000` escape jsonb refuses (an escaped
/// backslash before `u0000` is not one).
fn has_nul_escape(v: &Value) -> bool {
    let text = v.to_string();
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|i| {
        bytes[i..].starts_with(b"\\u0000")
            && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// What the documentation promises of an accepted send (docs/PROTOCOL.md), and
/// that PostgreSQL can store it.
fn within_limits(f: &SendFrame) -> bool {
    let cid = f.client_id.chars().count();
    (1..=64).contains(&cid)
        && !f.client_id.chars().any(char::is_control)
        && !f.content.contains('\0')
        && nul_free(&f.metadata)
        && match f.message_type.as_str() {
            "text" => !f.content.trim().is_empty(),
            "incident_data" => true,
            _ => false,
        }
        && f.content.chars().count() <= CONTENT_MAX
        && f.metadata.is_object()
        && f.metadata.to_string().len() <= METADATA_MAX
}

/// The property the fuzz target checks: no panic; an error answer is JSON that
/// echoes the `ref`; an accepted send is within the limits.
fn holds(text: &str) -> Result<(), String> {
    match parse(text) {
        Err((e, r)) => {
            let answer: Value = serde_json::from_str(&error_frame(&e, &r, None))
                .map_err(|e| format!("the error answer is not JSON: {e}"))?;
            if answer["type"] != "error" || answer.get("ref") != r.as_ref() {
                return Err(format!("error answer {answer} for ref {r:?}"));
            }
        }
        Ok((ClientFrame::Send(f), _)) => {
            if check_send(&f).is_ok() {
                if !within_limits(&f) {
                    return Err(format!("accepted a send beyond the limits: {f:?}"));
                }
                // What reaches PostgreSQL: the texts, and the metadata as JSON.
                if f.client_id.contains('\0')
                    || f.content.contains('\0')
                    || has_nul_escape(&f.metadata)
                {
                    return Err(format!("accepted a NUL: {f:?}"));
                }
            }
        }
        Ok(_) => {}
    }
    Ok(())
}

/// Inputs that once failed the fuzz target (`tests/fuzz/regressions/frame`).
#[test]
fn fuzz_regressions_hold() {
    for (path, data) in crate::test_support::fuzz_regressions("frame") {
        if let Ok(text) = std::str::from_utf8(&data)
            && let Err(e) = holds(text)
        {
            panic!("{}: {e}", path.display());
        }
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(ProptestConfig::default().cases))]
    #[test]
    fn any_text_parses_or_is_a_bad_request(text in any::<String>()) {
        holds(&text).map_err(TestCaseError::fail)?;
        if let Err((e, _)) = parse(&text) {
            prop_assert_eq!(e.code, WsCode::BadRequest);
        }
    }

    /// Frames of the right shape with wrong or odd values: the error answer is
    /// always a JSON object echoing the `ref` it could read.
    #[test]
    fn errors_answer_with_json_that_echoes_the_ref(
        ty in prop_oneof![Just("send".to_string()), Just("subscribe".to_string()), any::<String>()],
        fields in prop::collection::btree_map("[a-z_]{1,12}", json_value(), 0..5),
        reference in json_value(),
    ) {
        let mut frame: serde_json::Map<String, Value> = fields.into_iter().collect();
        frame.insert("type".into(), json!(ty));
        frame.insert("ref".into(), reference);
        holds(&Value::Object(frame).to_string()).map_err(TestCaseError::fail)?;
    }

    /// A send frame parses back to its fields, and `check_send` accepts it exactly
    /// when it is within the documented limits.
    #[test]
    fn check_send_accepts_exactly_the_sends_within_the_limits(
        client_id in client_id(),
        message_type in message_type(),
        content in content(),
        metadata in metadata(),
    ) {
        let text = json!({"type": "send", "room_id": uuid::Uuid::nil(), "client_id": client_id,
                          "message_type": message_type, "content": content,
                          "metadata": metadata, "ref": 1})
        .to_string();
        let (frame, r) = parse(&text).map_err(|(e, _)| TestCaseError::fail(e.message))?;
        prop_assert_eq!(r, Some(json!(1)));
        let ClientFrame::Send(f) = frame else {
            return Err(TestCaseError::fail("not a send"));
        };
        prop_assert_eq!(
            (&f.client_id, &f.message_type, &f.content, &f.metadata),
            (&client_id, &message_type, &content, &metadata)
        );
        let verdict = check_send(&f);
        prop_assert_eq!(verdict.is_ok(), within_limits(&f), "{:?}", verdict.err());
        if let Err(e) = verdict {
            prop_assert!(matches!(e.code, WsCode::BadRequest | WsCode::TooLarge), "{}", e.code);
        }
    }
    /// A send that is fine but for one NUL (or, in `client_id`, one control
    /// character) anywhere: refused before it can reach PostgreSQL.
    #[test]
    fn one_nul_anywhere_refuses_the_send(
        field in 0usize..4,
        at in any::<prop::sample::Index>(),
        base in "[a-z0-9溫 ]{1,20}",
        control in prop_oneof![Just('\0'), Just('\u{7}'), Just('\n'), Just('\u{9f}')],
    ) {
        let mut chars: Vec<char> = base.chars().collect();
        let nul = if field == 0 { control } else { '\0' };
        chars.insert(at.index(chars.len() + 1), nul);
        let bad: String = chars.into_iter().collect();
        let (client_id, content, metadata) = match field {
            0 => (bad, "ok".to_string(), json!({})),
            1 => ("c1".to_string(), format!("x{bad}"), json!({})),
            2 => ("c1".to_string(), "ok".to_string(), json!({ bad: 1 })),
            _ => ("c1".to_string(), "ok".to_string(), json!({"k": [1, {"n": bad}]})),
        };
        let text = json!({"type": "send", "room_id": uuid::Uuid::nil(), "client_id": client_id,
                          "content": content, "metadata": metadata})
        .to_string();
        let Ok((ClientFrame::Send(f), _)) = parse(&text) else {
            return Err(TestCaseError::fail(format!("did not parse: {text}")));
        };
        let verdict = check_send(&f);
        prop_assert_eq!(verdict.map_err(|e| e.code), Err(WsCode::BadRequest), "{}", text);
    }
}
