//! The escalation actor (issue 19): an unacknowledged room climbs its
//! severity's ladder, one level at a time, at `detected + after` of each level.
//!
//! One timer per open room, as the session supervisor keeps one per session.
//! Nothing is remembered here that the database does not hold: a room's
//! reached level is stored by [`EscalationBackend::climb`], and due times are
//! computed from the room's detection time, so an actor started after a restart
//! (or on another node) rebuilds the same timers: an overdue level fires at
//! once, a reached one never again.
//!
//! With several nodes every node runs the actor; a level's effects happen once
//! because [`EscalationBackend::climb`] is a compare-and-set on the stored
//! level (the node that loses the race is told [`Climb::AlreadyThere`] and
//! moves on to the next level). Every [`EscalationConfig::resync`] the actor
//! reloads the open rooms, which picks up rooms opened, acknowledged or
//! re-graded through other nodes, and ladders an administrator changed.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clock::Clock;
use crate::session::BackendError;

/// One level of a ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// How long after detection this level is reached, if nobody acknowledged.
    pub after: Duration,
    /// Who is notified (and added to the room as an editor).
    pub notify: Vec<String>,
}

/// A room that may climb: active and unacknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRoom {
    pub id: Uuid,
    pub severity: String,
    pub detected_at: DateTime<Utc>,
    /// Levels reached so far (0: none).
    pub level: u32,
}

/// What became of a climb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Climb {
    /// This call reached the level: its people were notified.
    Climbed,
    /// The room is at that level or past it already (another node got there).
    AlreadyThere,
    /// The room was acknowledged, resolved, archived or deleted: its ladder ends.
    Closed,
}

/// What the actor needs of the database, implemented by the server.
#[async_trait::async_trait]
pub trait EscalationBackend: Send + Sync + 'static {
    /// Every active, unacknowledged room of a severity with a ladder.
    async fn open_rooms(&self) -> Result<Vec<OpenRoom>, BackendError>;
    /// The ladder of `severity` (empty: none).
    async fn ladder(&self, severity: &str) -> Result<Vec<Level>, BackendError>;
    /// Reaches `level` (1-based) of the room's ladder if the room is still open
    /// and has reached `level - 1` exactly: stores the level, notifies that
    /// level's people, adds them as editors, appends `room.escalated`; all in one
    /// transaction.
    async fn climb(&self, room: Uuid, level: u32) -> Result<Climb, BackendError>;
}

#[derive(Debug, Clone)]
pub struct EscalationConfig {
    /// How often open rooms and ladders are reloaded from the database.
    pub resync: Duration,
    /// How long after a failed climb (the database unreachable) it is retried.
    pub retry: Duration,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(30),
            retry: Duration::from_secs(5),
        }
    }
}

struct Tracked {
    room: OpenRoom,
    timer: Option<SpawnHandle>,
    /// A climb is being stored: no second one starts meanwhile.
    climbing: bool,
}

pub struct EscalationActor {
    backend: Arc<dyn EscalationBackend>,
    clock: Arc<dyn Clock>,
    config: EscalationConfig,
    rooms: HashMap<Uuid, Tracked>,
    ladders: HashMap<String, Vec<Level>>,
}

impl EscalationActor {
    pub fn new(
        backend: Arc<dyn EscalationBackend>,
        clock: Arc<dyn Clock>,
        config: EscalationConfig,
    ) -> Self {
        Self {
            backend,
            clock,
            config,
            rooms: HashMap::new(),
            ladders: HashMap::new(),
        }
    }

