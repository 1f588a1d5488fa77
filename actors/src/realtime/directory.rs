//! Finds the actor of a room, starting one on first use.

use std::sync::Arc;

use actix::{Actor, Addr};
use dashmap::DashMap;
use uuid::Uuid;

use super::messages::{Publish, RoomDeleted};
use super::{EventBus, EventKind, EventLog, RoomActor, RoomConfig, StoredEvent};

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
    /// actors take theirs from it.
    pub fn with_bus(mut self, bus: Arc<dyn EventBus>) -> Self {
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
            bus.publish(&[StoredEvent {
                room_id: room,
                seq: 0,
                kind: EventKind::RoomDeleted.into(),
                at: chrono::Utc::now(),
                actor: actor.to_string(),
                data: serde_json::json!({}),
            }]);
        }
        if let Some(addr) = self.get(room) {
            addr.do_send(RoomDeleted {
                actor: actor.to_string(),
            });
        }
    }

    /// Number of running room actors.
    pub fn active(&self) -> usize {
        self.rooms.len()
    }
}
