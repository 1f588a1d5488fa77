//! The WebSocket wire protocol (docs/PROTOCOL.md): client frames as types, reply
//! frames, and protocol errors with their stable codes. The server's frames are
//! [`ServerFrame`]s (actors crate); the web client's types of both directions are
//! generated from these types (`web/src/protocol/generated.ts`, see `typescript`).

use andon_actors::realtime::{ServerFrame, WsCode};
use serde::Deserialize;
use serde_json::{Value, json};
use ts_rs::TS;
use uuid::Uuid;

use crate::domain::text;
use crate::error::{ApiError, ErrorCode};

/// Content limit of a message, in characters.
pub const CONTENT_MAX: usize = 10_000;
/// Metadata limit, serialized, in bytes.
pub const METADATA_MAX: usize = 16 * 1024;
/// Largest client frame.
pub const FRAME_MAX: usize = 64 * 1024;
/// Largest `ref`, serialized: every reply echoes it, so a large one would make the
/// server write back whatever the client sent.
pub const REF_MAX: usize = 256;

#[derive(Debug, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Subscribe {
        room_id: Uuid,
        #[ts(optional)]
        after_seq: Option<i64>,
    },
    Unsubscribe {
        room_id: Uuid,
    },
    Send(SendFrame),
    Edit {
        room_id: Uuid,
        message_id: Uuid,
        content: String,
    },
    Delete {
        room_id: Uuid,
        message_id: Uuid,
    },
    React {
        room_id: Uuid,
        message_id: Uuid,
        emoji: String,
        add: bool,
    },
    /// Pin a message to the room (editors, owners).
    Pin {
        room_id: Uuid,
        message_id: Uuid,
    },
    Unpin {
        room_id: Uuid,
        message_id: Uuid,
    },
    Typing {
        room_id: Uuid,
    },
    Read {
        room_id: Uuid,
        seq: i64,
    },
    Ping,
}

#[derive(Debug, Deserialize, TS)]
pub struct SendFrame {
    pub room_id: Uuid,
    pub client_id: String,
    #[serde(default = "text_type")]
    #[ts(optional, type = "\"text\" | \"incident_data\"")]
    pub message_type: String,
    pub content: String,
    #[serde(default = "empty_object")]
    #[ts(optional, type = "Record<string, unknown>")]
    pub metadata: Value,
}

fn text_type() -> String {
    "text".into()
}

fn empty_object() -> Value {
    json!({})
}

/// A protocol error: a stable code and a message for people.
#[derive(Debug, Clone)]
pub struct WsError {
    pub code: WsCode,
    pub message: String,
}

impl WsError {
    pub fn new(code: WsCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(WsCode::BadRequest, message)
    }

    /// The `error` frame, about `room_id` when the failed frame named a room.
    pub fn frame(&self, room_id: Option<Uuid>) -> ServerFrame {
        ServerFrame::Error {
            code: self.code,
            message: self.message.clone(),
            room_id,
        }
    }
}

impl From<ApiError> for WsError {
    fn from(e: ApiError) -> Self {
        Self::new(e.code.ws(), e.message.into_owned())
    }
}

impl From<andon_actors::realtime::SendError> for WsError {
    fn from(e: andon_actors::realtime::SendError) -> Self {
        ApiError::from(e).into()
    }
}

/// Parses a text frame: the frame and its `ref`, or the error to answer (with the
/// `ref` when it could be read and is within [`REF_MAX`]).
pub fn parse(text: &str) -> Result<(ClientFrame, Option<Value>), (WsError, Option<Value>)> {
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| (WsError::bad_request(format!("Malformed JSON: {e}")), None))?;
    let reference = value.as_object_mut().and_then(|o| o.remove("ref"));
    if reference
        .as_ref()
        .is_some_and(|r| r.to_string().len() > REF_MAX)
    {
        return Err((
            WsError::bad_request(format!("ref is over {REF_MAX} bytes")),
            None,
        ));
    }
    if !value.is_object() {
        return Err((WsError::bad_request("A frame is a JSON object"), reference));
    }
    match serde_json::from_value::<ClientFrame>(value) {
        Ok(frame) => Ok((frame, reference)),
        Err(e) => Err((
            WsError::bad_request(format!("Invalid frame: {}", without_input(&e.to_string()))),
            reference,
        )),
    }
}

/// A decoding error's text without the client's own input: serde quotes what it
/// could not use (`unknown variant `…``, `invalid type: string "…"`), and an error
/// must not write back what an attacker sent. Quoted words that could be one of the
/// protocol's own names (short, lower-case) stay, so `missing field `room_id`` still
/// says what is missing.
fn without_input(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(200));
    let mut rest = message;
    while let Some(start) = rest.find(['`', '"']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find(quote) else {
            rest = "";
            break;
        };
        let quoted = &after[..end];
        let ours = quoted.len() <= 32
            && quoted
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        out.push_str(if ours { quoted } else { "…" });
        out.push(quote);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out.chars().take(200).collect()
}

