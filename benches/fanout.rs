//! Room fan-out without I/O: one `RoomActor` with N in-memory fake sockets; each
//! iteration publishes a batch of events and waits until every socket got all of
//! them. Throughput is in deliveries (events × sockets).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use actix::prelude::*;
use andon_actors::realtime::messages::{Subscribe, ToSocket};
use andon_actors::realtime::{EventKind, EventLog, RoomConfig, RoomDirectory, StoredEvent};
use andon_actors::session::BackendError;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use uuid::Uuid;

/// Events per published batch (below the fake sockets' mailbox capacity).
const BATCH: u64 = 100;

/// An empty log: the room starts at head 0 and never needs a repair.
struct EmptyLog;

#[async_trait::async_trait]
impl EventLog for EmptyLog {
    async fn head(&self, _: Uuid) -> Result<Option<i64>, BackendError> {
        Ok(Some(0))
    }
    async fn heads(&self, rooms: &[Uuid]) -> Result<Vec<(Uuid, i64)>, BackendError> {
        Ok(rooms.iter().map(|r| (*r, 0)).collect())
    }
    async fn range(&self, _: Uuid, _: i64, _: i64) -> Result<Vec<StoredEvent>, BackendError> {
        Ok(Vec::new())
    }
}

/// Counts the frames it receives, like a socket actor that writes nothing.
struct FakeSocket {
    got: Arc<AtomicU64>,
}

impl Actor for FakeSocket {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1024);
    }
}

impl Handler<ToSocket> for FakeSocket {
    type Result = ();
    fn handle(&mut self, _: ToSocket, _: &mut Context<Self>) {
        self.got.fetch_add(1, Relaxed);
    }
}

fn event(room: Uuid, seq: i64) -> StoredEvent {
    StoredEvent {
        room_id: room,
        seq,
        kind: EventKind::MessageCreated.into(),
        at: chrono::Utc::now(),
        actor: "sender@plant.example".into(),
        data: json!({"id": Uuid::new_v4(), "seq": seq, "sender": "sender@plant.example",
                     "content": "Conveyor 3 jammed at station 12", "client_id": format!("c{seq}")}),
    }
}

fn fanout(c: &mut Criterion) {
    let mut g = c.benchmark_group("room_fanout");
    g.measurement_time(Duration::from_secs(5));
    for sockets in [10u64, 100, 1000] {
        g.throughput(Throughput::Elements(BATCH * sockets));
        let sys = System::new();
        let room = Uuid::new_v4();
        let got = Arc::new(AtomicU64::new(0));
        let dir = sys.block_on(async {
            let dir = RoomDirectory::new(Arc::new(EmptyLog), RoomConfig::default());
            let addr = dir.get_or_start(room);
            for id in 0..sockets {
                let socket = FakeSocket { got: got.clone() }.start();
                let subscribe = Subscribe {
                    socket_id: id,
                    user_id: format!("u{id}@plant.example"),
                    socket: socket.recipient(),
                };
                addr.send(subscribe).await.expect("room actor running");
            }
            // Let the presence frames of the subscriptions drain before measuring.
            let mut last = u64::MAX;
            while got.load(Relaxed) != last {
                last = got.load(Relaxed);
                for _ in 0..100 {
                    tokio::task::yield_now().await;
                }
            }
            dir
        });
        let mut seq = 0i64;
        g.bench_with_input(BenchmarkId::from_parameter(sockets), &sockets, |b, &n| {
            b.iter_custom(|iters| {
                sys.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let target = got.load(Relaxed) + BATCH * n;
                        let events = (0..BATCH).map(|_| {
                            seq += 1;
                            event(room, seq)
                        });
                        dir.publish(events.collect());
                        while got.load(Relaxed) < target {
                            tokio::task::yield_now().await;
                        }
                    }
                    start.elapsed()
                })
            });
        });
    }
    g.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
