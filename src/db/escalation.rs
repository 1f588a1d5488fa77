//! Escalation ladders and the rooms that climb them (`migrations/V13__escalation.sql`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::GenericClient;
use crate::domain::rooms::Severity;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// One level of a ladder, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LevelSpec {
    /// Seconds after the room's detection (creation) at which this level is
    /// reached if nobody acknowledged.
    pub after_secs: u64,
    /// Who is notified and added to the room as an editor (e-mails).
    pub notify: Vec<String>,
}

/// A severity's ladder.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub severity: Severity,
    pub levels: Vec<LevelSpec>,
    /// `None` while the severity has no ladder.
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The ladder of `severity` (no levels when none was set).
pub async fn get(client: &impl GenericClient, severity: Severity) -> Result<Policy> {
    let stmt = client
        .prepare_cached(
            "SELECT levels, updated_by, updated_at FROM escalation_policies WHERE severity = $1",
        )
        .await?;
    let row = client.query_opt(&stmt, &[&severity.as_str()]).await?;
    Ok(match row {
        None => Policy {
            severity,
            levels: Vec::new(),
            updated_by: None,
            updated_at: None,
        },
        Some(r) => Policy {
            severity,
            // Written only by `put` from validated levels.
            levels: serde_json::from_value(r.get(0)).unwrap_or_default(),
            updated_by: Some(r.get(1)),
            updated_at: Some(r.get(2)),
        },
    })
}

pub async fn put(
    client: &impl GenericClient,
    severity: Severity,
    levels: &[LevelSpec],
    by: &str,
) -> Result<Policy> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO escalation_policies (severity, levels, updated_by)
             VALUES ($1, $2, $3)
             ON CONFLICT (severity) DO UPDATE
                 SET levels = EXCLUDED.levels, updated_by = EXCLUDED.updated_by, updated_at = now()",
        )
        .await?;
    let json = serde_json::to_value(levels).unwrap_or_default();
    client
        .execute(&stmt, &[&severity.as_str(), &json, &by])
        .await?;
    get(client, severity).await
}

/// Active, unacknowledged rooms of a severity whose ladder has levels.
pub async fn open_rooms(
    client: &impl GenericClient,
) -> Result<Vec<(Uuid, String, DateTime<Utc>, i32)>> {
    let stmt = client
        .prepare_cached(
            "SELECT r.id, r.severity, r.created_at, r.escalation_level FROM rooms r
             JOIN escalation_policies p ON p.severity = r.severity
             WHERE r.status = 'active' AND r.acknowledged_at IS NULL
               AND jsonb_array_length(p.levels) > r.escalation_level",
        )
        .await?;
    Ok(client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

/// Moves the room (its row locked by the caller) to `level` if it has reached
/// exactly `level - 1`; false if it is elsewhere (another node got there).
pub async fn reach(client: &impl GenericClient, room: Uuid, level: u32) -> Result<bool> {
    let level = i32::try_from(level).unwrap_or(i32::MAX);
    let stmt = client
        .prepare_cached(
            "UPDATE rooms SET escalation_level = $2 WHERE id = $1 AND escalation_level = $2 - 1",
        )
        .await?;
    Ok(client.execute(&stmt, &[&room, &level]).await? == 1)
}
