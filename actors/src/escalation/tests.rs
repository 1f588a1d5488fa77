//! The escalation actor with an in-memory backend and paused tokio time: every
//! delay below is virtual.

use std::sync::Mutex;

use super::*;
use crate::clock::TokioClock;

/// The test's clock and when the test started.
type Timeline = (Arc<dyn Clock>, DateTime<Utc>);

/// Rooms as the database holds them, with the climbs asked for.
#[derive(Default)]
struct FakeDb {
    rooms: Mutex<Vec<OpenRoom>>,
    /// Rooms acknowledged (or resolved, archived, deleted).
    closed: Mutex<Vec<Uuid>>,
    ladders: Mutex<HashMap<String, Vec<Level>>>,
    /// `(room, level, seconds since the start)` of each climb that reached its level.
    climbs: Mutex<Vec<(Uuid, u32, i64)>>,
    /// Climbs that fail (the database unreachable) before they succeed.
    failures: Mutex<u32>,
    clock: Mutex<Option<Timeline>>,
}

impl FakeDb {
    fn since_start(&self) -> i64 {
        let guard = self.clock.lock().unwrap();
        let (clock, start) = guard.as_ref().unwrap();
        (clock.now() - *start).num_seconds()
    }

    fn climbs(&self) -> Vec<(Uuid, u32, i64)> {
        self.climbs.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl EscalationBackend for FakeDb {
    async fn open_rooms(&self) -> Result<Vec<OpenRoom>, BackendError> {
        let closed = self.closed.lock().unwrap().clone();
        Ok(self
            .rooms
            .lock()
            .unwrap()
            .iter()
            .filter(|r| !closed.contains(&r.id))
            .cloned()
            .collect())
    }

    async fn ladder(&self, severity: &str) -> Result<Vec<Level>, BackendError> {
        Ok(self
            .ladders
            .lock()
            .unwrap()
            .get(severity)
            .cloned()
            .unwrap_or_default())
    }

    async fn climb(&self, room: Uuid, level: u32) -> Result<Climb, BackendError> {
        {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err("database unreachable".into());
            }
        }
        if self.closed.lock().unwrap().contains(&room) {
            return Ok(Climb::Closed);
        }
        let at = self.since_start();
        let mut rooms = self.rooms.lock().unwrap();
        let Some(r) = rooms.iter_mut().find(|r| r.id == room) else {
            return Ok(Climb::Closed);
        };
        if r.level + 1 != level {
            return Ok(Climb::AlreadyThere);
        }
        r.level = level;
        self.climbs.lock().unwrap().push((room, level, at));
        Ok(Climb::Climbed)
    }
}

const MINUTE: Duration = Duration::from_secs(60);

fn critical_ladder() -> Vec<Level> {
    vec![
        Level {
            after: MINUTE,
            notify: vec!["lead@plant.test".into()],
        },
        Level {
            after: 5 * MINUTE,
            notify: vec!["manager@plant.test".into()],
        },
    ]
}

struct Harness {
    db: Arc<FakeDb>,
    clock: Arc<dyn Clock>,
    start: DateTime<Utc>,
}

fn harness() -> Harness {
    tokio::time::pause();
    let start = Utc::now();
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(start));
    let db = Arc::new(FakeDb::default());
    *db.clock.lock().unwrap() = Some((clock.clone(), start));
    db.ladders
        .lock()
        .unwrap()
        .insert("critical".into(), critical_ladder());
    Harness { db, clock, start }
}

impl Harness {
    /// A critical room detected `ago` before now, at `level`, stored.
    fn room(&self, ago: Duration, level: u32) -> OpenRoom {
        let room = OpenRoom {
            id: Uuid::new_v4(),
            severity: "critical".into(),
            detected_at: self.clock.now() - chrono::Duration::from_std(ago).unwrap(),
            level,
        };
        self.db.rooms.lock().unwrap().push(room.clone());
        room
    }

    fn start_actor(&self) -> Addr<EscalationActor> {
        EscalationActor::new(
            self.db.clone(),
            self.clock.clone(),
            EscalationConfig::default(),
        )
        .start()
    }

    fn close(&self, room: Uuid) {
        self.db.closed.lock().unwrap().push(room);
    }

    fn elapsed(&self) -> i64 {
        (self.clock.now() - self.start).num_seconds()
    }
}

/// Advances virtual time and lets every woken actor run.
async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[actix::test]
async fn an_unacknowledged_room_climbs_each_level_once_at_its_time() {
    let h = harness();
    let actor = h.start_actor();
    let room = h.room(Duration::ZERO, 0);
    actor.send(Watch(room.clone())).await.unwrap();
    advance(Duration::from_secs(59)).await;
    assert!(h.db.climbs().is_empty(), "not before a minute");
    advance(Duration::from_secs(1)).await;
    assert_eq!(h.db.climbs(), [(room.id, 1, 60)]);
    advance(4 * MINUTE).await;
    assert_eq!(h.db.climbs(), [(room.id, 1, 60), (room.id, 2, 300)]);
    // Past the last level, nothing more, however long nobody answers.
    advance(60 * MINUTE).await;
    assert_eq!(h.db.climbs().len(), 2);
    assert_eq!(h.elapsed(), 3900);
}

