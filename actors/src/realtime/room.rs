//! One actor per active room.
//!
//! Protocol:
//! - [`Subscribe`] registers a socket and answers the room's delivered head `H`:
//!   every event `≤ H` is already committed (the socket replays those from the
//!   database), every event `> H` will reach the socket live. Registration and the
//!   answer happen in one handler, so nothing falls between replay and live.
//! - [`Publish`] brings committed events. They may arrive out of order (two
//!   committers race after their commits); the actor delivers strictly in `seq`
//!   order, holds early ones back, and fetches a missing range from the log when a
//!   gap stays open for `gap_timeout` (a committer that never published, or another
//!   node).
//! - Each event is serialized once; every socket gets the same bytes through
//!   `try_send` on its bounded mailbox. A socket whose mailbox is full is dropped
//!   from the room and told to close with 4008 (it resumes from its last seq);
//!   ephemeral frames (typing, presence, read) are simply dropped for it.
//! - Presence: a user is online from their first socket's subscription to their
//!   last socket's departure. Changes are announced together, at most once per
//!   `presence_window`, in one frame listing who came and who went: when a shift
//!   of n people connects at once, each socket gets a few frames instead of n (n²
//!   frames in all, which at n = 2,000 held 100 MB of queued frames).
//! - Several nodes: a user is online while any node holds a socket of theirs.
//!   Each node's room actor reports its whole online set on the bus when it
//!   changes (at the end of the presence window), every `presence_heartbeat`
//!   while it is not empty, and in answer to a room actor that just started on
//!   another node. A node not heard from for three heartbeats is taken as gone:
//!   its users go offline, so a dead node's presence lasts that long at most.
//! - Typing is forwarded at most once per `typing_interval` per socket, to other
//!   users' sockets only.
//! - With no subscriber for `idle_timeout`, the actor stops and leaves the
//!   directory; the next subscriber starts a fresh one from the log's head.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;
use tokio::time::Instant;
use uuid::Uuid;

use super::messages::{
    EventMeta, Frame, Head, Publish, ReadUpTo, RoomDeleted, Subscribe, Subscribed, SubscriberCount,
    ToSocket, ToUser, Typing, Unsubscribe,
};
use super::{
    BusItem, CloseCode, EphemeralFrame, EventKind, EventLog, PresenceReport, RoomDirectory,
    ServerFrame, StoredEvent, UnsubscribeReason,
};
use crate::metrics::RealtimeMetrics;

/// User ids in one presence frame, in bytes, about at most. Every socket's
/// HTTP/1 write buffer grows to the largest chunk it ever wrote and keeps that
/// size while the connection lives (actix-http's retention limit is 128 KiB):
/// frames are kept well under its first size, 8 KiB.
const PRESENCE_FRAME_BYTES: usize = 4 * 1024;

/// Versions of this node's presence reports, for every room: they only grow, so
/// a receiver keeps the latest of each node even across room actor restarts.
static PRESENCE_VERSION: AtomicU64 = AtomicU64::new(1);

/// Heartbeats a node may miss before its users are taken as offline.
const PRESENCE_MISSED_HEARTBEATS: u32 = 3;

#[derive(Debug, Clone)]
pub struct RoomConfig {
    pub idle_timeout: Duration,
    pub gap_timeout: Duration,
    pub typing_interval: Duration,
    /// How long typing is shown after the last signal (sent to clients).
    pub typing_expiry: Duration,
    /// Presence changes are gathered this long, then announced in one frame.
    pub presence_window: Duration,
    /// With several nodes: how often a room actor with sockets repeats its
    /// presence report; a node silent for three of these is taken as gone.
    pub presence_heartbeat: Duration,
    /// While the bus between nodes is down, the node reads its rooms' heads
    /// (one query for all) this often, and rooms behind read what they lack.
    pub bus_down_poll: Duration,
    /// With the bus up, every this many `bus_down_poll`s all the same: another
    /// node whose connection was down while this one's was up published into
    /// the void, and nothing here would show the gap before the room's next
    /// event. Bounds that latency at the cost of one query per node.
    pub bus_up_poll_every: u32,
    pub metrics: RealtimeMetrics,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(60),
            gap_timeout: Duration::from_millis(200),
            typing_interval: Duration::from_secs(1),
            typing_expiry: Duration::from_secs(3),
            presence_window: Duration::from_millis(250),
            presence_heartbeat: Duration::from_secs(10),
            bus_down_poll: Duration::from_secs(1),
            bus_up_poll_every: 5,
            metrics: RealtimeMetrics::default(),
        }
    }
}

