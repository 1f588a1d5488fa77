//! Embedded refinery migrations, run under a PostgreSQL advisory lock so that several
//! nodes starting at once apply them exactly once: the first takes the lock and
//! migrates, the others wait, then find nothing left to do.

use crate::config::DatabaseConfig;

refinery::embed_migrations!("migrations");

/// Arbitrary, fixed key for `pg_advisory_lock`: "andon" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x0061_6e64_6f6e;

/// Applies every pending migration; returns how many were applied.
pub async fn run(config: &DatabaseConfig) -> anyhow::Result<usize> {
    let mut client = super::connect(config).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = migrations::runner().run_async(&mut client).await;
    // Unlock even when migrating failed; closing the connection would release it too.
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    let report = result?;
    unlock?;
    for m in report.applied_migrations() {
        tracing::info!(version = m.version(), name = m.name(), "migration applied");
    }
    Ok(report.applied_migrations().len())
}
