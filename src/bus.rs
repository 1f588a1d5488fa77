//! The event bus between nodes on NATS core pub/sub (`ANDON_NATS_URL`).
//!
//! Each committed event is published once, after its commit, on the subject
//! `andon.room.<room id>`, as JSON `{"t":"event","c":<the StoredEvent>}` (typing and read
//! frames go the same way, already serialized, as `"t":"ephemeral"`; a node's
//! online set in the room as `"t":"presence"`), with the publishing node's id in
//! the `Andon-Node` header; a room actor subscribes to its
//! room's subject while it runs and skips its own node's messages. NATS core
//! keeps nothing: PostgreSQL stays the record, and the room actor reads from it
//! whatever the bus lost (a gap in `seq`) or carried before its subscription
//! (the catch-up on `Subscribed`).
//!
//! Session ends go on `andon.sessions.ended` (`{"id", "reason"}`), which every
//! node subscribes to: the node that ended a session stored that first, the others
//! close the session's sockets at once.
//!
//! Notifications go on `andon.users.notify` (`{"user", "frame"}`, the frame as
//! sent to sockets), which every node subscribes to and hands to its own sockets
//! of that user.

use andon_actors::realtime::{BusItem, EphemeralFrame, EventBus, PresenceReport, StoredEvent};
use andon_actors::session::{EndReason, SessionBus, SessionId};
use anyhow::Context as _;
use async_nats::{Client, ConnectOptions, Event, HeaderMap};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use metrics::counter;
use uuid::Uuid;

use crate::notifications::NotifyBus;

const NODE_HEADER: &str = "Andon-Node";
const SESSIONS_ENDED: &str = "andon.sessions.ended";
const USERS_NOTIFY: &str = "andon.users.notify";

#[derive(serde::Serialize, serde::Deserialize)]
struct SessionEnded {
    id: SessionId,
    reason: EndReason,
}

pub struct NatsBus {
    client: Client,
    /// This node's id, to skip its own messages.
    node: Uuid,
    /// The same, as sent in the header.
    node_header: String,
    /// The runtime the client was made on, for the tasks that own subscriptions.
    runtime: tokio::runtime::Handle,
}

/// Messages of one subscription waiting for their room actor, at most (then the
/// subscription's own buffer fills and NATS drops, which costs a gap repair).
const FORWARD_QUEUE: usize = 1024;

fn subject(room: Uuid) -> String {
    format!("andon.room.{room}")
}

impl NatsBus {
    /// Connects to `url`; a server that is not up yet is retried in the
    /// background (the node serves its own sockets meanwhile).
    /// `node` names this node on the bus (the same id as in its refresh leases).
    pub async fn connect(url: &str, node: Uuid) -> anyhow::Result<Self> {
        let client = ConnectOptions::new()
            .name("andon")
            .retry_on_initial_connect()
            .event_callback(|event| async move {
                match event {
                    Event::Connected => {
                        tracing::info!("event bus connected");
                        counter!("andon_bus_connects_total").increment(1);
                    }
                    Event::Disconnected => {
                        tracing::warn!("event bus disconnected: other nodes' events wait for the next local event or gap repair");
                        counter!("andon_bus_disconnects_total").increment(1);
                    }
                    other => tracing::info!(event = %other, "event bus"),
                }
            })
            .connect(url)
            .await
            // The address is not repeated: it may hold credentials.
            .context("ANDON_NATS_URL is not a usable NATS server address")?;
        Ok(Self {
            client,
            node,
            node_header: node.to_string(),
            runtime: tokio::runtime::Handle::current(),
        })
    }
}

impl NatsBus {
    /// Publishes one message on `room`'s subject.
    fn send_one(&self, room: Uuid, message: &RoomMessageRef<'_>) {
        self.send(encoded(subject(room), message).into_iter().collect());
    }

    /// Publishes `(subject, payload)`s as this node, in order, in one task and
    /// without waiting (a commit's events are one call).
    fn send(&self, messages: Vec<(String, Vec<u8>)>) {
        if messages.is_empty() {
            return;
        }
        let client = self.client.clone();
        let mut headers = HeaderMap::new();
        headers.insert(NODE_HEADER, self.node_header.as_str());
        self.runtime.spawn(async move {
            for (subject, payload) in messages {
                match client
                    .publish_with_headers(subject, headers.clone(), payload.into())
                    .await
                {
                    Ok(()) => counter!("andon_bus_published_total").increment(1),
                    Err(err) => {
                        // Other nodes read it from the log (gap repair, polling).
                        tracing::debug!(error = %err, "not published on the bus");
                        counter!("andon_bus_publish_failures_total").increment(1);
                    }
                }
            }
        });
    }

