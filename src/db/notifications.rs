//! Users' notification inboxes and their settings (issue 19).

use andon_actors::realtime::{Notification, NotificationKind};
use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use crate::notifications::{NewNotification, Settings};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

const COLUMNS: &str = "n.id, n.kind, n.room_id, r.title, n.seq, n.actor, n.actor_name, \
                       n.text, n.created_at, n.read_at";

fn notification(row: &Row) -> Notification {
    Notification {
        id: row.get(0),
        // The table's CHECK constraint admits only the four kinds.
        kind: NotificationKind::parse(row.get(1)).unwrap_or(NotificationKind::Added),
        room_id: row.get(2),
        room_title: row.get(3),
        seq: row.get(4),
        actor: row.get(5),
        actor_name: row.get(6),
        text: row.get(7),
        created_at: row.get(8),
        read_at: row.get(9),
    }
}

/// Stores a notification; as listed, with its room's title.
#[tracing::instrument(skip_all, fields(user = %new.user_id, room_id = %new.room_id))]
pub async fn insert(client: &impl GenericClient, new: &NewNotification) -> Result<Notification> {
    let stmt = client
        .prepare_cached(&format!(
            "WITH n AS (
                 INSERT INTO notifications (id, user_id, kind, room_id, seq, actor, actor_name, text)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
             )
             SELECT {COLUMNS} FROM n JOIN rooms r ON r.id = n.room_id"
        ))
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &Uuid::new_v4(),
                &new.user_id,
                &new.kind.as_str(),
                &new.room_id,
                &new.seq,
                &new.actor,
                &new.actor_name,
                &new.text,
            ],
        )
        .await?;
    Ok(notification(&row))
}

/// `user`'s notifications created before `before` (all if `None`), newest first.
pub async fn list(
    client: &impl GenericClient,
    user: &str,
    unread_only: bool,
    before: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<Notification>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM notifications n JOIN rooms r ON r.id = n.room_id
             WHERE n.user_id = $1 AND (NOT $2 OR n.read_at IS NULL)
               AND ($3::timestamptz IS NULL OR n.created_at < $3)
             ORDER BY n.created_at DESC, n.id DESC LIMIT $4"
        ))
        .await?;
    let rows = client
        .query(&stmt, &[&user, &unread_only, &before, &limit])
        .await?;
    Ok(rows.iter().map(notification).collect())
}

pub async fn unread_count(client: &impl GenericClient, user: &str) -> Result<i64> {
    let stmt = client
        .prepare_cached("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .await?;
    Ok(client.query_one(&stmt, &[&user]).await?.get(0))
}

/// Marks `user`'s notifications among `ids` read (`None`: all of them); ids of
/// other users' notifications change nothing.
pub async fn mark_read(
    client: &impl GenericClient,
    user: &str,
    ids: Option<&[Uuid]>,
) -> Result<u64> {
    let stmt = client
        .prepare_cached(
            "UPDATE notifications SET read_at = now()
             WHERE user_id = $1 AND read_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2))",
        )
        .await?;
    client.execute(&stmt, &[&user, &ids]).await
}

/// `user`'s settings (the defaults if they never set any); stored settings that
/// do not read are the defaults too, logged.
pub async fn settings(client: &impl GenericClient, user: &str) -> Result<Settings> {
    let stmt = client
        .prepare_cached("SELECT ring, quiet_hours FROM user_settings WHERE user_id = $1")
        .await?;
    let Some(row) = client.query_opt(&stmt, &[&user]).await? else {
        return Ok(Settings::default());
    };
    let ring: serde_json::Value = row.get(0);
    let quiet: Option<serde_json::Value> = row.get(1);
    let stored = serde_json::json!({ "ring": ring, "quiet_hours": quiet });
    Ok(serde_json::from_value(stored).unwrap_or_else(|e| {
        tracing::warn!(%user, error = %e, "unreadable user settings: the defaults apply");
        Settings::default()
    }))
}

pub async fn put_settings(client: &impl GenericClient, user: &str, s: &Settings) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO user_settings (user_id, ring, quiet_hours) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE
             SET ring = $2, quiet_hours = $3, updated_at = now()",
        )
        .await?;
    // Plain structs of booleans and times: they always serialize.
    let ring = serde_json::to_value(s.ring).unwrap_or_default();
    let quiet = s
        .quiet_hours
        .map(|q| serde_json::to_value(q).unwrap_or_default());
    client.execute(&stmt, &[&user, &ring, &quiet]).await?;
    Ok(())
}

/// A `mentioned` notification to write with a send batch: `user_id` was
/// mentioned in the message at `seq` of `room_id` by `actor` (`actor_name`).
pub struct Mention<'a> {
    pub user_id: &'a str,
    pub room_id: Uuid,
    pub seq: i64,
    pub actor: &'a str,
    pub actor_name: &'a str,
}

/// Stores the `mentioned` notifications of a send batch in one statement; each
/// with its user, as listed, with its room's title, in no particular order.
pub async fn insert_mentions(
    client: &impl GenericClient,
    mentions: &[Mention<'_>],
) -> Result<Vec<(String, Notification)>> {
    let stmt = client
        .prepare_cached(&format!(
            "WITH n AS (
                 INSERT INTO notifications (id, user_id, kind, room_id, seq, actor, actor_name, text)
                 SELECT b.id, b.user_id, 'mentioned', b.room_id, b.seq, b.actor, b.actor_name,
                        b.actor_name || ' mentioned you in ' || r.title
                 FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bigint[], $5::text[],
                             $6::text[]) AS b(id, user_id, room_id, seq, actor, actor_name)
                 JOIN rooms r ON r.id = b.room_id
                 RETURNING *
             )
             SELECT {COLUMNS}, n.user_id FROM n JOIN rooms r ON r.id = n.room_id"
        ))
        .await?;
    let ids: Vec<Uuid> = mentions.iter().map(|_| Uuid::new_v4()).collect();
    let users: Vec<&str> = mentions.iter().map(|m| m.user_id).collect();
    let rooms: Vec<Uuid> = mentions.iter().map(|m| m.room_id).collect();
    let seqs: Vec<i64> = mentions.iter().map(|m| m.seq).collect();
    let actors: Vec<&str> = mentions.iter().map(|m| m.actor).collect();
    let names: Vec<&str> = mentions.iter().map(|m| m.actor_name).collect();
    let rows = client
        .query(&stmt, &[&ids, &users, &rooms, &seqs, &actors, &names])
        .await?;
    Ok(rows
        .iter()
        .map(|row| (row.get(10), notification(row)))
        .collect())
}

/// The settings of each of `users` who stored some; the others have the
/// defaults.
pub async fn settings_of(
    client: &impl GenericClient,
    users: &[&str],
) -> Result<std::collections::HashMap<String, Settings>> {
    let stmt = client
        .prepare_cached(
            "SELECT user_id, ring, quiet_hours FROM user_settings WHERE user_id = ANY($1)",
        )
        .await?;
    let rows = client.query(&stmt, &[&users]).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let user: String = row.get(0);
            let ring: serde_json::Value = row.get(1);
            let quiet: Option<serde_json::Value> = row.get(2);
            let stored = serde_json::json!({ "ring": ring, "quiet_hours": quiet });
            let settings = serde_json::from_value(stored).unwrap_or_else(|e| {
                tracing::warn!(%user, error = %e, "unreadable user settings: the defaults apply");
                Settings::default()
            });
            (user, settings)
        })
        .collect())
}
