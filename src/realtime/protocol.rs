//! The WebSocket wire protocol (docs/PROTOCOL.md): client frames as types, reply
//! frames, and the mapping of errors to their stable codes.

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// Content limit of a message, in characters.
pub const CONTENT_MAX: usize = 10_000;
/// Metadata limit, serialized, in bytes.
pub const METADATA_MAX: usize = 16 * 1024;
/// Largest client frame.
pub const FRAME_MAX: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Subscribe {
        room_id: Uuid,
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
    Typing {
        room_id: Uuid,
    },
    Read {
        room_id: Uuid,
        seq: i64,
    },
    Ping,
}

#[derive(Debug, Deserialize)]
pub struct SendFrame {
    pub room_id: Uuid,
    pub client_id: String,
    #[serde(default = "text_type")]
    pub message_type: String,
    pub content: String,
    #[serde(default = "empty_object")]
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
    pub code: &'static str,
    pub message: String,
}

impl WsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new("bad_request", message)
    }
}

impl From<ApiError> for WsError {
    fn from(e: ApiError) -> Self {
        use ErrorCode::*;
        let code = match e.code {
            NotFound => "not_found",
            Forbidden | RoomArchived => "forbidden",
            RateLimited => "rate_limited",
            PayloadTooLarge => "too_large",
            EditWindowPassed => "edit_window_passed",
            Unavailable | AdUnavailable | NotReady => "unavailable",
            Internal => "internal",
            MissingToken | InvalidToken | SessionExpired | SessionRevoked | InvalidCredentials
            | InvalidTicket => "unauthorized",
            _ => "bad_request",
        };
        Self::new(code, e.message.into_owned())
    }
}

/// Parses a text frame: the frame and its `ref`, or the error to answer (with the
/// `ref` when it could be read).
pub fn parse(text: &str) -> Result<(ClientFrame, Option<Value>), (WsError, Option<Value>)> {
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| (WsError::bad_request(format!("Malformed JSON: {e}")), None))?;
    let reference = value.as_object_mut().and_then(|o| o.remove("ref"));
    if !value.is_object() {
        return Err((WsError::bad_request("A frame is a JSON object"), reference));
    }
    match serde_json::from_value::<ClientFrame>(value) {
        Ok(frame) => Ok((frame, reference)),
        Err(e) => Err((
            WsError::bad_request(format!("Invalid frame: {e}")),
            reference,
        )),
    }
}

/// Validates a send before it reaches the database.
pub fn check_send(f: &SendFrame) -> Result<(), WsError> {
    let cid = f.client_id.chars().count();
    if cid == 0 || cid > 64 {
        return Err(WsError::bad_request("client_id must be 1 to 64 characters"));
    }
    match f.message_type.as_str() {
        "text" if f.content.trim().is_empty() => {
            return Err(WsError::bad_request("A text message needs content"));
        }
        "text" | "incident_data" => {}
        other => {
            return Err(WsError::bad_request(format!(
                "message_type `{other}` cannot be sent: use text or incident_data"
            )));
        }
    }
    if f.content.chars().count() > CONTENT_MAX {
        return Err(WsError::new(
            "too_large",
            format!("content is over {CONTENT_MAX} characters"),
        ));
    }
    if !f.metadata.is_object() {
        return Err(WsError::bad_request("metadata must be a JSON object"));
    }
    if f.metadata.to_string().len() > METADATA_MAX {
        return Err(WsError::new(
            "too_large",
            format!("metadata is over {METADATA_MAX} bytes"),
        ));
    }
    Ok(())
}

/// Reply frame text with `ref` added when the client sent one.
pub fn reply(mut frame: Value, reference: &Option<Value>) -> String {
    if let (Some(r), Some(obj)) = (reference, frame.as_object_mut()) {
        obj.insert("ref".into(), r.clone());
    }
    frame.to_string()
}

pub fn error_frame(e: &WsError, reference: &Option<Value>, room_id: Option<Uuid>) -> String {
    let mut frame = json!({"type": "error", "code": e.code, "message": e.message});
    if let Some(room) = room_id {
        frame["room_id"] = json!(room);
    }
    reply(frame, reference)
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
        assert_eq!(parse("{nope").unwrap_err().0.code, "bad_request");
        let (e, r) = parse(r#"{"type":"dance","ref":"x"}"#).unwrap_err();
        assert_eq!((e.code, r), ("bad_request", Some(json!("x"))));
        assert!(parse(r#"{"type":"subscribe","room_id":"not-a-uuid"}"#).is_err());
        assert!(parse("[1,2]").is_err());
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
        assert_eq!(check_send(&too_long).unwrap_err().code, "too_large");
        let blank = SendFrame {
            content: "  ".into(),
            client_id: "c".into(),
            ..too_long
        };
        assert_eq!(check_send(&blank).unwrap_err().code, "bad_request");
        let system = SendFrame {
            message_type: "system".into(),
            content: "x".into(),
            ..blank
        };
        assert_eq!(check_send(&system).unwrap_err().code, "bad_request");
    }
}

#[cfg(test)]
mod props;
