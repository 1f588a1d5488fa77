//! Messages between room actors and socket actors.

use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use uuid::Uuid;

use super::StoredEvent;

/// What a socket needs to know of a durable event without parsing its JSON.
#[derive(Debug, Clone)]
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
        Self {
            seq: e.seq,
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            client_id: (e.kind == "message.created")
                .then(|| s("client_id"))
                .flatten(),
            message_id: (e.kind == "message.created").then(|| s("id")).flatten(),
            subject: s("user_id"),
            new_role: (e.kind == "member.role_changed").then(|| s("to")).flatten(),
        }
    }
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
