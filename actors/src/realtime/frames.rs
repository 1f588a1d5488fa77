//! The server's half of the WebSocket wire protocol (docs/PROTOCOL.md, "Server →
//! client" and "Close codes"), as types: room actors and sockets build frames from
//! these, and the web client's TypeScript types are generated from them
//! (`web/src/protocol/generated.ts`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use ts_rs::TS;
use uuid::Uuid;

/// Every server → client frame.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Reply to `subscribe`: events up to `head_seq` are replayed, later ones live.
    Subscribed {
        room_id: Uuid,
        head_seq: i64,
        online: Vec<String>,
    },
    /// Reply to `unsubscribe` (no reason), or the server ended the subscription.
    Unsubscribed {
        room_id: Uuid,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<UnsubscribeReason>,
    },
    /// A send's ack carries its `client_id` and always a `seq`; an edit's, delete's
    /// or reaction's has no `client_id`, and a reaction that changed nothing has
    /// `seq: null`.
    Ack {
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        client_id: Option<String>,
        message_id: Uuid,
        seq: Option<i64>,
    },
    Pong,
    Error {
        code: WsCode,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        room_id: Option<Uuid>,
    },
    /// A durable event. Sockets get it as text from [`event_frame_text`], which
    /// copies stored JSON without parsing it; this variant is its shape.
    ///
    /// [`event_frame_text`]: super::event_frame_text
    Event {
        room_id: Uuid,
        seq: i64,
        kind: String,
        at: DateTime<Utc>,
        actor: String,
        // Each kind has its own data (docs/PROTOCOL.md); the client reads it by kind.
        #[ts(type = "any")]
        data: Box<RawValue>,
    },
    Typing {
        room_id: Uuid,
        user: String,
        display_name: String,
        expires_in_ms: u64,
    },
    /// Who came online and who went offline since the last announcement.
    Presence {
        room_id: Uuid,
        online: Vec<String>,
        offline: Vec<String>,
    },
    Read {
        room_id: Uuid,
        user: String,
        seq: i64,
    },
    /// To the user who asked for a report: it moved to `status` (`collecting`,
    /// `writing`, `assembling`, `completed`, `failed` with a `reason`).
    ReportProgress {
        room_id: Uuid,
        report_id: Uuid,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<String>,
    },
    /// To every socket of the user it is for, subscribed to the room or not (and
    /// stored in their inbox, `GET /api/notifications`). `ring`: the user's
    /// settings want a browser notification and a sound for it now (its kind
    /// turned on, not in their quiet hours).
    Notification {
        notification: Notification,
        ring: bool,
    },
}

/// One entry of a user's inbox, as sent live and listed by REST.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub room_id: Uuid,
    /// The room's title now.
    pub room_title: String,
    /// The room event it is about, if one.
    pub seq: Option<i64>,
    /// Who caused it (`None`: the system, a routing rule or a ladder).
    pub actor: Option<String>,
    pub actor_name: Option<String>,
    /// Short English text; clients localise by `kind` from the other fields.
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Why someone got a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A routing rule added them to a room.
    Routed,
    /// An escalation level reached them.
    Escalated,
    /// Someone mentioned them in a room.
    Mentioned,
    /// Someone added them to a room.
    Added,
}

impl NotificationKind {
    pub const ALL: [Self; 4] = [Self::Routed, Self::Escalated, Self::Mentioned, Self::Added];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Routed => "routed",
            Self::Escalated => "escalated",
            Self::Mentioned => "mentioned",
            Self::Added => "added",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A reply: the frame with the `ref` of the client frame it answers.
#[derive(Serialize)]
struct Reply<'a> {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<&'a Value>,
    #[serde(flatten)]
    frame: &'a ServerFrame,
}

impl ServerFrame {
    /// The ack of a committed send.
    pub fn send_ack(client_id: impl Into<String>, message_id: Uuid, seq: i64) -> Self {
        Self::Ack {
            client_id: Some(client_id.into()),
            message_id,
            seq: Some(seq),
        }
    }

    /// The ack of an edit, delete or reaction; `seq` is `None` when nothing changed.
    pub fn action_ack(message_id: Uuid, seq: Option<i64>) -> Self {
        Self::Ack {
            client_id: None,
            message_id,
            seq,
        }
    }

