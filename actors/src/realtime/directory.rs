//! Finds the actor of a room, starting one on first use.

use std::sync::{Arc, Weak};

use actix::{Actor, Addr};
use dashmap::DashMap;
use uuid::Uuid;

use super::messages::{Head, Publish, RoomDeleted, ToUser};
use super::{EphemeralFrame, EventBus, EventLog, RoomActor, RoomConfig, StoredEvent};

/// Shared by every worker thread; cloning is cheap.
#[derive(Clone)]
pub struct RoomDirectory {
    rooms: Arc<DashMap<Uuid, Addr<RoomActor>>>,
    log: Arc<dyn EventLog>,
    /// Other nodes' events, when several nodes share the database.
    bus: Option<Arc<dyn EventBus>>,
    config: RoomConfig,
}

impl RoomDirectory {
    pub fn new(log: Arc<dyn EventLog>, config: RoomConfig) -> Self {
        Self {
            rooms: Arc::default(),
            log,
            bus: None,
            config,
        }
    }

    /// Publishes committed events to other nodes through `bus` too, and has room
    /// actors take theirs from it; polls the log for what the bus loses.
    pub fn with_bus(mut self, bus: Arc<dyn EventBus>) -> Self {
        actix::spawn(poll_heads(
            Arc::downgrade(&self.rooms),
            self.log.clone(),
            bus.clone(),
            self.config.clone(),
        ));
        self.bus = Some(bus);
        self
    }

    pub(super) fn bus(&self) -> Option<&Arc<dyn EventBus>> {
        self.bus.as_ref()
    }

    /// The room's running actor, or a new one on the current arbiter.
    pub fn get_or_start(&self, room: Uuid) -> Addr<RoomActor> {
        // The guard is dropped before any `.await`: this function is synchronous.
        let mut entry = self.rooms.entry(room).or_insert_with(|| self.spawn(room));
        if !entry.connected() {
            *entry = self.spawn(room);
        }
        entry.clone()
    }

    fn spawn(&self, room: Uuid) -> Addr<RoomActor> {
        RoomActor::new(room, self.log.clone(), self.clone(), self.config.clone()).start()
    }

    /// The room's actor if one runs.
    pub fn get(&self, room: Uuid) -> Option<Addr<RoomActor>> {
        self.rooms
            .get(&room)
            .map(|a| a.clone())
            .filter(actix::Addr::connected)
    }

    pub(super) fn remove_if_same(&self, room: Uuid, addr: &Addr<RoomActor>) {
        self.rooms.remove_if(&room, |_, a| a == addr);
    }

    /// Hands events committed on this node to their rooms' actors (rooms without
    /// an actor have no subscriber here) and to the bus, if any.
    pub fn publish(&self, events: Vec<StoredEvent>) {
        if let Some(bus) = &self.bus {
            bus.publish(&events);
        }
        let mut by_room: Vec<(Uuid, Vec<StoredEvent>)> = Vec::new();
        for e in events {
            match by_room.iter_mut().find(|(r, _)| *r == e.room_id) {
                Some((_, list)) => list.push(e),
                None => by_room.push((e.room_id, vec![e])),
            }
        }
        for (room, events) in by_room {
            if let Some(addr) = self.get(room) {
                addr.do_send(Publish { events });
            }
        }
    }

    /// Ends the room's subscriptions on this node and, through the bus, on the
    /// others (the deletion is committed).
    pub fn room_deleted(&self, room: Uuid, actor: &str) {
        if let Some(bus) = &self.bus {
            // Not stored, so it has no seq: 0 (the room actor goes by its kind).
            bus.publish(&[StoredEvent::room_deleted(room, 0, actor.to_string())]);
        }
        if let Some(addr) = self.get(room) {
            addr.do_send(RoomDeleted {
                actor: actor.to_string(),
            });
        }
    }

    /// Hands an ephemeral frame to `user`'s sockets subscribed to `room`, here
    /// and on the other nodes (dropped where none is).
    pub fn to_user(&self, room: Uuid, user: &str, text: String) {
        if let Some(bus) = &self.bus {
            bus.publish_ephemeral(&EphemeralFrame {
                room_id: room,
                except_user: None,
                only_user: Some(user.to_string()),
                text: text.clone(),
            });
        }
        if let Some(addr) = self.get(room) {
            addr.do_send(ToUser {
                user_id: user.to_string(),
                text,
            });
        }
    }

    /// Number of running room actors.
    pub fn active(&self) -> usize {
        self.rooms.len()
    }
}

/// What the bus loses, read from the log: every `bus_down_poll` while the bus
/// is down, every `bus_up_poll_every`-th of those with it up (another node may
/// have published while only its own link was down), one read of the heads of
/// every room with an actor on this node, each actor told its room's head.
/// One query per node instead of a timer and a query per room: with 1,000
/// rooms on 3 nodes those cost 1.7× the CPU per delivery of one node
/// (docs/BENCHMARKS.md). Ends when the directory is dropped.
async fn poll_heads(
    directory: Weak<DashMap<Uuid, Addr<RoomActor>>>,
    log: Arc<dyn EventLog>,
    bus: Arc<dyn EventBus>,
    config: RoomConfig,
) {
    let mut timer = tokio::time::interval(config.bus_down_poll);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ticks: u32 = 0;
    loop {
        timer.tick().await;
        ticks = ticks.wrapping_add(1);
        if bus.connected() && !ticks.is_multiple_of(config.bus_up_poll_every.max(1)) {
            continue;
        }
        // Not held across the read.
        let Some(ids) = directory
            .upgrade()
            .map(|rooms| rooms.iter().map(|e| *e.key()).collect::<Vec<Uuid>>())
        else {
            return;
        };
        if ids.is_empty() {
            continue;
        }
        let heads = match log.heads(&ids).await {
            Ok(heads) => heads,
            Err(e) => {
                tracing::warn!(error = %e, "reading the rooms' heads failed; next tick retries");
                continue;
            }
        };
        let Some(rooms) = directory.upgrade() else {
            return;
        };
        for (room, head) in heads {
            if let Some(actor) = rooms.get(&room) {
                actor.do_send(Head(head));
            }
        }
    }
}
