//! Room subscriptions of a socket: access checks, registration with the room
//! actor, replay from the log and live delivery, driving the pure
//! [`Subscriptions`](super::subscriptions::Subscriptions) machine.

use actix::prelude::*;
use andon_actors::realtime::messages::{EventMeta, Subscribe, Subscribed, Unsubscribe};
use andon_actors::realtime::{EventKind, ServerFrame, WsCode};
use bytestring::ByteString;
use serde_json::Value;
use uuid::Uuid;

use super::SocketActor;
use super::outbox::Class;
use super::subscriptions::{Fetch, LiveEvent, LiveStep, ReplayStep};
use crate::db::events::ReplayEvent;
use crate::realtime::protocol::WsError;
use crate::rooms::Standing;

/// Events read from the database per replay page, at most.
const REPLAY_PAGE: usize = 1000;

impl SocketActor {
    pub(super) fn subscribe(
        &mut self,
        room_id: Uuid,
        after: Option<i64>,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
        if let Err(e) = self.room_for_one_more(room_id) {
            return self.send_error(&e, &reference, Some(room_id), ctx);
        }
        ctx.spawn(self.readable(room_id).into_actor(self).map(
            move |result, act, ctx| match result {
                Err(e) => act.send_error(&WsError::from(e), &reference, Some(room_id), ctx),
                Ok(standing) => act.register(room_id, standing, after, reference, ctx),
            },
        ));
    }

    fn room_for_one_more(&self, room_id: Uuid) -> Result<(), WsError> {
        self.subs.room_for_one_more(&room_id).map_err(|max| {
            WsError::new(
                WsCode::TooManySubscriptions,
                format!(
                    "A socket may subscribe to {max} rooms at most: unsubscribe from one first"
                ),
            )
        })
    }

