//! Committed events between nodes that share one database.
//!
//! Each node publishes the events it commits, once, after the commit; a room
//! actor takes the events other nodes commit in its room for as long as it runs.
//! The bus may lose or delay a message: the room actor orders by `seq` and
//! repairs gaps from the event log, so a lost message costs latency, never
//! correctness. The server's implementation is NATS (`src/bus.rs`); a single
//! node runs without one.

use futures_util::stream::BoxStream;
use uuid::Uuid;

use super::StoredEvent;

/// What a room's stream from the bus yields. A permanent deletion comes as a
/// `room.deleted` event with `seq` 0 (it is not stored).
#[derive(Debug, Clone, PartialEq)]
pub enum BusItem {
    /// The subscription is in place: events committed elsewhere from now on
    /// arrive here. Events committed before it are read from the log.
    Subscribed,
    /// An event another node committed.
    Event(StoredEvent),
    /// A typing or read frame from another node.
    Ephemeral(EphemeralFrame),
    /// Who holds sockets in the room on another node.
    Presence(PresenceReport),
}

/// An ephemeral frame (typing, read, a report's progress) for a room's sockets on
/// every node: all but those of `except_user`, or only those of `only_user`;
/// serialized once, by the node it happened on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EphemeralFrame {
    pub room_id: Uuid,
    pub except_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_user: Option<String>,
    pub text: String,
}

/// The users holding sockets in a room on one node: the whole set each time, so
/// the latest report from a node is all a receiver needs (a lost or late one
/// costs nothing but time).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PresenceReport {
    pub room_id: Uuid,
    pub node: Uuid,
    /// Grows with each report a node sends: an older one arriving late is ignored.
    pub version: u64,
    pub online: Vec<String>,
    /// Sent by a room actor that just subscribed: the others answer with theirs.
    pub ask: bool,
}

pub trait EventBus: Send + Sync + 'static {
    /// Hands events committed on this node to the other nodes (no waiting).
    fn publish(&self, events: &[StoredEvent]);
    /// Hands an ephemeral frame to the other nodes (dropped if the bus is down).
    fn publish_ephemeral(&self, frame: &EphemeralFrame);
    /// Hands this node's presence in a room to the other nodes (dropped if the
    /// bus is down: reports repeat).
    fn publish_presence(&self, report: &PresenceReport);
    /// This node's id on the bus.
    fn node(&self) -> Uuid;
    /// The events other nodes commit in `room`, while the stream is held.
    fn room_events(&self, room: Uuid) -> BoxStream<'static, BusItem>;
    /// Whether the bus carries messages now; while it does not, room actors read
    /// the log on a timer instead.
    fn connected(&self) -> bool;
}
