//! Login sessions as actors.
//!
//! - [`SessionActor`]: one per live login session; it owns that session's sockets
//!   and closes them (code 4001) when the session ends.
//! - [`SessionSupervisor`]: one per process; schedules AD token refreshes, counts
//!   strikes, force-logs-out after three rejections, expires idle sessions and
//!   flushes last-activity times to the database in batches.
//!
//! Both reach the database and AD only through [`SessionBackend`].

mod actor;
pub mod messages;
mod supervisor;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dashmap::DashMap;

pub use actor::SessionActor;
pub use supervisor::{SessionSupervisor, SupervisorConfig};

/// Internal id of a login session (not the client's token, which is never kept).
pub type SessionId = uuid::Uuid;

/// Rejections in a row after which a session is force-logged-out (PRODUCT.md A6).
pub const MAX_STRIKES: u32 = 3;

/// Live session actors by session id, shared with the code that attaches sockets.
pub type SessionRegistry = Arc<DashMap<SessionId, actix::Addr<SessionActor>>>;

/// What the supervisor needs to know of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    pub user_id: String,
    pub ad_expires_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
    pub refresh_failures: u32,
}

/// The result of re-authenticating a session at AD with its stored credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// AD accepted; the new token expires then.
    Refreshed { ad_expires_at: DateTime<Utc> },
    /// AD rejected the stored credentials: one strike.
    Rejected,
    /// AD did not answer (outage, timeout, 5xx): no strike, retry later.
    Unavailable,
    /// The session no longer exists in the database (ended elsewhere).
    Gone,
    /// Another node sharing the database is refreshing this session: not
    /// attempted here; the session as stored now.
    Elsewhere(SessionInfo),
}

/// What an inactivity expiry found in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// Idle as stored too: ended as expired.
    Expired,
    /// Active since, as stored by another node: the session as stored now.
    Active(SessionInfo),
    /// No longer stored (ended elsewhere).
    Gone,
}

/// Why a session ended; stored so the next request gets the right 401 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Logout,
    Expired,
    Forced,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Expired => "expired",
            Self::Forced => "forced",
        }
    }
}

/// Session ends between nodes that share one database: a session ended on one
/// node (logout, expiry, forced logout) has its sockets on every node closed.
/// The database already says the session is over; the bus only makes the other
/// nodes act at once instead of at the session's next refresh.
pub trait SessionBus: Send + Sync + 'static {
    /// Tells the other nodes that this node ended `id`.
    fn ended(&self, id: SessionId, reason: EndReason);
    /// Sessions other nodes end.
    fn ended_elsewhere(&self) -> futures_util::stream::BoxStream<'static, (SessionId, EndReason)>;
}

/// Errors of the backend are infrastructure errors (database down); the supervisor
/// logs them and retries later, it never treats them as a strike.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Persistence and AD access for sessions, implemented by the server crate.
#[async_trait::async_trait]
pub trait SessionBackend: Send + Sync + 'static {
    /// Every live session, at start-up.
    async fn load_all(&self) -> Result<Vec<SessionInfo>, BackendError>;
    /// One live session, if it exists.
    async fn load(&self, id: SessionId) -> Result<Option<SessionInfo>, BackendError>;
    /// Re-authenticates at AD with the stored credentials and, on success, stores
    /// the new token and expiry and resets the failure count.
    async fn refresh(&self, id: SessionId) -> Result<RefreshOutcome, BackendError>;
    /// Stores the current count of consecutive rejections.
    async fn record_failures(&self, id: SessionId, failures: u32) -> Result<(), BackendError>;
    /// Deletes the session, remembering why.
    async fn end(&self, id: SessionId, reason: EndReason) -> Result<(), BackendError>;
    /// Ends the session as expired if its stored last activity is before
    /// `idle_since`: another node may have seen activity this one has not.
    async fn expire(
        &self,
        id: SessionId,
        idle_since: DateTime<Utc>,
    ) -> Result<Expiry, BackendError>;
    /// Stores last-activity times, many sessions in one write.
    async fn flush_activity(
        &self,
        batch: Vec<(SessionId, DateTime<Utc>)>,
    ) -> Result<(), BackendError>;
}