struct RemotePresence {
    version: u64,
    users: HashSet<String>,
    heard: Instant,
}

struct Subscriber {
    user_id: String,
    socket: Recipient<ToSocket>,
    last_typing: Option<Instant>,
}

pub struct RoomActor {
    room_id: Uuid,
    log: Arc<dyn EventLog>,
    directory: RoomDirectory,
    config: RoomConfig,
    /// Last seq delivered to subscribers.
    head: i64,
    /// Committed events waiting for an earlier one.
    early: BTreeMap<i64, StoredEvent>,
    gap_timer: Option<SpawnHandle>,
    idle_timer: Option<SpawnHandle>,
    subscribers: HashMap<u64, Subscriber>,
    /// Sockets per online user, on this node.
    online: HashMap<String, usize>,
    /// Users online in this room on other nodes, by node (their latest report).
    remote: HashMap<Uuid, RemotePresence>,
    /// This node's online set changed since it was last reported on the bus.
    report_due: bool,
    /// Presence not yet announced: user → online. Sorted, so the announcement's
    /// lists are.
    presence_pending: BTreeMap<String, bool>,
    presence_timer: Option<SpawnHandle>,
    /// A read of the log for other nodes' events is under way.
    catching_up: bool,
}

impl RoomActor {
    pub fn new(
        room_id: Uuid,
        log: Arc<dyn EventLog>,
        directory: RoomDirectory,
        config: RoomConfig,
    ) -> Self {
        Self {
            room_id,
            log,
            directory,
            config,
            head: 0,
            early: BTreeMap::new(),
            gap_timer: None,
            idle_timer: None,
            subscribers: HashMap::new(),
            online: HashMap::new(),
            remote: HashMap::new(),
            report_due: false,
            presence_pending: BTreeMap::new(),
            presence_timer: None,
            catching_up: false,
        }
    }

    /// Sends a durable frame to every subscriber; full mailboxes mean slow consumers.
    fn deliver(&mut self, event: &StoredEvent) {
        metrics::counter!("andon_events_total", "kind" => event.kind.clone()).increment(1);
        metrics::counter!("andon_deliveries_total").increment(self.subscribers.len() as u64);
        if let Ok(age) = (chrono::Utc::now() - event.at).to_std() {
            metrics::histogram!("andon_fanout_latency_seconds").record(age.as_secs_f64());
        }
        let meta = Arc::new(EventMeta::of(event));
        let frame = Frame::Durable {
            text: ByteString::from(event.to_frame_text()),
            meta: meta.clone(),
        };
        let mut slow = Vec::new();
        for (id, sub) in &self.subscribers {
            let msg = ToSocket::Frame {
                room_id: self.room_id,
                frame: frame.clone(),
            };
            match sub.socket.try_send(msg) {
                Ok(()) => {}
                Err(SendError::Full(_)) => slow.push((*id, true)),
                Err(SendError::Closed(_)) => slow.push((*id, false)),
            }
        }
        for (id, full) in slow {
            if let Some(sub) = self.remove(id)
                && full
            {
                // Counted by the socket, which closes with 4008 when it gets this.
                tracing::info!(room = %self.room_id, socket = id, "slow consumer dropped from room");
                sub.socket.do_send(ToSocket::Close {
                    code: CloseCode::SlowConsumer,
                    reason: "slow consumer, resume",
                });
            }
        }
        // A removed member stops receiving the room (after seeing their removal).
        if meta.kind == EventKind::MemberRemoved
            && let Some(user) = &meta.subject
        {
            self.end_user(user, UnsubscribeReason::Removed);
        }
    }

