//! Messages between room actors and socket actors.

use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use uuid::Uuid;

use super::StoredEvent;

/// What a socket needs to know of a durable event without parsing its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMeta {
    pub seq: i64,
    pub kind: String,
    pub actor: String,
    /// `message.created`: the sender's client id and the message id, so the sender's
    /// socket can acknowledge before it shows the event.
    pub client_id: Option<String>,
    pub message_id: Option<String>,
    /// Member events: the member concerned.
    pub subject: Option<String>,
    /// `member.role_changed`: the new role.
    pub new_role: Option<String>,
}

impl EventMeta {
    pub fn of(e: &StoredEvent) -> Self {
        let s = |k: &str| e.data.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Self::new(
            e.seq,
            &e.kind,
            &e.actor,
            Fields {
                id: s("id"),
                client_id: s("client_id"),
                user_id: s("user_id"),
                to: s("to"),
            },
        )
    }

    /// The same, read from the event's data as JSON text; fields that are not
    /// strings count as absent, as in [`EventMeta::of`].
    pub fn from_json(seq: i64, kind: &str, actor: &str, data: &str) -> Self {
        #[derive(serde::Deserialize, Default)]
        struct Raw {
            #[serde(default)]
            id: Option<serde_json::Value>,
            #[serde(default)]
            client_id: Option<serde_json::Value>,
            #[serde(default)]
            user_id: Option<serde_json::Value>,
            #[serde(default)]
            to: Option<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_str(data).unwrap_or_default();
        let s = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        Self::new(
            seq,
            kind,
            actor,
            Fields {
                id: s(raw.id),
                client_id: s(raw.client_id),
                user_id: s(raw.user_id),
                to: s(raw.to),
            },
        )
    }

    fn new(seq: i64, kind: &str, actor: &str, f: Fields) -> Self {
        let created = kind == "message.created";
        Self {
            seq,
            kind: kind.to_string(),
            actor: actor.to_string(),
            client_id: f.client_id.filter(|_| created),
            message_id: f.id.filter(|_| created),
            subject: f.user_id,
            new_role: f.to.filter(|_| kind == "member.role_changed"),
        }
    }
}

/// The string fields of an event's data that [`EventMeta`] reads.
struct Fields {
    id: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    to: Option<String>,
}

/// A frame for sockets, serialized once and shared by every recipient.
#[derive(Debug, Clone)]
pub enum Frame {
    Durable {
        text: ByteString,
        meta: Arc<EventMeta>,
    },
    Ephemeral {
        text: ByteString,
    },
}

/// Room actor → socket actor.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum ToSocket {
    Frame {
        room_id: Uuid,
        frame: Frame,
    },
    /// The room ended the subscription: `removed` from the room, room `deleted`.
    Ended {
        room_id: Uuid,
        reason: &'static str,
    },
    /// Close the socket with this code (4008: slow consumer).
    Close {
        code: u16,
        reason: &'static str,
    },
}

/// The answer to [`Subscribe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// Every event up to here is in the database; every later one comes live.
    pub head_seq: i64,
    pub online: Vec<String>,
}

/// Socket → room: deliver this room's live events from now on.
#[derive(Message)]
#[rtype(result = "Subscribed")]
pub struct Subscribe {
    pub socket_id: u64,
    pub user_id: String,
    pub socket: Recipient<ToSocket>,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub socket_id: u64,
}

/// Committer → room: events committed to the log.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish {
    pub events: Vec<StoredEvent>,
}

/// Socket → room: the user is typing (ephemeral, rate-limited per socket).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Typing {
    pub socket_id: u64,
    pub user_id: String,
    pub display_name: String,
}

/// Socket → room: the user has read up to `seq` (already stored).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReadUpTo {
    pub user_id: String,
    pub seq: i64,
}

/// Server → room: the room was deleted permanently.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RoomDeleted {
    pub actor: String,
}

/// Tests and diagnostics: how many sockets are subscribed.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct SubscriberCount;
