//! Supervisor tests with an in-memory backend and paused tokio time: every delay
//! below is virtual, the tests never wait in real time.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::clock::TokioClock;
use crate::realtime::CloseCode;
use crate::session::SessionBus;
use crate::session::messages::{Adopt, AttachSocket, CloseSocket};

type ActivityBatch = Vec<(SessionId, DateTime<Utc>)>;

#[derive(Default)]
struct FakeBackend {
    stored: Mutex<Vec<SessionInfo>>,
    outcomes: Mutex<VecDeque<RefreshOutcome>>,
    refreshes: Mutex<Vec<DateTime<Utc>>>,
    failures: Mutex<Vec<u32>>,
    ended: Mutex<Vec<(SessionId, EndReason)>>,
    flushed: Mutex<Vec<ActivityBatch>>,
    clock: Mutex<Option<Arc<dyn Clock>>>,
}

impl FakeBackend {
    fn now(&self) -> DateTime<Utc> {
        self.clock.lock().unwrap().as_ref().unwrap().now()
    }
    fn refresh_count(&self) -> usize {
        self.refreshes.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl SessionBackend for FakeBackend {
    async fn load_all(&self) -> Result<Vec<SessionInfo>, crate::session::BackendError> {
        Ok(self.stored.lock().unwrap().clone())
    }
    async fn load(
        &self,
        id: SessionId,
    ) -> Result<Option<SessionInfo>, crate::session::BackendError> {
        let stored = self.stored.lock().unwrap();
        Ok(stored.iter().find(|s| s.id == id).cloned())
    }
    async fn refresh(&self, _: SessionId) -> Result<RefreshOutcome, crate::session::BackendError> {
        let now = self.now();
        self.refreshes.lock().unwrap().push(now);
        Ok(self
            .outcomes
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(RefreshOutcome::Refreshed {
                ad_expires_at: now + chrono::Duration::seconds(3600),
            }))
    }
    async fn record_failures(
        &self,
        _: SessionId,
        failures: u32,
    ) -> Result<(), crate::session::BackendError> {
        self.failures.lock().unwrap().push(failures);
        Ok(())
    }
    async fn end(
        &self,
        id: SessionId,
        reason: EndReason,
    ) -> Result<(), crate::session::BackendError> {
        self.ended.lock().unwrap().push((id, reason));
        Ok(())
    }
    async fn flush_activity(
        &self,
        batch: Vec<(SessionId, DateTime<Utc>)>,
    ) -> Result<(), crate::session::BackendError> {
        self.flushed.lock().unwrap().push(batch);
        Ok(())
    }
    /// Expires unless `stored` says the session was active since.
    async fn expire(
        &self,
        id: SessionId,
        idle_since: DateTime<Utc>,
    ) -> Result<Expiry, crate::session::BackendError> {
        let stored = self.stored.lock().unwrap();
        if let Some(s) = stored.iter().find(|s| s.id == id)
            && s.last_activity_at > idle_since
        {
            return Ok(Expiry::Active(s.clone()));
        }
        self.ended.lock().unwrap().push((id, EndReason::Expired));
        Ok(Expiry::Expired)
    }
}

struct FakeSocket(Arc<Mutex<Vec<u16>>>);
impl Actor for FakeSocket {
    type Context = Context<Self>;
}
impl Handler<CloseSocket> for FakeSocket {
    type Result = ();
    fn handle(&mut self, msg: CloseSocket, _: &mut Context<Self>) {
        self.0.lock().unwrap().push(msg.code.as_u16());
    }
}

struct Harness {
    backend: Arc<FakeBackend>,
    clock: Arc<dyn Clock>,
    registry: SessionRegistry,
    addr: Addr<SessionSupervisor>,
}

const HOUR: Duration = Duration::from_secs(3600);

fn config() -> SupervisorConfig {
    // threshold 5 min, retry 30 s, inactivity 3 days
    SupervisorConfig::new(
        Duration::from_secs(300),
        Duration::from_secs(30),
        Duration::from_secs(259_200),
    )
}

async fn harness(stored: Vec<SessionInfo>) -> Harness {
    tokio::time::pause();
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(Utc::now()));
    let backend = Arc::new(FakeBackend::default());
    *backend.clock.lock().unwrap() = Some(clock.clone());
    *backend.stored.lock().unwrap() = stored;
    let registry = SessionRegistry::default();
    let addr =
        SessionSupervisor::new(backend.clone(), clock.clone(), config(), registry.clone()).start();
    Harness {
        backend,
        clock,
        registry,
        addr,
    }
}

impl Harness {
    fn session(&self, ttl: Duration) -> SessionInfo {
        let now = self.clock.now();
        SessionInfo {
            id: SessionId::new_v4(),
            user_id: "op@plant.test".into(),
            ad_expires_at: now + chrono::Duration::from_std(ttl).unwrap(),
            last_activity_at: now,
            last_refreshed_at: now,
            refresh_failures: 0,
        }
    }

