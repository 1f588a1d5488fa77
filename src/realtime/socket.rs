//! One actor per WebSocket connection.
//!
//! Inbound: client frames arrive as a stream (actix-ws); each is parsed, checked
//! and dispatched. Slow work (database, group commit) runs as futures in the
//! actor's context, so the actor keeps serving frames meanwhile.
//!
//! Outbound: everything the socket sends goes through one bounded queue
//! (`ANDON_WS_QUEUE_FRAMES`) drained by a single writer future into actix-ws, whose
//! own channel is small and bounded; a client that stops reading therefore stalls
//! the writer, the queue fills, ephemeral frames are dropped first, and a durable
//! event that still does not fit closes the socket with 4008. Memory per socket is
//! bounded and the room never waits for this socket.
//!
//! Subscriptions (per room): `Pending` until the room actor answers with its head
//! `H` (live frames arriving meanwhile are buffered), then `Replaying` events
//! `after_seq < seq ≤ H` from the database page by page as the queue drains (live
//! frames still buffered), then `Live`. Live frames are all `> H`, so the client
//! sees every event once, in order.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::web;
use actix_ws::{CloseCode, CloseReason, Message as WsMessage, ProtocolError, Session};
use andon_actors::permissions::{self, Action, Role};
use andon_actors::realtime::messages::{
    EventMeta, Frame, ReadUpTo, Subscribe, Subscribed, ToSocket, Typing, Unsubscribe,
};
use andon_actors::realtime::{CLOSE_SLOW_CONSUMER, RoomActor};
use andon_actors::session::messages::{AttachSocket, CloseSocket, DetachSocket, Touch};
use bytestring::ByteString;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::protocol::{self, ClientFrame, SendFrame, WsError};
use crate::auth::AuthUser;
use crate::db::events;
use crate::rooms::{self, RoomAccess};
use crate::state::AppState;

/// Bad frames within a minute that end the connection with 4400.
const MAX_VIOLATIONS: usize = 10;
/// Frames per second a client may send (bursts of twice that).
const FRAMES_PER_SECOND: u32 = 100;
/// Events read from the database per replay page, at most.
const REPLAY_PAGE: usize = 1000;
/// Frames handed to actix-ws per writer future.
const WRITE_BATCH: usize = 64;
/// A closing socket is dropped after this long even if the close frame is stuck.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The clock of every socket's frame limiter. Making a clock runs `CPUID` (to
/// check the TSC), which traps to the hypervisor on a virtual machine: once per
/// process, not once per connection (it showed in the `connect` profile).
fn frame_clock() -> governor::clock::DefaultClock {
    static CLOCK: std::sync::OnceLock<governor::clock::DefaultClock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(Default::default).clone()
}
/// Read markers are written at most this often per socket and room.
const READ_FLUSH: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Events and replies: never dropped.
    Durable,
    /// Typing, presence, read: dropped first.
    Ephemeral,
}

enum Outgoing {
    Text(ByteString, Class),
    Ping,
    Pong(bytes::Bytes),
    Close(u16, String),
}

impl Outgoing {
    /// What the item counts against the queue's byte bound.
    fn bytes(&self) -> usize {
        match self {
            Outgoing::Text(text, _) => text.len(),
            Outgoing::Pong(bytes) => bytes.len(),
            // Control frames are tiny and the close frame must always fit.
            Outgoing::Ping | Outgoing::Close(..) => 0,
        }
    }
}

enum SubState {
    /// Waiting for the room actor's answer; live frames buffered.
    Pending {
        buffered: Vec<(ByteString, std::sync::Arc<EventMeta>)>,
    },
    Replaying {
        /// The last seq read from the log: the next page starts after it.
        fetched: i64,
        upto: i64,
        fetching: bool,
        /// Events read ahead, waiting for room in the queue. One page at most for
        /// the whole socket (however many rooms replay), so a socket that does not
        /// read holds one page and its bounded queue, no more.
        ready: VecDeque<events::ReplayEvent>,
        buffered: Vec<(ByteString, std::sync::Arc<EventMeta>)>,
    },
    Live {
        last: i64,
    },
}

struct Sub {
    /// Distinguishes this subscription from an earlier one to the same room, so a
    /// late replay page of the earlier one is ignored.
    generation: u64,
    role: Option<Role>,
    archived: bool,
    room: Addr<RoomActor>,
    state: SubState,
}

/// A send in flight: when it arrived, and the refs to answer.
struct PendingAck {
    since: Instant,
    refs: Vec<Option<Value>>,
}

impl PendingAck {
    /// Takes the refs, recording how long the ack took.
    fn answer(self) -> Vec<Option<Value>> {
        metrics::histogram!("andon_ack_latency_seconds").record(self.since.elapsed().as_secs_f64());
        self.refs
    }
}