    /// Sends an ephemeral frame to every subscriber but `except_user`'s sockets,
    /// or only to `only_user`'s.
    fn broadcast_ephemeral(
        &self,
        text: String,
        except_user: Option<&str>,
        only_user: Option<&str>,
    ) {
        let frame = Frame::Ephemeral {
            text: ByteString::from(text),
        };
        for sub in self.subscribers.values() {
            let user = Some(sub.user_id.as_str());
            if except_user == user || only_user.is_some_and(|only| Some(only) != user) {
                continue;
            }
            // Dropped when the socket is full: ephemeral frames go first.
            if sub
                .socket
                .try_send(ToSocket::Frame {
                    room_id: self.room_id,
                    frame: frame.clone(),
                })
                .is_err()
            {
                self.config.metrics.ephemeral_dropped(1);
            }
        }
    }

    /// Sends an ephemeral frame to this room's sockets here and, through the bus,
    /// on the other nodes; none to `except_user`'s.
    fn ephemeral_everywhere(&self, text: String, except_user: String) {
        if let Some(bus) = self.directory.bus() {
            bus.publish_ephemeral(&EphemeralFrame {
                room_id: self.room_id,
                except_user: Some(except_user.clone()),
                only_user: None,
                text: text.clone(),
            });
        }
        self.broadcast_ephemeral(text, Some(&except_user), None);
    }

    /// Notes that `user` came online or went offline; [`Self::arm_presence`]
    /// has it announced.
    fn presence(&mut self, user: &str, online: bool) {
        match self.presence_pending.get(user) {
            // Back to what was last announced: nothing to tell.
            Some(&pending) if pending != online => {
                self.presence_pending.remove(user);
            }
            _ => {
                self.presence_pending.insert(user.to_string(), online);
            }
        }
    }

    /// Announces pending presence changes at the end of the window (called after
    /// every handler that may change presence).
    fn arm_presence(&mut self, ctx: &mut Context<Self>) {
        let due = !self.presence_pending.is_empty() || self.report_due;
        if !due || self.presence_timer.is_some() {
            return;
        }
        self.presence_timer = Some(ctx.run_later(self.config.presence_window, |act, ctx| {
            act.presence_timer = None;
            if act.report_due {
                act.report_presence(false);
            }
            act.announce_presence();
            act.arm_presence(ctx); // what did not fit in this frame
        }));
    }

    /// Announces pending changes in one frame of about [`PRESENCE_FRAME_BYTES`]
    /// at most; the rest wait for the next window.
    fn announce_presence(&mut self) {
        let (mut online, mut offline) = (Vec::new(), Vec::new());
        let mut bytes = 0;
        while bytes < PRESENCE_FRAME_BYTES
            && let Some((user, on)) = self.presence_pending.pop_first()
        {
            bytes += user.len() + 3; // quotes and comma
            if on {
                online.push(user);
            } else {
                offline.push(user);
            }
        }
        if online.is_empty() && offline.is_empty() {
            return;
        }
        let frame = ServerFrame::Presence {
            room_id: self.room_id,
            online,
            offline,
        };
        self.broadcast_ephemeral(frame.to_text(None), None, None);
    }

    /// A user's first socket here arrived (`online`) or their last one left.
    /// The room hears of it unless another node holds a socket of theirs; the
    /// other nodes hear of it in this node's next report.
    fn local_presence(&mut self, user: &str, online: bool) {
        if self.directory.bus().is_some() {
            self.report_due = true;
        }
        if !self.online_elsewhere(user, None) {
            self.presence(user, online);
        }
    }

    /// Whether a node other than `except` reported `user` online.
    fn online_elsewhere(&self, user: &str, except: Option<Uuid>) -> bool {
        self.remote
            .iter()
            .any(|(node, r)| Some(*node) != except && r.users.contains(user))
    }

    /// Puts this node's online set on the bus; with `ask`, the other nodes
    /// answer with theirs.
    fn report_presence(&mut self, ask: bool) {
        self.report_due = false;
        let Some(bus) = self.directory.bus() else {
            return;
        };
        bus.publish_presence(&PresenceReport {
            room_id: self.room_id,
            node: bus.node(),
            version: PRESENCE_VERSION.fetch_add(1, Ordering::Relaxed),
            online: self.online.keys().cloned().collect(),
            ask,
        });
    }

