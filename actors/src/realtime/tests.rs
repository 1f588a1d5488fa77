//! Room actor and group-commit tests with an in-memory event log and fake sockets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::messages::*;
use super::*;

#[derive(Default)]
struct MemLog {
    events: Mutex<Vec<StoredEvent>>,
    ranges: Mutex<Vec<(i64, i64)>>,
    /// Reads of the head.
    heads: Mutex<usize>,
}

#[async_trait::async_trait]
impl EventLog for MemLog {
    async fn head(&self, _: Uuid) -> Result<Option<i64>, BackendError> {
        *self.heads.lock().unwrap() += 1;
        Ok(Some(
            self.events.lock().unwrap().last().map_or(0, |e| e.seq),
        ))
    }
    /// Counted with the single reads: one read either way.
    async fn heads(&self, rooms: &[Uuid]) -> Result<Vec<(Uuid, i64)>, BackendError> {
        *self.heads.lock().unwrap() += 1;
        let head = self.events.lock().unwrap().last().map_or(0, |e| e.seq);
        Ok(rooms.iter().map(|r| (*r, head)).collect())
    }
    async fn range(
        &self,
        _: Uuid,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StoredEvent>, BackendError> {
        self.ranges.lock().unwrap().push((after, upto));
        Ok(self
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.seq > after && e.seq <= upto)
            .cloned()
            .collect())
    }
}

fn event(room: Uuid, seq: i64, kind: &str, data: serde_json::Value) -> StoredEvent {
    StoredEvent {
        room_id: room,
        seq,
        kind: kind.into(),
        at: Utc::now(),
        actor: "a@x".into(),
        data,
    }
}

/// Records what it receives; with `stalled`, never reads its mailbox.
struct FakeSocket {
    got: Arc<Mutex<Vec<ToSocket>>>,
    stalled: bool,
}

impl Actor for FakeSocket {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.stalled {
            ctx.set_mailbox_capacity(2);
            ctx.wait(futures_pending().into_actor(self));
        } else {
            // Like a real socket actor: room for a burst.
            ctx.set_mailbox_capacity(1024);
        }
    }
}

fn futures_pending() -> impl std::future::Future<Output = ()> {
    std::future::pending()
}

impl Handler<ToSocket> for FakeSocket {
    type Result = ();
    fn handle(&mut self, msg: ToSocket, _: &mut Context<Self>) {
        self.got.lock().unwrap().push(msg);
    }
}

struct Socket {
    got: Arc<Mutex<Vec<ToSocket>>>,
    addr: Addr<FakeSocket>,
}

impl Socket {
    fn start(stalled: bool) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let addr = FakeSocket {
            got: got.clone(),
            stalled,
        }
        .start();
        Self { got, addr }
    }
    fn seqs(&self) -> Vec<i64> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| match m {
                ToSocket::Frame {
                    frame: Frame::Durable { meta, .. },
                    ..
                } => Some(meta.seq),
                _ => None,
            })
            .collect()
    }
    fn ephemeral(&self) -> Vec<serde_json::Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| match m {
                ToSocket::Frame {
                    frame: Frame::Ephemeral { text },
                    ..
                } => serde_json::from_str(text).ok(),
                _ => None,
            })
            .collect()
    }
    fn closes(&self) -> Vec<u16> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| match m {
                ToSocket::Close { code, .. } => Some(code.as_u16()),
                _ => None,
            })
            .collect()
    }
}

async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

fn room_with(log: Arc<MemLog>) -> (RoomDirectory, Uuid) {
    (
        RoomDirectory::new(log, RoomConfig::default()),
        Uuid::new_v4(),
    )
}

async fn subscribe(room: &Addr<RoomActor>, id: u64, user: &str, s: &Socket) -> Subscribed {
    room.send(Subscribe {
        socket_id: id,
        user_id: user.into(),
        socket: s.addr.clone().recipient(),
    })
    .await
    .unwrap()
}

