//! Messages, their edit history and reactions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ReactionGroup {
    pub emoji: String,
    pub users: Vec<String>,
}

/// The Message object of the API and of `message.created` events.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub sender: String,
    pub sender_name: String,
    pub message_type: String,
    pub content: String,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    pub reactions: Vec<ReactionGroup>,
    /// The attached file of a `file_ref` or `image_ref` message.
    #[schema(value_type = Option<crate::db::files::FileView>)]
    pub file: Option<Value>,
    /// Pinned to the room (`message.pinned`).
    pub pinned: bool,
}

const COLUMNS: &str = "id, room_id, seq, sender, sender_name, message_type, content, metadata, \
                       client_id, created_at, edited_at, deleted_at";

fn from_row(row: &Row) -> MessageView {
    let deleted = row.get::<_, Option<DateTime<Utc>>>(11).is_some();
    MessageView {
        id: row.get(0),
        room_id: row.get(1),
        seq: row.get(2),
        sender: row.get(3),
        sender_name: row.get(4),
        message_type: row.get(5),
        // A deleted message's content stays in the database for the record but is
        // never shown again.
        content: if deleted { String::new() } else { row.get(6) },
        metadata: if deleted {
            Value::Object(Default::default())
        } else {
            // Kept as written since V8; a row from before that the JSON reader
            // refuses shows empty metadata rather than failing the whole page.
            row.try_get(7).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "unreadable message metadata");
                Value::Object(Default::default())
            })
        },
        client_id: row.get(8),
        created_at: row.get(9),
        edited_at: row.get(10),
        deleted,
        reactions: Vec::new(),
        file: None,
        pinned: false,
    }
}

/// Fills in reactions, files and pins for a page of messages (three queries).
async fn with_reactions(
    client: &impl GenericClient,
    mut list: Vec<MessageView>,
) -> Result<Vec<MessageView>> {
    if list.is_empty() {
        return Ok(list);
    }
    let ids: Vec<Uuid> = list.iter().map(|m| m.id).collect();
    for file in super::files::of_messages(client, &ids).await? {
        if let Some(m) = list
            .iter_mut()
            .find(|m| Some(m.id) == file.message_id && !m.deleted)
        {
            m.file = Some(serde_json::to_value(&file).unwrap_or_default());
        }
    }
    let stmt = client
        .prepare_cached(
            "SELECT message_id, emoji, array_agg(user_id ORDER BY created_at)
             FROM reactions WHERE message_id = ANY($1)
             GROUP BY message_id, emoji ORDER BY min(created_at)",
        )
        .await?;
    let mut by_message: HashMap<Uuid, Vec<ReactionGroup>> = HashMap::new();
    for row in client.query(&stmt, &[&ids]).await? {
        by_message
            .entry(row.get(0))
            .or_default()
            .push(ReactionGroup {
                emoji: row.get(1),
                users: row.get(2),
            });
    }
    for m in &mut list {
        m.reactions = by_message.remove(&m.id).unwrap_or_default();
    }
    let pinned = super::pins::pinned_of(client, &ids).await?;
    for m in &mut list {
        m.pinned = pinned.contains(&m.id);
    }
    Ok(list)
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy)]
pub enum PageAt {
    Before(i64),
    After(i64),
    Latest,
}

/// A page of messages in ascending `seq`, and whether more lie beyond it.
pub async fn page(
    client: &impl GenericClient,
    room: Uuid,
    at: PageAt,
    limit: i64,
) -> Result<(Vec<MessageView>, bool)> {
    let (condition, order, bound) = match at {
        PageAt::Before(s) => ("AND seq < $2", "DESC", s),
        PageAt::After(s) => ("AND seq > $2", "ASC", s),
        PageAt::Latest => ("AND $2::bigint IS NOT NULL", "DESC", 0),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE room_id = $1 {condition} ORDER BY seq {order} LIMIT $3"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client.query(&stmt, &[&room, &bound, &(limit + 1)]).await?;
    let has_more = rows.len() as i64 > limit;
    let mut list: Vec<MessageView> = rows.iter().take(limit as usize).map(from_row).collect();
    if order == "DESC" {
        list.reverse();
    }
    Ok((with_reactions(client, list).await?, has_more))
}

/// A page of up to `limit` messages in ascending `seq` around `seq`: up to half
/// of them below it, the rest from it on (the message at `seq`, when there is
/// one, is in the page); and whether older and newer messages lie beyond it.
pub async fn around(
    client: &impl GenericClient,
    room: Uuid,
    seq: i64,
    limit: i64,
) -> Result<(Vec<MessageView>, bool, bool)> {
    let older_n = limit / 2;
    let newer_n = limit - older_n;
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let older = client.query(&stmt, &[&room, &seq, &(older_n + 1)]).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND seq >= $2 ORDER BY seq ASC LIMIT $3"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let newer = client.query(&stmt, &[&room, &seq, &(newer_n + 1)]).await?;
    let has_older = older.len() as i64 > older_n;
    let has_newer = newer.len() as i64 > newer_n;
    let mut list: Vec<MessageView> = older.iter().take(older_n as usize).map(from_row).collect();
    list.reverse();
    list.extend(newer.iter().take(newer_n as usize).map(from_row));
    Ok((with_reactions(client, list).await?, has_older, has_newer))
}

pub async fn get(client: &impl GenericClient, room: Uuid, id: Uuid) -> Result<Option<MessageView>> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND id = $2");
    let stmt = client.prepare_cached(&sql).await?;
    match client.query_opt(&stmt, &[&room, &id]).await? {
        Some(row) => Ok(with_reactions(client, vec![from_row(&row)]).await?.pop()),
        None => Ok(None),
    }
}