/// Validates a send before it reaches the database: what passes can be stored, so
/// it cannot fail the batch it is committed in. REST answers these errors as they
/// are; the socket through [`WsError::from`] (`too_large`, else `bad_request`).
pub fn validate_send(f: &SendFrame) -> Result<(), ApiError> {
    let invalid = |message: &'static str| Err(ApiError::validation(message));
    let cid = f.client_id.chars().count();
    if cid == 0 || cid > 64 {
        return invalid("client_id must be 1 to 64 characters");
    }
    text::identifier("client_id", &f.client_id).map_err(ApiError::validation)?;
    match f.message_type.as_str() {
        "text" if f.content.trim().is_empty() => return invalid("A text message needs content"),
        "text" | "incident_data" => {}
        _ => return invalid("message_type cannot be sent: use text or incident_data"),
    }
    if f.content.chars().count() > CONTENT_MAX {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("content is over {CONTENT_MAX} characters"),
        ));
    }
    text::storable("content", &f.content).map_err(ApiError::validation)?;
    if !f.metadata.is_object() {
        return invalid("metadata must be a JSON object");
    }
    if f.metadata.to_string().len() > METADATA_MAX {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("metadata is over {METADATA_MAX} bytes"),
        ));
    }
    text::storable_json("metadata", &f.metadata).map_err(ApiError::validation)?;
    crate::domain::mentions::check(&f.metadata).map_err(ApiError::validation)?;
    Ok(())
}

/// [`validate_send`] for the socket.
pub fn check_send(f: &SendFrame) -> Result<(), WsError> {
    validate_send(f).map_err(WsError::from)
}

pub fn error_frame(e: &WsError, reference: &Option<Value>, room_id: Option<Uuid>) -> String {
    e.frame(room_id).to_text(reference.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_with_their_ref() {
        let room = Uuid::new_v4();
        let (frame, r) = parse(&format!(
            r#"{{"type":"subscribe","room_id":"{room}","after_seq":5,"ref":7}}"#
        ))
        .unwrap();
        assert!(matches!(
            frame,
            ClientFrame::Subscribe {
                after_seq: Some(5),
                ..
            }
        ));
        assert_eq!(r, Some(json!(7)));
        assert!(matches!(
            parse(r#"{"type":"ping"}"#).unwrap().0,
            ClientFrame::Ping
        ));
    }

    #[test]
    fn bad_frames_are_bad_requests_keeping_the_ref() {
        assert_eq!(parse("{nope").unwrap_err().0.code, WsCode::BadRequest);
        let (e, r) = parse(r#"{"type":"dance","ref":"x"}"#).unwrap_err();
        assert_eq!((e.code, r), (WsCode::BadRequest, Some(json!("x"))));
        assert!(parse(r#"{"type":"subscribe","room_id":"not-a-uuid"}"#).is_err());
        assert!(parse("[1,2]").is_err());
    }

    #[test]
    fn a_large_ref_is_refused_and_not_echoed() {
        let big = "r".repeat(REF_MAX);
        let (e, r) = parse(&format!(r#"{{"type":"ping","ref":"{big}"}}"#)).unwrap_err();
        assert_eq!((e.code, r), (WsCode::BadRequest, None));
        let fits = "r".repeat(REF_MAX - 2);
        assert!(parse(&format!(r#"{{"type":"ping","ref":"{fits}"}}"#)).is_ok());
    }

    #[test]
    fn errors_do_not_echo_the_clients_input() {
        let evil = "<script>alert(1)</script>".repeat(100);
        let (e, _) = parse(&format!(r#"{{"type":"{evil}"}}"#)).unwrap_err();
        assert!(!e.message.contains("script"), "{}", e.message);
        assert!(e.message.len() <= 200);
        let (e, _) = parse(&format!(r#"{{"type":"typing","room_id":"{evil}"}}"#)).unwrap_err();
        assert!(!e.message.contains("script"), "{}", e.message);
        let (e, _) = parse(r#"{"type":"typing"}"#).unwrap_err();
        assert!(e.message.contains("`room_id`"), "{}", e.message);
    }

    #[test]
    fn sends_with_nul_or_control_characters_are_refused() {
        let ok = || SendFrame {
            room_id: Uuid::new_v4(),
            client_id: "c1".into(),
            message_type: "text".into(),
            content: "hi".into(),
            metadata: json!({}),
        };
        let cases = [
            SendFrame {
                content: "a\u{0}b".into(),
                ..ok()
            },
            SendFrame {
                client_id: "c\u{0}".into(),
                ..ok()
            },
            SendFrame {
                client_id: "c\n1".into(),
                ..ok()
            },
            SendFrame {
                metadata: json!({"k": ["\u{0}"]}),
                ..ok()
            },
            SendFrame {
                metadata: json!({"\u{0}": 1}),
                ..ok()
            },
        ];
        for case in cases {
            assert_eq!(
                check_send(&case).unwrap_err().code,
                WsCode::BadRequest,
                "{case:?}"
            );
        }
        let multiline = SendFrame {
            content: "line 1\nline 2\t三".into(),
            ..ok()
        };
        assert!(check_send(&multiline).is_ok());
    }

    #[test]
    fn sends_are_checked() {
        let ok = SendFrame {
            room_id: Uuid::new_v4(),
            client_id: "c1".into(),
            message_type: "text".into(),
            content: "hi".into(),
            metadata: json!({}),
        };
        assert!(check_send(&ok).is_ok());
        let too_long = SendFrame {
            content: "x".repeat(CONTENT_MAX + 1),
            ..ok
        };
        assert_eq!(check_send(&too_long).unwrap_err().code, WsCode::TooLarge);
        let blank = SendFrame {
            content: "  ".into(),
            client_id: "c".into(),
            ..too_long
        };
        assert_eq!(check_send(&blank).unwrap_err().code, WsCode::BadRequest);
        let system = SendFrame {
            message_type: "system".into(),
            content: "x".into(),
            ..blank
        };
        assert_eq!(check_send(&system).unwrap_err().code, WsCode::BadRequest);
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod typescript;
