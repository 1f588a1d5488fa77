//! State shared by every request handler.

use std::sync::Arc;

use actix::Addr;
use andon_actors::escalation::EscalationActor;
use andon_actors::session::{SessionRegistry, SessionSupervisor};
use deadpool_postgres::Pool;

use crate::auth::ad::AdClient;
use crate::auth::crypto::Keyring;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Config;
use crate::realtime::{Realtime, SocketDeps};
use crate::reports::ReportService;
use crate::rooms::Rooms;
use crate::storage::Storage;

pub struct AppState {
    pub config: Arc<Config>,
    pub db: Pool,
    pub ad: AdClient,
    pub keyring: Arc<Keyring>,
    pub login_limiter: LoginLimiter,
    pub supervisor: Addr<SessionSupervisor>,
    pub sessions: SessionRegistry,
    pub realtime: Arc<Realtime>,
    pub rooms: Rooms,
    /// What each WebSocket's actor is given (the same services, narrowed).
    pub socket_deps: Arc<SocketDeps>,
    pub storage: Arc<dyn Storage>,
    pub reports: ReportService,
    /// The escalation ladders of this node's rooms (issue 19).
    pub escalation: Addr<EscalationActor>,
}

impl AppState {
    /// A pooled database connection; the wait is measured for `/metrics`.
    pub async fn db_conn(&self) -> Result<deadpool_postgres::Object, deadpool_postgres::PoolError> {
        crate::db::conn(&self.db).await
    }
}