#[actix_rt::test]
async fn events_published_out_of_order_are_delivered_in_order_once() {
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log.clone());
    log.events
        .lock()
        .unwrap()
        .push(event(id, 1, "member.added", json!({})));
    let room = dir.get_or_start(id);
    let s = Socket::start(false);
    let sub = subscribe(&room, 1, "u@x", &s).await;
    assert_eq!(sub.head_seq, 1, "head from the log");
    assert_eq!(sub.online, ["u@x"]);

    dir.publish(vec![event(id, 3, "room.updated", json!({}))]);
    dir.publish(vec![
        event(id, 2, "room.updated", json!({})),
        event(id, 1, "x", json!({})),
    ]);
    dir.publish(vec![event(id, 3, "room.updated", json!({}))]);
    settle().await;
    assert_eq!(s.seqs(), vec![2, 3]);
}

#[actix_rt::test]
async fn a_gap_left_open_is_repaired_from_the_log() {
    tokio::time::pause();
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log.clone());
    let room = dir.get_or_start(id);
    let s = Socket::start(false);
    subscribe(&room, 1, "u@x", &s).await;
    // Seq 1 committed but its publisher never told the room.
    log.events
        .lock()
        .unwrap()
        .push(event(id, 1, "room.updated", json!({})));
    dir.publish(vec![event(id, 2, "room.updated", json!({}))]);
    settle().await;
    assert!(s.seqs().is_empty(), "2 waits for 1");
    tokio::time::sleep(Duration::from_millis(250)).await;
    settle().await;
    assert_eq!(s.seqs(), vec![1, 2]);
    assert_eq!(*log.ranges.lock().unwrap(), vec![(0, 1)]);
}

#[actix_rt::test]
async fn a_stalled_socket_is_closed_as_slow_consumer_and_others_keep_receiving() {
    tokio::time::pause();
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log);
    let room = dir.get_or_start(id);
    let fast = Socket::start(false);
    let slow = Socket::start(true);
    subscribe(&room, 1, "fast@x", &fast).await;
    subscribe(&room, 2, "slow@x", &slow).await;
    after_presence_window().await;
    for seq in 1..=20 {
        dir.publish(vec![event(id, seq, "room.updated", json!({}))]);
    }
    settle().await;
    assert_eq!(fast.seqs(), (1..=20).collect::<Vec<_>>());
    assert_eq!(
        room.send(SubscriberCount).await.unwrap(),
        1,
        "slow one dropped"
    );
    after_presence_window().await;
    assert!(
        presence(&fast).contains(&("slow@x".into(), false)),
        "the dropped socket's user went offline"
    );
}

/// The presence changes a socket was told, in order: (user, online).
fn presence(s: &Socket) -> Vec<(String, bool)> {
    let mut seen = Vec::new();
    for f in s.ephemeral().iter().filter(|f| f["type"] == "presence") {
        for (list, online) in [("online", true), ("offline", false)] {
            for user in f[list].as_array().unwrap() {
                seen.push((user.as_str().unwrap().to_string(), online));
            }
        }
    }
    seen
}

/// A room (paused time) with one subscriber, `w@x`, whose own arrival was
/// announced already: `before` ephemeral frames so far.
struct Watched {
    room: Addr<RoomActor>,
    watcher: Socket,
    before: usize,
}

async fn watched_room() -> Watched {
    tokio::time::pause();
    let (dir, id) = room_with(Arc::new(MemLog::default()));
    let room = dir.get_or_start(id);
    let watcher = Socket::start(false);
    subscribe(&room, 1, "w@x", &watcher).await;
    after_presence_window().await;
    let before = watcher.ephemeral().len();
    Watched {
        room,
        watcher,
        before,
    }
}

/// Lets the room's presence window end and its announcement arrive.
async fn after_presence_window() {
    tokio::time::sleep(RoomConfig::default().presence_window).await;
    settle().await;
}

