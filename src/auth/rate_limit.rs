//! Login rate limits (PRODUCT.md A2), per username and per client address, so a
//! script cannot lock an AD account by guessing: attempts beyond the limit get 429
//! without reaching AD. GCRA from `governor`: a burst of N, then N per minute.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct LoginLimiter {
    per_user: DefaultKeyedRateLimiter<String>,
    per_addr: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl LoginLimiter {
    pub fn new(per_user_per_minute: NonZeroU32, per_addr_per_minute: NonZeroU32) -> Self {
        Self {
            per_user: RateLimiter::keyed(Quota::per_minute(per_user_per_minute)),
            per_addr: RateLimiter::keyed(Quota::per_minute(per_addr_per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one attempt; `Err(wait)` when over either limit.
    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), Duration> {
        // Forget keys whose allowance is full again, now and then, so the maps
        // do not grow with every username ever tried.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.per_user.retain_recent();
            self.per_addr.retain_recent();
        }
        let now = self.clock.now();
        self.per_user
            .check_key(&username.to_lowercase())
            .map_err(|n| n.wait_time_from(now))?;
        if let Some(addr) = addr {
            self.per_addr
                .check_key(&addr)
                .map_err(|n| n.wait_time_from(now))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    #[test]
    fn username_limit_is_case_insensitive_and_per_user() {
        let l = LoginLimiter::new(n(3), n(100));
        for _ in 0..3 {
            l.check("Op@Plant.test", None).unwrap();
        }
        let wait = l.check("op@plant.test", None).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20));
        l.check("other@plant.test", None).unwrap();
    }

    #[test]
    fn address_limit_spans_usernames() {
        let l = LoginLimiter::new(n(100), n(2));
        let addr: IpAddr = "10.0.0.7".parse().unwrap();
        l.check("a@x", Some(addr)).unwrap();
        l.check("b@x", Some(addr)).unwrap();
        assert!(l.check("c@x", Some(addr)).is_err());
        l.check("c@x", Some("10.0.0.8".parse().unwrap())).unwrap();
    }
}
