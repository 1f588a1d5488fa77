//! Messages of the session actors and the session supervisor.

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::{EndReason, SessionActor, SessionId, SessionInfo};
use crate::realtime::CloseCode;

/// To a socket actor: close with this WebSocket close code.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct CloseSocket {
    pub code: CloseCode,
    pub reason: String,
}

/// To a session actor: a socket of this session opened.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AttachSocket {
    pub socket_id: u64,
    pub close: Recipient<CloseSocket>,
}

/// To a session actor: a socket of this session closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DetachSocket {
    pub socket_id: u64,
}

/// To a session actor: the session is over; close every socket, then stop.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct EndSession {
    pub code: CloseCode,
    pub reason: String,
}

/// To the supervisor: a session to look after (new login, or loaded at start).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Track {
    pub session: SessionInfo,
}

/// To the supervisor: a socket of this session opened here. Answers the
/// session's actor, reading the session from the database first when this node
/// does not look after it yet (it was created through another node, or after
/// this node started); `None` when the session no longer exists.
#[derive(Message)]
#[rtype(result = "Option<Addr<SessionActor>>")]
pub struct Adopt {
    pub id: SessionId,
}

/// To the supervisor: the session served a request at `at`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Touch {
    pub id: SessionId,
    pub at: DateTime<Utc>,
}

/// To the supervisor: the session was ended by its user (already deleted in the
/// database); cancel its timers and close its sockets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Forget {
    pub id: SessionId,
    pub reason: EndReason,
}

/// To the supervisor: write pending last-activity times now (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct FlushActivity;

/// To the supervisor: what it knows of one session (tests, diagnostics).
#[derive(Message)]
#[rtype(result = "Option<SessionSnapshot>")]
pub struct Inspect {
    pub id: SessionId,
}

/// A view of one tracked session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    pub strikes: u32,
    pub ad_expires_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub refresh_pending: bool,
}
