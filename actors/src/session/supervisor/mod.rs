//! The session supervisor: one actor that looks after every live session's AD
//! credentials (PRODUCT.md A5, A6).
//!
//! Protocol:
//! - [`Track`] a session (at login, and for every stored session at start-up): a
//!   refresh timer is set at `ad_expires_at - refresh_threshold`.
//! - When the timer fires, the session is refreshed only if it was active since its
//!   last refresh; an idle session is *parked* and refreshed on its next [`Touch`].
//! - A refresh rejected by AD is a strike (persisted); the next attempt follows after
//!   `refresh_retry`. A success resets the count. At [`MAX_STRIKES`] the session is
//!   ended ([`EndReason::Forced`]) and its sockets closed with 4001.
//! - AD unavailable is not a strike: retry with exponential backoff, keep the session.
//! - A periodic sweep ends sessions idle for longer than `inactivity`, as the
//!   database has it: a session idle here but active through another node is
//!   kept (and its activity time taken from the database).
//! - Last-activity times collect in memory and are written in one batch per
//!   `flush_interval` (and on [`FlushActivity`]), never one write per request.
//! - [`Forget`] (logout) cancels the timers and closes the sockets.
//! - Several nodes on one database: the backend lets one node at a time refresh a
//!   session (a lease in the database); the others get
//!   [`RefreshOutcome::Elsewhere`] and follow what it stores.
//! - With a [`SessionBus`] (several nodes): a session ended here is announced
//!   after its end is stored; one ended elsewhere has its sockets here closed.
//! - [`Adopt`]: a socket opened here for a session this node does not track (it
//!   logged in through another node sharing the database, or after this node
//!   started): the session is read from the database and tracked from then on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::messages::{
    Adopt, EndSession, FlushActivity, Forget, Inspect, SessionSnapshot, Touch, Track,
};
use super::{
    EndReason, Expiry, MAX_STRIKES, RefreshOutcome, SessionActor, SessionBackend, SessionBus,
    SessionId, SessionInfo, SessionRegistry,
};
use crate::clock::Clock;
use crate::realtime::CloseCode;

#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Refresh this long before the AD token expires.
    pub refresh_threshold: Duration,
    /// Delay after a rejection, and first delay after an outage.
    pub refresh_retry: Duration,
    /// Longest delay between retries during an outage.
    pub max_retry: Duration,
    /// Sessions unused this long are expired.
    pub inactivity: Duration,
    /// How often idle sessions are looked for.
    pub sweep_interval: Duration,
    /// How often last-activity times are written.
    pub flush_interval: Duration,
}