    async fn track(&self, s: &SessionInfo) {
        self.addr.send(Track { session: s.clone() }).await.unwrap();
    }

    async fn touch(&self, id: SessionId) {
        let at = self.clock.now();
        self.addr.send(Touch { id, at }).await.unwrap();
    }

    async fn snapshot(&self, id: SessionId) -> Option<SessionSnapshot> {
        self.addr.send(Inspect { id }).await.unwrap()
    }

    async fn attach_socket(&self, id: SessionId) -> Arc<Mutex<Vec<u16>>> {
        let closed = Arc::new(Mutex::new(Vec::new()));
        let socket = FakeSocket(closed.clone()).start();
        let session = self.registry.get(&id).unwrap().clone();
        session
            .send(AttachSocket {
                socket_id: 1,
                close: socket.recipient(),
            })
            .await
            .unwrap();
        closed
    }
}

/// The user logged out (the caller deleted the session; `Forget` follows).
async fn logout(supervisor: &Addr<SessionSupervisor>, id: SessionId) {
    supervisor
        .send(Forget {
            id,
            reason: EndReason::Logout,
        })
        .await
        .unwrap();
}

/// Advances virtual time and lets every woken actor run.
async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[actix_rt::test]
async fn active_session_is_refreshed_at_expiry_minus_threshold() {
    let h = harness(vec![]).await;
    let s = h.session(HOUR);
    h.track(&s).await;
    advance(Duration::from_secs(60)).await;
    h.touch(s.id).await;

    advance(Duration::from_secs(3600 - 300 - 60 - 1)).await;
    assert_eq!(h.backend.refresh_count(), 0, "not before the threshold");
    advance(Duration::from_secs(2)).await;
    assert_eq!(h.backend.refresh_count(), 1);
    let refreshed_at = h.backend.refreshes.lock().unwrap()[0];
    assert_eq!(
        (refreshed_at - s.last_refreshed_at).num_seconds(),
        3600 - 300
    );
    let snap = h.snapshot(s.id).await.unwrap();
    assert_eq!(snap.strikes, 0);
    assert!(snap.ad_expires_at > s.ad_expires_at, "new expiry stored");
}

#[actix_rt::test]
async fn idle_session_is_parked_and_refreshed_on_its_next_request() {
    let h = harness(vec![]).await;
    let s = h.session(HOUR);
    h.track(&s).await;
    advance(Duration::from_secs(4 * 3600)).await;
    assert_eq!(
        h.backend.refresh_count(),
        0,
        "idle: no refresh at the due time"
    );
    assert!(!h.snapshot(s.id).await.unwrap().refresh_pending);

    h.touch(s.id).await;
    advance(Duration::from_millis(1)).await;
    assert_eq!(
        h.backend.refresh_count(),
        1,
        "refreshed lazily on the request"
    );
}

#[actix_rt::test]
async fn three_rejections_force_logout_and_close_sockets_with_4001() {
    let h = harness(vec![]).await;
    let s = h.session(Duration::from_secs(600));
    h.track(&s).await;
    let closed = h.attach_socket(s.id).await;
    h.backend
        .outcomes
        .lock()
        .unwrap()
        .extend(std::iter::repeat_n(RefreshOutcome::Rejected, 3));
    advance(Duration::from_secs(10)).await;
    h.touch(s.id).await;

    advance(Duration::from_secs(300)).await; // first attempt at 600 - 300
    assert_eq!(h.backend.refresh_count(), 1);
    assert_eq!(h.snapshot(s.id).await.unwrap().strikes, 1);
    advance(Duration::from_secs(30)).await;
    assert_eq!(h.snapshot(s.id).await.unwrap().strikes, 2);
    assert!(h.backend.ended.lock().unwrap().is_empty());
    advance(Duration::from_secs(30)).await;

    assert_eq!(h.backend.refresh_count(), 3, "exactly three attempts");
    assert_eq!(*h.backend.failures.lock().unwrap(), vec![1, 2]);
    assert_eq!(
        *h.backend.ended.lock().unwrap(),
        vec![(s.id, EndReason::Forced)]
    );
    assert_eq!(
        *closed.lock().unwrap(),
        vec![CloseCode::SessionEnded.as_u16()]
    );
    assert!(h.snapshot(s.id).await.is_none());
    assert!(!h.registry.contains_key(&s.id));
    advance(Duration::from_secs(3600)).await;
    assert_eq!(
        h.backend.refresh_count(),
        3,
        "nothing scheduled after the end"
    );
}

#[actix_rt::test]
async fn a_success_between_rejections_resets_the_count() {
    let h = harness(vec![]).await;
    let s = h.session(Duration::from_secs(600));
    h.track(&s).await;
    {
        let mut o = h.backend.outcomes.lock().unwrap();
        o.extend([RefreshOutcome::Rejected, RefreshOutcome::Rejected]);
        o.push_back(RefreshOutcome::Refreshed {
            ad_expires_at: s.ad_expires_at + chrono::Duration::seconds(600),
        });
        o.extend([RefreshOutcome::Rejected, RefreshOutcome::Rejected]);
    }
    advance(Duration::from_secs(1)).await;
    h.touch(s.id).await;
    advance(Duration::from_secs(300 + 30 + 30)).await;
    assert_eq!(h.backend.refresh_count(), 3);
    assert_eq!(
        h.snapshot(s.id).await.unwrap().strikes,
        0,
        "reset by the success"
    );

    h.touch(s.id).await;
    advance(Duration::from_secs(570)).await; // next due at 900 s, one retry at 930 s
    assert_eq!(h.backend.refresh_count(), 5);
    let snap = h
        .snapshot(s.id)
        .await
        .expect("two strikes do not end a session");
    assert_eq!(snap.strikes, 2);
    assert!(h.backend.ended.lock().unwrap().is_empty());
}

#[actix_rt::test]
async fn ad_outage_is_no_strike_and_retries_with_backoff() {
    let h = harness(vec![]).await;
    let s = h.session(Duration::from_secs(600));
    h.track(&s).await;
    h.backend
        .outcomes
        .lock()
        .unwrap()
        .extend(std::iter::repeat_n(RefreshOutcome::Unavailable, 6));
    advance(Duration::from_secs(1)).await;
    h.touch(s.id).await;
    // A 10-minute outage: attempts at 300, then +30, +60, +120, +240 s.
    advance(Duration::from_secs(299 + 30 + 60 + 120 + 240 + 1)).await;
    let times = h.backend.refreshes.lock().unwrap().clone();
    let gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).num_seconds())
        .collect();
    assert_eq!(gaps, vec![30, 60, 120, 240]);
    let snap = h.snapshot(s.id).await.unwrap();
    assert_eq!(snap.strikes, 0);
    assert!(h.backend.ended.lock().unwrap().is_empty());
    assert!(h.backend.failures.lock().unwrap().is_empty());
}

