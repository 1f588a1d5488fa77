//! Login rate limits (PRODUCT.md A2): two limits with different jobs.
//!
//! - **Per account, failures only.** AD locks an account after a few failed
//!   logins within an observation window (typically 5–10). Andon lets at most
//!   `max_failures` rejected logins per account reach AD within `window` (default
//!   3 in 15 minutes), below any usual lockout threshold, so nobody can lock a
//!   colleague's AD account through Andon. Successful logins cost nothing and,
//!   as at AD, clear the account's failures. Attempts waiting for AD count as
//!   failures until it answers, so concurrent guesses cannot overshoot. Accounts
//!   are keyed by [`account_key`], so `alice`, `ALICE` and `PLANT\alice` share one
//!   budget.
//! - **Per client address, every attempt**: GCRA from `governor`, a burst of N
//!   then N per minute, against scripts trying many accounts.
//!
//! The account limit is a sliding log of failure times, not governor's GCRA: GCRA
//! refills steadily (a burst of N, then one every window/N), which lets nearly 2N
//! failures into one window; AD counts failures per window.
//!
//! Time is tokio's clock, so tests pause and advance it.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The account AD will check for `username`, as one key for every way of writing
/// it: lower case, without a `DOMAIN\` prefix, without an `@domain` suffix,
/// without invisible characters.
///
/// AD takes the same account as `alice`, `PLANT\alice` and `alice@plant.example`
/// (sAMAccountName, down-level name, UPN): counting them apart would multiply the
/// budget an attacker has before AD locks the account. Folding two accounts into
/// one key (`alice@plant.example` and `alice@supplier.example`) only shares a
/// budget, which blocks nobody that could not be blocked by name anyway.
pub fn account_key(username: &str) -> String {
    let visible: String = username
        .chars()
        .filter(|&c| {
            use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
            !c.is_control() && c.general_category() != GeneralCategory::Format
        })
        .collect();
    let trimmed = visible.trim();
    let without_domain = trimmed.rsplit('\\').next().unwrap_or(trimmed);
    let local = without_domain.split('@').next().unwrap_or(without_domain);
    let key = if local.trim().is_empty() {
        trimmed
    } else {
        local.trim()
    };
    key.to_lowercase()
}

/// A stand-in for an account in log lines: a short keyed hash, the same for the
/// same account within this process, useless for guessing what was typed. A
/// user who types their password into the username field must not find it in
/// the log.
pub fn log_tag(account: &str) -> String {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key
    });
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(key);
    hasher.update(account.as_bytes());
    hasher.finish()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Default)]
struct Account {
    /// When AD rejected this account, oldest first, within the window.
    failures: VecDeque<Instant>,
    /// Attempts waiting for AD.
    pending: usize,
}

impl Account {
    fn forget_before(&mut self, horizon: Option<Instant>) {
        while let (Some(&first), Some(h)) = (self.failures.front(), horizon)
            && first <= h
        {
            self.failures.pop_front();
        }
    }
}

pub struct LoginLimiter {
    max_failures: usize,
    window: Duration,
    accounts: DashMap<String, Account>,
    per_addr: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// One login attempt that may go to AD. Say how it ended with [`failed`] or
/// [`succeeded`]; dropped without either (AD unavailable), it costs nothing.
///
/// [`failed`]: Attempt::failed
/// [`succeeded`]: Attempt::succeeded
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    account: String,
    settled: bool,
}

impl Attempt<'_> {
    /// The account's key ([`account_key`]).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// AD rejected the credentials: one failure for the account.
    pub fn failed(mut self) {
        self.settle(|a| a.failures.push_back(Instant::now()));
    }

    /// AD accepted: the account's failures are forgotten, as AD forgets them.
    pub fn succeeded(mut self) {
        self.settle(|a| a.failures.clear());
    }

    fn settle(&mut self, change: impl FnOnce(&mut Account)) {
        self.settled = true;
        let mut account = self
            .limiter
            .accounts
            .entry(self.account.clone())
            .or_default();
        account.pending = account.pending.saturating_sub(1);
        change(&mut account);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.settle(|_| {});
        }
    }
}

