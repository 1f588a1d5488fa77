//! Pinned messages: one row per pinned message, in the order of its
//! `message.pinned` event.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::GenericClient;
use super::messages::{self, MessageView};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// Pins a room may hold at once.
pub const PINS_MAX: i64 = 50;

/// A pinned message, as `GET /api/rooms/{id}/pins` lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PinView {
    /// The seq of the `message.pinned` event: the pin order.
    pub seq: i64,
    pub pinned_by: String,
    /// The pinner's display name when they have logged in.
    pub pinned_by_name: Option<String>,
    pub pinned_at: DateTime<Utc>,
    pub message: MessageView,
}

/// Whether the message is pinned.
pub async fn is_pinned(client: &impl GenericClient, message: Uuid) -> Result<bool> {
    let stmt = client
        .prepare_cached("SELECT 1 FROM message_pins WHERE message_id = $1")
        .await?;
    Ok(client.query_opt(&stmt, &[&message]).await?.is_some())
}

/// How many messages of the room are pinned.
pub async fn count(client: &impl GenericClient, room: Uuid) -> Result<i64> {
    let stmt = client
        .prepare_cached("SELECT count(*) FROM message_pins WHERE room_id = $1")
        .await?;
    Ok(client.query_one(&stmt, &[&room]).await?.get(0))
}

/// Records a pin whose event has `seq`.
pub async fn add(
    client: &impl GenericClient,
    room: Uuid,
    message: Uuid,
    seq: i64,
    by: &str,
) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO message_pins (message_id, room_id, seq, pinned_by) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    client.execute(&stmt, &[&message, &room, &seq, &by]).await?;
    Ok(())
}

/// Takes a pin off; true when there was one.
pub async fn remove(client: &impl GenericClient, message: Uuid) -> Result<bool> {
    let stmt = client
        .prepare_cached("DELETE FROM message_pins WHERE message_id = $1")
        .await?;
    Ok(client.execute(&stmt, &[&message]).await? > 0)
}

/// Which of `ids` are pinned.
pub async fn pinned_of(client: &impl GenericClient, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    let stmt = client
        .prepare_cached("SELECT message_id FROM message_pins WHERE message_id = ANY($1)")
        .await?;
    Ok(client
        .query(&stmt, &[&ids])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The room's pinned messages, in pin order.
pub async fn list(client: &impl GenericClient, room: Uuid) -> Result<Vec<PinView>> {
    let stmt = client
        .prepare_cached(
            "SELECT p.message_id, p.seq, p.pinned_by, u.display_name, p.pinned_at
             FROM message_pins p LEFT JOIN users u ON u.id = p.pinned_by
             WHERE p.room_id = $1 ORDER BY p.seq",
        )
        .await?;
    let rows = client.query(&stmt, &[&room]).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.get(0)).collect();
    let mut found = messages::by_ids(client, room, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: Uuid = r.get(0);
        let Some(i) = found.iter().position(|m| m.id == id) else {
            continue;
        };
        out.push(PinView {
            seq: r.get(1),
            pinned_by: r.get(2),
            pinned_by_name: r.get(3),
            pinned_at: r.get(4),
            message: found.swap_remove(i),
        });
    }
    Ok(out)
}
