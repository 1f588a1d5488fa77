//! The real-time engine on the server side: socket actors and the WebSocket
//! protocol. Message actions are the room service's (`crate::rooms`).
//! Room actors, the room directory and group commit live in `andon-actors`.

pub mod limits;
pub mod protocol;
pub mod socket;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix::Addr;
use andon_actors::metrics::RealtimeMetrics;
use andon_actors::realtime::{GroupCommit, RoomDirectory};
use dashmap::DashMap;

pub use socket::{SocketActor, SocketDeps};

#[derive(Debug, Clone)]
pub struct SocketConfig {
    /// Outbound queue bound per socket, in frames.
    pub queue_frames: usize,
    /// Outbound queue bound per socket, in bytes.
    pub queue_bytes: usize,
    pub ping_interval: Duration,
    /// A socket silent this long is closed.
    pub idle_timeout: Duration,
    pub edit_window: Duration,
    /// Open sockets per login session, at most.
    pub sockets_per_session: usize,
    /// Rooms one socket may be subscribed to at once.
    pub subscriptions_per_socket: usize,
    /// WebSocket tickets one login session may get a minute.
    pub tickets_per_minute: u32,
}

/// Everything real-time, shared by HTTP handlers and socket actors.
pub struct Realtime {
    pub rooms: RoomDirectory,
    pub commit: GroupCommit,
    pub sockets: DashMap<u64, Addr<SocketActor>>,
    /// What one login session may open: sockets at once, tickets per minute.
    pub session_limits: limits::SessionLimits,
    pub metrics: RealtimeMetrics,
    pub config: SocketConfig,
    next_socket: AtomicU64,
}

impl Realtime {
    pub fn new(
        rooms: RoomDirectory,
        commit: GroupCommit,
        config: SocketConfig,
        metrics: RealtimeMetrics,
    ) -> Self {
        Self {
            rooms,
            commit,
            sockets: DashMap::new(),
            session_limits: limits::SessionLimits::new(
                config.sockets_per_session,
                config.tickets_per_minute,
            ),
            metrics,
            config,
            next_socket: AtomicU64::new(1),
        }
    }

    pub fn next_socket_id(&self) -> u64 {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }
}