    /// Another node's report replaces what it said before: who appeared there
    /// and is nowhere else comes online, who left there and is nowhere else goes
    /// offline.
    fn take_report(&mut self, report: PresenceReport, ctx: &mut Context<Self>) {
        let Some(bus) = self.directory.bus() else {
            return;
        };
        if report.room_id != self.room_id || report.node == bus.node() {
            return;
        }
        if report.ask && !self.online.is_empty() {
            self.report_presence(false);
        }
        let node = report.node;
        if self
            .remote
            .get(&node)
            .is_some_and(|r| r.version >= report.version)
        {
            return; // overtaken by a later report
        }
        let users: HashSet<String> = report.online.into_iter().collect();
        let before = self
            .remote
            .remove(&node)
            .map(|r| r.users)
            .unwrap_or_default();
        self.node_changed(node, &before, &users);
        // Kept when empty too, so that an older report arriving late is known
        // as older; a silent node's entry goes with the heartbeat check.
        self.remote.insert(
            node,
            RemotePresence {
                version: report.version,
                users,
                heard: Instant::now(),
            },
        );
        self.arm_presence(ctx);
    }

    /// Announces what changes in the room when `node`'s users go from `before`
    /// to `after` (the node's entry in `remote` is out of the way).
    fn node_changed(&mut self, node: Uuid, before: &HashSet<String>, after: &HashSet<String>) {
        for (from, to, online) in [(after, before, true), (before, after, false)] {
            for user in from.difference(to) {
                if !self.online.contains_key(user) && !self.online_elsewhere(user, Some(node)) {
                    self.presence(user, online);
                }
            }
        }
    }

    /// Repeats this node's report, and takes the nodes silent for too long as
    /// gone.
    fn presence_heartbeat(&mut self, ctx: &mut Context<Self>) {
        if !self.online.is_empty() {
            self.report_presence(false);
        }
        let limit = self.config.presence_heartbeat * PRESENCE_MISSED_HEARTBEATS;
        let gone: Vec<Uuid> = self
            .remote
            .iter()
            .filter(|(_, r)| r.heard.elapsed() >= limit)
            .map(|(node, _)| *node)
            .collect();
        for node in gone {
            tracing::info!(room = %self.room_id, %node, "no presence report from a node: its users are offline");
            if let Some(r) = self.remote.remove(&node) {
                self.node_changed(node, &r.users, &HashSet::new());
            }
        }
        self.arm_presence(ctx);
    }