#[actix_rt::test]
async fn presence_follows_first_and_last_socket_of_a_user() {
    tokio::time::pause();
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log);
    let room = dir.get_or_start(id);
    let watcher = Socket::start(false);
    subscribe(&room, 1, "w@x", &watcher).await;
    let (a1, a2) = (Socket::start(false), Socket::start(false));
    subscribe(&room, 2, "a@x", &a1).await;
    let sub = subscribe(&room, 3, "a@x", &a2).await;
    assert_eq!(sub.online, ["a@x", "w@x"]);
    room.send(Unsubscribe { socket_id: 2 }).await.unwrap();
    after_presence_window().await;
    let seen = |s: &Socket| -> Vec<(String, bool)> {
        presence(s)
            .into_iter()
            .filter(|(u, _)| u == "a@x")
            .collect()
    };
    assert_eq!(
        seen(&watcher),
        vec![("a@x".into(), true)],
        "second socket: no news"
    );
    room.send(Unsubscribe { socket_id: 3 }).await.unwrap();
    after_presence_window().await;
    assert_eq!(
        seen(&watcher),
        vec![("a@x".into(), true), ("a@x".into(), false)]
    );
}

#[actix_rt::test]
async fn presence_changes_within_a_window_are_announced_once_and_together() {
    let Watched {
        room,
        watcher,
        before,
    } = watched_room().await;

    // A shift arrives at once; one of them drops out and back in (flaky Wi-Fi),
    // another comes and goes within the window.
    let sockets: Vec<Socket> = (0..50).map(|_| Socket::start(false)).collect();
    for (i, s) in sockets.iter().enumerate() {
        subscribe(&room, 10 + i as u64, &format!("u{i:02}@x"), s).await;
    }
    room.send(Unsubscribe { socket_id: 10 }).await.unwrap();
    subscribe(&room, 100, "u00@x", &sockets[0]).await;
    room.send(Unsubscribe { socket_id: 11 }).await.unwrap();
    settle().await;
    assert_eq!(
        watcher.ephemeral().len(),
        before,
        "nothing before the window ends"
    );

    after_presence_window().await;
    let frames: Vec<_> = watcher.ephemeral().split_off(before);
    assert_eq!(frames.len(), 1, "one announcement: {frames:?}");
    let online: Vec<String> = (0..50)
        .filter(|i| *i != 1)
        .map(|i| format!("u{i:02}@x"))
        .collect();
    assert_eq!(
        frames[0]["online"],
        json!(online),
        "sorted, u01 came and went"
    );
    assert_eq!(frames[0]["offline"], json!([]));

    // Back to what was last announced: no frame at all.
    room.send(Unsubscribe { socket_id: 12 }).await.unwrap();
    subscribe(&room, 101, "u02@x", &sockets[2]).await;
    after_presence_window().await;
    assert_eq!(watcher.ephemeral().len(), before + 1);
}

#[actix_rt::test]
async fn typing_is_rate_limited_per_socket_and_not_echoed_to_the_typist() {
    tokio::time::pause();
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log);
    let room = dir.get_or_start(id);
    let (typist, other) = (Socket::start(false), Socket::start(false));
    subscribe(&room, 1, "t@x", &typist).await;
    subscribe(&room, 2, "o@x", &other).await;
    let typing = |socket_id| Typing {
        socket_id,
        user_id: "t@x".into(),
        display_name: "T".into(),
    };
    for _ in 0..5 {
        room.send(typing(1)).await.unwrap();
    }
    tokio::time::advance(Duration::from_millis(999)).await;
    room.send(typing(1)).await.unwrap();
    tokio::time::advance(Duration::from_millis(2)).await;
    room.send(typing(1)).await.unwrap();
    settle().await;
    let frames: Vec<_> = other
        .ephemeral()
        .into_iter()
        .filter(|f| f["type"] == "typing")
        .collect();
    assert_eq!(frames.len(), 2, "one per second");
    assert_eq!(frames[0]["display_name"], "T");
    assert_eq!(frames[0]["expires_in_ms"], 3000);
    assert!(typist.ephemeral().iter().all(|f| f["type"] != "typing"));
}

#[actix_rt::test]
async fn a_removed_member_gets_the_event_then_loses_the_subscription() {
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log);
    let room = dir.get_or_start(id);
    let gone = Socket::start(false);
    subscribe(&room, 1, "gone@x", &gone).await;
    dir.publish(vec![event(
        id,
        1,
        "member.removed",
        json!({"user_id": "gone@x"}),
    )]);
    dir.publish(vec![event(id, 2, "room.updated", json!({}))]);
    settle().await;
    assert_eq!(gone.seqs(), vec![1]);
    assert!(gone.got.lock().unwrap().iter().any(|m| matches!(
        m,
        ToSocket::Ended {
            reason: UnsubscribeReason::Removed,
            ..
        }
    )));
    assert!(gone.closes().is_empty());
}

