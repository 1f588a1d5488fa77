//! A socket's room subscriptions, each a small state machine, without I/O.
//!
//! `Pending` until the room actor answers with its head `H` (live events arriving
//! meanwhile are buffered), then `Replaying` events `after_seq < seq ≤ H` read from
//! the log page by page (live events still buffered), then `Live`. Live events are
//! all `> H`; the buffer is released through [`Subscriptions::live`] once the
//! replay has caught up, which drops what the replay already sent: the client sees
//! every event once, in order.
//!
//! One page is read ahead for the whole socket, however many rooms replay: the
//! next read starts only when no page is being read or waiting to be queued.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use andon_actors::realtime::messages::EventMeta;
use bytestring::ByteString;
use uuid::Uuid;

use crate::db::events::ReplayEvent;
use crate::rooms::Standing;

/// A live durable event: its frame and what the socket needs to know of it.
pub type LiveEvent = (ByteString, Arc<EventMeta>);

enum State {
    Pending {
        buffered: Vec<LiveEvent>,
    },
    Replaying {
        /// The last seq read from the log: the next page starts after it.
        fetched: i64,
        upto: i64,
        fetching: bool,
        /// Events read ahead, waiting for room in the queue.
        ready: VecDeque<ReplayEvent>,
        buffered: Vec<LiveEvent>,
    },
    Live {
        last: i64,
    },
}

pub struct Sub<R> {
    /// Distinguishes this subscription from an earlier one to the same room, so a
    /// late answer for the earlier one is ignored.
    pub generation: u64,
    /// The user's role and the room's status, as last read.
    pub standing: Standing,
    /// The room actor's handle (a plain value in tests).
    pub room: R,
    state: State,
}

/// What [`Subscriptions::live`] decided for a live event.
#[derive(Debug, PartialEq, Eq)]
pub enum LiveStep {
    /// Send it now.
    Deliver,
    /// Kept until the replay catches up.
    Buffered,
    /// The client cannot keep up even with its replay: close with 4008.
    Overflow,
    /// Already sent by the replay (or twice by the room).
    AlreadySent,
    NotSubscribed,
}

/// The next step of a replay, from [`Subscriptions::next_replayed`].
pub enum ReplayStep {
    /// Queue this event.
    Event(ReplayEvent),
    /// Caught up: the subscription is live; pass these buffered events through
    /// [`Subscriptions::live`].
    WentLive(Vec<LiveEvent>),
    /// Nothing to queue now (no room in the queue, or the next page is not read).
    Wait,
}

/// A page to read from the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Fetch {
    pub room: Uuid,
    pub generation: u64,
    pub after: i64,
    pub upto: i64,
    pub limit: i64,
}

pub struct Subscriptions<R> {
    subs: HashMap<Uuid, Sub<R>>,
    generation: u64,
    /// Rooms at most (`ANDON_WS_SUBSCRIPTIONS_PER_SOCKET`).
    max: usize,
    /// Live events buffered per room during a replay, at most.
    buffer_max: usize,
}

impl<R> Subscriptions<R> {
    pub fn new(max: usize, buffer_max: usize) -> Self {
        Self {
            subs: HashMap::new(),
            generation: 0,
            max,
            buffer_max,
        }
    }

    pub fn len(&self) -> usize {
        self.subs.len()
    }

    pub fn get(&self, room: &Uuid) -> Option<&Sub<R>> {
        self.subs.get(room)
    }

    pub fn is_current(&self, room: &Uuid, generation: u64) -> bool {
        self.subs.get(room).map(|s| s.generation) == Some(generation)
    }

    pub fn is_live(&self, room: &Uuid) -> bool {
        matches!(
            self.subs.get(room).map(|s| &s.state),
            Some(State::Live { .. })
        )
    }

    /// `Err(max)` when one more room would be over the bound; subscribing again to
    /// a room already subscribed replaces it.
    pub fn room_for_one_more(&self, room: &Uuid) -> Result<(), usize> {
        if self.subs.len() >= self.max && !self.subs.contains_key(room) {
            return Err(self.max);
        }
        Ok(())
    }

    /// Starts a subscription, `Pending`; returns its generation.
    pub fn begin(&mut self, room: Uuid, standing: Standing, handle: R) -> u64 {
        self.generation += 1;
        let sub = Sub {
            generation: self.generation,
            standing,
            room: handle,
            state: State::Pending {
                buffered: Vec::new(),
            },
        };
        self.subs.insert(room, sub);
        self.generation
    }

    pub fn set_standing(&mut self, room: &Uuid, standing: Standing) {
        if let Some(sub) = self.subs.get_mut(room) {
            sub.standing = standing;
        }
    }

    pub fn remove(&mut self, room: &Uuid) -> Option<R> {
        self.subs.remove(room).map(|s| s.room)
    }