    /// The messages on `subject` from other nodes, decoded; the first item is
    /// `None` once the subscription is on its way to the server.
    ///
    /// The subscription lives in a task on the runtime the client was made on
    /// and is forwarded through a channel: async-nats unsubscribes in `Drop` with
    /// `tokio::spawn`, which panics on a thread without a runtime (an actor
    /// dropped while its arbiter shuts down). Dropping the stream ends the task.
    fn others_messages<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        subject: String,
    ) -> BoxStream<'static, Option<T>> {
        let (client, node) = (self.client.clone(), self.node_header.clone());
        let (tx, rx) = tokio::sync::mpsc::channel::<Option<T>>(FORWARD_QUEUE);
        self.runtime.spawn(async move {
            let mut subscriber = match client.subscribe(subject.clone()).await {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(%subject, error = %err, "could not subscribe on the bus");
                    return;
                }
            };
            // On its way to the server before the caller reads what it missed.
            let _ = client.flush().await;
            if tx.send(None).await.is_err() {
                return;
            }
            loop {
                let message = tokio::select! {
                    m = subscriber.next() => match m {
                        Some(m) => m,
                        None => return,
                    },
                    () = tx.closed() => return,
                };
                let own = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(NODE_HEADER))
                    .is_some_and(|n| n.as_str() == node);
                if own {
                    continue;
                }
                counter!("andon_bus_received_total").increment(1);
                match serde_json::from_slice::<T>(&message.payload) {
                    Ok(value) => {
                        if tx.send(Some(value)).await.is_err() {
                            return;
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "unreadable message on the bus"),
                }
            }
        });
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) }).boxed()
    }
}

impl SessionBus for NatsBus {
    fn ended(&self, id: SessionId, reason: EndReason) {
        let message = encoded(SESSIONS_ENDED.to_string(), &SessionEnded { id, reason });
        self.send(message.into_iter().collect());
    }

    fn ended_elsewhere(&self) -> BoxStream<'static, (SessionId, EndReason)> {
        self.others_messages::<SessionEnded>(SESSIONS_ENDED.to_string())
            .filter_map(|m| std::future::ready(m.map(|m| (m.id, m.reason))))
            .boxed()
    }
}

/// A notification frame for one user's sockets.
#[derive(serde::Serialize, serde::Deserialize)]
struct UserFrame<S = String> {
    user: S,
    frame: S,
}

impl NotifyBus for NatsBus {
    fn notify(&self, user: &str, text: &str) {
        let frame = UserFrame { user, frame: text };
        self.send(
            encoded(USERS_NOTIFY.to_string(), &frame)
                .into_iter()
                .collect(),
        );
    }

    fn notified_elsewhere(&self) -> BoxStream<'static, (String, String)> {
        self.others_messages::<UserFrame>(USERS_NOTIFY.to_string())
            .filter_map(|m| std::future::ready(m.map(|m| (m.user, m.frame))))
            .boxed()
    }
}

/// What travels on a room's subject: written from references, read as values.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
enum RoomMessage<E = StoredEvent, F = EphemeralFrame, P = PresenceReport> {
    Event(E),
    Ephemeral(F),
    Presence(P),
}

/// A room message that holds one of the three by reference.
type RoomMessageRef<'a> = RoomMessage<&'a StoredEvent, &'a EphemeralFrame, &'a PresenceReport>;

/// `(subject, JSON)`, or `None` (logged) for a value that does not serialize.
fn encoded(subject: String, value: &impl serde::Serialize) -> Option<(String, Vec<u8>)> {
    match serde_json::to_vec(value) {
        Ok(payload) => Some((subject, payload)),
        Err(err) => {
            tracing::error!(error = %err, "not serializable for the bus");
            None
        }
    }
}

impl EventBus for NatsBus {
    fn publish(&self, events: &[StoredEvent]) {
        let messages = events
            .iter()
            .filter_map(|e| encoded(subject(e.room_id), &RoomMessageRef::Event(e)));
        self.send(messages.collect());
    }

    fn publish_ephemeral(&self, frame: &EphemeralFrame) {
        self.send_one(frame.room_id, &RoomMessageRef::Ephemeral(frame));
    }

    fn publish_presence(&self, report: &PresenceReport) {
        self.send_one(report.room_id, &RoomMessageRef::Presence(report));
    }

    fn node(&self) -> Uuid {
        self.node
    }

    fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    fn room_events(&self, room: Uuid) -> BoxStream<'static, BusItem> {
        self.others_messages::<RoomMessage>(subject(room))
            .map(|m| match m {
                None => BusItem::Subscribed,
                Some(RoomMessage::Event(e)) => {
                    // From the commit on another node to here (clocks in step).
                    if let Ok(lag) = (chrono::Utc::now() - e.at).to_std() {
                        metrics::histogram!("andon_bus_lag_seconds").record(lag.as_secs_f64());
                    }
                    BusItem::Event(e)
                }
                Some(RoomMessage::Ephemeral(f)) => BusItem::Ephemeral(f),
                Some(RoomMessage::Presence(p)) => BusItem::Presence(p),
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_malformed_address_names_the_variable_not_the_address() {
        let Err(e) = NatsBus::connect("nats://user:secret@bad host:4222", Uuid::new_v4()).await
        else {
            panic!("a malformed address was accepted");
        };
        let message = format!("{e:#}");
        assert!(message.contains("ANDON_NATS_URL"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
