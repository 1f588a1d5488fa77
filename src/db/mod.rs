//! PostgreSQL access: the connection pool and embedded migrations.
//!
//! Repository modules (one per aggregate) take `&impl GenericClient` so that a pooled
//! connection and a transaction both work.

pub mod audit;
pub mod batch;
pub mod escalation;
pub mod event_log;
pub mod events;
pub mod files;
pub mod members;
pub mod messages;
pub mod migrate;
pub mod notifications;
pub mod pins;
pub mod reports;
pub mod rooms;
pub mod routing;
pub mod search;
pub mod sessions;
pub mod stats;
pub mod templates;
pub mod tickets;
pub mod users;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use secrecy::ExposeSecret;
use tokio_postgres::NoTls;

use crate::config::DatabaseConfig;

pub use deadpool_postgres::GenericClient;

/// Builds the pool of request handlers (and of replays and room actors). No
/// connection is opened here: the first request opens one, so a server can start
/// while the database is still coming up (`/readyz` says 503 then).
///
/// Every statement on it is cut off after `ANDON_DATABASE_STATEMENT_TIMEOUT_SECS`:
/// no request, however expensive its user made it, holds a connection longer.
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<Pool> {
    let mut pg: tokio_postgres::Config = config.url.expose_secret().parse()?;
    pg.options(format!(
        "-c statement_timeout={}",
        config.statement_timeout.as_millis()
    ));
    build(config, pg, config.pool_size)
}

/// The connections of group commit, one per lane, apart from the request pool:
/// however busy requests keep that pool, committing sends never waits for it.
/// No statement timeout: a batch waits for its rooms' locks as long as it takes.
pub fn commit_pool(config: &DatabaseConfig, lanes: usize) -> anyhow::Result<Pool> {
    let pg: tokio_postgres::Config = config.url.expose_secret().parse()?;
    build(config, pg, lanes)
}

fn build(config: &DatabaseConfig, pg: tokio_postgres::Config, size: usize) -> anyhow::Result<Pool> {
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
        .max_size(size)
        .timeouts(timeouts)
        .runtime(Runtime::Tokio1)
        .build()?)
}

/// A pooled connection; the wait is measured for `/metrics`.
pub async fn conn(pool: &Pool) -> Result<deadpool_postgres::Object, deadpool_postgres::PoolError> {
    let started = std::time::Instant::now();
    let conn = pool.get().await;
    metrics::histogram!("andon_db_pool_wait_seconds").record(started.elapsed().as_secs_f64());
    conn
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