    /// Reloads ladders and open rooms; rooms no longer open are dropped, the
    /// others (re)scheduled from what is stored.
    fn resync(&mut self, ctx: &mut Context<Self>) {
        let backend = self.backend.clone();
        ctx.spawn(
            async move {
                let rooms = backend.open_rooms().await?;
                let mut ladders = HashMap::new();
                for r in &rooms {
                    if !ladders.contains_key(&r.severity) {
                        ladders.insert(r.severity.clone(), backend.ladder(&r.severity).await?);
                    }
                }
                Ok::<_, BackendError>((rooms, ladders))
            }
            .into_actor(self)
            .map(|loaded, act, ctx| match loaded {
                Ok((rooms, ladders)) => {
                    act.ladders = ladders;
                    let open: Vec<Uuid> = rooms.iter().map(|r| r.id).collect();
                    let gone: Vec<Uuid> = act
                        .rooms
                        .keys()
                        .filter(|id| !open.contains(id))
                        .copied()
                        .collect();
                    for id in gone {
                        act.forget(id, ctx);
                    }
                    for room in rooms {
                        act.track(room, ctx);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "escalation: open rooms not reloaded"),
            }),
        );
    }

    /// Tracks `room` as stored (a higher stored level wins over ours), and sets
    /// its timer for the next level.
    fn track(&mut self, room: OpenRoom, ctx: &mut Context<Self>) {
        let id = room.id;
        let t = self.rooms.entry(id).or_insert(Tracked {
            room: room.clone(),
            timer: None,
            climbing: false,
        });
        let level = t.room.level.max(room.level);
        t.room = OpenRoom { level, ..room };
        if !t.climbing {
            self.schedule(id, ctx);
        }
    }

    fn forget(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        if let Some(t) = self.rooms.remove(&id)
            && let Some(timer) = t.timer
        {
            ctx.cancel_future(timer);
        }
    }

    /// Sets the room's timer for its next level (none past the last).
    fn schedule(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(t) = self.rooms.get_mut(&id) else {
            return;
        };
        if let Some(old) = t.timer.take() {
            ctx.cancel_future(old);
        }
        let Some(next) = self
            .ladders
            .get(&t.room.severity)
            .and_then(|l| l.get(t.room.level as usize))
        else {
            return;
        };
        let due = t.room.detected_at + chrono::Duration::from_std(next.after).unwrap_or_default();
        let delay = (due - now).to_std().unwrap_or(Duration::ZERO);
        t.timer = Some(ctx.run_later(delay, move |act, ctx| act.climb(id, ctx)));
    }

    fn climb(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        let Some(t) = self.rooms.get_mut(&id) else {
            return;
        };
        t.timer = None;
        t.climbing = true;
        let level = t.room.level + 1;
        let backend = self.backend.clone();
        ctx.spawn(
            async move { backend.climb(id, level).await }
                .into_actor(self)
                .map(move |outcome, act, ctx| act.climbed(id, level, outcome, ctx)),
        );
    }

    fn climbed(
        &mut self,
        id: Uuid,
        level: u32,
        outcome: Result<Climb, BackendError>,
        ctx: &mut Context<Self>,
    ) {
        let Some(t) = self.rooms.get_mut(&id) else {
            return; // forgotten while climbing
        };
        t.climbing = false;
        match outcome {
            Ok(Climb::Climbed) => {
                tracing::info!(room = %id, level, "escalated");
                t.room.level = t.room.level.max(level);
                self.schedule(id, ctx);
            }
            Ok(Climb::AlreadyThere) => {
                t.room.level = t.room.level.max(level);
                self.schedule(id, ctx);
            }
            Ok(Climb::Closed) => self.forget(id, ctx),
            Err(e) => {
                tracing::warn!(room = %id, level, error = %e, "escalation not stored; retrying");
                t.timer =
                    Some(ctx.run_later(self.config.retry, move |act, ctx| act.climb(id, ctx)));
            }
        }
    }
}

impl Actor for EscalationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.resync(ctx);
        ctx.run_interval(self.config.resync, EscalationActor::resync);
    }
}

/// A room was opened or re-graded here: track it (its severity's ladder is
/// read first if unknown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch(pub OpenRoom);

/// The room was acknowledged, resolved, archived or deleted here.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unwatch(pub Uuid);

/// Ladders changed (an administrator edited one): reload everything.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reload;

impl Handler<Watch> for EscalationActor {
    type Result = ();
    fn handle(&mut self, Watch(room): Watch, ctx: &mut Context<Self>) {
        if self.ladders.contains_key(&room.severity) {
            self.track(room, ctx);
            return;
        }
        let backend = self.backend.clone();
        let severity = room.severity.clone();
        ctx.spawn(
            async move { backend.ladder(&severity).await }
                .into_actor(self)
                .map(move |ladder, act, ctx| match ladder {
                    Ok(ladder) => {
                        act.ladders.insert(room.severity.clone(), ladder);
                        act.track(room, ctx);
                    }
                    // The next resync tracks it.
                    Err(e) => tracing::warn!(error = %e, "escalation: ladder not read"),
                }),
        );
    }
}

impl Handler<Unwatch> for EscalationActor {
    type Result = ();
    fn handle(&mut self, Unwatch(id): Unwatch, ctx: &mut Context<Self>) {
        self.forget(id, ctx);
    }
}

impl Handler<Reload> for EscalationActor {
    type Result = ();
    fn handle(&mut self, _: Reload, ctx: &mut Context<Self>) {
        self.resync(ctx);
    }
}

/// Stops the actor and its timers (what a process stop does; tests use it to
/// restart one).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

impl Handler<Stop> for EscalationActor {
    type Result = ();
    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Tests and diagnostics: the rooms tracked and the level each reached.
#[derive(Message)]
#[rtype(result = "Vec<(Uuid, u32)>")]
pub struct Tracking;

impl Handler<Tracking> for EscalationActor {
    type Result = Vec<(Uuid, u32)>;
    fn handle(&mut self, _: Tracking, _: &mut Context<Self>) -> Self::Result {
        let mut out: Vec<_> = self
            .rooms
            .values()
            .map(|t| (t.room.id, t.room.level))
            .collect();
        out.sort();
        out
    }
}
