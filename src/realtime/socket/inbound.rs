//! Client frames: received, parsed, checked, dispatched; and the socket's timers.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{Message as WsMessage, ProtocolError};
use andon_actors::permissions;
use andon_actors::realtime::messages::{ReadUpTo, Typing, Unsubscribe};
use andon_actors::realtime::{CloseCode, ServerFrame, WsCode};
use andon_actors::session::messages::Touch;
use serde_json::Value;
use uuid::Uuid;

use super::outbox::{Class, Outgoing};
use super::{MAX_VIOLATIONS, READ_FLUSH, SocketActor};
use crate::realtime::protocol::{self, ClientFrame, SendFrame, WsError};
use crate::rooms::messages::send_request;

impl SocketActor {
    pub(super) fn violation(
        &mut self,
        e: WsError,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
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
            self.close(CloseCode::ProtocolViolation, "protocol violation", ctx);
        }
    }

    pub(super) fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        if self.limiter.check().is_err() {
            let e = WsError::new(WsCode::RateLimited, "Too many frames; slow down");
            self.send_error(&e, &None, None, ctx);
            return;
        }
        let (frame, reference) = match protocol::parse(text) {
            Ok(parsed) => parsed,
            Err((e, reference)) => return self.violation(e, reference, ctx),
        };
        match frame {
            ClientFrame::Ping => self.send_text(
                ServerFrame::Pong.to_text(reference.as_ref()),
                Class::Durable,
                ctx,
            ),
            ClientFrame::Subscribe { room_id, after_seq } => {
                self.subscribe(room_id, after_seq, reference, ctx)
            }
            ClientFrame::Unsubscribe { room_id } => {
                if let Some(room) = self.subs.remove(&room_id) {
                    room.do_send(Unsubscribe { socket_id: self.id });
                }
                self.count_subs();
                let frame = ServerFrame::Unsubscribed {
                    room_id,
                    reason: None,
                };
                self.send_text(frame.to_text(reference.as_ref()), Class::Durable, ctx);
            }
            ClientFrame::Send(f) => self.send(f, reference, ctx),
            ClientFrame::Edit {
                room_id,
                message_id,
                content,
            } => {
                let (rooms, user) = (self.deps.rooms.clone(), self.user.clone());
                self.action(room_id, message_id, reference, ctx, async move {
                    rooms
                        .edit(&user, room_id, message_id, &content)
                        .await
                        .map(Some)
                });
            }
            ClientFrame::Delete {
                room_id,
                message_id,
            } => {
                let (rooms, user) = (self.deps.rooms.clone(), self.user.clone());
                self.action(room_id, message_id, reference, ctx, async move {
                    rooms.delete(&user, room_id, message_id).await.map(Some)
                });
            }
            ClientFrame::React {
                room_id,
                message_id,
                emoji,
                add,
            } => {
                let (rooms, user) = (self.deps.rooms.clone(), self.user.clone());
                self.action(room_id, message_id, reference, ctx, async move {
                    rooms.react(&user, room_id, message_id, &emoji, add).await
                });
            }
            ClientFrame::Pin {
                room_id,
                message_id,
            } => self.pin(room_id, message_id, true, reference, ctx),
            ClientFrame::Unpin {
                room_id,
                message_id,
            } => self.pin(room_id, message_id, false, reference, ctx),
            ClientFrame::Typing { room_id } => self.typing(room_id, reference, ctx),
            ClientFrame::Read { room_id, seq } => {
                if seq > self.reads_stored.get(&room_id).copied().unwrap_or(0) {
                    // A flush a second after the first pending marker: one write per
                    // room and second at most, and no timer at all on a quiet socket
                    // (50,000 idle sockets would otherwise wake 50,000 times a second).
                    if self.reads_pending.is_empty() {
                        ctx.run_later(READ_FLUSH, Self::flush_reads);
                    }
                    let entry = self.reads_pending.entry(room_id).or_insert(seq);
                    *entry = (*entry).max(seq);
                }
            }
        }
    }

    /// Runs an edit, delete, react or pin and answers with its ack or error.
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
                        let ack = ServerFrame::action_ack(message, seq);
                        act.send_text(ack.to_text(reference.as_ref()), Class::Durable, ctx);
                    }
                    Err(e) => act.send_error(&WsError::from(e), &reference, Some(room), ctx),
                }),
        );
    }

    fn pin(
        &mut self,
        room_id: Uuid,
        message_id: Uuid,
        pin: bool,
        reference: Option<Value>,
        ctx: &mut Context<Self>,
    ) {
        let (rooms, user) = (self.deps.rooms.clone(), self.user.clone());
        self.action(room_id, message_id, reference, ctx, async move {
            rooms.pin(&user, room_id, message_id, pin).await
        });
    }

    fn typing(&mut self, room_id: Uuid, reference: Option<Value>, ctx: &mut Context<Self>) {
        let Some(sub) = self.subs.get(&room_id) else {
            let e = WsError::bad_request("Subscribe to the room before typing");
            return self.send_error(&e, &reference, Some(room_id), ctx);
        };
        if !permissions::may_post(sub.standing.role, self.user.is_admin, sub.standing.archived)
            .allowed()
        {
            let e = WsError::new(
                WsCode::Forbidden,
                "Your role in this room does not allow typing",
            );
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
        if !self.acks.add(key.clone(), reference) {
            return; // the same send is already on its way: one answer for both
        }
        // The one send path, shared with REST: the room service hands the send to
        // group commit and maps its answer.
        let request = send_request(&self.user, f);
        let rooms = self.deps.rooms.clone();
        ctx.spawn(
            async move { rooms.submit(request).await.map_err(WsError::from) }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    // If the event came first, the ack went out with it already.
                    let Some(refs) = act.acks.answer(&key) else {
                        return;
                    };
                    for reference in refs {
                        match &result {
                            Ok(ack) => {
                                let frame =
                                    ServerFrame::send_ack(key.1.clone(), ack.message_id, ack.seq);
                                act.send_text(
                                    frame.to_text(reference.as_ref()),
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

    // ---- timers -----------------------------------------------------------------

    pub(super) fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let config = &self.deps.realtime.config;
        if self.last_heard.elapsed() > config.idle_timeout {
            tracing::debug!(socket = self.id, "idle socket closed");
            return self.close(CloseCode::Idle, "idle timeout", ctx);
        }
        self.enqueue(Outgoing::Ping, ctx);
        // An open, talking socket is an active session.
        if self.last_heard > self.last_touch {
            self.last_touch = Instant::now();
            self.deps.supervisor.do_send(Touch {
                id: self.user.session_id,
                at: chrono::Utc::now(),
            });
        }
    }

    pub(super) fn flush_reads(&mut self, ctx: &mut Context<Self>) {
        let pending: Vec<(Uuid, i64)> = self.reads_pending.drain().collect();
        for (room_id, seq) in pending {
            let (rooms, user) = (self.deps.rooms.clone(), self.user.clone());
            ctx.spawn(
                async move { rooms.mark_read(&user, room_id, seq).await }
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
            Err(ProtocolError::Overflow) => self.close(CloseCode::TooBig, "frame too big", ctx),
            Err(e) => {
                tracing::debug!(socket = self.id, error = %e, "WebSocket protocol error");
                self.close(CloseCode::ProtocolViolation, "protocol violation", ctx)
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The peer went away.
        ctx.stop();
    }
}
