//! The receive loop every loaded socket runs, and the open-loop sender schedule.
//!
//! Times are microseconds since the run's `epoch`. A sender's frame `i` is due at
//! `offset + i·interval`; if the sender is late it still stamps the *due* time, so
//! queueing anywhere (harness included) shows up as latency instead of vanishing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::report::{Counters, histogram};
use crate::ws::{self, Ws};

pub type Sink = SplitSink<Ws, Message>;
pub type Stream = SplitStream<Ws>;

/// Shared by the tasks of one run.
pub struct Shared {
    pub epoch: Instant,
    pub counters: Arc<Counters>,
    /// Latest delivery time (µs since epoch).
    pub last_delivery: AtomicU64,
    /// Ephemeral mode: intended time of each socket's last typing frame.
    pub typing_sent: Vec<AtomicU64>,
    /// Frames due at or after this go to the second-phase histogram.
    pub phase_us: u64,
}

impl Shared {
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// What one receiver saw.
pub struct Received {
    /// End-to-end latency per phase.
    pub latency: [Histogram<u64>; 2],
    pub ack: Histogram<u64>,
    pub delivered: [u64; 2],
    pub errors: BTreeMap<String, u64>,
}

/// How a receiver maps a typing frame to the socket that sent it.
#[derive(Clone, Copy)]
pub struct TypingMap {
    pub room_index: usize,
    pub members: usize,
    pub users: usize,
}

impl TypingMap {
    fn socket_of(&self, user: usize) -> usize {
        let base = self.room_index * self.members;
        let slot = (user + self.users * self.members - base % self.users) % self.users;
        base + slot
    }
}

/// Reads until `stop` fires (or the socket ends); `stall_at`: stop reading at that
/// time (µs) but keep the connection open.
pub async fn receive(
    mut stream: Stream,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    typing: Option<TypingMap>,
    stall_at: Option<u64>,
) -> Received {
    let mut r = Received {
        latency: [histogram(), histogram()],
        ack: histogram(),
        delivered: [0, 0],
        errors: BTreeMap::new(),
    };
    let stall = async {
        match stall_at {
            Some(at) => {
                tokio::time::sleep_until((shared.epoch + Duration::from_micros(at)).into()).await
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stall);
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = stop.changed() => break,
            _ = &mut stall => {
                let _ = stop.changed().await;
                break;
            }
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map_or(1005, |f| u16::from(f.code));
                *r.errors.entry(format!("close_{code}")).or_default() += 1;
                shared.counters.errors.fetch_add(1, Relaxed);
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                *r.errors.entry(format!("ws_error: {e}")).or_default() += 1;
                shared.counters.errors.fetch_add(1, Relaxed);
                break;
            }
            None => break,
        };
        let text = text.as_str();
        let now = shared.now_us();
        let intended = match ws::frame_type(text) {
            "event" => ws::intended_of_event(text),
            "typing" => typing.and_then(|map| {
                let user = crate::api::user_index(ws::str_after(text, "\"user\":\"")?)?;
                Some(shared.typing_sent.get(map.socket_of(user))?.load(Relaxed))
            }),
            "ack" => {
                if let Some(t) = ws::intended_of_ack(text) {
                    let _ = r.ack.record(now.saturating_sub(t));
                }
                shared.counters.acked.fetch_add(1, Relaxed);
                continue;
            }
            "error" => {
                let code = ws::str_after(text, "\"code\":\"").unwrap_or("?");
                *r.errors.entry(code.to_string()).or_default() += 1;
                shared.counters.errors.fetch_add(1, Relaxed);
                continue;
            }
            _ => continue,
        };
        if let Some(t) = intended {
            let phase = usize::from(t >= shared.phase_us);
            let _ = r.latency[phase].record(now.saturating_sub(t));
            r.delivered[phase] += 1;
            shared.counters.delivered.fetch_add(1, Relaxed);
            shared.last_delivery.fetch_max(now, Relaxed);
        }
    }
    r
}

/// What a sender puts on the wire at each due time.
pub enum Payload {
    Send { room: uuid::Uuid, sender: usize },
    Typing { room: uuid::Uuid, socket: usize },
}

/// Sends one frame every `interval` from `offset` until `end` (µs since epoch).
pub async fn send_schedule(
    mut sink: Sink,
    shared: Arc<Shared>,
    payload: Payload,
    offset: u64,
    interval: u64,
    end: u64,
) -> Sink {
    let mut n = 0u64;
    loop {
        let due = offset + n * interval;
        if due >= end {
            break;
        }
        tokio::time::sleep_until((shared.epoch + Duration::from_micros(due)).into()).await;
        let frame = match &payload {
            Payload::Send { room, sender } => ws::send_frame(*room, *sender, n, due),
            Payload::Typing { room, socket } => {
                shared.typing_sent[*socket].store(due, Relaxed);
                ws::typing_frame(*room)
            }
        };
        if sink.send(frame).await.is_err() {
            shared.counters.errors.fetch_add(1, Relaxed);
            break;
        }
        shared.counters.sent.fetch_add(1, Relaxed);
        n += 1;
    }
    sink
}

/// Merges the receivers' results.
pub fn merge(all: Vec<Received>) -> Received {
    let mut out = Received {
        latency: [histogram(), histogram()],
        ack: histogram(),
        delivered: [0, 0],
        errors: BTreeMap::new(),
    };
    for r in all {
        for p in 0..2 {
            let _ = out.latency[p].add(&r.latency[p]);
            out.delivered[p] += r.delivered[p];
        }
        let _ = out.ack.add(&r.ack);
        for (k, v) in r.errors {
            *out.errors.entry(k).or_default() += v;
        }
    }
    out
}
