//! Text that reaches PostgreSQL.
//!
//! PostgreSQL stores any Unicode text but the NUL character: a `text` value with
//! `\0`, or a `jsonb` value with the `\u0000` escape, makes the whole statement
//! fail. On the send path one statement writes the messages of many users, so a
//! single NUL would fail all of them: every text from a client is checked here, at
//! the edge, before it is queued for the database.

use serde_json::Value;

/// Refuses text PostgreSQL cannot store. `field` names it in the error.
pub fn storable(field: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("{field} must not contain the NUL character"));
    }
    Ok(())
}

/// Refuses an identifier with control characters (NUL included).
pub fn identifier(field: &str, value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(())
}

/// [`storable`] for every key and string of a JSON value.
pub fn storable_json(field: &str, value: &Value) -> Result<(), String> {
    // Iterative, so a deeply nested value cannot exhaust the stack.
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Value::String(s) => storable(field, s)?,
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => {
                for (key, item) in map {
                    storable(field, key)?;
                    pending.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_refused_anywhere_in_text() {
        assert!(storable("content", "line 1\nline 2\t三號線").is_ok());
        let err = storable("content", "a\0b").unwrap_err();
        assert!(err.contains("content") && err.contains("NUL"), "{err}");
        assert!(storable("content", "\0").is_err());
    }

    #[test]
    fn identifiers_refuse_every_control_character() {
        assert!(identifier("client_id", "c-1_三").is_ok());
        for bad in ["a\0", "a\nb", "\u{7}", "a\u{9f}"] {
            assert!(identifier("client_id", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nul_is_refused_in_json_keys_and_nested_strings() {
        assert!(storable_json("metadata", &json!({"a": [1, "x", {"b": null}]})).is_ok());
        assert!(storable_json("metadata", &json!({"a\u{0}": 1})).is_err());
        assert!(storable_json("metadata", &json!({"a": [{"b": ["\u{0}"]}]})).is_err());
        assert!(storable_json("metadata", &json!("\u{0}")).is_err());
    }
}

#[cfg(test)]
mod props;
