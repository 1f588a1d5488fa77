//! A socket's outbound queue and its overflow policy, without I/O.
//!
//! Everything a socket sends waits here until the writer hands it to actix-ws. The
//! queue is bounded in frames and in bytes. When an item does not fit, queued
//! ephemeral frames (typing, presence, read) are dropped first; an ephemeral item
//! that still does not fit is dropped itself; a durable one (events, replies)
//! means the client cannot keep up: the caller closes the socket with 4008 and
//! the client resumes from its last `seq`.

use std::collections::VecDeque;

use andon_actors::realtime::CloseCode;
use bytestring::ByteString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Events and replies: never dropped.
    Durable,
    /// Typing, presence, read: dropped first.
    Ephemeral,
}

#[derive(Debug)]
pub enum Outgoing {
    Text(ByteString, Class),
    Ping,
    Pong(bytes::Bytes),
    Close(CloseCode, String),
}

impl Outgoing {
    /// What the item counts against the byte bound.
    fn bytes(&self) -> usize {
        match self {
            Outgoing::Text(text, _) => text.len(),
            Outgoing::Pong(bytes) => bytes.len(),
            // Control frames are tiny and the close frame must always fit.
            Outgoing::Ping | Outgoing::Close(..) => 0,
        }
    }

    fn class(&self) -> Class {
        match self {
            Outgoing::Text(_, class) => *class,
            // Pings and pongs can be skipped too; a close is queued past the bound.
            _ => Class::Ephemeral,
        }
    }
}

/// What [`Outbox::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Queued; `dropped` ephemeral frames made room for it.
    Queued { dropped: u64 },
    /// An ephemeral item that did not fit, dropped (with `dropped` others).
    Dropped { dropped: u64 },
    /// A durable item that does not fit even without the ephemeral ones: the
    /// socket must close with 4008.
    Overflow { dropped: u64 },
}

pub struct Outbox {
    items: VecDeque<Outgoing>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
}