    /// The frame as sent, with `ref` when it answers a client frame that had one.
    pub fn to_text(&self, reference: Option<&Value>) -> String {
        let reply = Reply {
            reference,
            frame: self,
        };
        // Strings, numbers, ids, timestamps and JSON values always serialize.
        serde_json::to_string(&reply).unwrap_or_default()
    }
}

/// Why the server ended a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum UnsubscribeReason {
    /// The user was removed from the room.
    Removed,
    /// The room was deleted permanently.
    Deleted,
}

/// The stable codes of `error` frames (docs/PROTOCOL.md). REST error codes map to
/// these in `ErrorCode`'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WsCode {
    BadRequest,
    TooManySubscriptions,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    TooLarge,
    EditWindowPassed,
    /// The message is deleted: it cannot be pinned.
    MessageDeleted,
    /// The room has as many pins as it may have.
    PinLimitReached,
    Unavailable,
    Internal,
}

impl WsCode {
    pub const ALL: &'static [WsCode] = &[
        WsCode::BadRequest,
        WsCode::TooManySubscriptions,
        WsCode::Unauthorized,
        WsCode::Forbidden,
        WsCode::NotFound,
        WsCode::RateLimited,
        WsCode::TooLarge,
        WsCode::EditWindowPassed,
        WsCode::MessageDeleted,
        WsCode::PinLimitReached,
        WsCode::Unavailable,
        WsCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WsCode::BadRequest => "bad_request",
            WsCode::TooManySubscriptions => "too_many_subscriptions",
            WsCode::Unauthorized => "unauthorized",
            WsCode::Forbidden => "forbidden",
            WsCode::NotFound => "not_found",
            WsCode::RateLimited => "rate_limited",
            WsCode::TooLarge => "too_large",
            WsCode::EditWindowPassed => "edit_window_passed",
            WsCode::MessageDeleted => "message_deleted",
            WsCode::PinLimitReached => "pin_limit_reached",
            WsCode::Unavailable => "unavailable",
            WsCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for WsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The WebSocket close codes the server uses (docs/PROTOCOL.md, "Close codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CloseCode {
    /// Nothing received for the idle timeout.
    Idle = 1000,
    /// The server is shutting down; reconnect elsewhere.
    GoingAway = 1001,
    /// A client frame over the size limit.
    TooBig = 1009,
    /// The login session ended (logout, expiry, forced logout).
    SessionEnded = 4001,
    /// The socket's outbound queue overflowed; resume from the last seq.
    SlowConsumer = 4008,
    /// Too many bad frames.
    ProtocolViolation = 4400,
}

impl CloseCode {
    pub const ALL: &'static [CloseCode] = &[
        CloseCode::Idle,
        CloseCode::GoingAway,
        CloseCode::TooBig,
        CloseCode::SessionEnded,
        CloseCode::SlowConsumer,
        CloseCode::ProtocolViolation,
    ];

    pub const fn as_u16(self) -> u16 {
        self as u16
    }