pub struct SocketActor {
    id: u64,
    user: AuthUser,
    app: web::Data<AppState>,
    session: Option<Session>,
    outbox: VecDeque<Outgoing>,
    /// Bytes of the frames in `outbox`.
    outbox_bytes: usize,
    writing: bool,
    closing: bool,
    subs: HashMap<Uuid, Sub>,
    generation: u64,
    /// Sends in flight: the refs to acknowledge, by room and client id.
    pending_acks: HashMap<(Uuid, String), PendingAck>,
    /// Read markers to store, by room (flushed once a second).
    reads_pending: HashMap<Uuid, i64>,
    reads_stored: HashMap<Uuid, i64>,
    last_heard: Instant,
    last_touch: Instant,
    violations: VecDeque<Instant>,
    limiter: DefaultDirectRateLimiter,
    /// Subscriptions counted in the shared gauge so far.
    counted_subs: i64,
    /// This socket's place among its session's; freed when the actor is dropped.
    _slot: super::limits::SocketSlot,
}

impl SocketActor {
    pub fn new(
        app: web::Data<AppState>,
        user: AuthUser,
        session: Session,
        slot: super::limits::SocketSlot,
    ) -> Self {
        let id = app.realtime.next_socket_id();
        let per_second = NonZeroU32::new(FRAMES_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(FRAMES_PER_SECOND * 2).unwrap_or(NonZeroU32::MIN);
        Self {
            id,
            user,
            app,
            session: Some(session),
            outbox: VecDeque::new(),
            outbox_bytes: 0,
            writing: false,
            closing: false,
            subs: HashMap::new(),
            generation: 0,
            pending_acks: HashMap::new(),
            reads_pending: HashMap::new(),
            reads_stored: HashMap::new(),
            last_heard: Instant::now(),
            last_touch: Instant::now(),
            violations: VecDeque::new(),
            limiter: RateLimiter::direct_with_clock(
                Quota::per_second(per_second).allow_burst(burst),
                frame_clock(),
            ),
            counted_subs: 0,
            _slot: slot,
        }
    }

    /// Brings the shared subscription gauge in line with this socket's count.
    fn count_subs(&mut self) {
        let now = self.subs.len() as i64;
        let delta = now - self.counted_subs;
        if delta != 0 {
            self.app
                .realtime
                .stats
                .subscriptions
                .fetch_add(delta, std::sync::atomic::Ordering::Relaxed);
            self.counted_subs = now;
        }
    }

    fn limit(&self) -> usize {
        self.app.realtime.config.queue_frames
    }

    fn byte_limit(&self) -> usize {
        self.app.realtime.config.queue_bytes
    }

    /// Whether `bytes` more would overflow the queue's bound in frames or bytes.
    fn full_for(&self, bytes: usize) -> bool {
        self.outbox.len() >= self.limit() || self.outbox_bytes + bytes > self.byte_limit()
    }

    fn drop_ephemeral(&mut self) -> u64 {
        let before = self.outbox.len();
        self.outbox
            .retain(|o| matches!(o, Outgoing::Text(_, Class::Durable)));
        self.outbox_bytes = self.outbox.iter().map(Outgoing::bytes).sum();
        (before - self.outbox.len()) as u64
    }

    // ---- outbound -------------------------------------------------------------

    /// Queues a frame; applies the overflow policy.
    fn enqueue(&mut self, item: Outgoing, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let class = match &item {
            Outgoing::Text(_, class) => *class,
            _ => Class::Ephemeral, // pings and pongs can be skipped too
        };
        let bytes = item.bytes();
        if self.full_for(bytes) {
            if class == Class::Ephemeral {
                self.app
                    .realtime
                    .stats
                    .dropped_ephemeral
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            let dropped = self.drop_ephemeral();
            self.app
                .realtime
                .stats
                .dropped_ephemeral
                .fetch_add(dropped, std::sync::atomic::Ordering::Relaxed);
            if self.full_for(bytes) {
                self.app
                    .realtime
                    .stats
                    .slow_consumer_closes
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                metrics::counter!("andon_slow_consumer_closes_total").increment(1);
                tracing::info!(socket = self.id, user = %self.user.id, "slow consumer: closing with 4008");
                self.close(CLOSE_SLOW_CONSUMER, "slow consumer, resume", ctx);
                return;
            }
        }
        self.outbox_bytes += bytes;
        self.outbox.push_back(item);
        self.app
            .realtime
            .stats
            .note_queue_len(self.outbox.len(), self.outbox_bytes);
        self.pump(ctx);
    }

    fn send_text(&mut self, text: impl Into<ByteString>, class: Class, ctx: &mut Context<Self>) {
        self.enqueue(Outgoing::Text(text.into(), class), ctx);
    }

    fn send_error(
        &mut self,
        e: &WsError,
        reference: &Option<Value>,
        room: Option<Uuid>,
        ctx: &mut Context<Self>,
    ) {
        self.send_text(
            protocol::error_frame(e, reference, room),
            Class::Durable,
            ctx,
        );
    }

    /// Starts the writer if it is idle and there is something to write.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.writing || self.outbox.is_empty() {
            return;
        }
        let Some(mut session) = self.session.take() else {
            return;
        };
        self.writing = true;
        let n = self.outbox.len().min(WRITE_BATCH);
        let batch: Vec<Outgoing> = self.outbox.drain(..n).collect();
        self.outbox_bytes -= batch.iter().map(Outgoing::bytes).sum::<usize>();
        ctx.spawn(
            async move {
                for item in batch {
                    let result = match item {
                        Outgoing::Text(text, _) => session.text(text).await,
                        Outgoing::Ping => session.ping(b"").await,
                        Outgoing::Pong(bytes) => session.pong(&bytes).await,
                        Outgoing::Close(code, reason) => {
                            let _ = session
                                .close(Some(CloseReason {
                                    code: CloseCode::Other(code),
                                    description: Some(reason),
                                }))
                                .await;
                            return None;
                        }
                    };
                    if result.is_err() {
                        return None;
                    }
                }
                Some(session)
            }
            .into_actor(self)
            .map(|session, act, ctx| {
                act.writing = false;
                match session {
                    Some(s) => {
                        act.session = Some(s);
                        act.continue_replays(ctx);
                        act.pump(ctx);
                    }
                    None => ctx.stop(), // closed, by us or by the peer
                }
            }),
        );
    }

