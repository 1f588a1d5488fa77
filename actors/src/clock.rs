//! Wall-clock time, injectable so that time-dependent logic (refresh scheduling,
//! expiry) is tested with paused tokio time instead of sleeps.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that advances with tokio's clock, so `tokio::time::pause()` and
/// `advance()` move it too. Anchored to the wall time at creation.
pub struct TokioClock {
    base_wall: DateTime<Utc>,
    base: tokio::time::Instant,
}

impl TokioClock {
    pub fn new(base_wall: DateTime<Utc>) -> Self {
        Self {
            base_wall,
            base: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.base;
        self.base_wall + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let start = Utc::now();
        let clock = TokioClock::new(start);
        tokio::time::advance(std::time::Duration::from_secs(90)).await;
        assert_eq!((clock.now() - start).num_seconds(), 90);
    }
}
