//! PostgreSQL access: the connection pool and embedded migrations.
//!
//! Repository modules (one per aggregate) take `&impl GenericClient` so that a pooled
//! connection and a transaction both work.

pub mod audit;
pub mod events;
pub mod files;
pub mod members;
pub mod messages;
pub mod migrate;
pub mod rooms;
pub mod sessions;
pub mod templates;
pub mod users;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use secrecy::ExposeSecret;
use tokio_postgres::NoTls;

use crate::config::DatabaseConfig;

pub use deadpool_postgres::GenericClient;

/// Builds the pool. No connection is opened here: the first request opens one, so a
/// server can start while the database is still coming up (`/readyz` says 503 then).
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<Pool> {
    let pg: tokio_postgres::Config = config.url.expose_secret().parse()?;
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            // A cheap `is_closed` check; connections the server dropped are replaced.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let timeouts = Timeouts {
        wait: Some(config.connect_timeout),
        create: Some(config.connect_timeout),
        recycle: Some(config.connect_timeout),
    };
    Ok(Pool::builder(manager)
        .max_size(config.pool_size)
        .timeouts(timeouts)
        .runtime(Runtime::Tokio1)
        .build()?)
}

/// Opens one connection outside the pool (migrations hold a session-level lock on it).
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio::time::timeout(
        config.connect_timeout,
        tokio_postgres::connect(config.url.expose_secret(), NoTls),
    )
    .await
    .map_err(|_| anyhow::anyhow!("timed out connecting to the database"))??;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "database connection ended");
        }
    });
    Ok(client)
}