    /// Closes with `code` after the frames already queued (a slow consumer's queue
    /// is dropped instead: it resumes from its last seq anyway).
    fn close(&mut self, code: u16, reason: &str, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        if code == CLOSE_SLOW_CONSUMER {
            self.outbox.clear();
            self.outbox_bytes = 0;
        } else {
            self.drop_ephemeral();
        }
        self.outbox
            .push_back(Outgoing::Close(code, reason.to_string()));
        self.closing = true;
        self.leave_rooms();
        self.pump(ctx);
        ctx.run_later(CLOSE_GRACE, |_, ctx| ctx.stop());
    }

    fn leave_rooms(&mut self) {
        for (_, sub) in self.subs.drain() {
            sub.room.do_send(Unsubscribe { socket_id: self.id });
        }
        self.count_subs();
    }

    // ---- inbound --------------------------------------------------------------

    fn violation(&mut self, e: WsError, reference: Option<Value>, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.violations.push_back(now);
        while self
            .violations
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            self.violations.pop_front();
        }
        self.send_error(&e, &reference, None, ctx);
        if self.violations.len() >= MAX_VIOLATIONS {
            self.close(4400, "protocol violation", ctx);
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        if self.limiter.check().is_err() {
            let e = WsError::new("rate_limited", "Too many frames; slow down");
            self.send_error(&e, &None, None, ctx);
            return;
        }
        let (frame, reference) = match protocol::parse(text) {
            Ok(parsed) => parsed,
            Err((e, reference)) => return self.violation(e, reference, ctx),
        };
        match frame {
            ClientFrame::Ping => self.send_text(
                protocol::reply(json!({"type": "pong"}), &reference),
                Class::Durable,
                ctx,
            ),
            ClientFrame::Subscribe { room_id, after_seq } => {
                self.subscribe(room_id, after_seq, reference, ctx)
            }
            ClientFrame::Unsubscribe { room_id } => {
                if let Some(sub) = self.subs.remove(&room_id) {
                    sub.room.do_send(Unsubscribe { socket_id: self.id });
                }
                self.count_subs();
                let frame = json!({"type": "unsubscribed", "room_id": room_id});
                self.send_text(protocol::reply(frame, &reference), Class::Durable, ctx);
            }
            ClientFrame::Send(f) => self.send(f, reference, ctx),
            ClientFrame::Edit {
                room_id,
                message_id,
                content,
            } => {
                let (app, user) = (self.app.clone(), self.user.clone());
                self.action(room_id, message_id, reference, ctx, async move {
                    app.rooms
                        .edit(&user, room_id, message_id, &content)
                        .await
                        .map(Some)
                });
            }
            ClientFrame::Delete {
                room_id,
                message_id,
            } => {
                let (app, user) = (self.app.clone(), self.user.clone());
                self.action(room_id, message_id, reference, ctx, async move {
                    app.rooms.delete(&user, room_id, message_id).await.map(Some)
                });
            }
            ClientFrame::React {
                room_id,
                message_id,
                emoji,
                add,
            } => {
                let (app, user) = (self.app.clone(), self.user.clone());
                self.action(room_id, message_id, reference, ctx, async move {
                    app.rooms
                        .react(&user, room_id, message_id, &emoji, add)
                        .await
                });
            }
            ClientFrame::Typing { room_id } => self.typing(room_id, reference, ctx),
            ClientFrame::Read { room_id, seq } => {
                if seq > self.reads_stored.get(&room_id).copied().unwrap_or(0) {
                    // A flush a second after the first pending marker: one write per
                    // room and second at most, and no timer at all on a quiet socket
                    // (50,000 idle sockets would otherwise wake 50,000 times a second).
                    if self.reads_pending.is_empty() {
                        ctx.run_later(READ_FLUSH, |act, ctx| act.flush_reads(ctx));
                    }
                    let entry = self.reads_pending.entry(room_id).or_insert(seq);
                    *entry = (*entry).max(seq);
                }
            }
        }
    }