#[actix::test]
async fn acknowledging_before_level_two_stops_the_ladder() {
    let h = harness();
    let actor = h.start_actor();
    let here = h.room(Duration::ZERO, 0);
    let elsewhere = h.room(Duration::ZERO, 0);
    actor.send(Watch(here.clone())).await.unwrap();
    actor.send(Watch(elsewhere.clone())).await.unwrap();
    advance(2 * MINUTE).await;
    assert_eq!(h.db.climbs().len(), 2, "both reached level 1");
    // Acknowledged on this node (the actor is told) and on another (it is not:
    // the climb finds the room closed).
    h.close(here.id);
    actor.send(Unwatch(here.id)).await.unwrap();
    h.close(elsewhere.id);
    advance(10 * MINUTE).await;
    assert_eq!(h.db.climbs().len(), 2, "no level 2: {:?}", h.db.climbs());
    assert!(actor.send(Tracking).await.unwrap().is_empty());
}

#[actix::test]
async fn a_restart_between_levels_neither_skips_nor_repeats_one() {
    let h = harness();
    let first = h.start_actor();
    let room = h.room(Duration::ZERO, 0);
    first.send(Watch(room.clone())).await.unwrap();
    advance(2 * MINUTE).await;
    assert_eq!(h.db.climbs(), [(room.id, 1, 60)]);
    // The server stops (its actor with it) and starts again a minute later.
    first.send(Stop).await.unwrap();
    advance(MINUTE).await;
    assert_eq!(h.db.climbs().len(), 1, "nothing while no server runs");
    let second = h.start_actor();
    advance(Duration::from_secs(1)).await;
    assert_eq!(
        second.send(Tracking).await.unwrap(),
        [(room.id, 1)],
        "rebuilt from the stored level"
    );
    advance(3 * MINUTE).await;
    assert_eq!(h.db.climbs(), [(room.id, 1, 60), (room.id, 2, 300)]);
}

#[actix::test]
async fn levels_overdue_at_start_are_reached_at_once_in_order() {
    let h = harness();
    // Detected 10 minutes ago while no server ran: both levels are overdue.
    let room = h.room(10 * MINUTE, 0);
    let _actor = h.start_actor();
    advance(Duration::from_secs(1)).await;
    assert_eq!(h.db.climbs(), [(room.id, 1, 0), (room.id, 2, 0)]);
}

#[actix::test]
async fn a_level_another_node_reached_is_not_reached_again() {
    let h = harness();
    let room = h.room(Duration::ZERO, 0);
    let a = h.start_actor();
    let b = h.start_actor();
    a.send(Watch(room.clone())).await.unwrap();
    b.send(Watch(room.clone())).await.unwrap();
    advance(6 * MINUTE).await;
    // Both nodes' timers fired; each level took effect once.
    assert_eq!(h.db.climbs(), [(room.id, 1, 60), (room.id, 2, 300)]);
    assert_eq!(b.send(Tracking).await.unwrap(), [(room.id, 2)]);
}

#[actix::test]
async fn rooms_opened_elsewhere_are_picked_up_by_the_resync() {
    let h = harness();
    let _actor = h.start_actor();
    advance(Duration::from_secs(1)).await;
    // Opened through another node: this actor is never told.
    let room = h.room(Duration::ZERO, 0);
    advance(MINUTE).await;
    assert_eq!(
        h.db.climbs(),
        [(room.id, 1, 61)],
        "late by at most one resync"
    );
}

#[actix::test]
async fn a_failed_climb_is_retried_and_a_room_without_a_ladder_never_climbs() {
    let h = harness();
    let actor = h.start_actor();
    *h.db.failures.lock().unwrap() = 2;
    let room = h.room(Duration::ZERO, 0);
    let quiet = OpenRoom {
        severity: "low".into(),
        ..h.room(Duration::ZERO, 0)
    };
    h.db.rooms.lock().unwrap().last_mut().unwrap().severity = "low".into();
    actor.send(Watch(room.clone())).await.unwrap();
    actor.send(Watch(quiet.clone())).await.unwrap();
    advance(MINUTE + Duration::from_secs(11)).await;
    assert_eq!(h.db.climbs(), [(room.id, 1, 70)], "two retries 5 s apart");
    advance(60 * MINUTE).await;
    assert!(h.db.climbs().iter().all(|c| c.0 != quiet.id));
}
