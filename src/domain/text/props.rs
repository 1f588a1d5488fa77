//! Properties of the checks on text that reaches PostgreSQL (issue 15), beside
//! the `cargo fuzz` target `tests/fuzz/fuzz_targets/text.rs`.

use proptest::prelude::*;
use serde_json::Value;

use super::{identifier, storable, storable_json};

/// Every key and string of `v` without NUL, walked recursively: an oracle
/// independent of the iterative walk of `storable_json`.
fn nul_free(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => items.iter().all(nul_free),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && nul_free(v)),
        _ => true,
    }
}

/// Strings where NUL and other control characters are common.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z\\x00-\\x1f\\x7f-\\x9f溫]{0,12}"]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The property the fuzz target checks on one input.
fn holds(input: &str) -> Result<(), String> {
    if storable("f", input).is_ok() == input.contains('\0') {
        return Err(format!("storable wrong for {input:?}"));
    }
    if identifier("f", input).is_ok() == input.chars().any(char::is_control) {
        return Err(format!("identifier wrong for {input:?}"));
    }
    if let Ok(v) = serde_json::from_str::<Value>(input)
        && storable_json("f", &v).is_ok() != nul_free(&v)
    {
        return Err(format!("storable_json wrong for {v}"));
    }
    Ok(())
}

/// Inputs that once failed the fuzz target (`tests/fuzz/regressions/text`).
#[test]
fn fuzz_regressions_hold() {
    for (path, data) in crate::test_support::fuzz_regressions("text") {
        if let Ok(input) = std::str::from_utf8(&data)
            && let Err(e) = holds(input)
        {
            panic!("{}: {e}", path.display());
        }
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(ProptestConfig::default().cases))]

    #[test]
    fn text_checks_refuse_exactly_what_they_say(input in text()) {
        holds(&input).map_err(TestCaseError::fail)?;
        if let Err(e) = storable("content", &input) {
            prop_assert!(e.contains("content"), "the field is named: {}", e);
        }
    }

    /// A value passes exactly when no key or string anywhere holds a NUL, and
    /// then its JSON text has no `\u0000` escape for jsonb to refuse.
    #[test]
    fn json_passes_exactly_without_nul_anywhere(v in json_value()) {
        prop_assert_eq!(storable_json("metadata", &v).is_ok(), nul_free(&v));
        if storable_json("metadata", &v).is_ok() {
            let text = v.to_string();
            let escaped = text.match_indices("\\u0000").any(|(i, _)| {
                text.as_bytes()[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
            });
            prop_assert!(!escaped, "{}", text);
        }
    }
}
