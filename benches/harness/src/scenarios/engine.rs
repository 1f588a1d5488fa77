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

use crate::report::{Counters, DeliveryCheck, histogram};
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
    pub seqs: SeqSeen,
}

/// The `seq`s of the `event` frames one receiver saw, against the room's head at
/// its subscription.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqSeen {
    /// The room's head when the receiver subscribed (`None`: not known).
    pub head: Option<i64>,
    /// The highest `seq` seen.
    pub last: Option<i64>,
    /// `seq`s skipped between consecutive events (and after the head).
    pub gaps: u64,
    /// Events at or below a `seq` already seen (duplicates or out of order).
    pub not_ascending: u64,
    /// The socket ended before the run did (closed by the server, e.g. as a slow
    /// consumer, or broken): what came after is not expected.
    pub ended_early: bool,
}

impl SeqSeen {
    fn saw(&mut self, seq: i64) {
        match self.last.or(self.head) {
            Some(prev) if seq <= prev => self.not_ascending += 1,
            Some(prev) => {
                self.gaps += (seq - prev - 1) as u64;
                self.last = Some(seq);
            }
            None => self.last = Some(seq),
        }
    }

    fn latest(&self) -> Option<i64> {
        self.last.or(self.head)
    }
}

/// Every receiver against the others of its room: `(room index, seqs seen)`.
/// A receiver is complete when it saw every `seq` from its subscription's head to
/// the latest any receiver of its room saw, once and in order. A receiver whose
/// socket ended early is checked up to its end (gaps, order), not complete.
pub fn check_order<'a>(receivers: impl IntoIterator<Item = (usize, &'a SeqSeen)>) -> DeliveryCheck {
    let all: Vec<(usize, &SeqSeen)> = receivers.into_iter().collect();
    // Per room: (lowest head, highest seq seen).
    let mut rooms = BTreeMap::<usize, (i64, i64)>::new();
    for &(room, s) in &all {
        let (Some(head), Some(latest)) = (s.head, s.latest()) else {
            continue;
        };
        let e = rooms.entry(room).or_insert((head, latest));
        e.0 = e.0.min(head);
        e.1 = e.1.max(latest);
    }
    let mut check = DeliveryCheck {
        receivers: all.len() as u64,
        room_events: rooms.values().map(|&(h, l)| (l - h) as u64).sum(),
        ..DeliveryCheck::default()
    };
    for (room, s) in all {
        let room_latest = rooms.get(&room).map_or(0, |r| r.1);
        let short = match s.latest() {
            Some(l) if !s.ended_early => (room_latest - l).max(0) as u64,
            _ => 0,
        };
        check.missing += s.gaps + short;
        check.not_ascending += s.not_ascending;
        check.ended_early += u64::from(s.ended_early);
        if s.head.is_some() && !s.ended_early && s.gaps == 0 && short == 0 && s.not_ascending == 0 {
            check.complete += 1;
        }
    }
    check
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
/// time (µs) but keep the connection open; `head`: the room's head at subscription
/// (for the order check).
pub async fn receive(
    mut stream: Stream,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    typing: Option<TypingMap>,
    stall_at: Option<u64>,
    head: Option<i64>,
) -> Received {
    let mut r = Received {
        latency: [histogram(), histogram()],
        ack: histogram(),
        delivered: [0, 0],
        errors: BTreeMap::new(),
        seqs: SeqSeen {
            head,
            ..SeqSeen::default()
        },
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
                r.seqs.ended_early = true;
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                *r.errors.entry(format!("ws_error: {e}")).or_default() += 1;
                shared.counters.errors.fetch_add(1, Relaxed);
                r.seqs.ended_early = true;
                break;
            }
            None => {
                r.seqs.ended_early = true;
                break;
            }
        };
        let text = text.as_str();
        let now = shared.now_us();
        let intended = match ws::frame_type(text) {
            "event" => {
                if let Some(seq) = ws::num_after(text, "\"seq\":") {
                    r.seqs.saw(seq as i64);
                }
                ws::intended_of_event(text)
            }
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

/// Merges the receivers' results (their `seqs` are not merged: check them first).
pub fn merge(all: Vec<Received>) -> Received {
    let mut out = Received {
        latency: [histogram(), histogram()],
        ack: histogram(),
        delivered: [0, 0],
        errors: BTreeMap::new(),
        seqs: SeqSeen::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(head: i64, seqs: &[i64]) -> SeqSeen {
        let mut s = SeqSeen {
            head: Some(head),
            ..SeqSeen::default()
        };
        for &q in seqs {
            s.saw(q);
        }
        s
    }

    #[test]
    fn complete_receivers_pass() {
        let (a, b) = (seen(5, &[6, 7, 8]), seen(5, &[6, 7, 8]));
        let c = check_order([(0, &a), (0, &b)]);
        assert_eq!(
            (c.receivers, c.complete, c.missing, c.not_ascending),
            (2, 2, 0, 0)
        );
        assert_eq!(c.room_events, 3);
    }

    #[test]
    fn gaps_short_tails_and_repeats_are_counted() {
        let full = seen(0, &[1, 2, 3, 4]);
        let gap = seen(0, &[1, 3, 4]); // 2 missing
        let short = seen(0, &[1, 2]); // 3, 4 missing
        let repeat = seen(0, &[1, 2, 2, 3, 4]); // 2 twice
        let late = seen(0, &[2, 1, 3, 4]); // 1 after 2: the gap stays counted
        let none = seen(0, &[]); // all 4 missing
        let c = check_order([
            (0, &full),
            (0, &gap),
            (0, &short),
            (0, &repeat),
            (0, &late),
            (0, &none),
        ]);
        assert_eq!(c.receivers, 6);
        assert_eq!(c.complete, 1);
        assert_eq!(c.missing, 1 + 2 + 1 + 4);
        assert_eq!(c.not_ascending, 2);
        assert_eq!(c.room_events, 4);
    }

    #[test]
    fn a_socket_ended_early_is_checked_up_to_its_end() {
        let full = seen(0, &[1, 2, 3, 4]);
        let mut closed = seen(0, &[1, 2]);
        closed.ended_early = true;
        let mut closed_gap = seen(0, &[2]);
        closed_gap.ended_early = true;
        let c = check_order([(0, &full), (0, &closed), (0, &closed_gap)]);
        assert_eq!((c.receivers, c.complete, c.ended_early), (3, 1, 2));
        assert_eq!(c.missing, 1);
    }

    #[test]
    fn rooms_are_checked_apart() {
        let (a, b) = (seen(0, &[1, 2]), seen(10, &[11]));
        let c = check_order([(0, &a), (1, &b)]);
        assert_eq!((c.complete, c.missing, c.room_events), (2, 0, 3));
    }
}