impl Outbox {
    pub fn new(max_frames: usize, max_bytes: usize) -> Self {
        Self {
            items: VecDeque::new(),
            bytes: 0,
            max_frames,
            max_bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn full_for(&self, bytes: usize) -> bool {
        self.items.len() >= self.max_frames || self.bytes + bytes > self.max_bytes
    }

    /// Queues `item` under the overflow policy.
    pub fn push(&mut self, item: Outgoing) -> Pushed {
        let size = item.bytes();
        let mut dropped = 0;
        if self.full_for(size) {
            if item.class() == Class::Ephemeral {
                return Pushed::Dropped { dropped: 1 };
            }
            dropped = self.drop_ephemeral();
            if self.full_for(size) {
                return Pushed::Overflow { dropped };
            }
        }
        self.bytes += size;
        self.items.push_back(item);
        Pushed::Queued { dropped }
    }

    /// The next `n` items at most, for the writer.
    pub fn take(&mut self, n: usize) -> Vec<Outgoing> {
        let n = self.items.len().min(n);
        let batch: Vec<Outgoing> = self.items.drain(..n).collect();
        self.bytes -= batch.iter().map(Outgoing::bytes).sum::<usize>();
        batch
    }

    /// Drops every queued ephemeral frame; returns how many.
    pub fn drop_ephemeral(&mut self) -> u64 {
        let before = self.items.len();
        self.items.retain(|o| o.class() == Class::Durable);
        self.bytes = self.items.iter().map(Outgoing::bytes).sum();
        (before - self.items.len()) as u64
    }

    /// Queues the close frame as the last item. A slow consumer's queue is dropped
    /// whole (it resumes from its last seq anyway); otherwise the durable frames
    /// already queued still go out first.
    pub fn close(&mut self, code: CloseCode, reason: &str, slow_consumer: bool) {
        if slow_consumer {
            self.items.clear();
            self.bytes = 0;
        } else {
            self.drop_ephemeral();
        }
        self.items
            .push_back(Outgoing::Close(code, reason.to_string()));
    }

    /// Whether a replayed event of `bytes` may be queued: replays fill three
    /// quarters of either bound at most, so live frames and replies always find
    /// room and a replay never trips the 4008 bound.
    pub fn room_for_replay(&self, bytes: usize) -> bool {
        self.items.len() < self.max_frames - self.max_frames / 4
            && self.bytes + bytes <= self.max_bytes - self.max_bytes / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durable(s: &str) -> Outgoing {
        Outgoing::Text(ByteString::from(s.to_string()), Class::Durable)
    }

    fn ephemeral(s: &str) -> Outgoing {
        Outgoing::Text(ByteString::from(s.to_string()), Class::Ephemeral)
    }

    fn texts(outbox: &mut Outbox) -> Vec<String> {
        outbox
            .take(usize::MAX)
            .into_iter()
            .map(|o| match o {
                Outgoing::Text(t, _) => t.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn ephemeral_frames_are_dropped_first_to_make_room_for_durable_ones() {
        let mut outbox = Outbox::new(3, 1 << 20);
        assert_eq!(outbox.push(durable("e1")), Pushed::Queued { dropped: 0 });
        assert_eq!(
            outbox.push(ephemeral("typing")),
            Pushed::Queued { dropped: 0 }
        );
        assert_eq!(
            outbox.push(ephemeral("read")),
            Pushed::Queued { dropped: 0 }
        );
        // Full: an ephemeral frame is dropped itself, a durable one evicts them.
        assert_eq!(
            outbox.push(ephemeral("presence")),
            Pushed::Dropped { dropped: 1 }
        );
        assert_eq!(outbox.push(durable("e2")), Pushed::Queued { dropped: 2 });
        assert_eq!(texts(&mut outbox), ["e1", "e2"]);
    }

    #[test]
    fn a_durable_frame_that_does_not_fit_is_an_overflow() {
        let mut outbox = Outbox::new(2, 1 << 20);
        outbox.push(durable("e1"));
        outbox.push(durable("e2"));
        assert_eq!(outbox.push(durable("e3")), Pushed::Overflow { dropped: 0 });
        assert_eq!(outbox.len(), 2, "nothing queued past the bound");
    }

    #[test]
    fn the_byte_bound_holds_like_the_frame_bound() {
        let mut outbox = Outbox::new(100, 10);
        assert_eq!(outbox.push(durable("12345")), Pushed::Queued { dropped: 0 });
        assert_eq!(outbox.push(ephemeral("123")), Pushed::Queued { dropped: 0 });
        assert_eq!(
            outbox.push(durable("123456")),
            Pushed::Overflow { dropped: 1 }
        );
        assert_eq!(outbox.bytes(), 5);
        outbox.take(1);
        assert_eq!(outbox.bytes(), 0);
        assert_eq!(
            outbox.push(durable("123456")),
            Pushed::Queued { dropped: 0 }
        );
    }

    #[test]
    fn closing_keeps_durable_frames_unless_the_client_is_too_slow() {
        let mut outbox = Outbox::new(10, 1 << 20);
        outbox.push(durable("e1"));
        outbox.push(ephemeral("typing"));
        outbox.close(CloseCode::Idle, "idle", false);
        assert_eq!(texts(&mut outbox), ["e1", r#"Close(Idle, "idle")"#]);
        outbox.push(durable("e2"));
        outbox.close(CloseCode::SlowConsumer, "slow", true);
        assert_eq!(texts(&mut outbox), [r#"Close(SlowConsumer, "slow")"#]);
    }

    #[test]
    fn replays_leave_a_quarter_of_either_bound_free() {
        let mut outbox = Outbox::new(8, 100);
        for _ in 0..5 {
            outbox.push(durable("x"));
        }
        assert!(outbox.room_for_replay(1), "5 of 8 frames");
        outbox.push(durable("x"));
        assert!(!outbox.room_for_replay(1), "6 of 8 frames");
        let mut outbox = Outbox::new(100, 100);
        outbox.push(durable(&"x".repeat(70)));
        assert!(outbox.room_for_replay(5));
        assert!(!outbox.room_for_replay(6), "75 of 100 bytes at most");
    }
}