impl SupervisorConfig {
    /// Sensible intervals derived from the three configured durations.
    pub fn new(refresh_threshold: Duration, refresh_retry: Duration, inactivity: Duration) -> Self {
        Self {
            refresh_threshold,
            refresh_retry,
            max_retry: refresh_retry.max(Duration::from_secs(300)),
            inactivity,
            sweep_interval: (inactivity / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)),
            flush_interval: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refresh {
    /// A timer is set (regular refresh or retry).
    Scheduled,
    /// Due while idle: refresh on the next touch.
    Parked,
    /// A call to AD is under way, started at the given time.
    InFlight(DateTime<Utc>),
}

struct Tracked {
    info: SessionInfo,
    timer: Option<SpawnHandle>,
    refresh: Refresh,
    /// Next delay while AD is unavailable.
    outage_backoff: Duration,
}

pub struct SessionSupervisor {
    backend: Arc<dyn SessionBackend>,
    clock: Arc<dyn Clock>,
    config: SupervisorConfig,
    registry: SessionRegistry,
    sessions: HashMap<SessionId, Tracked>,
    unflushed: HashMap<SessionId, DateTime<Utc>>,
    /// Session ends to and from other nodes, when several share the database.
    bus: Option<Arc<dyn SessionBus>>,
}

impl SessionSupervisor {
    pub fn new(
        backend: Arc<dyn SessionBackend>,
        clock: Arc<dyn Clock>,
        config: SupervisorConfig,
        registry: SessionRegistry,
    ) -> Self {
        Self {
            backend,
            clock,
            config,
            registry,
            sessions: HashMap::new(),
            unflushed: HashMap::new(),
            bus: None,
        }
    }

    /// Tells other nodes of the sessions ended here, and closes the sockets here
    /// of the sessions they end.
    pub fn with_bus(mut self, bus: Arc<dyn SessionBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    fn track(&mut self, info: SessionInfo, ctx: &mut Context<Self>) {
        let id = info.id;
        self.registry
            .entry(id)
            .or_insert_with(|| SessionActor::new(id).start());
        if let Some(old) = self.sessions.remove(&id)
            && let Some(timer) = old.timer
        {
            ctx.cancel_future(timer);
        }
        self.sessions.insert(
            id,
            Tracked {
                info,
                timer: None,
                refresh: Refresh::Scheduled,
                outage_backoff: self.config.refresh_retry,
            },
        );
        metrics::gauge!("andon_sessions").set(self.sessions.len() as f64);
        // A session reloaded with strikes already counted continues its retries.
        let strikes = self.sessions[&id].info.refresh_failures;
        if strikes > 0 {
            self.set_timer(id, self.config.refresh_retry, false, ctx);
        } else {
            self.schedule_regular(id, ctx);
        }
    }

    /// Sets the regular refresh at `ad_expires_at - threshold` (now, if past).
    fn schedule_regular(&mut self, id: SessionId, ctx: &mut Context<Self>) {
        self.schedule_regular_after(id, Duration::ZERO, ctx);
    }

    /// Like [`Self::schedule_regular`], but not sooner than `at_least` from now.
    fn schedule_regular_after(
        &mut self,
        id: SessionId,
        at_least: Duration,
        ctx: &mut Context<Self>,
    ) {
        let Some(t) = self.sessions.get(&id) else {
            return;
        };
        let due = t.info.ad_expires_at
            - chrono::Duration::from_std(self.config.refresh_threshold).unwrap_or_default();
        let delay = (due - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
        self.set_timer(id, delay.max(at_least), true, ctx);
    }

    /// `needs_activity`: a regular refresh, skipped (parked) for idle sessions;
    /// retries go ahead regardless.
    fn set_timer(
        &mut self,
        id: SessionId,
        delay: Duration,
        needs_activity: bool,
        ctx: &mut Context<Self>,
    ) {
        let Some(t) = self.sessions.get_mut(&id) else {
            return;
        };
        if let Some(old) = t.timer.take() {
            ctx.cancel_future(old);
        }
        t.refresh = Refresh::Scheduled;
        t.timer = Some(ctx.run_later(delay, move |act, ctx| {
            let Some(t) = act.sessions.get_mut(&id) else {
                return;
            };
            t.timer = None;
            if needs_activity && t.info.last_activity_at <= t.info.last_refreshed_at {
                tracing::debug!(session = %id, "refresh due while idle: parked");
                t.refresh = Refresh::Parked;
            } else {
                act.start_refresh(id, ctx);
            }
        }));
    }

    fn start_refresh(&mut self, id: SessionId, ctx: &mut Context<Self>) {
        let Some(t) = self.sessions.get_mut(&id) else {
            return;
        };
        let started = self.clock.now();
        t.refresh = Refresh::InFlight(started);
        let backend = self.backend.clone();
        ctx.spawn(
            async move { backend.refresh(id).await }
                .into_actor(self)
                .map(move |outcome, act, ctx| act.refresh_done(id, started, outcome, ctx)),
        );
    }

    fn refresh_done(
        &mut self,
        id: SessionId,
        started: DateTime<Utc>,
        outcome: Result<RefreshOutcome, super::BackendError>,
        ctx: &mut Context<Self>,
    ) {
        let Some(t) = self.sessions.get_mut(&id) else {
            return; // ended while AD was being asked
        };
        match outcome {
            Ok(RefreshOutcome::Refreshed { ad_expires_at }) => {
                tracing::info!(session = %id, "AD token refreshed");
                t.info.ad_expires_at = ad_expires_at;
                t.info.last_refreshed_at = started;
                t.info.refresh_failures = 0;
                t.outage_backoff = self.config.refresh_retry;
                self.schedule_regular(id, ctx);
            }
            Ok(RefreshOutcome::Elsewhere(stored)) => {
                // Another node holds this session's refresh: follow what it stores,
                // and look again when the next refresh is due (not before a retry
                // interval, while the other node's attempt is still going on).
                tracing::debug!(session = %id, "refreshed by another node");
                t.info.ad_expires_at = stored.ad_expires_at;
                t.info.last_refreshed_at = stored.last_refreshed_at;
                t.info.refresh_failures = stored.refresh_failures;
                self.schedule_regular_after(id, self.config.refresh_retry, ctx);
            }
            Ok(RefreshOutcome::Rejected) => {
                t.info.refresh_failures += 1;
                let strikes = t.info.refresh_failures;
                tracing::warn!(session = %id, strikes, "AD rejected the stored credentials");
                if strikes >= MAX_STRIKES {
                    self.end(id, EndReason::Forced, ctx);
                    return;
                }
                let backend = self.backend.clone();
                ctx.spawn(
                    async move {
                        if let Err(e) = backend.record_failures(id, strikes).await {
                            tracing::warn!(session = %id, error = %e, "could not store strikes");
                        }
                    }
                    .into_actor(self),
                );
                self.set_timer(id, self.config.refresh_retry, false, ctx);
            }
            Ok(RefreshOutcome::Unavailable) | Err(_) => {
                if let Err(e) = &outcome {
                    tracing::warn!(session = %id, error = %e, "refresh failed, will retry");
                } else {
                    tracing::warn!(session = %id, "AD unavailable, will retry");
                }
                let delay = t.outage_backoff;
                t.outage_backoff = (delay * 2).min(self.config.max_retry);
                self.set_timer(id, delay, false, ctx);
            }
            Ok(RefreshOutcome::Gone) => {
                self.end(id, EndReason::Logout, ctx);
            }
        }
    }

    /// Ends a session: stored as ended (a logout is stored by its request),
    /// timers cancelled, sockets closed.
    fn end(&mut self, id: SessionId, reason: EndReason, ctx: &mut Context<Self>) {
        self.finish(id, reason, reason != EndReason::Logout, ctx);
    }

    /// [`Self::end`], storing the end only if `store` (else it is stored already).
    fn finish(&mut self, id: SessionId, reason: EndReason, store: bool, ctx: &mut Context<Self>) {
        self.untrack(id, ctx);
        match reason {
            EndReason::Forced => metrics::counter!("andon_forced_logouts_total").increment(1),
            EndReason::Expired => metrics::counter!("andon_sessions_expired_total").increment(1),
            EndReason::Logout => {}
        }
        tracing::info!(session = %id, reason = reason.as_str(), "session ended");
        let (backend, registry, bus) = (
            self.backend.clone(),
            self.registry.clone(),
            self.bus.clone(),
        );
        ctx.spawn(
            async move {
                if store && let Err(e) = backend.end(id, reason).await
                {
                    tracing::error!(session = %id, error = %e, "could not end session in the database");
                }
                // Sockets close only once the database says the session is over,
                // so a reconnect cannot slip in with the old session.
                close_sockets(&registry, id, reason);
                if let Some(bus) = bus {
                    bus.ended(id, reason);
                }
            }
            .into_actor(self),
        );
    }

    /// Stops looking after a session (its timers, its pending activity).
    fn untrack(&mut self, id: SessionId, ctx: &mut Context<Self>) {
        if let Some(t) = self.sessions.remove(&id)
            && let Some(timer) = t.timer
        {
            ctx.cancel_future(timer);
        }
        self.unflushed.remove(&id);
        metrics::gauge!("andon_sessions").set(self.sessions.len() as f64);
    }

    /// Expires the sessions idle here for `inactivity`, if the database agrees.
    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let limit = chrono::Duration::from_std(self.config.inactivity).unwrap_or_default();
        let idle_since = self.clock.now() - limit;
        let idle: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, t)| t.info.last_activity_at <= idle_since)
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            let backend = self.backend.clone();
            ctx.spawn(
                async move { backend.expire(id, idle_since).await }
                    .into_actor(self)
                    .map(move |outcome, act, ctx| match outcome {
                        Ok(Expiry::Expired) => act.finish(id, EndReason::Expired, false, ctx),
                        Ok(Expiry::Active(stored)) => {
                            if let Some(t) = act.sessions.get_mut(&id) {
                                tracing::debug!(session = %id, "active through another node: kept");
                                t.info.last_activity_at =
                                    t.info.last_activity_at.max(stored.last_activity_at);
                            }
                        }
                        Ok(Expiry::Gone) => {
                            act.untrack(id, ctx);
                            close_sockets(&act.registry, id, EndReason::Expired);
                        }
                        Err(e) => {
                            tracing::warn!(session = %id, error = %e, "could not expire; next sweep retries");
                        }
                    }),
            );
        }
    }

