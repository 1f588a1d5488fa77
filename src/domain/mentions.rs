//! Mentions in a sent message's metadata (issue 20): `metadata.mentions`, the
//! user ids the sender picked, and `metadata.mention_all: true`, "everyone in
//! the room". The edge checks their shape ([`check`]); the batch writer keeps
//! only the ids of the room's members and `mention_all` only from an editor or
//! owner, and writes what it kept back into the stored metadata ([`apply`]).
//! Mentions are fixed when the message is sent: an edit changes the content,
//! never who was mentioned.

use serde_json::Value;

/// Most entries `metadata.mentions` may hold.
pub const MENTIONS_MAX: usize = 50;
/// The metadata keys.
pub const MENTIONS: &str = "mentions";
pub const MENTION_ALL: &str = "mention_all";

/// Checks the shape of the mentions in `metadata` (an object): `mentions`, if
/// present, is an array of at most [`MENTIONS_MAX`] strings; `mention_all`, if
/// present, is a boolean.
pub fn check(metadata: &Value) -> Result<(), String> {
    if let Some(m) = metadata.get(MENTIONS) {
        let Some(list) = m.as_array() else {
            return Err("metadata.mentions must be an array of user ids".into());
        };
        if list.len() > MENTIONS_MAX {
            return Err(format!(
                "metadata.mentions may name at most {MENTIONS_MAX} users"
            ));
        }
        if list
            .iter()
            .any(|v| v.as_str().is_none_or(|s| s.len() > 254))
        {
            return Err("metadata.mentions must hold user ids (e-mail addresses)".into());
        }
    }
    if metadata.get(MENTION_ALL).is_some_and(|v| !v.is_boolean()) {
        return Err("metadata.mention_all must be true or false".into());
    }
    Ok(())
}

/// The mentions a sender asked for, before they are checked against the room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    /// Lower-cased, trimmed, without duplicates, in the sender's order.
    pub ids: Vec<String>,
    pub all: bool,
}

impl Requested {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && !self.all
    }
}

/// What `metadata` (passed by [`check`]) asks for.
pub fn requested(metadata: &Value) -> Requested {
    let mut ids: Vec<String> = Vec::new();
    for id in metadata
        .get(MENTIONS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(MENTIONS_MAX)
    {
        let id = id.trim().to_lowercase();
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    let all = metadata.get(MENTION_ALL).and_then(Value::as_bool) == Some(true);
    Requested { ids, all }
}

/// Whether `metadata` carries either key at all (what [`apply`] rewrites).
pub fn present(metadata: &Value) -> bool {
    metadata.get(MENTIONS).is_some() || metadata.get(MENTION_ALL).is_some()
}

/// Writes the kept mentions into `metadata`: `mentions` only when some id was
/// kept, `mention_all: true` only when it was honoured; neither key otherwise.
pub fn apply(metadata: &mut Value, ids: Vec<String>, all: bool) {
    let Some(object) = metadata.as_object_mut() else {
        return;
    };
    object.remove(MENTIONS);
    object.remove(MENTION_ALL);
    if !ids.is_empty() {
        object.insert(
            MENTIONS.into(),
            Value::Array(ids.into_iter().map(Value::String).collect()),
        );
    }
    if all {
        object.insert(MENTION_ALL.into(), Value::Bool(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_checked() {
        assert!(check(&json!({})).is_ok());
        assert!(check(&json!({"mentions": ["a@x"], "mention_all": false})).is_ok());
        assert!(check(&json!({"mentions": "a@x"})).is_err());
        assert!(check(&json!({"mentions": [1]})).is_err());
        assert!(check(&json!({"mention_all": "yes"})).is_err());
        let many: Vec<String> = (0..=MENTIONS_MAX).map(|i| format!("u{i}@x")).collect();
        assert!(check(&json!({ "mentions": many })).is_err());
        assert!(check(&json!({ "mentions": many[..MENTIONS_MAX] })).is_ok());
    }

    #[test]
    fn requested_ids_are_normalised_and_deduplicated() {
        let r = requested(&json!({"mentions": ["B@x", " a@x ", "b@x", ""], "mention_all": true}));
        assert_eq!(r.ids, ["b@x", "a@x"]);
        assert!(r.all);
        assert!(requested(&json!({"mention_all": false})).is_empty());
    }

    #[test]
    fn apply_keeps_only_what_was_kept() {
        let mut m = json!({"mentions": ["z@x"], "mention_all": true, "other": 1});
        apply(&mut m, vec!["a@x".into()], false);
        assert_eq!(m, json!({"mentions": ["a@x"], "other": 1}));
        apply(&mut m, vec![], false);
        assert_eq!(m, json!({"other": 1}));
        apply(&mut m, vec![], true);
        assert_eq!(m, json!({"other": 1, "mention_all": true}));
    }
}
