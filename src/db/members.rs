//! Room members. `rooms.member_count` moves in the same statements.

use andon_actors::permissions::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::GenericClient;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub user_id: String,
    pub role: Role,
    /// `None` for someone added by e-mail who has not logged in yet.
    pub display_name: Option<String>,
    pub pending: bool,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    pub last_read_seq: i64,
}

fn role(s: &str) -> Role {
    // The table's CHECK constraint admits only these three.
    Role::parse(s).unwrap_or(Role::Viewer)
}

pub async fn role_of(client: &impl GenericClient, room: Uuid, user: &str) -> Result<Option<Role>> {
    let stmt = client
        .prepare_cached("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&room, &user])
        .await?
        .map(|r| role(r.get(0))))
}

/// Adds a member; false if they already are one.
pub async fn add(
    tx: &impl GenericClient,
    room: Uuid,
    user: &str,
    new_role: Role,
    added_by: &str,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "WITH added AS (
                 -- Someone added again keeps their earlier messages in the room
                 -- out of their unread count (V7).
                 INSERT INTO room_members (room_id, user_id, role, added_by, sent_count)
                 VALUES ($1, $2, $3, $4, (SELECT count(*) FROM messages
                                          WHERE room_id = $1 AND sender = $2))
                 ON CONFLICT DO NOTHING RETURNING 1
             )
             UPDATE rooms SET member_count = member_count + (SELECT count(*) FROM added)
             WHERE id = $1 RETURNING (SELECT count(*) FROM added)",
        )
        .await?;
    let row = tx
        .query_one(&stmt, &[&room, &user, &new_role.as_str(), &added_by])
        .await?;
    Ok(row.get::<_, i64>(0) == 1)
}

/// Changes a role; returns the previous one (`None`: not a member).
pub async fn set_role(
    tx: &impl GenericClient,
    room: Uuid,
    user: &str,
    new_role: Role,
) -> Result<Option<Role>> {
    let stmt = tx
        .prepare_cached(
            "UPDATE room_members m SET role = $3
             FROM (SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2 FOR UPDATE) old
             WHERE m.room_id = $1 AND m.user_id = $2
             RETURNING old.role",
        )
        .await?;
    Ok(tx
        .query_opt(&stmt, &[&room, &user, &new_role.as_str()])
        .await?
        .map(|r| role(r.get(0))))
}

/// Removes a member; returns the role they had.
pub async fn remove(tx: &impl GenericClient, room: Uuid, user: &str) -> Result<Option<Role>> {
    let stmt = tx
        .prepare_cached(
            "WITH gone AS (
                 DELETE FROM room_members WHERE room_id = $1 AND user_id = $2 RETURNING role
             ), counted AS (
                 UPDATE rooms SET member_count = member_count - (SELECT count(*) FROM gone)
                 WHERE id = $1
             )
             SELECT role FROM gone",
        )
        .await?;
    Ok(tx
        .query_opt(&stmt, &[&room, &user])
        .await?
        .map(|r| role(r.get(0))))
}

pub async fn list(client: &impl GenericClient, room: Uuid) -> Result<Vec<Member>> {
    let stmt = client
        .prepare_cached(
            "SELECT m.user_id, m.role, u.display_name, m.added_by, m.added_at, m.last_read_seq
             FROM room_members m LEFT JOIN users u ON u.id = m.user_id
             WHERE m.room_id = $1
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END,
                      coalesce(u.display_name, m.user_id)",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&room])
        .await?
        .iter()
        .map(|r| {
            let display_name: Option<String> = r.get(2);
            Member {
                user_id: r.get(0),
                role: role(r.get(1)),
                pending: display_name.is_none(),
                display_name,
                added_by: r.get(3),
                added_at: r.get(4),
                last_read_seq: r.get(5),
            }
        })
        .collect())
}