    fn flush(&mut self) -> impl Future<Output = ()> + use<> {
        let batch: Vec<_> = self.unflushed.drain().collect();
        let backend = self.backend.clone();
        async move {
            if batch.is_empty() {
                return;
            }
            let n = batch.len();
            if let Err(e) = backend.flush_activity(batch).await {
                tracing::warn!(error = %e, sessions = n, "could not store last activity");
            }
        }
    }
}

fn close_sockets(registry: &SessionRegistry, id: SessionId, reason: EndReason) {
    if let Some((_, session)) = registry.remove(&id) {
        session.do_send(EndSession {
            code: CloseCode::SessionEnded,
            reason: reason.as_str().to_string(),
        });
    }
}

impl Actor for SessionSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(bus) = &self.bus {
            ctx.add_stream(bus.ended_elsewhere());
        }
        let backend = self.backend.clone();
        // Start-up only: nothing else should be handled before sessions are known.
        ctx.wait(
            async move { backend.load_all().await }
                .into_actor(self)
                .map(|loaded, act, ctx| match loaded {
                    Ok(sessions) => {
                        tracing::info!(sessions = sessions.len(), "sessions reloaded");
                        for s in sessions {
                            act.track(s, ctx);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "could not load sessions"),
                }),
        );
        ctx.run_interval(self.config.sweep_interval, SessionSupervisor::sweep);
        ctx.run_interval(self.config.flush_interval, |act, ctx| {
            ctx.spawn(act.flush().into_actor(act));
        });
    }
}

