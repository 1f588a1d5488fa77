//! The audit log: every action a system administrator took that their room role
//! would not have allowed (PRODUCT.md A8).

use serde_json::Value;
use uuid::Uuid;

use super::GenericClient;

pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub room_id: Option<Uuid>,
    pub target: Option<&'a str>,
    pub details: Value,
}

pub async fn record(
    client: &impl GenericClient,
    e: &Entry<'_>,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO audit_log (actor, action, room_id, target, details) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[&e.actor, &e.action, &e.room_id, &e.target, &e.details],
        )
        .await?;
    Ok(())
}