    fn remove(&mut self, socket_id: u64) -> Option<Subscriber> {
        let sub = self.subscribers.remove(&socket_id)?;
        let last = match self.online.get_mut(&sub.user_id) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                self.online.remove(&sub.user_id);
                true
            }
        };
        if last {
            self.local_presence(&sub.user_id, false);
        }
        Some(sub)
    }

    fn end_user(&mut self, user: &str, reason: UnsubscribeReason) {
        let ids: Vec<u64> = self
            .subscribers
            .iter()
            .filter(|(_, s)| s.user_id == user)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(sub) = self.remove(id) {
                sub.socket.do_send(ToSocket::Ended {
                    room_id: self.room_id,
                    reason,
                });
            }
        }
    }

    /// Takes committed events, from wherever they come (this node's commits,
    /// the bus, the log): those not delivered yet are held in `seq` order and
    /// delivered as soon as they are next in line.
    fn take(&mut self, events: impl IntoIterator<Item = StoredEvent>, ctx: &mut Context<Self>) {
        for e in events {
            if e.seq > self.head && e.room_id == self.room_id {
                self.early.insert(e.seq, e);
            }
        }
        self.drain_early(ctx);
    }

    /// Delivers every held-back event that is next in line.
    fn drain_early(&mut self, ctx: &mut Context<Self>) {
        while let Some(event) = self.early.remove(&(self.head + 1)) {
            self.head = event.seq;
            self.deliver(&event);
        }
        self.early.retain(|seq, _| *seq > self.head);
        // Delivering may have dropped slow sockets or removed members.
        self.arm_presence(ctx);
        if self.early.is_empty() {
            if let Some(t) = self.gap_timer.take() {
                ctx.cancel_future(t);
            }
        } else if self.gap_timer.is_none() {
            self.gap_timer = Some(ctx.run_later(self.config.gap_timeout, |act, ctx| {
                act.gap_timer = None;
                act.repair_gap(ctx);
            }));
        }
    }

    /// Fetches the missing events between `head` and the first held-back one.
    fn repair_gap(&mut self, ctx: &mut Context<Self>) {
        let Some(first) = self.early.keys().next().copied() else {
            return;
        };
        let (log, room, after) = (self.log.clone(), self.room_id, self.head);
        tracing::debug!(room = %room, after, upto = first - 1, "repairing a gap from the log");
        ctx.spawn(
            async move { log.range(room, after, first - 1).await }
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok(events) => act.take(events, ctx),
                    Err(e) => {
                        tracing::warn!(room = %act.room_id, error = %e, "gap repair failed; retrying");
                        act.drain_early(ctx);
                    }
                }),
        );
    }

    /// Reads what other nodes committed and this node has not delivered, up to
    /// `upto`, or up to the log's head now (read first) without it: at the bus
    /// subscription, for what was committed since the head read at start; on a
    /// [`Head`] from the directory's poll, for what the bus lost.
    fn catch_up(&mut self, upto: Option<i64>, ctx: &mut Context<Self>) {
        let (log, room, after) = (self.log.clone(), self.room_id, self.head);
        self.catching_up = true;
        ctx.spawn(
            async move {
                let head = match upto {
                    Some(head) => Some(head),
                    None => log.head(room).await?,
                };
                match head {
                    Some(head) if head > after => log.range(room, after, head).await,
                    _ => Ok(Vec::new()),
                }
            }
            .into_actor(self)
            .map(|result, act, ctx| {
                act.catching_up = false;
                match result {
                    Ok(events) => act.take(events, ctx),
                    Err(e) => {
                        tracing::warn!(room = %act.room_id, error = %e, "catching up from the log failed");
                    }
                }
            }),
        );
    }

    fn arm_idle(&mut self, ctx: &mut Context<Self>) {
        if !self.subscribers.is_empty() || self.idle_timer.is_some() {
            return;
        }
        self.idle_timer = Some(ctx.run_later(self.config.idle_timeout, |act, ctx| {
            act.idle_timer = None;
            if act.subscribers.is_empty() {
                tracing::debug!(room = %act.room_id, "room actor idle: stopping");
                ctx.stop();
            }
        }));
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Nothing may be delivered before the head is known.
        let (log, room) = (self.log.clone(), self.room_id);
        ctx
            .wait(async move { log.head(room).await }.into_actor(self).map(
            |head, act, ctx| match head {
                Ok(Some(h)) => act.head = h,
                Ok(None) => {
                    tracing::debug!(room = %act.room_id, "room does not exist");
                    ctx.stop();
                }
                Err(e) => {
                    tracing::warn!(room = %act.room_id, error = %e, "cannot read the room head");
                    ctx.stop();
                }
            },
        ));
        // Other nodes' events in this room, while this actor runs (what the bus
        // loses comes as a `Head` from the directory's poll).
        if let Some(bus) = self.directory.bus() {
            ctx.add_stream(bus.room_events(self.room_id));
            ctx.run_interval(self.config.presence_heartbeat, Self::presence_heartbeat);
        }
        self.arm_idle(ctx);
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        self.directory.remove_if_same(self.room_id, &ctx.address());
    }
}

impl Handler<Subscribe> for RoomActor {
    type Result = MessageResult<Subscribe>;

    fn handle(&mut self, msg: Subscribe, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(t) = self.idle_timer.take() {
            ctx.cancel_future(t);
        }
        // Subscribing again (after a gap) keeps the registration: no presence change.
        if let Some(existing) = self.subscribers.get_mut(&msg.socket_id) {
            existing.socket = msg.socket;
        } else {
            let count = self.online.entry(msg.user_id.clone()).or_insert(0);
            *count += 1;
            let first = *count == 1;
            if first {
                self.local_presence(&msg.user_id, true);
            }
            self.subscribers.insert(
                msg.socket_id,
                Subscriber {
                    user_id: msg.user_id,
                    socket: msg.socket,
                    last_typing: None,
                },
            );
        }
        self.arm_presence(ctx);
        let mut online: Vec<String> = self
            .online
            .keys()
            .chain(self.remote.values().flat_map(|r| &r.users))
            .cloned()
            .collect();
        online.sort_unstable();
        online.dedup();
        MessageResult(Subscribed {
            head_seq: self.head,
            online,
        })
    }
}