    fn register(
        &mut self,
        room_id: Uuid,
        standing: Standing,
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
        let room = self.deps.realtime.rooms.get_or_start(room_id);
        let generation = self.subs.begin(room_id, standing, room.clone());
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
                    if !act.subs.is_current(&room_id, generation) {
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
                            let e = WsError::new(WsCode::NotFound, "Room not found");
                            act.send_error(&e, &reference, Some(room_id), ctx);
                        }
                    }
                }),
        );
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
            self.readable(room_id)
                .into_actor(self)
                .map(move |result, act, ctx| {
                    if !act.subs.is_current(&room_id, generation) {
                        return; // unsubscribed or subscribed again meanwhile
                    }
                    match result {
                        Ok(standing) => {
                            act.subs.set_standing(&room_id, standing);
                            act.subscribed(room_id, subscribed, after, reference, ctx)
                        }
                        Err(e) => {
                            if let Some(room) = act.subs.remove(&room_id) {
                                room.do_send(Unsubscribe { socket_id: act.id });
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
        let frame = ServerFrame::Subscribed {
            room_id,
            head_seq: s.head_seq,
            online: s.online,
        };
        self.send_text(frame.to_text(reference.as_ref()), Class::Durable, ctx);
        for event in self.subs.subscribed(&room_id, s.head_seq, after) {
            self.live_event(room_id, event, ctx);
        }
        self.continue_replays(ctx);
    }

    /// Events per replay page: half the queue, so that a page fits beside live
    /// frames and replies.
    fn replay_page_len(&self) -> usize {
        (self.deps.realtime.config.queue_frames / 2).clamp(1, REPLAY_PAGE)
    }

    /// Moves replays on; called when a subscription starts replaying, when a page
    /// arrives and whenever the writer drains.
    ///
    /// Reading is one page ahead of writing: events read ahead wait aside until the
    /// outbox has room for them (three quarters of its bounds, so a replay never
    /// trips the 4008 bound), and the next page is read as soon as the last one is
    /// all queued, while the writer still drains it, so the database's latency and
    /// the socket's overlap instead of adding up. One page is read ahead per
    /// socket, however many of its rooms replay (at most a quarter of the byte
    /// bound, cut in SQL): a socket that subscribes everywhere and never reads
    /// holds one page and its bounded outbox, no more.
    pub(super) fn continue_replays(&mut self, ctx: &mut Context<Self>) {
        for room_id in self.subs.waiting() {
            self.queue_replayed(room_id, ctx);
        }
        if self.closing {
            return;
        }
        let Some(fetch) = self.subs.next_fetch(self.replay_page_len()) else {
            return;
        };
        let deps = self.deps.clone();
        let page_bytes = self.deps.realtime.config.queue_bytes / 4;
        let (room, after, limit) = (fetch.room, fetch.after, fetch.limit);
        ctx.spawn(
            async move { deps.rooms.replay_page(room, after, limit, page_bytes).await }
                .into_actor(self)
                .map(move |result, act, ctx| act.page_read(fetch, result, ctx)),
        );
    }

    fn page_read(
        &mut self,
        fetch: Fetch,
        result: crate::error::ApiResult<Vec<ReplayEvent>>,
        ctx: &mut Context<Self>,
    ) {
        if !self.subs.is_current(&fetch.room, fetch.generation) {
            return;
        }
        match result {
            Ok(page) => {
                if let Some(held) = self.subs.page_read(&fetch, page) {
                    self.deps.realtime.metrics.replay_read_ahead(held);
                }
                self.continue_replays(ctx);
            }
            Err(e) => {
                // Could not read the log: end this subscription; the client resubscribes.
                if let Some(room) = self.subs.remove(&fetch.room) {
                    room.do_send(Unsubscribe { socket_id: self.id });
                }
                self.count_subs();
                self.send_error(&WsError::from(e), &None, Some(fetch.room), ctx);
            }
        }
    }

    /// Queues the events of `room_id` read ahead while the outbox has room; once
    /// the log is read and queued up to the head the subscription goes live.
    fn queue_replayed(&mut self, room_id: Uuid, ctx: &mut Context<Self>) {
        while !self.closing {
            let outbox = &self.outbox;
            match self
                .subs
                .next_replayed(&room_id, |len| outbox.room_for_replay(len))
            {
                ReplayStep::Event(e) => self.deliver_event(room_id, e.frame, &e.meta, ctx),
                ReplayStep::WentLive(buffered) => {
                    for event in buffered {
                        self.live_event(room_id, event, ctx);
                    }
                    return;
                }
                ReplayStep::Wait => return,
            }
        }
    }

    /// A live durable event for a subscribed room.
    pub(super) fn live_event(&mut self, room_id: Uuid, event: LiveEvent, ctx: &mut Context<Self>) {
        match self.subs.live(&room_id, &event) {
            LiveStep::Deliver => self.deliver_event(room_id, event.0, &event.1, ctx),
            // The client cannot keep up even with its replay: resume later.
            LiveStep::Overflow => self.close_slow_consumer(ctx),
            LiveStep::Buffered | LiveStep::AlreadySent | LiveStep::NotSubscribed => {}
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
        if meta.kind == EventKind::MessageCreated
            && meta.actor == self.user.id
            && let Some(client_id) = &meta.client_id
            && let Some(message_id) = meta.message_id.as_deref().and_then(|m| m.parse().ok())
            && let Some(refs) = self.acks.answer(&(room_id, client_id.clone()))
        {
            let frame = ServerFrame::send_ack(client_id.clone(), message_id, meta.seq);
            for reference in refs {
                self.send_text(frame.to_text(reference.as_ref()), Class::Durable, ctx);
            }
        }
        self.send_text(text, Class::Durable, ctx);
        let concerns_me = meta.subject.as_deref() == Some(self.user.id.as_str());
        let kind = EventKind::parse(&meta.kind);
        let member_change = matches!(
            kind,
            Some(EventKind::MemberAdded | EventKind::MemberRemoved | EventKind::MemberRoleChanged)
        );
        if (member_change && concerns_me)
            || matches!(
                kind,
                Some(EventKind::OwnershipTransferred | EventKind::RoomStatusChanged)
            )
        {
            self.refresh_access(room_id, ctx);
        }
    }

    /// The user's standing in the room, if they may read it.
    fn readable(
        &self,
        room_id: Uuid,
    ) -> impl Future<Output = crate::error::ApiResult<Standing>> + 'static {
        let (deps, user) = (self.deps.clone(), self.user.clone());
        async move { deps.rooms.readable(&user, room_id).await }
    }

    /// Re-reads the user's role and the room's status after a change to either.
    fn refresh_access(&mut self, room_id: Uuid, ctx: &mut Context<Self>) {
        let (deps, user) = (self.deps.clone(), self.user.clone());
        ctx.spawn(
            async move { deps.rooms.standing(&user, room_id).await }
                .into_actor(self)
                .map(move |standing, act, _| {
                    // On an error the room's next event tells the socket more.
                    if let Ok(standing) = standing {
                        act.subs.set_standing(&room_id, standing);
                    }
                }),
        );
    }
}
