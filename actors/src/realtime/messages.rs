//! Messages between room actors and socket actors.

use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use uuid::Uuid;

use serde::Deserialize;

use super::{CloseCode, EventKind, StoredEvent, UnsubscribeReason};

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
        Self::new(e.seq, &e.kind, &e.actor, Fields::deserialize(&e.data))
    }

    /// The same, read from the event's data as JSON text (a replay's).
    pub fn from_json(seq: i64, kind: &str, actor: &str, data: &str) -> Self {
        let mut de = serde_json::Deserializer::from_str(data);
        Self::new(seq, kind, actor, Fields::deserialize(&mut de))
    }

    fn new<E>(seq: i64, kind: &str, actor: &str, fields: Result<Fields, E>) -> Self {
        // Data that is not an object has none of the fields.
        let f = fields.unwrap_or_default();
        let created = *kind == EventKind::MessageCreated;
        Self {
            seq,
            kind: kind.to_string(),
            actor: actor.to_string(),
            client_id: f.client_id.filter(|_| created),
            message_id: f.id.filter(|_| created),
            subject: f.user_id,
            new_role: f.to.filter(|_| *kind == EventKind::MemberRoleChanged),
        }
    }
}

/// The fields of an event's data that [`EventMeta`] reads; one that is not a
/// string counts as absent.
#[derive(serde::Deserialize, Default)]
struct Fields {
    #[serde(default, deserialize_with = "string_or_none")]
    id: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    to: Option<String>,
}

fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde::Deserialize::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
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
    /// The room ended the subscription.
    Ended {
        room_id: Uuid,
        reason: UnsubscribeReason,
    },
    /// Close the socket with this code (a slow consumer).
    Close {
        code: CloseCode,
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

/// Directory → room: the room's head in the log now (with several nodes, read
/// for every room of the node at once); the room reads what it has not seen.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Head(pub i64);

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

/// Server → room: an ephemeral frame for one user's sockets in the room (on
/// this node; the directory sends it to the other nodes).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ToUser {
    pub user_id: String,
    pub text: String,
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