#[actix_rt::test]
async fn room_deletion_tells_every_subscriber_and_stops_the_actor() {
    let log = Arc::new(MemLog::default());
    let (dir, id) = room_with(log);
    let room = dir.get_or_start(id);
    let s = Socket::start(false);
    subscribe(&room, 1, "u@x", &s).await;
    dir.room_deleted(id, "admin@x");
    settle().await;
    assert_eq!(s.seqs(), vec![1], "room.deleted carries head + 1");
    assert!(s.got.lock().unwrap().iter().any(|m| matches!(
        m,
        ToSocket::Ended {
            reason: UnsubscribeReason::Deleted,
            ..
        }
    )));
    assert!(dir.get(id).is_none());
}

/// Holds every batch until released, to see the queue build up behind it.
struct GatedWriter {
    gate: tokio::sync::Semaphore,
    /// Batches that reached the writer, released or not.
    entered: std::sync::atomic::AtomicUsize,
    batches: Mutex<Vec<usize>>,
    /// Sends the database would refuse to store: a batch with one is refused whole.
    refuse: fn(&SendRequest) -> bool,
}

impl GatedWriter {
    fn closed() -> Arc<Self> {
        Self::refusing(|_| false)
    }

    fn refusing(refuse: fn(&SendRequest) -> bool) -> Arc<Self> {
        Arc::new(Self {
            gate: tokio::sync::Semaphore::new(0),
            entered: Default::default(),
            batches: Mutex::default(),
            refuse,
        })
    }

    fn entered(&self) -> usize {
        self.entered.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl BatchWriter for GatedWriter {
    async fn write(&self, batch: &[SendRequest]) -> Result<BatchOutcome, BatchError> {
        self.entered
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _permit = self.gate.acquire().await.unwrap();
        if batch.iter().any(self.refuse) {
            return Err(BatchError::Rejected("invalid byte sequence".into()));
        }
        self.batches.lock().unwrap().push(batch.len());
        let base = self.batches.lock().unwrap().iter().sum::<usize>() as i64 - batch.len() as i64;
        Ok(BatchOutcome {
            results: batch
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    Ok(SendAck {
                        message_id: Uuid::new_v4(),
                        seq: base + i as i64 + 1,
                        duplicate: false,
                    })
                })
                .collect(),
            events: batch
                .iter()
                .enumerate()
                .map(|(i, r)| event(r.room_id, base + i as i64 + 1, "message.created", json!({})))
                .collect(),
        })
    }
}

fn request(room: Uuid, n: usize) -> SendRequest {
    SendRequest {
        room_id: room,
        sender: "s@x".into(),
        sender_name: "S".into(),
        sender_is_admin: false,
        client_id: format!("c{n}"),
        message_type: "text".into(),
        content: format!("m{n}"),
        metadata: json!({}),
    }
}

#[actix_rt::test]
async fn sends_queued_behind_a_busy_commit_go_out_together_in_the_next_batch() {
    let writer = GatedWriter::closed();
    let published = Arc::new(Mutex::new(Vec::new()));
    let p = published.clone();
    let commit = GroupCommit::start(
        writer.clone(),
        move |events: Vec<StoredEvent>| p.lock().unwrap().push(events.len()),
        1000,
        10_000,
    );
    let room = Uuid::new_v4();
    let mut pending = Vec::new();
    for n in 0..11 {
        let c = commit.clone();
        pending.push(tokio::spawn(
            async move { c.submit(request(room, n)).await },
        ));
        settle().await;
    }
    assert_eq!(writer.entered(), 1, "one batch of a lane at a time");
    // The first send holds the room's lane; the ten behind it go out together.
    writer.gate.add_permits(100);
    let mut seqs = Vec::new();
    for p in pending {
        seqs.push(p.await.unwrap().unwrap().seq);
    }
    commit.flush().await;
    let batches = writer.batches.lock().unwrap().clone();
    assert_eq!(batches, vec![1, 10]);
    seqs.sort();
    assert_eq!(seqs, (1..=11).collect::<Vec<_>>());
    assert_eq!(published.lock().unwrap().iter().sum::<usize>(), 11);
}