#[actix_rt::test]
async fn inactive_sessions_expire_and_active_ones_stay() {
    let h = harness(vec![]).await;
    let idle = h.session(HOUR * 200);
    let busy = h.session(HOUR * 200);
    h.track(&idle).await;
    h.track(&busy).await;
    let closed = h.attach_socket(idle.id).await;
    for _ in 0..4 {
        advance(HOUR * 24).await;
        h.touch(busy.id).await;
    }
    assert_eq!(
        *h.backend.ended.lock().unwrap(),
        vec![(idle.id, EndReason::Expired)]
    );
    assert_eq!(
        *closed.lock().unwrap(),
        vec![CloseCode::SessionEnded.as_u16()]
    );
    assert!(h.snapshot(busy.id).await.is_some());
}

#[actix_rt::test]
async fn a_session_idle_here_but_active_through_another_node_is_not_expired() {
    let h = harness(vec![]).await;
    let s = h.session(HOUR * 200);
    h.track(&s).await;
    let closed = h.attach_socket(s.id).await;
    // Another node stores activity two days in (this node sees none).
    advance(HOUR * 48).await;
    h.backend.stored.lock().unwrap().push(SessionInfo {
        last_activity_at: h.clock.now(),
        ..s.clone()
    });
    advance(HOUR * 25).await;
    assert!(h.backend.ended.lock().unwrap().is_empty(), "kept at 73 h");
    assert!(closed.lock().unwrap().is_empty());
    assert!(h.snapshot(s.id).await.is_some());

    // Idle everywhere for the inactivity period, counted from that activity.
    advance(HOUR * 48).await;
    assert_eq!(
        *h.backend.ended.lock().unwrap(),
        vec![(s.id, EndReason::Expired)]
    );
    assert_eq!(
        *closed.lock().unwrap(),
        vec![CloseCode::SessionEnded.as_u16()]
    );
}