    pub fn drain(&mut self) -> Vec<R> {
        self.subs.drain().map(|(_, s)| s.room).collect()
    }

    /// The room actor answered with its head: replay `after < seq ≤ head`, or go
    /// live at once. Returns the events buffered meanwhile when it went live.
    pub fn subscribed(&mut self, room: &Uuid, head: i64, after: Option<i64>) -> Vec<LiveEvent> {
        let Some(sub) = self.subs.get_mut(room) else {
            return Vec::new();
        };
        let buffered = match &mut sub.state {
            State::Pending { buffered } => std::mem::take(buffered),
            _ => Vec::new(),
        };
        match after {
            Some(after) if after < head => {
                sub.state = State::Replaying {
                    fetched: after.max(0),
                    upto: head,
                    fetching: false,
                    ready: VecDeque::new(),
                    buffered,
                };
                Vec::new()
            }
            _ => {
                sub.state = State::Live { last: head };
                buffered
            }
        }
    }

    /// A live durable event of `room` with sequence number `seq`.
    pub fn live(&mut self, room: &Uuid, event: &LiveEvent) -> LiveStep {
        let Some(sub) = self.subs.get_mut(room) else {
            return LiveStep::NotSubscribed;
        };
        match &mut sub.state {
            State::Pending { buffered } | State::Replaying { buffered, .. } => {
                buffered.push(event.clone());
                if buffered.len() > self.buffer_max {
                    LiveStep::Overflow
                } else {
                    LiveStep::Buffered
                }
            }
            State::Live { last } if event.1.seq <= *last => LiveStep::AlreadySent,
            State::Live { last } => {
                *last = event.1.seq;
                LiveStep::Deliver
            }
        }
    }

    /// The next page to read, if no page is being read or waiting to be queued.
    pub fn next_fetch(&mut self, page_len: usize) -> Option<Fetch> {
        let busy = self.subs.values().any(|sub| {
            matches!(&sub.state, State::Replaying { fetching, ready, .. } if *fetching || !ready.is_empty())
        });
        if busy {
            return None;
        }
        self.subs.iter_mut().find_map(|(room, sub)| {
            let State::Replaying {
                fetched,
                upto,
                fetching,
                ..
            } = &mut sub.state
            else {
                return None;
            };
            if *fetched >= *upto {
                return None;
            }
            *fetching = true;
            Some(Fetch {
                room: *room,
                generation: sub.generation,
                after: *fetched,
                upto: *upto,
                limit: (page_len as i64).min(*upto - *fetched),
            })
        })
    }

    /// A page read for `fetch`; returns the bytes now held read ahead, or `None`
    /// when the subscription is gone or was replaced meanwhile.
    pub fn page_read(&mut self, fetch: &Fetch, page: Vec<ReplayEvent>) -> Option<usize> {
        let sub = self.subs.get_mut(&fetch.room)?;
        if sub.generation != fetch.generation {
            return None;
        }
        let State::Replaying {
            fetched,
            fetching,
            ready,
            ..
        } = &mut sub.state
        else {
            return None;
        };
        *fetching = false;
        // An empty page ends the replay too: the log holds nothing more up to `upto`.
        *fetched = page.last().map_or(fetch.upto, |e| e.seq);
        ready.extend(page);
        Some(ready.iter().map(|e| e.frame.len()).sum())
    }

    /// Rooms with events read ahead, waiting to be queued.
    pub fn waiting(&self) -> Vec<Uuid> {
        self.subs
            .iter()
            .filter(|(_, sub)| matches!(&sub.state, State::Replaying { ready, .. } if !ready.is_empty()))
            .map(|(room, _)| *room)
            .collect()
    }

    /// The next replayed event of `room` if `fits(its frame's length)`, or the
    /// hand-over to live once the log is read and queued up to the head.
    pub fn next_replayed(&mut self, room: &Uuid, fits: impl Fn(usize) -> bool) -> ReplayStep {
        let Some(sub) = self.subs.get_mut(room) else {
            return ReplayStep::Wait;
        };
        let State::Replaying {
            fetched,
            upto,
            fetching,
            ready,
            buffered,
        } = &mut sub.state
        else {
            return ReplayStep::Wait;
        };
        // Events past the head are live ones' business (they cannot come from a
        // page bounded by `upto`, but a log is not to be trusted blindly).
        while ready.front().is_some_and(|e| e.seq > *upto) {
            ready.pop_front();
        }
        match ready.front() {
            Some(next) if fits(next.frame.len()) => ready
                .pop_front()
                .map_or(ReplayStep::Wait, ReplayStep::Event),
            Some(_) => ReplayStep::Wait,
            None if *fetched >= *upto && !*fetching => {
                let buffered = std::mem::take(buffered);
                sub.state = State::Live { last: *upto };
                ReplayStep::WentLive(buffered)
            }
            None => ReplayStep::Wait,
        }
    }
}

#[cfg(test)]
mod tests;