    /// Runs an edit, delete or react and answers with its ack or error.
    fn action<F>(
        &mut self,
        room: Uuid,
        message: Uuid,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
        work: F,
    ) where
        F: Future<Output = crate::error::ApiResult<Option<i64>>> + 'static,
    {
        ctx.spawn(
            work.into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(seq) => {
                        let ack = json!({"type": "ack", "message_id": message, "seq": seq});
                        act.send_text(protocol::reply(ack, &reference), Class::Durable, ctx);
                    }
                    Err(e) => act.send_error(&WsError::from(e), &reference, Some(room), ctx),
                }),
        );
    }

    fn typing(&mut self, room_id: Uuid, reference: Option<Value>, ctx: &mut Context<Self>) {
        let Some(sub) = self.subs.get(&room_id) else {
            let e = WsError::bad_request("Subscribe to the room before typing");
            return self.send_error(&e, &reference, Some(room_id), ctx);
        };
        let allowed =
            !sub.archived && (permissions::allows(sub.role, Action::Send) || self.user.is_admin);
        if !allowed {
            let e = WsError::new("forbidden", "Your role in this room does not allow typing");
            return self.send_error(&e, &reference, Some(room_id), ctx);
        }
        sub.room.do_send(Typing {
            socket_id: self.id,
            user_id: self.user.id.clone(),
            display_name: self.user.display_name.clone(),
        });
    }

    fn send(&mut self, f: SendFrame, reference: Option<Value>, ctx: &mut Context<Self>) {
        if let Err(e) = protocol::check_send(&f) {
            return self.send_error(&e, &reference, Some(f.room_id), ctx);
        }
        let key = (f.room_id, f.client_id.clone());
        let first = !self.pending_acks.contains_key(&key);
        self.pending_acks
            .entry(key.clone())
            .or_insert_with(|| PendingAck {
                since: Instant::now(),
                refs: Vec::new(),
            })
            .refs
            .push(reference);
        if !first {
            return; // the same send is already on its way: one answer for both
        }
        let request = rooms::messages::send_request(&self.user, f);
        let rooms = self.app.rooms.clone();
        ctx.spawn(
            async move { rooms.submit(request).await.map_err(WsError::from) }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    // If the event came first, the ack went out with it already.
                    let Some(refs) = act.pending_acks.remove(&key).map(PendingAck::answer) else {
                        return;
                    };
                    for reference in refs {
                        match &result {
                            Ok(ack) => {
                                let frame = json!({
                                    "type": "ack", "client_id": key.1,
                                    "message_id": ack.message_id, "seq": ack.seq,
                                });
                                act.send_text(
                                    protocol::reply(frame, &reference),
                                    Class::Durable,
                                    ctx,
                                );
                            }
                            Err(e) => act.send_error(e, &reference, Some(key.0), ctx),
                        }
                    }
                }),
        );
    }

    // ---- subscriptions ----------------------------------------------------------

    fn subscribe(
        &mut self,
        room_id: Uuid,
        after: Option<i64>,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
        if let Err(e) = self.room_for_one_more(room_id) {
            return self.send_error(&e, &reference, Some(room_id), ctx);
        }
        ctx.spawn(
            read_access(self.app.clone(), self.user.clone(), room_id)
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Err(e) => act.send_error(&WsError::from(e), &reference, Some(room_id), ctx),
                    Ok((role, archived)) => {
                        act.register(room_id, role, archived, after, reference, ctx)
                    }
                }),
        );
    }

    fn register(
        &mut self,
        room_id: Uuid,
        role: Option<Role>,
        archived: bool,
        after: Option<i64>,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
        if self.closing {
            return;
        }
        // Checked again: other subscribes may have passed the first check meanwhile.
        if let Err(e) = self.room_for_one_more(room_id) {
            return self.send_error(&e, &reference, Some(room_id), ctx);
        }
        self.generation += 1;
        let generation = self.generation;
        let room = self.app.realtime.rooms.get_or_start(room_id);
        self.subs.insert(
            room_id,
            Sub {
                generation,
                role,
                archived,
                room: room.clone(),
                state: SubState::Pending {
                    buffered: Vec::new(),
                },
            },
        );
        self.count_subs();
        let msg = Subscribe {
            socket_id: self.id,
            user_id: self.user.id.clone(),
            socket: ctx.address().recipient(),
        };
        ctx.spawn(
            room.send(msg)
                .into_actor(self)
                .map(move |result, act, ctx| {
                    if act.subs.get(&room_id).map(|s| s.generation) != Some(generation) {
                        return; // unsubscribed or subscribed again meanwhile
                    }
                    match result {
                        Ok(subscribed) => {
                            act.recheck(room_id, generation, subscribed, after, reference, ctx)
                        }
                        Err(_) => {
                            // The room actor stopped: the room is gone (or the database was).
                            act.subs.remove(&room_id);
                            act.count_subs();
                            let e = WsError::new("not_found", "Room not found");
                            act.send_error(&e, &reference, Some(room_id), ctx);
                        }
                    }
                }),
        );
    }

    /// A socket may be subscribed to `ANDON_WS_SUBSCRIPTIONS_PER_SOCKET` rooms at
    /// most; subscribing again to a room already subscribed replaces it.
    fn room_for_one_more(&self, room_id: Uuid) -> Result<(), WsError> {
        let max = self.app.realtime.config.subscriptions_per_socket;
        if self.subs.len() >= max && !self.subs.contains_key(&room_id) {
            return Err(WsError::new(
                "too_many_subscriptions",
                format!(
                    "A socket may subscribe to {max} rooms at most: unsubscribe from one first"
                ),
            ));
        }
        Ok(())
    }

    /// Access is checked again once the room actor has registered the socket: a
    /// removal committed between the first check and the registration published
    /// its event before this socket was there to see it. From here on, every
    /// removal reaches the socket as an event.
    fn recheck(
        &mut self,
        room_id: Uuid,
        generation: u64,
        subscribed: Subscribed,
        after: Option<i64>,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(
            read_access(self.app.clone(), self.user.clone(), room_id)
                .into_actor(self)
                .map(move |result, act, ctx| {
                    if act.subs.get(&room_id).map(|s| s.generation) != Some(generation) {
                        return; // unsubscribed or subscribed again meanwhile
                    }
                    match result {
                        Ok((role, archived)) => {
                            if let Some(sub) = act.subs.get_mut(&room_id) {
                                sub.role = role;
                                sub.archived = archived;
                            }
                            act.subscribed(room_id, subscribed, after, reference, ctx)
                        }
                        Err(e) => {
                            if let Some(sub) = act.subs.remove(&room_id) {
                                sub.room.do_send(Unsubscribe { socket_id: act.id });
                            }
                            act.count_subs();
                            act.send_error(&WsError::from(e), &reference, Some(room_id), ctx);
                        }
                    }
                }),
        );
    }

    fn subscribed(
        &mut self,
        room_id: Uuid,
        s: Subscribed,
        after: Option<i64>,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
        let frame = json!({"type": "subscribed", "room_id": room_id, "head_seq": s.head_seq, "online": s.online});
        self.send_text(protocol::reply(frame, &reference), Class::Durable, ctx);
        let Some(sub) = self.subs.get_mut(&room_id) else {
            return;
        };
        let buffered = match &mut sub.state {
            SubState::Pending { buffered } => std::mem::take(buffered),
            _ => Vec::new(),
        };
        match after {
            Some(after) if after < s.head_seq => {
                sub.state = SubState::Replaying {
                    fetched: after.max(0),
                    upto: s.head_seq,
                    fetching: false,
                    ready: VecDeque::new(),
                    buffered,
                };
                self.continue_replays(ctx);
            }
            _ => {
                sub.state = SubState::Live { last: s.head_seq };
                for (text, meta) in buffered {
                    self.live_event(room_id, text, meta, ctx);
                }
            }
        }
    }

    /// Events per replay page: half the queue, so that a page fits beside live
    /// frames and replies.
    fn replay_page_len(&self) -> usize {
        (self.limit() / 2).clamp(1, REPLAY_PAGE)
    }

    /// Moves replays on; called when a subscription starts replaying, when a page
    /// arrives and whenever the writer drains.
    ///
    /// Reading is one page ahead of writing: events read ahead wait aside until the
    /// queue has room for them, always leaving a quarter of its bounds for live
    /// frames and replies (so a replay never trips the 4008 bound), and the next
    /// page is read as soon as the last one is all queued, while the writer still
    /// drains it, so the database's latency and the socket's overlap instead of
    /// adding up. One page is read ahead per socket, however many of its rooms
    /// replay: a socket that subscribes everywhere and never reads holds one page
    /// and its bounded queue, no more.
    fn continue_replays(&mut self, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let waiting: Vec<Uuid> = self
            .subs
            .iter()
            .filter(|(_, sub)| matches!(&sub.state, SubState::Replaying { ready, .. } if !ready.is_empty()))
            .map(|(id, _)| *id)
            .collect();
        for room_id in waiting {
            self.queue_ready(room_id, ctx);
        }
        let busy = self.subs.values().any(|sub| {
            matches!(&sub.state, SubState::Replaying { fetching, ready, .. } if *fetching || !ready.is_empty())
        });
        if busy || self.closing {
            return;
        }
        let page = self.replay_page_len();
        let page_bytes = (self.byte_limit() / 4) as i64;
        for (room_id, sub) in self.subs.iter_mut() {
            let SubState::Replaying {
                fetched,
                upto,
                fetching,
                ..
            } = &mut sub.state
            else {
                continue;
            };
            if *fetched >= *upto {
                continue;
            }
            *fetching = true;
            let (room_id, after, upto, generation) = (*room_id, *fetched, *upto, sub.generation);
            let app = self.app.clone();
            let limit = (page as i64).min(upto - after);
            ctx.spawn(
                async move {
                    let client = app.db_conn().await?;
                    Ok::<_, crate::error::ApiError>(
                        events::list_frames(&client, room_id, after, limit, page_bytes).await?,
                    )
                }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    act.replay_page_read(room_id, generation, upto, result, ctx)
                }),
            );
            return;
        }
    }

    fn replay_page_read(
        &mut self,
        room_id: Uuid,
        generation: u64,
        upto: i64,
        result: crate::error::ApiResult<Vec<events::ReplayEvent>>,
        ctx: &mut Context<Self>,
    ) {
        if self.subs.get(&room_id).map(|s| s.generation) != Some(generation) {
            return;
        }
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                // Could not read the log: end this subscription; the client resubscribes.
                if let Some(sub) = self.subs.remove(&room_id) {
                    sub.room.do_send(Unsubscribe { socket_id: self.id });
                }
                self.count_subs();
                return self.send_error(&WsError::from(e), &None, Some(room_id), ctx);
            }
        };
        let Some(sub) = self.subs.get_mut(&room_id) else {
            return;
        };
        let SubState::Replaying {
            fetched,
            fetching,
            ready,
            ..
        } = &mut sub.state
        else {
            return;
        };
        *fetching = false;
        // An empty page ends the replay too: the log holds nothing more up to `upto`.
        *fetched = page.last().map_or(upto, |e| e.seq);
        ready.extend(page);
        let held = ready.iter().map(|e| e.frame.len()).sum();
        self.app
            .realtime
            .stats
            .replay_ready_bytes_high_water
            .fetch_max(held, std::sync::atomic::Ordering::Relaxed);
        self.continue_replays(ctx);
    }

    /// Queues the events of `room_id` read ahead while the queue has room (three
    /// quarters of its bounds); once the log is read and queued up to the head the
    /// subscription goes live.
    fn queue_ready(&mut self, room_id: Uuid, ctx: &mut Context<Self>) {
        let frames_room = self.limit() - self.limit() / 4;
        let bytes_room = self.byte_limit() - self.byte_limit() / 4;
        loop {
            if self.closing {
                return;
            }
            let Some(Sub {
                state:
                    SubState::Replaying {
                        ready,
                        upto,
                        fetched,
                        fetching,
                        buffered,
                    },
                ..
            }) = self.subs.get_mut(&room_id)
            else {
                return;
            };
            let upto = *upto;
            let Some(next) = ready.front() else {
                if *fetched >= upto && !*fetching {
                    let buffered = std::mem::take(buffered);
                    if let Some(sub) = self.subs.get_mut(&room_id) {
                        sub.state = SubState::Live { last: upto };
                    }
                    for (text, meta) in buffered {
                        self.live_event(room_id, text, meta, ctx);
                    }
                }
                return;
            };
            if self.outbox.len() >= frames_room || self.outbox_bytes + next.frame.len() > bytes_room
            {
                return; // the writer's next drain calls again
            }
            let Some(event) = ready.pop_front() else {
                return;
            };
            if event.seq <= upto {
                self.deliver_event(room_id, event.frame, &event.meta, ctx);
            }
        }
    }

    /// A live durable event for a subscribed room.
    fn live_event(
        &mut self,
        room_id: Uuid,
        text: ByteString,
        meta: std::sync::Arc<EventMeta>,
        ctx: &mut Context<Self>,
    ) {
        let Some(sub) = self.subs.get_mut(&room_id) else {
            return;
        };
        match &mut sub.state {
            SubState::Pending { buffered } | SubState::Replaying { buffered, .. } => {
                buffered.push((text, meta));
                if buffered.len() > self.app.realtime.config.queue_frames {
                    // The client cannot keep up even with its replay: resume later.
                    self.app
                        .realtime
                        .stats
                        .slow_consumer_closes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.close(CLOSE_SLOW_CONSUMER, "slow consumer, resume", ctx);
                }
            }
            SubState::Live { last } => {
                if meta.seq <= *last {
                    return; // already sent
                }
                *last = meta.seq;
                self.deliver_event(room_id, text, &meta, ctx);
            }
        }
    }

    /// Sends one event; acknowledges the client's own send first, and keeps the
    /// cached role and status in step with member and room events.
    fn deliver_event(
        &mut self,
        room_id: Uuid,
        text: ByteString,
        meta: &EventMeta,
        ctx: &mut Context<Self>,
    ) {
        if meta.kind == "message.created"
            && meta.actor == self.user.id
            && let Some(client_id) = &meta.client_id
            && let Some(refs) = self
                .pending_acks
                .remove(&(room_id, client_id.clone()))
                .map(PendingAck::answer)
        {
            let seq = meta.seq;
            for reference in refs {
                let frame = json!({
                    "type": "ack", "client_id": client_id, "message_id": meta.message_id, "seq": seq,
                });
                self.send_text(protocol::reply(frame, &reference), Class::Durable, ctx);
            }
        }
        self.send_text(text, Class::Durable, ctx);
        let concerns_me = meta.subject.as_deref() == Some(self.user.id.as_str());
        if (meta.kind.starts_with("member.") && concerns_me)
            || meta.kind == "ownership.transferred"
            || meta.kind == "room.status_changed"
        {
            self.refresh_access(room_id, ctx);
        }
    }

    /// Re-reads the user's role and the room's status after a change to either.
    fn refresh_access(&mut self, room_id: Uuid, ctx: &mut Context<Self>) {
        let (app, user) = (self.app.clone(), self.user.clone());
        ctx.spawn(
            async move {
                let client = app.db_conn().await.ok()?;
                RoomAccess::load(&client, room_id, &user, false).await.ok()
            }
            .into_actor(self)
            .map(move |access, act, _| {
                if let (Some(access), Some(sub)) = (access, act.subs.get_mut(&room_id)) {
                    sub.role = access.role;
                    sub.archived = access.room.status.as_str() == "archived";
                }
            }),
        );
    }

    // ---- timers -----------------------------------------------------------------

    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let config = &self.app.realtime.config;
        if self.last_heard.elapsed() > config.idle_timeout {
            tracing::debug!(socket = self.id, "idle socket closed");
            return self.close(1000, "idle timeout", ctx);
        }
        self.enqueue(Outgoing::Ping, ctx);
        // An open, talking socket is an active session.
        if self.last_heard > self.last_touch {
            self.last_touch = Instant::now();
            self.app.supervisor.do_send(Touch {
                id: self.user.session_id,
                at: chrono::Utc::now(),
            });
        }
    }

    fn flush_reads(&mut self, ctx: &mut Context<Self>) {
        let pending: Vec<(Uuid, i64)> = self.reads_pending.drain().collect();
        for (room_id, seq) in pending {
            let (app, user) = (self.app.clone(), self.user.clone());
            ctx.spawn(
                async move { app.rooms.mark_read(&user, room_id, seq).await }
                    .into_actor(self)
                    .map(move |result, act, ctx| match result {
                        Ok(stored) => {
                            let before = act.reads_stored.insert(room_id, stored).unwrap_or(0);
                            if stored > before
                                && let Some(sub) = act.subs.get(&room_id)
                            {
                                sub.room.do_send(ReadUpTo {
                                    user_id: act.user.id.clone(),
                                    seq: stored,
                                });
                            }
                        }
                        Err(e) => act.send_error(&WsError::from(e), &None, Some(room_id), ctx),
                    }),
            );
        }
    }
}