#[actix_rt::test]
async fn a_send_the_database_refuses_fails_alone_not_its_batch() {
    let writer = GatedWriter::refusing(|r| r.content.contains("poison"));
    let commit = GroupCommit::start(writer.clone(), |_| {}, 1000, 10_000);
    let room = Uuid::new_v4();
    let mut pending = Vec::new();
    for n in 0..9 {
        let c = commit.clone();
        let mut req = request(room, n);
        if n == 5 {
            req.content = "poison".into();
        }
        pending.push(tokio::spawn(async move { c.submit(req).await }));
        settle().await;
    }
    // One send holds the lane; the eight behind it, the refused one among them,
    // go out as one batch.
    writer.gate.add_permits(100);
    let mut results = Vec::new();
    for p in pending {
        results.push(p.await.unwrap());
    }
    for (n, result) in results.iter().enumerate() {
        if n == 5 {
            assert_eq!(result, &Err(super::SendError::Rejected), "the refused send");
        } else {
            assert!(
                result.is_ok(),
                "send {n} paid for another's row: {result:?}"
            );
        }
    }
    // 1, then 8 refused, halves of 4 (one refused) and 4, then 2+2 and 1+1.
    let committed: usize = writer.batches.lock().unwrap().iter().sum();
    assert_eq!(committed, 8, "every other send committed once");
    assert!(
        writer.entered() <= 1 + 1 + 2 + 2 + 2,
        "bisected, not one by one"
    );
}

/// A room whose id falls in `lane`.
fn room_in_lane(lane: usize) -> Uuid {
    std::iter::repeat_with(Uuid::new_v4)
        .find(|id| GroupCommit::lane_of(*id) == lane)
        .unwrap()
}

#[actix_rt::test]
async fn rooms_of_different_lanes_commit_at_the_same_time() {
    let writer = GatedWriter::closed();
    let commit = GroupCommit::start(writer.clone(), |_| {}, 1000, 10_000);
    let mut pending = Vec::new();
    let mut submit = |room: Uuid, n: usize| {
        let c = commit.clone();
        pending.push(tokio::spawn(
            async move { c.submit(request(room, n)).await },
        ));
    };
    for lane in 0..LANES {
        submit(room_in_lane(lane), lane);
    }
    settle().await;
    assert_eq!(
        writer.entered(),
        LANES,
        "every lane has a batch in the writer"
    );
    // Another room of lane 0 waits behind that lane's batch.
    submit(room_in_lane(0), LANES);
    settle().await;
    assert_eq!(writer.entered(), LANES);
    writer.gate.add_permits(100);
    for p in pending {
        p.await.unwrap().unwrap();
    }
    commit.flush().await;
    assert_eq!(writer.entered(), LANES + 1);
}

#[test]
fn a_frame_built_around_stored_json_text_is_the_frame_of_the_parsed_event() {
    let data = json!({
        "id": "m1", "client_id": "c1", "content": "Line 3 \"stopped\" 輸送帶停止",
        "metadata": {"values": [1, 2.5, null]}, "user_id": 5, "to": "editor",
    });
    let event = StoredEvent {
        room_id: Uuid::new_v4(),
        seq: 7,
        kind: "message.created".into(),
        at: Utc::now(),
        actor: "op@andon.test".into(),
        data: data.clone(),
    };
    let text = serde_json::to_string(&data).unwrap();
    let raw = serde_json::value::RawValue::from_string(text.clone()).unwrap();
    let frame = event_frame_text(event.room_id, 7, &event.kind, &event.at, &event.actor, &raw);
    assert_eq!(frame, event.to_frame_text());
    let meta = EventMeta::from_json(7, &event.kind, &event.actor, &text);
    assert_eq!(meta, EventMeta::of(&event));
    assert_eq!(
        (meta.message_id.as_deref(), meta.client_id.as_deref()),
        (Some("m1"), Some("c1"))
    );
    assert_eq!(meta.subject, None, "a number is not a user id");
    assert_eq!(meta.new_role, None, "only for member.role_changed");

    // Text as PostgreSQL writes it back from `jsonb` (a soft delete): spaces, other
    // key order; the same fields come out.
    let reformatted = r#"{"to": "viewer", "user_id": "a@b.c", "by": "owner@b.c"}"#;
    let role_change = StoredEvent {
        kind: "member.role_changed".into(),
        data: serde_json::from_str(reformatted).unwrap(),
        ..event
    };
    let meta = EventMeta::from_json(7, &role_change.kind, &role_change.actor, reformatted);
    assert_eq!(meta, EventMeta::of(&role_change));
    assert_eq!(
        (meta.subject.as_deref(), meta.new_role.as_deref()),
        (Some("a@b.c"), Some("viewer"))
    );
}

