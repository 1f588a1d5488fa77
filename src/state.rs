//! State shared by every request handler.

use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::config::Config;

pub struct AppState {
    pub config: Arc<Config>,
    pub db: Pool,
}
