//! One actor per WebSocket connection: a thin shell over pure parts.
//!
//! - [`outbox`]: the bounded outbound queue and its overflow policy.
//! - [`subscriptions`]: each room's Pending → Replaying → Live machine.
//! - [`acks`]: sends in flight, answered once.
//!
//! The shell owns the I/O: client frames arrive as a stream (actix-ws) and are
//! dispatched in [`inbound`]; slow work (database, group commit) runs as futures
//! in the actor's context, so the actor keeps serving frames meanwhile; room
//! subscriptions and replays are driven in [`rooms`]. Everything the socket sends
//! goes through the outbox, drained by a single writer future into actix-ws, whose
//! own channel is small and bounded: a client that stops reading stalls the writer,
//! the outbox fills, ephemeral frames are dropped first, and a durable event that
//! still does not fit closes the socket with 4008. Memory per socket is bounded
//! and the room never waits for this socket.

mod acks;
mod inbound;
mod outbox;
mod rooms;
mod subscriptions;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{CloseReason, Session};
use andon_actors::realtime::messages::{Frame, ToSocket, Unsubscribe};
use andon_actors::realtime::{CloseCode, RoomActor, ServerFrame, WsCode};
use andon_actors::session::messages::{Adopt, AttachSocket, CloseSocket, DetachSocket, Touch};
use andon_actors::session::{SessionActor, SessionRegistry, SessionSupervisor};
use bytestring::ByteString;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::Value;
use uuid::Uuid;

use self::acks::PendingAcks;
use self::outbox::{Class, Outbox, Outgoing, Pushed};
use self::subscriptions::Subscriptions;
use super::Realtime;
use super::protocol::{self, WsError};
use crate::auth::AuthUser;
use crate::notifications::{Deliver, Notifier};
use crate::rooms::Rooms;

/// Bad frames within a minute that end the connection with 4400.
const MAX_VIOLATIONS: usize = 10;
/// Frames per second a client may send (bursts of twice that).
const FRAMES_PER_SECOND: u32 = 100;
/// Frames handed to actix-ws per writer future.
const WRITE_BATCH: usize = 64;
/// A closing socket is dropped after this long even if the close frame is stuck.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Read markers are written at most this often per socket and room.
const READ_FLUSH: Duration = Duration::from_secs(1);

/// The clock of every socket's frame limiter. Making a clock runs `CPUID` (to
/// check the TSC), which traps to the hypervisor on a virtual machine: once per
/// process, not once per connection (it showed in the `connect` profile).
fn frame_clock() -> governor::clock::DefaultClock {
    static CLOCK: std::sync::OnceLock<governor::clock::DefaultClock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(Default::default).clone()
}

/// What a socket needs from the rest of the server, and nothing more; one value,
/// shared by every socket.
pub struct SocketDeps {
    /// The room service: message actions, access checks, the replay log.
    pub rooms: Rooms,
    /// Room actors, the socket registry, limits, metrics.
    pub realtime: Arc<Realtime>,
    /// Login sessions' actors: a socket attaches to its session's, which closes
    /// it when the session ends.
    pub sessions: SessionRegistry,
    /// Told of activity on the socket, which keeps the session alive.
    pub supervisor: Addr<SessionSupervisor>,
    /// Hands the user's notifications to every socket of theirs, subscribed to
    /// a room or not.
    pub notifier: Notifier,
}

pub struct SocketActor {
    id: u64,
    user: AuthUser,
    deps: Arc<SocketDeps>,
    session: Option<Session>,
    outbox: Outbox,
    writing: bool,
    closing: bool,
    subs: Subscriptions<Addr<RoomActor>>,
    acks: PendingAcks,
    /// Read markers to store, by room (flushed once a second).
    reads_pending: HashMap<Uuid, i64>,
    reads_stored: HashMap<Uuid, i64>,
    last_heard: Instant,
    last_touch: Instant,
    violations: std::collections::VecDeque<Instant>,
    limiter: DefaultDirectRateLimiter,
    /// Subscriptions counted in the shared gauge so far.
    counted_subs: i64,
    /// This socket's place among its session's; freed when the actor is dropped.
    _slot: super::limits::SocketSlot,
}