/// The user's role in the room and whether it is archived, if they may read it.
async fn read_access(
    app: web::Data<AppState>,
    user: AuthUser,
    room_id: Uuid,
) -> crate::error::ApiResult<(Option<Role>, bool)> {
    let client = app.db_conn().await?;
    let access = RoomAccess::readable(&client, room_id, &user).await?;
    Ok((access.role, access.room.status.as_str() == "archived"))
}

impl Actor for SocketActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Room actors deliver with try_send: the mailbox bound is part of the
        // slow-consumer policy.
        ctx.set_mailbox_capacity(self.limit());
        let rt = &self.app.realtime;
        rt.sockets.insert(self.id, ctx.address());
        rt.stats
            .open_sockets
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = self
            .app
            .sessions
            .get(&self.user.session_id)
            .map(|s| s.clone());
        match session {
            Some(session) => session.do_send(AttachSocket {
                socket_id: self.id,
                close: ctx.address().recipient(),
            }),
            None => {
                // Ended between ticket and upgrade.
                return self.close(
                    andon_actors::session::CLOSE_SESSION_ENDED,
                    "session ended",
                    ctx,
                );
            }
        }
        self.app.supervisor.do_send(Touch {
            id: self.user.session_id,
            at: chrono::Utc::now(),
        });
        ctx.run_interval(rt.config.ping_interval, |act, ctx| act.heartbeat(ctx));
        tracing::debug!(socket = self.id, user = %self.user.id, "socket opened");
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.leave_rooms();
        let rt = &self.app.realtime;
        rt.sockets.remove(&self.id);
        rt.stats
            .open_sockets
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(session) = self.app.sessions.get(&self.user.session_id) {
            session.do_send(DetachSocket { socket_id: self.id });
        }
        // Read markers not yet stored: store them on the way out.
        let app = self.app.clone();
        let user = self.user.clone();
        let reads: Vec<(Uuid, i64)> = self.reads_pending.drain().collect();
        if !reads.is_empty() {
            actix::spawn(async move {
                for (room, seq) in reads {
                    let _ = app.rooms.mark_read(&user, room, seq).await;
                }
            });
        }
        tracing::debug!(socket = self.id, "socket closed");
    }
}