impl Handler<Unsubscribe> for RoomActor {
    type Result = ();
    fn handle(&mut self, msg: Unsubscribe, ctx: &mut Context<Self>) {
        self.remove(msg.socket_id);
        self.arm_presence(ctx);
        self.arm_idle(ctx);
    }
}

impl StreamHandler<BusItem> for RoomActor {
    fn handle(&mut self, item: BusItem, ctx: &mut Context<Self>) {
        match item {
            BusItem::Subscribed => {
                self.catch_up(None, ctx);
                self.report_presence(true);
            }
            BusItem::Presence(report) => self.take_report(report, ctx),
            // Deleted through another node (not stored, so no seq of its own).
            BusItem::Event(event) if event.kind == EventKind::RoomDeleted.as_str() => {
                self.end_room(event.actor, ctx);
            }
            BusItem::Ephemeral(f) => {
                if f.room_id == self.room_id {
                    self.broadcast_ephemeral(
                        f.text,
                        f.except_user.as_deref(),
                        f.only_user.as_deref(),
                    );
                }
            }
            BusItem::Event(event) => self.take([event], ctx),
        }
    }

    /// The bus subscription ended (the bus client is gone): the room goes on,
    /// with gaps repaired from the log.
    fn finished(&mut self, _: &mut Context<Self>) {
        tracing::info!(room = %self.room_id, "bus subscription ended");
    }
}

impl Handler<Publish> for RoomActor {
    type Result = ();
    fn handle(&mut self, msg: Publish, ctx: &mut Context<Self>) {
        self.take(msg.events, ctx);
    }
}

impl Handler<Head> for RoomActor {
    type Result = ();
    fn handle(&mut self, Head(head): Head, ctx: &mut Context<Self>) {
        if head > self.head && !self.subscribers.is_empty() && !self.catching_up {
            self.catch_up(Some(head), ctx);
        }
    }
}

impl Handler<Typing> for RoomActor {
    type Result = ();
    fn handle(&mut self, msg: Typing, _: &mut Context<Self>) {
        let now = Instant::now();
        let Some(sub) = self.subscribers.get_mut(&msg.socket_id) else {
            return;
        };
        if sub
            .last_typing
            .is_some_and(|t| now.duration_since(t) < self.config.typing_interval)
        {
            return; // rate-limited: dropped
        }
        sub.last_typing = Some(now);
        let frame = ServerFrame::Typing {
            room_id: self.room_id,
            user: msg.user_id.clone(),
            display_name: msg.display_name,
            expires_in_ms: self.config.typing_expiry.as_millis() as u64,
        };
        self.ephemeral_everywhere(frame.to_text(None), msg.user_id);
    }
}

impl Handler<ReadUpTo> for RoomActor {
    type Result = ();
    fn handle(&mut self, msg: ReadUpTo, _: &mut Context<Self>) {
        let frame = ServerFrame::Read {
            room_id: self.room_id,
            user: msg.user_id.clone(),
            seq: msg.seq,
        };
        self.ephemeral_everywhere(frame.to_text(None), msg.user_id);
    }
}

impl Handler<ToUser> for RoomActor {
    type Result = ();
    fn handle(&mut self, msg: ToUser, _: &mut Context<Self>) {
        self.broadcast_ephemeral(msg.text, None, Some(&msg.user_id));
    }
}

impl Handler<RoomDeleted> for RoomActor {
    type Result = ();
    fn handle(&mut self, msg: RoomDeleted, ctx: &mut Context<Self>) {
        self.end_room(msg.actor, ctx);
    }
}

impl RoomActor {
    /// The room was deleted permanently: a last `room.deleted` event (one past
    /// the head, not stored), every subscription ended, the actor stopped.
    fn end_room(&mut self, actor: String, ctx: &mut Context<Self>) {
        let event = StoredEvent::room_deleted(self.room_id, self.head + 1, actor);
        self.deliver(&event);
        for (_, sub) in self.subscribers.drain() {
            sub.socket.do_send(ToSocket::Ended {
                room_id: self.room_id,
                reason: UnsubscribeReason::Deleted,
            });
        }
        self.online.clear();
        self.remote.clear();
        ctx.stop();
    }
}

impl Handler<SubscriberCount> for RoomActor {
    type Result = usize;
    fn handle(&mut self, _: SubscriberCount, _: &mut Context<Self>) -> usize {
        self.subscribers.len()
    }
}