impl LoginLimiter {
    pub fn new(
        max_failures: NonZeroU32,
        window: Duration,
        per_addr_per_minute: NonZeroU32,
    ) -> Self {
        Self {
            max_failures: max_failures.get() as usize,
            window,
            accounts: DashMap::new(),
            per_addr: RateLimiter::keyed(Quota::per_minute(per_addr_per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Admits one attempt for `username` from `addr`, or `Err(wait)` when either
    /// limit is reached: then AD must not be asked.
    pub fn begin(&self, username: &str, addr: Option<IpAddr>) -> Result<Attempt<'_>, Duration> {
        // Now and then, forget accounts with nothing left to remember, so the
        // map does not grow with every username ever tried.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.prune();
        }
        if let Some(addr) = addr {
            let now = self.clock.now();
            self.per_addr
                .check_key(&addr)
                .map_err(|n| n.wait_time_from(now))?;
        }
        let key = account_key(username);
        let now = Instant::now();
        let mut account = self.accounts.entry(key.clone()).or_default();
        account.forget_before(now.checked_sub(self.window));
        if account.failures.len() + account.pending >= self.max_failures {
            // Free again when the oldest failure leaves the window; attempts in
            // flight settle within one AD timeout.
            let wait = account
                .failures
                .front()
                .map(|&first| (first + self.window).saturating_duration_since(now))
                .unwrap_or_default();
            return Err(wait.max(Duration::from_secs(1)));
        }
        account.pending += 1;
        Ok(Attempt {
            limiter: self,
            account: key,
            settled: false,
        })
    }

    fn prune(&self) {
        let horizon = Instant::now().checked_sub(self.window);
        self.per_addr.retain_recent();
        self.accounts.retain(|_, a| {
            a.forget_before(horizon);
            a.pending > 0 || !a.failures.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    const WINDOW: Duration = Duration::from_secs(900);

    #[test]
    fn every_spelling_of_an_account_is_one_key() {
        for spelling in [
            "alice",
            "ALICE",
            " Alice ",
            "PLANT\\alice",
            "plant\\ALICE",
            "alice@plant.example",
            "PLANT\\Alice@Plant.Example",
            "al\u{200B}ice",
            "\u{202E}alice",
        ] {
            assert_eq!(account_key(spelling), "alice", "{spelling:?}");
        }
        assert_eq!(account_key("ÅSA@plant.example"), "åsa");
        assert_eq!(account_key("王小明"), "王小明");
        assert_ne!(account_key("alice"), account_key("alicia"));
        // Nothing left after stripping: the whole input is the key.
        assert_eq!(account_key("@plant"), "@plant");
        assert_eq!(account_key("PLANT\\"), "plant\\");
    }

    #[test]
    fn log_tags_hide_what_was_typed_but_tell_accounts_apart() {
        let tag = log_tag("hunter2-typed-as-a-name");
        assert_eq!(tag.len(), 12);
        assert!(!tag.contains("hunter2"));
        assert_eq!(tag, log_tag("hunter2-typed-as-a-name"));
        assert_ne!(tag, log_tag("alice"));
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_limited_per_account_within_the_window() {
        let l = LoginLimiter::new(n(3), WINDOW, n(1000));
        let minutes = |m: u64| Duration::from_secs(60 * m);
        l.begin("alice", None).unwrap().failed();
        tokio::time::advance(minutes(5)).await;
        l.begin("ALICE", None).unwrap().failed();
        tokio::time::advance(minutes(5)).await;
        l.begin("PLANT\\alice", None).unwrap().failed();
        // Failures at 0, 5 and 10 minutes: the first leaves the window at 15.
        assert_eq!(l.begin("alice@plant.example", None).err(), Some(minutes(5)));
        l.begin("bob", None).unwrap().failed();

        tokio::time::advance(minutes(5) - Duration::from_secs(1)).await;
        assert_eq!(l.begin("alice", None).err(), Some(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(1)).await;
        // One failure left the window: one more attempt, no more.
        l.begin("alice", None).unwrap().failed();
        assert_eq!(l.begin("alice", None).err(), Some(minutes(5)));
    }

    #[tokio::test(start_paused = true)]
    async fn successes_cost_nothing_and_clear_failures() {
        let l = LoginLimiter::new(n(3), WINDOW, n(1000));
        for _ in 0..10 {
            l.begin("carol", None).unwrap().succeeded();
        }
        l.begin("carol", None).unwrap().failed();
        l.begin("carol", None).unwrap().failed();
        l.begin("carol", None).unwrap().succeeded();
        for _ in 0..3 {
            l.begin("carol", None).unwrap().failed();
        }
        assert!(l.begin("carol", None).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_in_flight_count_until_ad_answers() {
        let l = LoginLimiter::new(n(3), WINDOW, n(1000));
        let flying: Vec<_> = (0..3).map(|_| l.begin("dan", None).unwrap()).collect();
        assert_eq!(
            l.begin("dan", None).err(),
            Some(Duration::from_secs(1)),
            "a fourth guess waits for the three"
        );
        let mut flying = flying.into_iter();
        // AD unavailable: the attempt is dropped and costs nothing.
        drop(flying.next());
        l.begin("dan", None).unwrap().failed();
        for a in flying {
            a.failed();
        }
        assert!(l.begin("dan", None).is_err());
    }

    #[test]
    fn address_limit_spans_usernames_and_counts_every_attempt() {
        let l = LoginLimiter::new(n(100), WINDOW, n(2));
        let addr: IpAddr = "10.0.0.7".parse().unwrap();
        l.begin("a@x", Some(addr)).unwrap().succeeded();
        l.begin("b@x", Some(addr)).unwrap().succeeded();
        assert!(l.begin("c@x", Some(addr)).is_err());
        l.begin("c@x", Some("10.0.0.8".parse().unwrap()))
            .unwrap()
            .succeeded();
    }

    #[tokio::test(start_paused = true)]
    async fn forgotten_accounts_leave_the_map() {
        let l = LoginLimiter::new(n(3), WINDOW, n(1000));
        l.begin("erin", None).unwrap().failed();
        l.begin("fay", None).unwrap().succeeded();
        let held = l.begin("gus", None).unwrap();
        tokio::time::advance(WINDOW).await;
        l.prune();
        assert_eq!(l.accounts.len(), 1, "only the attempt in flight is left");
        drop(held);
        l.prune();
        assert!(l.accounts.is_empty());
    }
}