impl StreamHandler<Result<WsMessage, ProtocolError>> for SocketActor {
    fn handle(&mut self, msg: Result<WsMessage, ProtocolError>, ctx: &mut Context<Self>) {
        self.last_heard = Instant::now();
        match msg {
            Ok(WsMessage::Text(text)) => self.on_text(&text, ctx),
            Ok(WsMessage::Binary(_)) => self.violation(
                WsError::bad_request("Binary frames are not part of the protocol"),
                None,
                ctx,
            ),
            Ok(WsMessage::Ping(bytes)) => self.enqueue(Outgoing::Pong(bytes), ctx),
            Ok(WsMessage::Pong(_)) | Ok(WsMessage::Nop) => {}
            Ok(WsMessage::Close(_)) => {
                self.closing = true;
                self.leave_rooms();
                ctx.stop();
            }
            Ok(WsMessage::Continuation(_)) => self.violation(
                WsError::bad_request("Fragmented frames are not supported"),
                None,
                ctx,
            ),
            Err(ProtocolError::Overflow) => self.close(1009, "frame too big", ctx),
            Err(e) => {
                tracing::debug!(socket = self.id, error = %e, "WebSocket protocol error");
                self.close(4400, "protocol violation", ctx)
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The peer went away.
        ctx.stop();
    }
}

impl Handler<ToSocket> for SocketActor {
    type Result = ();
    fn handle(&mut self, msg: ToSocket, ctx: &mut Context<Self>) {
        match msg {
            ToSocket::Frame { room_id, frame } => match frame {
                Frame::Durable { text, meta } => self.live_event(room_id, text, meta, ctx),
                Frame::Ephemeral { text } => {
                    if matches!(
                        self.subs.get(&room_id).map(|s| &s.state),
                        Some(SubState::Live { .. })
                    ) {
                        self.send_text(text, Class::Ephemeral, ctx);
                    }
                }
            },
            ToSocket::Ended { room_id, reason } => {
                let ended = self.subs.remove(&room_id).is_some();
                self.count_subs();
                if ended {
                    let frame =
                        json!({"type": "unsubscribed", "room_id": room_id, "reason": reason});
                    self.send_text(frame.to_string(), Class::Durable, ctx);
                }
            }
            ToSocket::Close { code, reason } => {
                if code == CLOSE_SLOW_CONSUMER {
                    self.app
                        .realtime
                        .stats
                        .slow_consumer_closes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                self.close(code, reason, ctx)
            }
        }
    }
}

impl Handler<CloseSocket> for SocketActor {
    type Result = ();
    fn handle(&mut self, msg: CloseSocket, ctx: &mut Context<Self>) {
        if msg.code == andon_actors::session::CLOSE_SESSION_ENDED {
            let e = WsError::new("unauthorized", format!("Session ended ({})", msg.reason));
            self.send_error(&e, &None, None, ctx);
        }
        self.close(msg.code, &msg.reason, ctx);
    }
}
