//! Real-time delivery: room actors, the room directory, group commit of sends, and
//! the messages socket actors exchange with them.
//!
//! Data flow of a durable event:
//! 1. A change commits in PostgreSQL with its per-room `seq` (a send through
//!    [`GroupCommit`], anything else through its own transaction).
//! 2. The committer [`publish`](RoomDirectory::publish)es it to the room's actor, if
//!    one runs (no actor means no subscriber).
//! 3. The [`RoomActor`] puts events back in `seq` order (two committers may race to
//!    publish), repairs gaps from the database, serializes each event once and hands
//!    the shared bytes to every subscribed socket with `try_send`.
//! 4. With several nodes, the committer also puts the event on the [`EventBus`];
//!    the room's actor on every other node takes it from there (step 3).

mod bus;
mod commit;
mod directory;
mod frames;
mod kind;
pub mod messages;
mod room;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use bus::{BusItem, EphemeralFrame, EventBus, PresenceReport};
pub use commit::{
    BatchError, BatchOutcome, BatchWriter, GroupCommit, LANES, SendAck, SendError, SendRequest,
};
pub use directory::RoomDirectory;
pub use frames::{
    CloseCode, Notification, NotificationKind, ServerFrame, UnsubscribeReason, WsCode,
};
pub use kind::EventKind;
pub use room::{RoomActor, RoomConfig};

use crate::session::BackendError;

/// A committed room event, as stored and as sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredEvent {
    pub room_id: Uuid,
    pub seq: i64,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub data: serde_json::Value,
}

/// The `event` frame of the wire protocol, over any form of the event's data: the
/// text of [`ServerFrame::Event`] without building one (tests hold them equal).
#[derive(Serialize)]
struct EventFrame<'a, D: Serialize + ?Sized> {
    #[serde(rename = "type")]
    ty: &'static str,
    room_id: Uuid,
    seq: i64,
    kind: &'a str,
    at: &'a DateTime<Utc>,
    actor: &'a str,
    data: &'a D,
}

impl StoredEvent {
    /// The `room.deleted` event of a permanent deletion, which is not stored:
    /// `seq` is one past the head for the sockets, 0 on the bus.
    pub fn room_deleted(room_id: Uuid, seq: i64, actor: String) -> Self {
        Self {
            room_id,
            seq,
            kind: EventKind::RoomDeleted.into(),
            at: Utc::now(),
            actor,
            data: serde_json::json!({}),
        }
    }

    /// The `event` frame of the wire protocol.
    pub fn to_frame_text(&self) -> String {
        event_frame_text(
            self.room_id,
            self.seq,
            &self.kind,
            &self.at,
            &self.actor,
            &self.data,
        )
    }
}

/// The `event` frame of an event whose data is at hand only as JSON: a replay
/// copies the stored text into the frame instead of building a tree from it and
/// writing the tree out again.
pub fn event_frame_text(
    room_id: Uuid,
    seq: i64,
    kind: &str,
    at: &DateTime<Utc>,
    actor: &str,
    data: &(impl Serialize + ?Sized),
) -> String {
    let frame = EventFrame {
        ty: "event",
        room_id,
        seq,
        kind,
        at,
        actor,
        data,
    };
    // Serializing strings, numbers, a timestamp and JSON cannot fail.
    serde_json::to_string(&frame).unwrap_or_default()
}

/// Read access to the event log, for room actors (implemented over PostgreSQL by
/// the server, in memory by tests).
#[async_trait::async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// The room's current head; `None` if the room does not exist.
    async fn head(&self, room: Uuid) -> Result<Option<i64>, BackendError>;
    /// The current heads of those of `rooms` that exist, in one read.
    async fn heads(&self, rooms: &[Uuid]) -> Result<Vec<(Uuid, i64)>, BackendError>;
    /// Events with `after < seq ≤ upto`, in order.
    async fn range(
        &self,
        room: Uuid,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StoredEvent>, BackendError>;
}

#[cfg(test)]
mod tests;