impl SocketActor {
    pub fn new(
        deps: Arc<SocketDeps>,
        user: AuthUser,
        session: Session,
        slot: super::limits::SocketSlot,
    ) -> Self {
        let id = deps.realtime.next_socket_id();
        let per_second = NonZeroU32::new(FRAMES_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(FRAMES_PER_SECOND * 2).unwrap_or(NonZeroU32::MIN);
        let config = &deps.realtime.config;
        Self {
            id,
            user,
            outbox: Outbox::new(config.queue_frames, config.queue_bytes),
            subs: Subscriptions::new(config.subscriptions_per_socket, config.queue_frames),
            deps,
            session: Some(session),
            writing: false,
            closing: false,
            acks: PendingAcks::default(),
            reads_pending: HashMap::new(),
            reads_stored: HashMap::new(),
            last_heard: Instant::now(),
            last_touch: Instant::now(),
            violations: Default::default(),
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
            self.deps.realtime.metrics.subscriptions_changed(delta);
            self.counted_subs = now;
        }
    }

    // ---- outbound -------------------------------------------------------------

    /// Queues a frame under the outbox's overflow policy.
    fn enqueue(&mut self, item: Outgoing, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let metrics = &self.deps.realtime.metrics;
        match self.outbox.push(item) {
            Pushed::Queued { dropped } | Pushed::Dropped { dropped } => {
                metrics.ephemeral_dropped(dropped);
            }
            Pushed::Overflow { dropped } => {
                metrics.ephemeral_dropped(dropped);
                tracing::info!(socket = self.id, user = %self.user.id, "slow consumer: closing with 4008");
                return self.close_slow_consumer(ctx);
            }
        }
        metrics.queue_len(self.outbox.len(), self.outbox.bytes());
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
        let batch = self.outbox.take(WRITE_BATCH);
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
                                    code: actix_ws::CloseCode::Other(code.as_u16()),
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

    /// Closes with `code` after the durable frames already queued.
    fn close(&mut self, code: CloseCode, reason: &str, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.outbox
            .close(code, reason, code == CloseCode::SlowConsumer);
        self.closing = true;
        self.leave_rooms();
        self.pump(ctx);
        ctx.run_later(CLOSE_GRACE, |_, ctx| ctx.stop());
    }

    /// 4008: the client cannot keep up; it resumes from its last seq.
    fn close_slow_consumer(&mut self, ctx: &mut Context<Self>) {
        if !self.closing {
            self.deps.realtime.metrics.slow_consumer_close();
        }
        self.close(CloseCode::SlowConsumer, "slow consumer, resume", ctx);
    }

    fn leave_rooms(&mut self) {
        for room in self.subs.drain() {
            room.do_send(Unsubscribe { socket_id: self.id });
        }
        self.count_subs();
    }
}

impl SocketActor {
    /// Registers with the session's actor, which closes the socket when the
    /// session ends.
    fn attach(&mut self, session: Addr<SessionActor>, ctx: &mut Context<Self>) {
        session.do_send(AttachSocket {
            socket_id: self.id,
            close: ctx.address().recipient(),
        });
    }
}

impl Actor for SocketActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Room actors deliver with try_send: the mailbox bound is part of the
        // slow-consumer policy.
        ctx.set_mailbox_capacity(self.deps.realtime.config.queue_frames);
        let rt = self.deps.realtime.clone();
        rt.sockets.insert(self.id, ctx.address());
        self.deps
            .notifier
            .register(&self.user.id, self.id, ctx.address().recipient());
        rt.metrics.socket_opened();
        let session = self
            .deps
            .sessions
            .get(&self.user.session_id)
            .map(|s| s.clone());
        match session {
            Some(session) => self.attach(session, ctx),
            None => {
                // Not looked after on this node (logged in through another node,
                // or after this one started): the supervisor reads it from the
                // database. Client frames wait until it is attached.
                let adopt = Adopt {
                    id: self.user.session_id,
                };
                ctx.wait(self.deps.supervisor.send(adopt).into_actor(self).map(
                    |adopted, act, ctx| match adopted {
                        Ok(Some(session)) => act.attach(session, ctx),
                        // Ended between ticket and upgrade.
                        _ => act.close(CloseCode::SessionEnded, "session ended", ctx),
                    },
                ));
            }
        }
        self.deps.supervisor.do_send(Touch {
            id: self.user.session_id,
            at: chrono::Utc::now(),
        });
        ctx.run_interval(rt.config.ping_interval, Self::heartbeat);
        tracing::debug!(socket = self.id, user = %self.user.id, "socket opened");
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.leave_rooms();
        let rt = &self.deps.realtime;
        rt.sockets.remove(&self.id);
        self.deps.notifier.unregister(&self.user.id, self.id);
        rt.metrics.socket_closed();
        if let Some(session) = self.deps.sessions.get(&self.user.session_id) {
            session.do_send(DetachSocket { socket_id: self.id });
        }
        // Read markers not yet stored: store them on the way out.
        let rooms = self.deps.rooms.clone();
        let user = self.user.clone();
        let reads: Vec<(Uuid, i64)> = self.reads_pending.drain().collect();
        if !reads.is_empty() {
            actix::spawn(async move {
                for (room, seq) in reads {
                    let _ = rooms.mark_read(&user, room, seq).await;
                }
            });
        }
        tracing::debug!(socket = self.id, "socket closed");
    }
}

impl Handler<ToSocket> for SocketActor {
    type Result = ();
    fn handle(&mut self, msg: ToSocket, ctx: &mut Context<Self>) {
        match msg {
            ToSocket::Frame { room_id, frame } => match frame {
                Frame::Durable { text, meta } => self.live_event(room_id, (text, meta), ctx),
                Frame::Ephemeral { text } => {
                    if self.subs.is_live(&room_id) {
                        self.send_text(text, Class::Ephemeral, ctx);
                    }
                }
            },
            ToSocket::Ended { room_id, reason } => {
                let ended = self.subs.remove(&room_id).is_some();
                self.count_subs();
                if ended {
                    let frame = ServerFrame::Unsubscribed {
                        room_id,
                        reason: Some(reason),
                    };
                    self.send_text(frame.to_text(None), Class::Durable, ctx);
                }
            }
            ToSocket::Close { code, reason } => {
                if code == CloseCode::SlowConsumer {
                    self.close_slow_consumer(ctx)
                } else {
                    self.close(code, reason, ctx)
                }
            }
        }
    }
}

impl Handler<Deliver> for SocketActor {
    type Result = ();
    fn handle(&mut self, msg: Deliver, ctx: &mut Context<Self>) {
        // Durable: kept over typing and presence when the client is slow.
        self.send_text(msg.text, Class::Durable, ctx);
    }
}

impl Handler<CloseSocket> for SocketActor {
    type Result = ();
    fn handle(&mut self, msg: CloseSocket, ctx: &mut Context<Self>) {
        if msg.code == CloseCode::SessionEnded {
            let e = WsError::new(
                WsCode::Unauthorized,
                format!("Session ended ({})", msg.reason),
            );
            self.send_error(&e, &None, None, ctx);
        }
        self.close(msg.code, &msg.reason, ctx);
    }
}
