//! The room event log. [`append`] assigns the next sequence number from the room's
//! counter row inside the caller's transaction: the `UPDATE` takes the row lock, so
//! concurrent writers to one room queue up and numbers stay gap-free and strictly
//! increasing, on one node or several.

use andon_actors::realtime::EventKind;
pub use andon_actors::realtime::StoredEvent as Event;
use serde_json::Value;
use uuid::Uuid;

use super::GenericClient;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// Takes the next `n` sequence numbers of the room (under its row lock, until the
/// transaction ends); returns the first. For changes whose event data must carry
/// its own seq (a message), written afterwards with [`insert`].
pub async fn reserve(tx: &impl GenericClient, room_id: Uuid, n: i64) -> Result<i64> {
    let stmt = tx
        .prepare_cached(
            "UPDATE rooms SET head_seq = head_seq + $2, last_activity_at = now()
             WHERE id = $1 RETURNING head_seq",
        )
        .await?;
    let head: i64 = tx.query_one(&stmt, &[&room_id, &n]).await?.get(0);
    Ok(head - n + 1)
}

/// Writes an event whose seq was [`reserve`]d.
pub async fn insert(tx: &impl GenericClient, e: &Event) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO room_events (room_id, seq, kind, actor, at, data) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&e.room_id, &e.seq, &e.kind, &e.actor, &e.at, &e.data],
    )
    .await?;
    Ok(())
}

/// Writes one event; the room's `head_seq` and `last_activity_at` move with it.
pub async fn append(
    tx: &impl GenericClient,
    room_id: Uuid,
    kind: EventKind,
    actor: &str,
    data: Value,
) -> Result<Event> {
    let stmt = tx
        .prepare_cached(
            "WITH bumped AS (
                 UPDATE rooms SET head_seq = head_seq + 1, last_activity_at = now()
                 WHERE id = $1 RETURNING head_seq
             )
             INSERT INTO room_events (room_id, seq, kind, actor, data)
             SELECT $1, head_seq, $2, $3, $4 FROM bumped
             RETURNING seq, at",
        )
        .await?;
    let row = tx
        .query_one(&stmt, &[&room_id, &kind.as_str(), &actor, &data])
        .await?;
    Ok(Event {
        room_id,
        seq: row.get(0),
        kind: kind.into(),
        at: row.get(1),
        actor: actor.to_string(),
        data,
    })
}

/// Events with `after_seq < seq`, oldest first, at most `limit`.
pub async fn list(
    client: &impl GenericClient,
    room_id: Uuid,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Event>> {
    Ok(page(client, room_id, after_seq, limit)
        .await?
        .iter()
        .map(|r| event_of(room_id, r))
        .collect())
}

/// An event of `room_id` from a row of `seq, kind, at, actor, data`.
fn event_of(room_id: Uuid, r: &tokio_postgres::Row) -> Event {
    Event {
        room_id,
        seq: r.get(0),
        kind: r.get(1),
        at: r.get(2),
        actor: r.get(3),
        data: r.get(4),
    }
}

/// The kinds that change a message and show as that message, not as a line of
/// their own in the conversation.
pub const MESSAGE_KINDS: [EventKind; 5] = [
    EventKind::MessageCreated,
    EventKind::MessageEdited,
    EventKind::MessageDeleted,
    EventKind::ReactionAdded,
    EventKind::ReactionRemoved,
];

/// The events other than [`MESSAGE_KINDS`] with `after < seq < before`, oldest
/// first: the newest `limit` of them when there are more.
pub async fn system_between(
    client: &impl GenericClient,
    room_id: Uuid,
    after: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<Event>> {
    let stmt = client
        .prepare_cached(
            "SELECT seq, kind, at, actor, data FROM room_events
             WHERE room_id = $1 AND seq > $2 AND seq < $3 AND kind <> ALL($4)
             ORDER BY seq DESC LIMIT $5",
        )
        .await?;
    let skip: Vec<&str> = MESSAGE_KINDS.iter().map(|k| k.as_str()).collect();
    let rows = client
        .query(&stmt, &[&room_id, &after, &before, &skip, &limit])
        .await?;
    Ok(rows.iter().rev().map(|r| event_of(room_id, r)).collect())
}

/// An event read back for a replay, ready to send: its frame and what the socket
/// needs to know of it.
pub struct ReplayEvent {
    pub seq: i64,
    pub frame: bytestring::ByteString,
    pub meta: std::sync::Arc<andon_actors::realtime::messages::EventMeta>,
}

/// Like [`list`], as frames, and at most about `max_bytes` of frames (the first
/// event always, however large): a replay page's memory is bounded in bytes, not
/// only in events. Rows are taken as they arrive and the stream is dropped once the
/// page is full, so what PostgreSQL sent beyond it is discarded unread, never held.
/// (Cutting the page in SQL with a running sum of the sizes cost a 10,000-event
/// resume half again its time: 90 → 137 ms, docs/BENCHMARKS.md.)
///
/// The stored JSON text (`json`, kept as written) goes into the frame as it is,
/// never parsed into a tree and written out again: on a 10,000-event resume that
/// was a third of the server's work.
pub async fn list_frames(
    client: &impl GenericClient,
    room_id: Uuid,
    after_seq: i64,
    limit: i64,
    max_bytes: usize,
) -> Result<Vec<ReplayEvent>> {
    use andon_actors::realtime::{event_frame_text, messages::EventMeta};
    use futures_util::TryStreamExt;
    use tokio_postgres::types::{Json, ToSql};
    let stmt = client.prepare_cached(PAGE).await?;
    let params: [&(dyn ToSql + Sync); 3] = [&room_id, &after_seq, &limit];
    let rows = client.query_raw(&stmt, params).await?;
    futures_util::pin_mut!(rows);
    let mut page = Vec::new();
    let mut bytes = 0;
    while bytes < max_bytes
        && let Some(r) = rows.try_next().await?
    {
        let (seq, kind, actor): (i64, &str, &str) = (r.get(0), r.get(1), r.get(3));
        let Json(data): Json<&serde_json::value::RawValue> = r.get(4);
        let frame: bytestring::ByteString =
            event_frame_text(room_id, seq, kind, &r.get(2), actor, data).into();
        bytes += frame.len();
        page.push(ReplayEvent {
            seq,
            frame,
            meta: std::sync::Arc::new(EventMeta::from_json(seq, kind, actor, data.get())),
        });
    }
    Ok(page)
}

const PAGE: &str = "SELECT seq, kind, at, actor, data FROM room_events
                    WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/// The rows of [`list`]: seq, kind, at, actor, data.
async fn page(
    client: &impl GenericClient,
    room_id: Uuid,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<tokio_postgres::Row>> {
    let stmt = client.prepare_cached(PAGE).await?;
    client.query(&stmt, &[&room_id, &after_seq, &limit]).await
}