#[actix_rt::test]
async fn activity_is_flushed_in_batches_not_per_request() {
    let h = harness(vec![]).await;
    let a = h.session(HOUR);
    let b = h.session(HOUR);
    h.track(&a).await;
    h.track(&b).await;
    advance(Duration::from_secs(1)).await;
    for _ in 0..50 {
        h.touch(a.id).await;
        h.touch(b.id).await;
    }
    assert!(
        h.backend.flushed.lock().unwrap().is_empty(),
        "no write per touch"
    );
    h.addr.send(FlushActivity).await.unwrap();
    let flushed = h.backend.flushed.lock().unwrap().clone();
    assert_eq!(flushed.len(), 1, "one batch");
    assert_eq!(flushed[0].len(), 2, "one row per session");
}

#[actix_rt::test]
async fn logout_cancels_the_refresh_and_closes_sockets() {
    let h = harness(vec![]).await;
    let s = h.session(Duration::from_secs(600));
    h.track(&s).await;
    let closed = h.attach_socket(s.id).await;
    advance(Duration::from_secs(1)).await;
    h.touch(s.id).await;
    logout(&h.addr, s.id).await;
    advance(Duration::from_secs(3600)).await;
    assert_eq!(h.backend.refresh_count(), 0);
    assert_eq!(
        *closed.lock().unwrap(),
        vec![CloseCode::SessionEnded.as_u16()]
    );
    assert!(
        h.backend.ended.lock().unwrap().is_empty(),
        "already deleted by the caller"
    );
}

#[actix_rt::test]
async fn stored_sessions_are_reloaded_and_rescheduled_at_start() {
    let now = Utc::now();
    let stored = SessionInfo {
        id: SessionId::new_v4(),
        user_id: "op@plant.test".into(),
        ad_expires_at: now + chrono::Duration::seconds(400),
        last_activity_at: now,
        last_refreshed_at: now - chrono::Duration::seconds(60),
        refresh_failures: 0,
    };
    let h = harness(vec![stored.clone()]).await;
    assert!(h.snapshot(stored.id).await.is_some());
    assert!(h.registry.contains_key(&stored.id), "session actor started");
    advance(Duration::from_secs(101)).await;
    assert_eq!(
        h.backend.refresh_count(),
        1,
        "active since its refresh: refreshed"
    );
}

#[actix_rt::test]
async fn a_session_stored_by_another_node_is_adopted_when_its_socket_opens_here() {
    let h = harness(Vec::new()).await;
    advance(Duration::from_millis(1)).await; // start-up load done
    // Logged in through another node after this one loaded its sessions.
    let elsewhere = h.session(HOUR);
    h.backend.stored.lock().unwrap().push(elsewhere.clone());
    assert!(
        h.snapshot(elsewhere.id).await.is_none(),
        "not known here yet"
    );

    let adopted = h.addr.send(Adopt { id: elsewhere.id }).await.unwrap();
    let actor = adopted.expect("a stored session is adopted");
    assert_eq!(
        h.registry.get(&elsewhere.id).map(|a| a.clone()),
        Some(actor.clone())
    );
    assert!(
        h.snapshot(elsewhere.id).await.is_some(),
        "tracked from now on"
    );
    // A second socket gets the same actor, without reading it again.
    let again = h.addr.send(Adopt { id: elsewhere.id }).await.unwrap();
    assert_eq!(again, Some(actor));

    // A session that ended (or never was) is not adopted.
    let unknown = h
        .addr
        .send(Adopt {
            id: SessionId::new_v4(),
        })
        .await
        .unwrap();
    assert!(unknown.is_none());
}

/// Session ends between nodes over an in-process wire; a node does not hear
/// itself. Everything sent is kept, to count.
struct WireSessions {
    node: u8,
    wire: Arc<tokio::sync::broadcast::Sender<(u8, SessionId, EndReason)>>,
}

