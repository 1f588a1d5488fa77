//! The event bus between nodes on NATS core pub/sub (`ANDON_NATS_URL`).
//!
//! Each committed event is published once, after its commit, on the subject
//! `andon.room.<room id>.events`, as the JSON of a [`StoredEvent`], with the
//! publishing node's id in the `Andon-Node` header; a room actor subscribes to its
//! room's subject while it runs and skips its own node's messages. NATS core
//! keeps nothing: PostgreSQL stays the record, and the room actor reads from it
//! whatever the bus lost (a gap in `seq`) or carried before its subscription
//! (the catch-up on `Subscribed`).

use andon_actors::realtime::{BusItem, EventBus, StoredEvent};
use async_nats::{Client, ConnectOptions, Event, HeaderMap};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use metrics::counter;
use uuid::Uuid;

const NODE_HEADER: &str = "Andon-Node";

pub struct NatsBus {
    client: Client,
    /// This node's id, to skip its own messages.
    node: String,
}

fn subject(room: Uuid) -> String {
    format!("andon.room.{room}.events")
}

impl NatsBus {
    /// Connects to `url`; a server that is not up yet is retried in the
    /// background (the node serves its own sockets meanwhile).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
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
            .await?;
        Ok(Self {
            client,
            node: Uuid::new_v4().to_string(),
        })
    }
}

impl EventBus for NatsBus {
    fn publish(&self, events: &[StoredEvent]) {
        let mut messages = Vec::with_capacity(events.len());
        for e in events {
            match serde_json::to_vec(e) {
                Ok(payload) => messages.push((subject(e.room_id), payload)),
                Err(err) => tracing::error!(error = %err, "event not serializable for the bus"),
            }
        }
        let (client, node) = (self.client.clone(), self.node.clone());
        tokio::spawn(async move {
            for (subject, payload) in messages {
                let mut headers = HeaderMap::new();
                headers.insert(NODE_HEADER, node.as_str());
                match client
                    .publish_with_headers(subject, headers, payload.into())
                    .await
                {
                    Ok(()) => counter!("andon_bus_published_total").increment(1),
                    Err(err) => {
                        // The other nodes read it from the log at their next gap.
                        tracing::debug!(error = %err, "event not published on the bus");
                        counter!("andon_bus_publish_failures_total").increment(1);
                    }
                }
            }
        });
    }

    fn room_events(&self, room: Uuid) -> BoxStream<'static, BusItem> {
        let (client, node) = (self.client.clone(), self.node.clone());
        stream::once(async move {
            let subscribed = client.subscribe(subject(room)).await;
            // The subscription is on its way to the server before the room
            // reads the log to catch up.
            let _ = client.flush().await;
            subscribed
        })
        .flat_map(move |subscribed| match subscribed {
            Ok(subscriber) => {
                let node = node.clone();
                let events = subscriber.filter_map(move |message| {
                    let own = message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(NODE_HEADER))
                        .is_some_and(|n| n.as_str() == node);
                    let event = if own {
                        None
                    } else {
                        counter!("andon_bus_received_total").increment(1);
                        match serde_json::from_slice::<StoredEvent>(&message.payload) {
                            Ok(e) => Some(BusItem::Event(e)),
                            Err(err) => {
                                tracing::warn!(error = %err, "unreadable event on the bus");
                                None
                            }
                        }
                    };
                    std::future::ready(event)
                });
                stream::once(std::future::ready(BusItem::Subscribed))
                    .chain(events)
                    .boxed()
            }
            Err(err) => {
                tracing::warn!(room = %room, error = %err, "could not subscribe to the room on the bus");
                stream::empty().boxed()
            }
        })
        .boxed()
    }
}