#[actix_rt::test]
async fn a_large_arrival_is_announced_in_frames_of_bounded_size() {
    let Watched {
        room,
        watcher,
        before,
    } = watched_room().await;

    let users: Vec<String> = (0..400)
        .map(|i| format!("operator-{i:04}@plant.example"))
        .collect();
    let sockets: Vec<Socket> = users.iter().map(|_| Socket::start(false)).collect();
    for (i, (user, s)) in users.iter().zip(&sockets).enumerate() {
        subscribe(&room, 10 + i as u64, user, s).await;
    }
    let mut announced = Vec::new();
    let mut frames = 0;
    for _ in 0..10 {
        after_presence_window().await;
        for f in watcher.ephemeral().split_off(before + frames) {
            frames += 1;
            let online: Vec<String> = serde_json::from_value(f["online"].clone()).unwrap();
            let ids_bytes: usize = online.iter().map(|u| u.len() + 3).sum();
            assert!(ids_bytes < 4096 + 40, "a frame of {ids_bytes} bytes of ids");
            announced.extend(online);
        }
    }
    assert!(frames >= 3, "400 arrivals in one frame of {frames}");
    assert_eq!(announced, users, "everyone announced once, in order");
}

/// Two nodes' buses over one in-process wire; a node does not hear itself. The
/// `Subscribed` of each room stream waits for `gate`, if set, so a test can
/// commit something between a room actor's start and its subscription.
struct WireBus {
    node: Uuid,
    /// What every node put on the wire: (sender, room, item).
    wire: Arc<tokio::sync::broadcast::Sender<(Uuid, Uuid, BusItem)>>,
    gate: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    /// A bus that is down carries nothing.
    down: std::sync::atomic::AtomicBool,
}

impl WireBus {
    fn pair() -> (Arc<WireBus>, Arc<WireBus>) {
        let wire = Arc::new(tokio::sync::broadcast::channel(256).0);
        let node = || {
            Arc::new(WireBus {
                node: Uuid::new_v4(),
                wire: wire.clone(),
                gate: Mutex::new(None),
                down: std::sync::atomic::AtomicBool::new(false),
            })
        };
        (node(), node())
    }

    fn put(&self, room: Uuid, item: BusItem) {
        if self.connected() {
            let _ = self.wire.send((self.node, room, item));
        }
    }
}

/// Two nodes on one log and one wire, and a socket subscribed on node B.
struct TwoNodes {
    log: Arc<MemLog>,
    bus_a: Arc<WireBus>,
    bus_b: Arc<WireBus>,
    node_a: RoomDirectory,
    node_b: RoomDirectory,
    room: Uuid,
    on_b: Socket,
}

impl TwoNodes {
    /// With `gate`, node B's subscription is in place only once it opens.
    async fn start(gate: Option<tokio::sync::oneshot::Receiver<()>>) -> Self {
        let log = Arc::new(MemLog::default());
        let (bus_a, bus_b) = WireBus::pair();
        *bus_b.gate.lock().unwrap() = gate;
        let node_a = RoomDirectory::new(log.clone(), RoomConfig::default()).with_bus(bus_a.clone());
        let node_b = RoomDirectory::new(log.clone(), RoomConfig::default()).with_bus(bus_b.clone());
        let room = Uuid::new_v4();
        let on_b = Socket::start(false);
        subscribe(&node_b.get_or_start(room), 1, "b@x", &on_b).await;
        Self {
            log,
            bus_a,
            bus_b,
            node_a,
            node_b,
            room,
            on_b,
        }
    }

