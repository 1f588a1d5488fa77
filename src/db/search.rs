//! Message search (`migrations/V15__message_search.sql`) and edit histories.
//!
//! A hit is a message whose lower-cased content contains the lower-cased query:
//! a plain substring test, correct in any script ("馬" inside "三號線馬達過熱停機").
//! Deleted messages are never searched. Queries of [`TRIGRAM_MIN`] characters or
//! more are written as `LIKE`, which the trigram index answers; shorter ones have
//! no trigram to look up and are written as `strpos`, which the index cannot
//! serve, so that PostgreSQL walks the room's messages newest first by
//! `(room_id, seq)` and stops once the page is full instead of reading the whole
//! index.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use super::users::escape_like;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// The shortest query the trigram index can answer.
pub const TRIGRAM_MIN: usize = 3;

/// One message found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = MessageHit)]
pub struct Hit {
    pub room_id: Uuid,
    /// The room's title (in the answers of the search across rooms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_title: Option<String>,
    pub message_id: Uuid,
    pub seq: i64,
    pub sender: String,
    pub sender_name: String,
    pub message_type: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// The content condition on `m.content` for `q` bound as `$n`, and the value to bind.
fn matcher(q: &str, n: usize) -> (String, String) {
    if q.chars().count() >= TRIGRAM_MIN {
        (
            format!("lower(m.content) LIKE lower(${n}) ESCAPE '\\'"),
            format!("%{}%", escape_like(q)),
        )
    } else {
        (
            format!("strpos(lower(m.content), lower(${n})) > 0"),
            q.to_string(),
        )
    }
}

const HIT_COLUMNS: &str = "m.room_id, m.id, m.seq, m.sender, m.sender_name, m.message_type, \
                           m.content, m.created_at, m.edited_at";

fn hit(row: &Row, with_title: bool) -> Hit {
    Hit {
        room_id: row.get(0),
        message_id: row.get(1),
        seq: row.get(2),
        sender: row.get(3),
        sender_name: row.get(4),
        message_type: row.get(5),
        content: row.get(6),
        created_at: row.get(7),
        edited_at: row.get(8),
        room_title: with_title.then(|| row.get(9)),
    }
}

/// Up to `limit` hits in one room, newest (highest seq) first, below `before_seq`
/// when given; and whether more lie beyond.
pub async fn in_room(
    client: &impl GenericClient,
    room: Uuid,
    q: &str,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<(Vec<Hit>, bool)> {
    let (cond, value) = matcher(q, 2);
    let sql = format!(
        "SELECT {HIT_COLUMNS} FROM messages m
         WHERE m.room_id = $1 AND m.deleted_at IS NULL AND {cond}
           AND m.seq < $3
         ORDER BY m.seq DESC LIMIT $4"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client
        .query(
            &stmt,
            &[&room, &value, &before_seq.unwrap_or(i64::MAX), &(limit + 1)],
        )
        .await?;
    let more = rows.len() as i64 > limit;
    Ok((
        rows.iter()
            .take(limit as usize)
            .map(|r| hit(r, false))
            .collect(),
        more,
    ))
}

/// Where a page of the search across rooms starts: below this message in the
/// order (created_at DESC, id DESC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// `<microseconds since 1970>_<message id>`: opaque to clients, who pass back
    /// the `next_before` of the previous page.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_at.timestamp_micros(), self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (micros, id) = s.split_once('_')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// Up to `limit` hits across the rooms `viewer` may read (every room for an
/// administrator, the rooms they are a member of otherwise), newest first, below
/// `before` when given; and whether more lie beyond.
pub async fn across_rooms(
    client: &impl GenericClient,
    viewer: &str,
    viewer_is_admin: bool,
    q: &str,
    before: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<Hit>, bool)> {
    let (cond, value) = matcher(q, 2);
    let readable = if viewer_is_admin {
        "$1::text IS NOT NULL"
    } else {
        "EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = m.room_id AND rm.user_id = $1)"
    };
    let sql = format!(
        "SELECT {HIT_COLUMNS}, r.title FROM messages m JOIN rooms r ON r.id = m.room_id
         WHERE m.deleted_at IS NULL AND {cond} AND {readable}
           AND (m.created_at, m.id) < ($3, $4)
         ORDER BY m.created_at DESC, m.id DESC LIMIT $5"
    );
    let (at, id) = match before {
        Some(c) => (c.created_at, c.id),
        // Past every message: created_at is never in the year 9999.
        None => (DateTime::<Utc>::MAX_UTC.with_timezone(&Utc), Uuid::max()),
    };
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client
        .query(&stmt, &[&viewer, &value, &at, &id, &(limit + 1)])
        .await?;
    let more = rows.len() as i64 > limit;
    Ok((
        rows.iter()
            .take(limit as usize)
            .map(|r| hit(r, true))
            .collect(),
        more,
    ))
}

/// Those of `rooms` that `user` is a member of.
pub async fn member_of(
    client: &impl GenericClient,
    user: &str,
    rooms: &[Uuid],
) -> Result<Vec<Uuid>> {
    let stmt = client
        .prepare_cached("SELECT room_id FROM room_members WHERE user_id = $1 AND room_id = ANY($2)")
        .await?;
    Ok(client
        .query(&stmt, &[&user, &rooms])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// One earlier version of an edited message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditVersion {
    /// 1 for the text as first sent.
    pub version: i32,
    pub content: String,
    /// When this text was written: the message's `created_at` for version 1,
    /// otherwise when the version before it was replaced.
    pub written_at: DateTime<Utc>,
    /// When an edit replaced it.
    pub replaced_at: DateTime<Utc>,
}

/// The earlier versions of `message` (oldest first), given its `created_at`.
pub async fn edits(
    client: &impl GenericClient,
    message: Uuid,
    created_at: DateTime<Utc>,
) -> Result<Vec<EditVersion>> {
    let stmt = client
        .prepare_cached(
            "SELECT version, content, replaced_at FROM message_edits
             WHERE message_id = $1 ORDER BY version",
        )
        .await?;
    let mut written_at = created_at;
    let mut out = Vec::new();
    for row in client.query(&stmt, &[&message]).await? {
        let replaced_at: DateTime<Utc> = row.get(2);
        out.push(EditVersion {
            version: row.get(0),
            content: row.get(1),
            written_at,
            replaced_at,
        });
        written_at = replaced_at;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "123", "x_y", "12_not-a-uuid", &format!("abc_{}", c.id)] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn short_queries_avoid_the_trigram_index_and_long_ones_are_escaped() {
        let (cond, value) = matcher("過熱", 2);
        assert!(cond.starts_with("strpos"), "{cond}");
        assert_eq!(value, "過熱");
        let (cond, value) = matcher("50%_\\x", 2);
        assert!(cond.contains("LIKE"), "{cond}");
        assert_eq!(value, "%50\\%\\_\\\\x%");
    }
}
