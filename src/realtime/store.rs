//! PostgreSQL behind the actors' traits: the event log room actors read, and the
//! batch writer of group commit.

use std::collections::HashMap;

use andon_actors::permissions::{self, Action, Role};
use andon_actors::realtime::{
    BatchOutcome, BatchWriter, EventLog, SendAck, SendError, SendRequest, StoredEvent,
};
use andon_actors::session::BackendError;
use deadpool_postgres::Pool;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::events;
use crate::db::messages::MessageView;

pub struct PgEventLog {
    pub db: Pool,
}

/// Gap repairs read at most this many events at once.
const RANGE_PAGE: i64 = 10_000;

#[async_trait::async_trait]
impl EventLog for PgEventLog {
    async fn head(&self, room: Uuid) -> Result<Option<i64>, BackendError> {
        let client = self.db.get().await?;
        let stmt = client
            .prepare_cached("SELECT head_seq FROM rooms WHERE id = $1")
            .await?;
        Ok(client.query_opt(&stmt, &[&room]).await?.map(|r| r.get(0)))
    }

    async fn range(
        &self,
        room: Uuid,
        after: i64,
        upto: i64,
    ) -> Result<Vec<StoredEvent>, BackendError> {
        let client = self.db.get().await?;
        let limit = (upto - after).clamp(0, RANGE_PAGE);
        Ok(events::list(&client, room, after, limit).await?)
    }
}

pub struct PgBatchWriter {
    pub db: Pool,
}

type Key = (Uuid, String, String);

/// What the batch decided for one request before any sequence number exists.
enum Plan {
    Done(Result<SendAck, SendError>),
    /// Stored as the `n`-th new message.
    New(usize),
    /// Same client id as an earlier request of this batch.
    SameAs(usize),
}