impl SessionBus for WireSessions {
    fn ended(&self, id: SessionId, reason: EndReason) {
        let _ = self.wire.send((self.node, id, reason));
    }

    fn ended_elsewhere(&self) -> futures_util::stream::BoxStream<'static, (SessionId, EndReason)> {
        use futures_util::StreamExt;
        let (me, rx) = (self.node, self.wire.subscribe());
        futures_util::stream::unfold(rx, move |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok((from, id, reason)) if from != me => return Some(((id, reason), rx)),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}

#[actix_rt::test]
async fn a_session_ended_on_one_node_closes_its_sockets_on_the_others() {
    let a = harness(vec![]).await;
    let wire = Arc::new(tokio::sync::broadcast::channel(16).0);
    let mut heard = wire.subscribe();
    let bus = |node| {
        Arc::new(WireSessions {
            node,
            wire: wire.clone(),
        })
    };
    // Node A ends sessions and announces it; node B has one of them adopted.
    let node_a = SessionSupervisor::new(
        a.backend.clone(),
        a.clock.clone(),
        config(),
        a.registry.clone(),
    )
    .with_bus(bus(1))
    .start();
    let b_registry = SessionRegistry::default();
    let node_b = SessionSupervisor::new(
        a.backend.clone(),
        a.clock.clone(),
        config(),
        b_registry.clone(),
    )
    .with_bus(bus(2))
    .start();
    let s = a.session(Duration::from_secs(600));
    a.backend.stored.lock().unwrap().push(s.clone());
    node_a.send(Track { session: s.clone() }).await.unwrap();
    let on_b = node_b
        .send(Adopt { id: s.id })
        .await
        .unwrap()
        .expect("adopted on B");
    let closed = Arc::new(Mutex::new(Vec::new()));
    on_b.send(AttachSocket {
        socket_id: 7,
        close: FakeSocket(closed.clone()).start().recipient(),
    })
    .await
    .unwrap();

    logout(&node_a, s.id).await;
    advance(Duration::from_secs(1)).await;
    assert_eq!(
        *closed.lock().unwrap(),
        vec![CloseCode::SessionEnded.as_u16()]
    );
    assert!(
        node_b.send(Inspect { id: s.id }).await.unwrap().is_none(),
        "B forgot it"
    );
    assert_eq!(heard.try_recv().unwrap(), (1, s.id, EndReason::Logout));
    assert!(
        heard.try_recv().is_err(),
        "announced once: B does not echo it"
    );

    // B no longer refreshes it.
    advance(Duration::from_secs(3600)).await;
    assert_eq!(a.backend.refresh_count(), 0);
}

#[actix_rt::test]
async fn a_session_another_node_refreshes_is_followed_not_refreshed_again() {
    let h = harness(vec![]).await;
    let s = h.session(Duration::from_secs(600)); // refresh due in 300 s
    h.track(&s).await;
    advance(Duration::from_secs(1)).await;
    h.touch(s.id).await; // active since its last refresh
    // At 300 s the other node holds the refresh and stores a token for an hour.
    let mut stored = s.clone();
    stored.ad_expires_at = h.clock.now() + chrono::Duration::seconds(300 + 3600);
    stored.last_refreshed_at = h.clock.now() + chrono::Duration::seconds(300);
    h.backend
        .outcomes
        .lock()
        .unwrap()
        .push_back(RefreshOutcome::Elsewhere(stored.clone()));
    advance(Duration::from_secs(300)).await;
    assert_eq!(h.backend.refresh_count(), 1, "asked once, found it taken");
    let snap = h.snapshot(s.id).await.expect("still tracked");
    assert_eq!(
        snap.ad_expires_at, stored.ad_expires_at,
        "follows what was stored"
    );
    assert_eq!(snap.strikes, 0);
    assert!(
        h.backend.failures.lock().unwrap().is_empty(),
        "no strike recorded"
    );

    // Nothing more until the new token's refresh is due (an hour on).
    advance(Duration::from_secs(1)).await;
    h.touch(s.id).await;
    advance(Duration::from_secs(3000)).await;
    assert_eq!(h.backend.refresh_count(), 1);
    advance(Duration::from_secs(400)).await;
    assert_eq!(h.backend.refresh_count(), 2, "due again with the new token");
}