    /// Event `seq` committed on node A: the log first, then the publish (as
    /// group commit does).
    fn commit_on_a(&self, seq: i64) {
        let e = event(self.room, seq, "room.updated", json!({}));
        self.log.events.lock().unwrap().push(e.clone());
        self.node_a.publish(vec![e]);
    }

    fn set_down(bus: &WireBus, down: bool) {
        bus.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
}

impl EventBus for WireBus {
    fn publish(&self, events: &[StoredEvent]) {
        for e in events {
            self.put(e.room_id, BusItem::Event(e.clone()));
        }
    }

    fn publish_ephemeral(&self, frame: &EphemeralFrame) {
        self.put(frame.room_id, BusItem::Ephemeral(frame.clone()));
    }

    fn publish_presence(&self, report: &PresenceReport) {
        self.put(report.room_id, BusItem::Presence(report.clone()));
    }

    fn node(&self) -> Uuid {
        self.node
    }

    fn connected(&self) -> bool {
        !self.down.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn room_events(&self, room: Uuid) -> futures_util::stream::BoxStream<'static, BusItem> {
        use futures_util::StreamExt;
        let (me, rx) = (self.node, self.wire.subscribe());
        let gate = self.gate.lock().unwrap().take();
        let subscribed = futures_util::stream::once(async move {
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            BusItem::Subscribed
        });
        let events = futures_util::stream::unfold(rx, move |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok((from, to, item)) if from != me && to == room => {
                        return Some((item, rx));
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        subscribed.chain(events).boxed()
    }
}

#[actix_rt::test]
async fn events_committed_on_another_node_reach_this_node_s_sockets_in_order() {
    let n = TwoNodes::start(None).await;
    settle().await;
    for seq in 1..=3 {
        n.commit_on_a(seq);
    }
    settle().await;
    assert_eq!(n.on_b.seqs(), vec![1, 2, 3]);

    // A message the bus lost is read from the log when the next one shows the gap.
    let lost = event(n.room, 4, "room.updated", json!({}));
    n.log.events.lock().unwrap().push(lost);
    n.commit_on_a(5);
    tokio::time::pause();
    tokio::time::sleep(RoomConfig::default().gap_timeout * 2).await;
    settle().await;
    assert_eq!(n.on_b.seqs(), vec![1, 2, 3, 4, 5]);
}

#[actix_rt::test]
async fn what_was_committed_before_the_bus_subscription_is_read_from_the_log() {
    let (open, gate) = tokio::sync::oneshot::channel();
    let n = TwoNodes::start(Some(gate)).await;

    // Committed and published on A after B read the head, before B's
    // subscription was in place: B's bus never carries it.
    n.commit_on_a(1);
    settle().await;
    assert!(n.on_b.seqs().is_empty());

    open.send(()).unwrap();
    settle().await;
    assert_eq!(n.on_b.seqs(), vec![1], "caught up from the log");
}

#[actix_rt::test]
async fn with_the_bus_down_other_nodes_events_are_read_from_the_log() {
    tokio::time::pause();
    let n = TwoNodes::start(None).await;
    settle().await;
    let config = RoomConfig::default();

    TwoNodes::set_down(&n.bus_a, true);
    TwoNodes::set_down(&n.bus_b, true);
    n.commit_on_a(1); // lost: the bus is down
    settle().await;
    assert!(n.on_b.seqs().is_empty());
    tokio::time::sleep(config.bus_down_poll).await;
    settle().await;
    assert_eq!(n.on_b.seqs(), vec![1], "read from the log on the timer");

    // Back up: live again, and the log read only every `bus_up_poll_every` ticks.
    TwoNodes::set_down(&n.bus_a, false);
    TwoNodes::set_down(&n.bus_b, false);
    let reads = *n.log.heads.lock().unwrap();
    n.commit_on_a(2);
    settle().await;
    assert_eq!(n.on_b.seqs(), vec![1, 2]);
    tokio::time::sleep(config.bus_down_poll * 10).await;
    settle().await;
    let polls = *n.log.heads.lock().unwrap() - reads;
    assert_eq!(
        polls, 2,
        "with the bus up, one read per {} ticks",
        config.bus_up_poll_every
    );

    // Published while only A's connection was down: B's bus is up and carries
    // nothing; the slow poll finds it.
    TwoNodes::set_down(&n.bus_a, true);
    n.commit_on_a(3);
    tokio::time::sleep(config.bus_down_poll * config.bus_up_poll_every).await;
    settle().await;
    assert_eq!(n.on_b.seqs(), vec![1, 2, 3]);
}

/// The presence changes of `user` a socket was told, in order.
fn presence_of(s: &Socket, user: &str) -> Vec<bool> {
    presence(s)
        .into_iter()
        .filter(|(u, _)| u == user)
        .map(|(_, online)| online)
        .collect()
}

#[actix_rt::test]
async fn a_user_is_online_while_any_node_holds_a_socket_of_theirs() {
    tokio::time::pause();
    let n = TwoNodes::start(None).await;
    after_presence_window().await;

    // a@x's first socket, on node A: B's socket hears of it, and A's socket
    // hears of b@x (A's new room actor asks, B answers).
    let room_a = n.node_a.get_or_start(n.room);
    let on_a = Socket::start(false);
    subscribe(&room_a, 10, "a@x", &on_a).await;
    after_presence_window().await;
    after_presence_window().await;
    assert_eq!(presence_of(&n.on_b, "a@x"), [true]);
    assert_eq!(presence_of(&on_a, "b@x"), [true]);
    let again = subscribe(&room_a, 11, "w@x", &Socket::start(false)).await;
    assert!(
        again.online.contains(&"b@x".to_string()),
        "{:?}",
        again.online
    );

    // b@x opens a second socket, on node A: nobody hears of it; closing the
    // first one (on B) is no news either, b@x is still on A.
    let b_on_a = Socket::start(false);
    subscribe(&room_a, 12, "b@x", &b_on_a).await;
    after_presence_window().await;
    let room_b = n.node_b.get_or_start(n.room);
    room_b.send(Unsubscribe { socket_id: 1 }).await.unwrap();
    after_presence_window().await;
    after_presence_window().await;
    assert_eq!(presence_of(&on_a, "b@x"), [true], "b@x never left");

    // Its last socket goes: offline everywhere.
    let watcher_b = Socket::start(false);
    subscribe(&room_b, 2, "v@x", &watcher_b).await;
    after_presence_window().await;
    room_a.send(Unsubscribe { socket_id: 12 }).await.unwrap();
    after_presence_window().await;
    after_presence_window().await;
    assert_eq!(presence_of(&on_a, "b@x"), [true, false]);
    assert_eq!(presence_of(&watcher_b, "b@x"), [false]);
}

#[actix_rt::test]
async fn a_node_silent_for_three_heartbeats_takes_its_users_offline() {
    tokio::time::pause();
    let n = TwoNodes::start(None).await;
    let heartbeat = RoomConfig::default().presence_heartbeat;
    let room_a = n.node_a.get_or_start(n.room);
    subscribe(&room_a, 10, "a@x", &Socket::start(false)).await;
    after_presence_window().await;
    assert_eq!(presence_of(&n.on_b, "a@x"), [true]);

    // Heartbeats keep a@x online while the room is quiet.
    tokio::time::sleep(heartbeat * 5).await;
    settle().await;
    assert_eq!(presence_of(&n.on_b, "a@x"), [true]);

    // Node A goes silent (dead, or cut off): a@x stays online for up to three
    // heartbeats, then goes offline.
    TwoNodes::set_down(&n.bus_a, true);
    tokio::time::sleep(heartbeat * 2).await;
    settle().await;
    assert_eq!(presence_of(&n.on_b, "a@x"), [true]);
    tokio::time::sleep(heartbeat * 2).await;
    after_presence_window().await;
    assert_eq!(presence_of(&n.on_b, "a@x"), [true, false]);

    // Back: its next heartbeat brings a@x back.
    TwoNodes::set_down(&n.bus_a, false);
    tokio::time::sleep(heartbeat).await;
    after_presence_window().await;
    assert_eq!(presence_of(&n.on_b, "a@x"), [true, false, true]);
}