/// A session another node ended: the database says so already; stop looking
/// after it and close its sockets here.
impl StreamHandler<(SessionId, EndReason)> for SessionSupervisor {
    fn handle(&mut self, (id, reason): (SessionId, EndReason), ctx: &mut Context<Self>) {
        if self.sessions.contains_key(&id) || self.registry.contains_key(&id) {
            tracing::info!(session = %id, reason = reason.as_str(), "session ended on another node");
            self.untrack(id, ctx);
            close_sockets(&self.registry, id, reason);
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        tracing::info!("session bus subscription ended");
    }
}

impl Handler<Track> for SessionSupervisor {
    type Result = ();
    fn handle(&mut self, msg: Track, ctx: &mut Context<Self>) {
        self.track(msg.session, ctx);
    }
}

impl Handler<Adopt> for SessionSupervisor {
    type Result = ResponseActFuture<Self, Option<Addr<SessionActor>>>;
    fn handle(&mut self, msg: Adopt, _: &mut Context<Self>) -> Self::Result {
        let id = msg.id;
        if self.sessions.contains_key(&id) {
            let actor = self.registry.get(&id).map(|a| a.clone());
            return Box::pin(fut::ready(actor));
        }
        let backend = self.backend.clone();
        Box::pin(async move { backend.load(id).await }.into_actor(self).map(
            move |loaded, act, ctx| match loaded {
                Ok(Some(info)) => {
                    // Tracked meanwhile (a second socket, a login): keep that.
                    if !act.sessions.contains_key(&id) {
                        tracing::debug!(session = %id, "session adopted from the database");
                        act.track(info, ctx);
                    }
                    act.registry.get(&id).map(|a| a.clone())
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(session = %id, error = %e, "could not read the session");
                    None
                }
            },
        ))
    }
}

impl Handler<Touch> for SessionSupervisor {
    type Result = ();
    fn handle(&mut self, msg: Touch, ctx: &mut Context<Self>) {
        let Some(t) = self.sessions.get_mut(&msg.id) else {
            return;
        };
        if msg.at > t.info.last_activity_at {
            t.info.last_activity_at = msg.at;
            self.unflushed.insert(msg.id, msg.at);
        }
        if t.refresh == Refresh::Parked {
            tracing::debug!(session = %msg.id, "parked session active again: refreshing");
            self.start_refresh(msg.id, ctx);
        }
    }
}

impl Handler<Forget> for SessionSupervisor {
    type Result = ();
    fn handle(&mut self, msg: Forget, ctx: &mut Context<Self>) {
        self.end(msg.id, msg.reason, ctx);
    }
}

impl Handler<FlushActivity> for SessionSupervisor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: FlushActivity, _: &mut Context<Self>) -> Self::Result {
        Box::pin(self.flush())
    }
}

impl Handler<Inspect> for SessionSupervisor {
    type Result = Option<SessionSnapshot>;
    fn handle(&mut self, msg: Inspect, _: &mut Context<Self>) -> Self::Result {
        self.sessions.get(&msg.id).map(|t| SessionSnapshot {
            strikes: t.info.refresh_failures,
            ad_expires_at: t.info.ad_expires_at,
            last_activity_at: t.info.last_activity_at,
            refresh_pending: !matches!(t.refresh, Refresh::Parked),
        })
    }
}

#[cfg(test)]
mod tests;
