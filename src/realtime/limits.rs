//! What one login session may hold of the real-time engine: open sockets (each one
//! costs the server its queue and its subscriptions' replays) and new tickets a
//! minute (each one a database write). A stolen or buggy client is bounded by
//! these, not by the server's memory.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

pub struct SessionLimits {
    max_sockets: usize,
    open: Arc<DashMap<Uuid, usize>>,
    tickets: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// One open socket of a session; dropping it (when the socket actor goes) frees
/// its place.
pub struct SocketSlot {
    open: Arc<DashMap<Uuid, usize>>,
    session: Uuid,
}

impl SessionLimits {
    /// `tickets_per_minute`: a burst of this many, then this rate.
    pub fn new(max_sockets: usize, tickets_per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(tickets_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            max_sockets,
            open: Arc::default(),
            tickets: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    pub fn max_sockets(&self) -> usize {
        self.max_sockets
    }

    /// Sockets the session has open now.
    pub fn open_sockets(&self, session: Uuid) -> usize {
        self.open.get(&session).map_or(0, |n| *n)
    }

    /// A place for one more socket of `session`, if it has fewer than the bound.
    pub fn claim_socket(&self, session: Uuid) -> Option<SocketSlot> {
        let mut open = self.open.entry(session).or_insert(0);
        if *open >= self.max_sockets {
            return None;
        }
        *open += 1;
        Some(SocketSlot {
            open: self.open.clone(),
            session,
        })
    }

    /// Counts one ticket; `Err(wait)` when the session is over its rate.
    pub fn check_ticket(&self, session: Uuid) -> Result<(), Duration> {
        // Forget sessions whose allowance is full again, now and then.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.tickets.retain_recent();
        }
        let now = self.clock.now();
        self.tickets
            .check_key(&session)
            .map_err(|n| n.wait_time_from(now))
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        if let Some(mut open) = self.open.get_mut(&self.session) {
            *open = open.saturating_sub(1);
        }
        // The guard above is gone: `remove_if` takes the same shard's lock.
        self.open.remove_if(&self.session, |_, open| *open == 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_holds_at_most_its_sockets_and_a_closed_one_frees_its_place() {
        let limits = SessionLimits::new(2, 60);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let first = limits.claim_socket(a).unwrap();
        let _second = limits.claim_socket(a).unwrap();
        assert!(
            limits.claim_socket(a).is_none(),
            "a third socket of the session"
        );
        assert!(
            limits.claim_socket(b).is_some(),
            "other sessions are not affected"
        );
        drop(first);
        assert_eq!(limits.open_sockets(a), 1);
        assert!(limits.claim_socket(a).is_some());
    }

    #[test]
    fn the_map_forgets_sessions_without_sockets() {
        let limits = SessionLimits::new(2, 60);
        let a = Uuid::new_v4();
        drop(limits.claim_socket(a));
        assert!(limits.open.is_empty());
    }

    #[test]
    fn tickets_are_limited_per_session() {
        let limits = SessionLimits::new(2, 60);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..60 {
            limits.check_ticket(a).unwrap();
        }
        assert!(limits.check_ticket(a).is_err());
        assert!(limits.check_ticket(b).is_ok());
    }
}