#[async_trait::async_trait]
impl BatchWriter for PgBatchWriter {
    #[tracing::instrument(skip_all, fields(batch = batch.len()))]
    async fn write(&self, batch: &[SendRequest]) -> Result<BatchOutcome, BackendError> {
        let mut client = self.db.get().await?;
        let tx = client.transaction().await?;

        // 1. Retries: messages already stored under the same client id.
        let rooms: Vec<Uuid> = batch.iter().map(|r| r.room_id).collect();
        let senders: Vec<&str> = batch.iter().map(|r| r.sender.as_str()).collect();
        let client_ids: Vec<&str> = batch.iter().map(|r| r.client_id.as_str()).collect();
        let stmt = tx
            .prepare_cached(
                "SELECT m.room_id, m.sender, m.client_id, m.id, m.seq FROM messages m
                 JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS b(room_id, sender, client_id)
                   ON m.room_id = b.room_id AND m.sender = b.sender AND m.client_id = b.client_id",
            )
            .await?;
        let existing: HashMap<Key, (Uuid, i64)> = tx
            .query(&stmt, &[&rooms, &senders, &client_ids])
            .await?
            .iter()
            .map(|r| ((r.get(0), r.get(1), r.get(2)), (r.get(3), r.get(4))))
            .collect();

        // 2. Lock the rooms' counter rows, in id order so batches cannot deadlock.
        let mut distinct = rooms.clone();
        distinct.sort();
        distinct.dedup();
        let stmt = tx
            .prepare_cached(
                "SELECT id, status FROM rooms WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            )
            .await?;
        let status: HashMap<Uuid, String> = tx
            .query(&stmt, &[&distinct])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();

        // 3. The senders' roles, read under the lock: the permission check is exact.
        let stmt = tx
            .prepare_cached(
                "SELECT m.room_id, m.user_id, m.role FROM room_members m
                 JOIN unnest($1::uuid[], $2::text[]) AS b(room_id, user_id)
                   ON m.room_id = b.room_id AND m.user_id = b.user_id",
            )
            .await?;
        let roles: HashMap<(Uuid, String), Role> = tx
            .query(&stmt, &[&rooms, &senders])
            .await?
            .iter()
            .filter_map(|r| Some(((r.get(0), r.get(1)), Role::parse(r.get(2))?)))
            .collect();

        // 4. Decide each request.
        let mut plans = Vec::with_capacity(batch.len());
        let mut new: Vec<usize> = Vec::new();
        let mut first_of: HashMap<Key, usize> = HashMap::new();
        let mut audits: Vec<&SendRequest> = Vec::new();
        for (i, r) in batch.iter().enumerate() {
            let key = (r.room_id, r.sender.clone(), r.client_id.clone());
            if let Some((id, seq)) = existing.get(&key) {
                plans.push(Plan::Done(Ok(SendAck {
                    message_id: *id,
                    seq: *seq,
                    duplicate: true,
                })));
                continue;
            }
            if let Some(n) = first_of.get(&key) {
                plans.push(Plan::SameAs(*n));
                continue;
            }
            let role = roles.get(&(r.room_id, r.sender.clone())).copied();
            let verdict = match status.get(&r.room_id).map(String::as_str) {
                None => Err(SendError::NotFound),
                Some("archived") => Err(SendError::Forbidden(
                    "The room is archived and read-only".into(),
                )),
                Some(_) if permissions::allows(role, Action::Send) => Ok(()),
                Some(_) if r.sender_is_admin => {
                    audits.push(r);
                    Ok(())
                }
                Some(_) if role.is_none() => {
                    Err(SendError::Forbidden("Join the room first".into()))
                }
                Some(_) => Err(SendError::Forbidden("Viewers cannot send messages".into())),
            };
            match verdict {
                Ok(()) => {
                    first_of.insert(key, new.len());
                    plans.push(Plan::New(new.len()));
                    new.push(i);
                }
                Err(e) => plans.push(Plan::Done(Err(e))),
            }
        }

        // 5. Sequence numbers: each room's counter moves by its count of new messages.
        let mut counts: Vec<(Uuid, i64)> = Vec::new();
        for &i in &new {
            match counts
                .iter_mut()
                .find(|(room, _)| *room == batch[i].room_id)
            {
                Some((_, n)) => *n += 1,
                None => counts.push((batch[i].room_id, 1)),
            }
        }
        let mut next_seq: HashMap<Uuid, i64> = HashMap::new();
        if !counts.is_empty() {
            let (ids, ns): (Vec<Uuid>, Vec<i64>) = counts.iter().copied().unzip();
            let stmt = tx
                .prepare_cached(
                    "UPDATE rooms r SET head_seq = r.head_seq + b.n, last_activity_at = now()
                     FROM unnest($1::uuid[], $2::bigint[]) AS b(id, n) WHERE r.id = b.id
                     RETURNING r.id, r.head_seq",
                )
                .await?;
            for row in tx.query(&stmt, &[&ids, &ns]).await? {
                let (id, head): (Uuid, i64) = (row.get(0), row.get(1));
                let n = counts.iter().find(|(r, _)| *r == id).map_or(0, |(_, n)| *n);
                next_seq.insert(id, head - n + 1);
            }
        }

        // 6. Messages and their events, each in one multi-row insert.
        // PostgreSQL keeps microseconds: so must the copy in the event.
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        let mut views: Vec<MessageView> = Vec::with_capacity(new.len());
        for &i in &new {
            let r = &batch[i];
            let seq = next_seq.get_mut(&r.room_id).ok_or("room counter missing")?;
            views.push(MessageView {
                id: Uuid::new_v4(),
                room_id: r.room_id,
                seq: *seq,
                sender: r.sender.clone(),
                sender_name: r.sender_name.clone(),
                message_type: r.message_type.clone(),
                content: r.content.clone(),
                metadata: r.metadata.clone(),
                client_id: r.client_id.clone(),
                created_at: now,
                edited_at: None,
                deleted: false,
                reactions: Vec::new(),
                file: None,
            });
            *seq += 1;
        }
        let mut events_out = Vec::with_capacity(views.len());
        if !views.is_empty() {
            let col = |f: fn(&MessageView) -> String| views.iter().map(f).collect::<Vec<String>>();
            let ids: Vec<Uuid> = views.iter().map(|v| v.id).collect();
            let room_ids: Vec<Uuid> = views.iter().map(|v| v.room_id).collect();
            let seqs: Vec<i64> = views.iter().map(|v| v.seq).collect();
            let metadata: Vec<Value> = views.iter().map(|v| v.metadata.clone()).collect();
            let (senders, names, types, contents, cids) = (
                col(|v| v.sender.clone()),
                col(|v| v.sender_name.clone()),
                col(|v| v.message_type.clone()),
                col(|v| v.content.clone()),
                col(|v| v.client_id.clone()),
            );
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type,
                                           content, metadata, client_id, created_at)
                     SELECT id, room_id, seq, sender, sender_name, message_type, content, metadata,
                            client_id, $10
                     FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[],
                                 $6::text[], $7::text[], $8::jsonb[], $9::text[])
                          AS t(id, room_id, seq, sender, sender_name, message_type, content,
                               metadata, client_id)",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &ids, &room_ids, &seqs, &senders, &names, &types, &contents, &metadata, &cids,
                    &now,
                ],
            )
            .await?;
            let data: Vec<Value> = views.iter().map(|v| json!(v)).collect();
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO room_events (room_id, seq, kind, actor, at, data)
                     SELECT room_id, seq, 'message.created', actor, $5, data
                     FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::jsonb[])
                          AS t(room_id, seq, actor, data)",
                )
                .await?;
            tx.execute(&stmt, &[&room_ids, &seqs, &senders, &data, &now])
                .await?;
            for (v, d) in views.iter().zip(data) {
                events_out.push(StoredEvent {
                    room_id: v.room_id,
                    seq: v.seq,
                    kind: "message.created".into(),
                    at: now,
                    actor: v.sender.clone(),
                    data: d,
                });
            }
        }

        // 7. Administrators sending where their role would not allow it.
        for r in audits {
            crate::db::audit::record(
                &tx,
                &crate::db::audit::Entry {
                    actor: &r.sender,
                    action: Action::Send.name(),
                    room_id: Some(r.room_id),
                    target: None,
                    details: json!({ "client_id": r.client_id }),
                },
            )
            .await?;
        }
        tx.commit().await?;

        let results = plans
            .into_iter()
            .map(|p| match p {
                Plan::Done(result) => result,
                Plan::New(n) | Plan::SameAs(n) => Ok(SendAck {
                    message_id: views[n].id,
                    seq: views[n].seq,
                    duplicate: matches!(p, Plan::SameAs(_)),
                }),
            })
            .collect();
        Ok(BatchOutcome {
            results,
            events: events_out,
        })
    }
}