/// The messages of the room with these ids (any order).
pub async fn by_ids(
    client: &impl GenericClient,
    room: Uuid,
    ids: &[Uuid],
) -> Result<Vec<MessageView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND id = ANY($2)");
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client.query(&stmt, &[&room, &ids]).await?;
    with_reactions(client, rows.iter().map(from_row).collect()).await
}

/// Locks the message row for an edit or delete.
pub async fn lock(tx: &impl GenericClient, room: Uuid, id: Uuid) -> Result<Option<MessageView>> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND id = $2 FOR UPDATE");
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx
        .query_opt(&stmt, &[&room, &id])
        .await?
        .as_ref()
        .map(from_row))
}

/// Keeps the current content as a numbered earlier version, then replaces it.
pub async fn edit(tx: &impl GenericClient, id: Uuid, content: &str) -> Result<DateTime<Utc>> {
    let stmt = tx
        .prepare_cached(
            "WITH old AS (
                 INSERT INTO message_edits (message_id, version, content)
                 SELECT id, (SELECT count(*) + 1 FROM message_edits WHERE message_id = $1), content
                 FROM messages WHERE id = $1
             )
             UPDATE messages SET content = $2, edited_at = now() WHERE id = $1 RETURNING edited_at",
        )
        .await?;
    Ok(tx.query_one(&stmt, &[&id, &content]).await?.get(0))
}

/// Soft delete; the content of the message's events is blanked so that replays no
/// longer show it.
pub async fn soft_delete(tx: &impl GenericClient, room: Uuid, id: Uuid, by: &str) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE messages SET deleted_at = now(), deleted_by = $2 WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&id, &by]).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE room_events SET data = (data::jsonb || '{\"content\": \"\", \"metadata\": {}}')::json
             WHERE room_id = $1 AND kind = 'message.created' AND data->>'id' = $2::text
                OR room_id = $1 AND kind = 'message.edited' AND data->>'message_id' = $2::text",
        )
        .await?;
    tx.execute(&stmt, &[&room, &id.to_string()]).await?;
    Ok(())
}

/// Inserts one message whose seq was reserved (uploads; sends go through the batch
/// writer).
pub async fn insert(tx: &impl GenericClient, m: &MessageView) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            // With the counters unread counts are computed from (V7).
            "WITH counted AS (
                 UPDATE rooms SET message_count = message_count + 1 WHERE id = $2
             ), sent AS (
                 UPDATE room_members SET sent_count = sent_count + 1
                 WHERE room_id = $2 AND user_id = $4
             )
             INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type, content,
                                   metadata, client_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &m.id,
            &m.room_id,
            &m.seq,
            &m.sender,
            &m.sender_name,
            &m.message_type,
            &m.content,
            &m.metadata,
            &m.client_id,
            &m.created_at,
        ],
    )
    .await?;
    Ok(())
}

/// Adds or removes a reaction; true when something changed.
pub async fn react(
    tx: &impl GenericClient,
    message: Uuid,
    user: &str,
    emoji: &str,
    add: bool,
) -> Result<bool> {
    let sql = if add {
        "INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3"
    };
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&stmt, &[&message, &user, &emoji]).await? > 0)
}

/// Moves a member's read marker forward (never back, never past the head);
/// `None` when the user is not a member.
pub async fn mark_read(
    client: &impl GenericClient,
    room: Uuid,
    user: &str,
    seq: i64,
) -> Result<Option<i64>> {
    let stmt = client
        .prepare_cached(
            // The marker moves from `old` to `new`; the messages in between, and the
            // member's own among them, move into the read counters (V7).
            "WITH cur AS (
                 SELECT m.last_read_seq AS old,
                        GREATEST(m.last_read_seq, LEAST($3, r.head_seq)) AS new
                 FROM room_members m JOIN rooms r ON r.id = m.room_id
                 WHERE m.room_id = $1 AND m.user_id = $2
                 FOR UPDATE OF m
             ), delta AS (
                 SELECT count(*) AS n, count(*) FILTER (WHERE x.sender = $2) AS own
                 FROM cur, messages x
                 WHERE x.room_id = $1 AND x.seq > cur.old AND x.seq <= cur.new
             ), moved AS (
                 UPDATE room_members m SET last_read_seq = cur.new,
                        read_count = m.read_count + delta.n,
                        read_sent_count = m.read_sent_count + delta.own
                 FROM cur, delta
                 WHERE m.room_id = $1 AND m.user_id = $2 AND cur.new > cur.old
             )
             SELECT new FROM cur",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&room, &user, &seq])
        .await?
        .map(|r| r.get(0)))
}
