//! The real-time engine on the server side: socket actors and the WebSocket
//! protocol. Message actions are the room service's (`crate::rooms`).
//! Room actors, the room directory and group commit live in `andon-actors`.

pub mod limits;
pub mod protocol;
pub mod socket;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use actix::Addr;
use andon_actors::realtime::{GroupCommit, RoomDirectory};
use dashmap::DashMap;

pub use socket::SocketActor;

/// Counters shared by every socket; read by tests and metrics.
#[derive(Debug, Default)]
pub struct Stats {
    /// The longest outbound queue any socket reached, in frames.
    pub queue_high_water: AtomicUsize,
    /// The most bytes any socket's outbound queue held.
    pub queue_bytes_high_water: AtomicUsize,
    /// The most bytes of replay events any socket held read ahead.
    pub replay_ready_bytes_high_water: AtomicUsize,
    pub slow_consumer_closes: AtomicU64,
    pub dropped_ephemeral: AtomicU64,
    pub open_sockets: AtomicI64,
    /// Room subscriptions over all sockets.
    pub subscriptions: AtomicI64,
    /// The most bytes read from any one upload body (uploads stop at their limit).
    pub upload_read_high_water: AtomicU64,
}

impl Stats {
    pub fn note_queue_len(&self, len: usize, bytes: usize) {
        self.queue_high_water.fetch_max(len, Ordering::Relaxed);
        self.queue_bytes_high_water
            .fetch_max(bytes, Ordering::Relaxed);
    }
}

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
    pub stats: Arc<Stats>,
    pub config: SocketConfig,
    next_socket: AtomicU64,
}

impl Realtime {
    pub fn new(
        rooms: RoomDirectory,
        commit: GroupCommit,
        config: SocketConfig,
        stats: Arc<Stats>,
    ) -> Self {
        Self {
            rooms,
            commit,
            sockets: DashMap::new(),
            session_limits: limits::SessionLimits::new(
                config.sockets_per_session,
                config.tickets_per_minute,
            ),
            stats,
            config,
            next_socket: AtomicU64::new(1),
        }
    }

    pub fn next_socket_id(&self) -> u64 {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }
}