    /// The name the web client knows the code by (`CloseCode.SlowConsumer`).
    pub fn name(self) -> &'static str {
        match self {
            CloseCode::Idle => "Idle",
            CloseCode::GoingAway => "GoingAway",
            CloseCode::TooBig => "TooBig",
            CloseCode::SessionEnded => "SessionEnded",
            CloseCode::SlowConsumer => "SlowConsumer",
            CloseCode::ProtocolViolation => "ProtocolViolation",
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.as_u16()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn value(frame: &ServerFrame, reference: Option<&Value>) -> Value {
        serde_json::from_str(&frame.to_text(reference)).unwrap()
    }

    #[test]
    fn frames_keep_their_wire_shape() {
        let room = Uuid::new_v4();
        let at: DateTime<Utc> = "2026-11-30T06:00:00Z".parse().unwrap();
        let msg = Uuid::new_v4();
        let cases = [
            (ServerFrame::Pong, json!({"type": "pong"})),
            (
                ServerFrame::Subscribed {
                    room_id: room,
                    head_seq: 4,
                    online: vec!["a@x".into()],
                },
                json!({"type": "subscribed", "room_id": room, "head_seq": 4, "online": ["a@x"]}),
            ),
            (
                ServerFrame::Unsubscribed {
                    room_id: room,
                    reason: None,
                },
                json!({"type": "unsubscribed", "room_id": room}),
            ),
            (
                ServerFrame::Unsubscribed {
                    room_id: room,
                    reason: Some(UnsubscribeReason::Removed),
                },
                json!({"type": "unsubscribed", "room_id": room, "reason": "removed"}),
            ),
            (
                ServerFrame::send_ack("c1", msg, 9),
                json!({"type": "ack", "client_id": "c1", "message_id": msg, "seq": 9}),
            ),
            (
                ServerFrame::action_ack(msg, None),
                json!({"type": "ack", "message_id": msg, "seq": null}),
            ),
            (
                ServerFrame::Error {
                    code: WsCode::TooManySubscriptions,
                    message: "m".into(),
                    room_id: Some(room),
                },
                json!({"type": "error", "code": "too_many_subscriptions", "message": "m", "room_id": room}),
            ),
            (
                ServerFrame::Error {
                    code: WsCode::BadRequest,
                    message: "m".into(),
                    room_id: None,
                },
                json!({"type": "error", "code": "bad_request", "message": "m"}),
            ),
            (
                ServerFrame::Typing {
                    room_id: room,
                    user: "a@x".into(),
                    display_name: "A".into(),
                    expires_in_ms: 3000,
                },
                json!({"type": "typing", "room_id": room, "user": "a@x", "display_name": "A", "expires_in_ms": 3000}),
            ),
            (
                ServerFrame::Presence {
                    room_id: room,
                    online: vec!["b@x".into()],
                    offline: vec!["a@x".into()],
                },
                json!({"type": "presence", "room_id": room, "online": ["b@x"], "offline": ["a@x"]}),
            ),
            (
                ServerFrame::Read {
                    room_id: room,
                    user: "a@x".into(),
                    seq: 3,
                },
                json!({"type": "read", "room_id": room, "user": "a@x", "seq": 3}),
            ),
            (
                ServerFrame::Notification {
                    notification: Notification {
                        id: room,
                        kind: NotificationKind::Added,
                        room_id: room,
                        room_title: "Line 3".into(),
                        seq: Some(2),
                        actor: Some("a@x".into()),
                        actor_name: Some("A".into()),
                        text: "A added you to Line 3".into(),
                        created_at: at,
                        read_at: None,
                    },
                    ring: true,
                },
                json!({"type": "notification", "ring": true, "notification": {
                    "id": room, "kind": "added", "room_id": room, "room_title": "Line 3",
                    "seq": 2, "actor": "a@x", "actor_name": "A",
                    "text": "A added you to Line 3", "created_at": at, "read_at": null}}),
            ),
        ];
        for (frame, expected) in cases {
            assert_eq!(value(&frame, None), expected, "{frame:?}");
        }
    }

    #[test]
    fn notification_kinds_parse_their_names() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        assert_eq!(NotificationKind::parse("Added"), None);
    }

    #[test]
    fn replies_echo_the_ref() {
        let reference = json!({"send": "c1"});
        let mut expected = json!({"type": "pong"});
        assert_eq!(value(&ServerFrame::Pong, None), expected);
        expected["ref"] = reference.clone();
        assert_eq!(value(&ServerFrame::Pong, Some(&reference)), expected);
        assert_eq!(
            value(&ServerFrame::Pong, Some(&json!(null)))["ref"],
            json!(null),
            "a null ref is a ref"
        );
    }

    #[test]
    fn the_fast_event_text_is_the_event_variant() {
        let data = r#"{"id":"m1","content":"Line 3 \"stopped\" 輸送帶停止","n":[1,2.5,null]}"#;
        let (room_id, at) = (Uuid::new_v4(), Utc::now());
        let fast = super::super::event_frame_text(
            room_id,
            7,
            "message.created",
            &at,
            "op@x",
            &RawValue::from_string(data.into()).unwrap(),
        );
        let frame = ServerFrame::Event {
            room_id,
            seq: 7,
            kind: "message.created".into(),
            at,
            actor: "op@x".into(),
            data: RawValue::from_string(data.into()).unwrap(),
        };
        assert_eq!(fast, serde_json::to_string(&frame).unwrap());
        assert_eq!(fast, frame.to_text(None));
    }

    #[test]
    fn close_codes_are_the_documented_numbers() {
        let codes: Vec<u16> = CloseCode::ALL.iter().map(|c| c.as_u16()).collect();
        assert_eq!(codes, [1000, 1001, 1009, 4001, 4008, 4400]);
        assert_eq!(u16::from(CloseCode::SlowConsumer), 4008);
    }

    #[test]
    fn ws_codes_serialize_as_their_names() {
        for code in WsCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }
}
