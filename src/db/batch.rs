//! The batch writer of group commit (`andon_actors::realtime::BatchWriter`): one
//! transaction stores the messages of many senders in many rooms.

use std::collections::HashMap;

use andon_actors::permissions::{self, Action, PostVerdict, Role};
use andon_actors::realtime::{
    BatchError, BatchOutcome, BatchWriter, EventKind, SendAck, SendError, SendRequest, StoredEvent,
};
use andon_actors::session::BackendError;
use deadpool_postgres::Pool;
use serde_json::{Value, json};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::messages::MessageView;
use super::notifications::{self as inbox, Mention};
use crate::domain::mentions;
use crate::domain::rooms::RoomStatus;
use crate::notifications::{Notifier, Outgoing};

pub struct PgBatchWriter {
    pub db: Pool,
    /// Delivers the `mentioned` notifications a batch wrote, once it committed
    /// (`None`: they are only stored, as in benchmarks).
    pub notifier: Option<Notifier>,
}

/// The mentions kept for one new message, and who is notified of them.
#[derive(Default)]
struct KeptMentions {
    /// Whether the metadata named mentions at all (then it is rewritten).
    present: bool,
    ids: Vec<String>,
    all: bool,
    /// Members other than the sender: the mentioned, or everyone for `all`.
    notify: Vec<String>,
}

/// A send's identity for retries: (room, sender, client id).
type Key<'a> = (Uuid, &'a str, &'a str);

/// What the batch decided for one request before any sequence number exists.
enum Plan {
    Done(Result<SendAck, SendError>),
    /// Stored as the `n`-th new message.
    New(usize),
    /// Same client id as an earlier request of this batch.
    SameAs(usize),
}

/// What the locked rooms look like at the start of a batch.
struct LockedRoom {
    status: String,
    head_seq: i64,
}

#[async_trait::async_trait]
impl BatchWriter for PgBatchWriter {
    #[tracing::instrument(skip_all, fields(batch = batch.len()))]
    async fn write(&self, batch: &[SendRequest]) -> Result<BatchOutcome, BatchError> {
        self.write_batch(batch).await.map_err(|e| {
            if refused_data(e.as_ref()) {
                BatchError::Rejected(e)
            } else {
                BatchError::Failed(e)
            }
        })
    }
}

/// The database refused a value of the batch (SQLSTATE class 22, data exception:
/// a character it cannot store, a value out of range; or 23, a constraint), as
/// opposed to failing or being out of reach.
fn refused_data(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<tokio_postgres::Error>()
        .and_then(|e| e.code())
        .is_some_and(|code| matches!(&code.code()[..2], "22" | "23"))
}

impl PgBatchWriter {
    /// One transaction in four round trips: `BEGIN`; lock + roles + retries
    /// (pipelined); head update + both inserts (pipelined); `COMMIT`.
    async fn write_batch(&self, batch: &[SendRequest]) -> Result<BatchOutcome, BackendError> {
        let mut client = self.db.get().await?;
        let tx = client.transaction().await?;

        // 1. In one round trip: lock the rooms' rows (in id order, so that nothing
        //    can deadlock with this batch); read the senders' roles, after the lock,
        //    so that the permission check is exact; find the messages already
        //    stored under the same client ids (retries). Roles and retries are
        //    looked up by the batch's exact (room, sender[, client id]) tuples: one
        //    index probe per request, however many rooms and senders a batch has.
        //    `OFFSET 0` keeps each lookup a probe of the unique index: without it
        //    the statement's cached generic plan, made while the table was still
        //    small, hash-joined a scan of the whole table on every batch.
        let rooms: Vec<Uuid> = batch.iter().map(|r| r.room_id).collect();
        let senders: Vec<&str> = batch.iter().map(|r| r.sender.as_str()).collect();
        let client_ids: Vec<&str> = batch.iter().map(|r| r.client_id.as_str()).collect();
        let mut distinct_rooms = rooms.clone();
        distinct_rooms.sort();
        distinct_rooms.dedup();
        let lock = tx
            .prepare_cached(
                "SELECT id, status, head_seq FROM rooms WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            )
            .await?;
        let role_of = tx
            .prepare_cached(
                "SELECT DISTINCT m.room_id, m.user_id, m.role
                 FROM unnest($1::uuid[], $2::text[]) AS b(room_id, user_id)
                 CROSS JOIN LATERAL (SELECT * FROM room_members m
                     WHERE m.room_id = b.room_id AND m.user_id = b.user_id OFFSET 0) m",
            )
            .await?;
        let retries = tx
            .prepare_cached(
                "SELECT m.room_id, m.sender, m.client_id, m.id, m.seq
                 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS b(room_id, sender, client_id)
                 CROSS JOIN LATERAL (SELECT * FROM messages m
                     WHERE m.room_id = b.room_id AND m.sender = b.sender
                       AND m.client_id = b.client_id OFFSET 0) m",
            )
            .await?;
        let lock_params: [&(dyn ToSql + Sync); 1] = [&distinct_rooms];
        let role_params: [&(dyn ToSql + Sync); 2] = [&rooms, &senders];
        let retries_params: [&(dyn ToSql + Sync); 3] = [&rooms, &senders, &client_ids];
        let (locked_rows, role_rows, retried_rows) = futures_util::try_join!(
            tx.query(&lock, &lock_params),
            tx.query(&role_of, &role_params),
            tx.query(&retries, &retries_params),
        )?;
        let mut locked: HashMap<Uuid, LockedRoom> = locked_rows
            .iter()
            .map(|row| {
                let room = LockedRoom {
                    status: row.get(1),
                    head_seq: row.get(2),
                };
                (row.get(0), room)
            })
            .collect();
        let roles: HashMap<(Uuid, &str), Role> = role_rows
            .iter()
            .filter_map(|r| Some(((r.get(0), r.get(1)), Role::parse(r.get(2))?)))
            .collect();
        let existing: HashMap<Key, (Uuid, i64)> = retried_rows
            .iter()
            .map(|r| ((r.get(0), r.get(1), r.get(2)), (r.get(3), r.get(4))))
            .collect();

        // 2. Decide each request.
        let mut plans = Vec::with_capacity(batch.len());
        let mut new: Vec<usize> = Vec::new();
        let mut first_of: HashMap<Key, usize> = HashMap::new();
        let mut audits: Vec<&SendRequest> = Vec::new();
        for (i, r) in batch.iter().enumerate() {
            let key = (r.room_id, r.sender.as_str(), r.client_id.as_str());
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
            let role = roles.get(&(r.room_id, r.sender.as_str())).copied();
            let verdict = match locked.get(&r.room_id) {
                None => Err(SendError::NotFound),
                Some(room) => {
                    let archived = room.status == RoomStatus::Archived.as_str();
                    match permissions::may_post(role, r.sender_is_admin, archived) {
                        PostVerdict::Allowed => Ok(()),
                        PostVerdict::AdminOverride => {
                            audits.push(r);
                            Ok(())
                        }
                        PostVerdict::Archived => Err(SendError::Forbidden(
                            "The room is archived and read-only".into(),
                        )),
                        PostVerdict::NotMember => {
                            Err(SendError::Forbidden("Join the room first".into()))
                        }
                        PostVerdict::RoleTooLow => {
                            Err(SendError::Forbidden("Viewers cannot send messages".into()))
                        }
                    }
                }
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

        // 2b. Mentions, checked against the rooms' members (one more round trip,
        //     only for batches that mention someone).
        let kept = keep_mentions(&tx, batch, &new, &roles).await?;

        // 3. Sequence numbers follow the locked heads; each room's head moves by
        //    its count of new messages.
        // PostgreSQL keeps microseconds: so must the copy in the event.
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        let mut views: Vec<MessageView> = Vec::with_capacity(new.len());
        let mut mentioned: Vec<Mention> = Vec::new();
        for (k, &i) in new.iter().enumerate() {
            let r = &batch[i];
            let room = locked.get_mut(&r.room_id).ok_or("room lock missing")?;
            room.head_seq += 1;
            let mut metadata = r.metadata.clone();
            if let Some(m) = kept.get(k).filter(|m| m.present) {
                mentions::apply(&mut metadata, m.ids.clone(), m.all);
                mentioned.extend(m.notify.iter().map(|user| Mention {
                    user_id: user,
                    room_id: r.room_id,
                    seq: room.head_seq,
                    actor: &r.sender,
                    actor_name: &r.sender_name,
                }));
            }
            views.push(MessageView {
                // Time-ordered ids append to the right edge of the primary key's
                // index instead of touching a random leaf page per message.
                id: Uuid::now_v7(),
                room_id: r.room_id,
                seq: room.head_seq,
                sender: r.sender.clone(),
                sender_name: r.sender_name.clone(),
                message_type: r.message_type.clone(),
                content: r.content.clone(),
                metadata,
                client_id: r.client_id.clone(),
                created_at: now,
                edited_at: None,
                deleted: false,
                reactions: Vec::new(),
                file: None,
                pinned: false,
            });
        }

        // 4. Head update and the two multi-row inserts, pipelined.
        let mut events_out = Vec::with_capacity(views.len());
        let mut notifications_out: Vec<Outgoing> = Vec::new();
        if !views.is_empty() {
            let (head_ids, heads): (Vec<Uuid>, Vec<i64>) = distinct_rooms
                .iter()
                .filter_map(|id| Some((*id, locked.get(id)?.head_seq)))
                .unzip();
            // The counters unread counts are computed from (V7): new messages per
            // room, and per sender in each room.
            let mut per_room: HashMap<Uuid, i64> = HashMap::new();
            let mut per_sender: HashMap<(Uuid, &str), i64> = HashMap::new();
            for v in &views {
                *per_room.entry(v.room_id).or_default() += 1;
                *per_sender
                    .entry((v.room_id, v.sender.as_str()))
                    .or_default() += 1;
            }
            let added: Vec<i64> = head_ids
                .iter()
                .map(|id| per_room.get(id).copied().unwrap_or(0))
                .collect();
            let mut sent_rooms = Vec::with_capacity(per_sender.len());
            let mut sent_users = Vec::with_capacity(per_sender.len());
            let mut sent_counts = Vec::with_capacity(per_sender.len());
            for ((room, sender), n) in per_sender {
                sent_rooms.push(room);
                sent_users.push(sender);
                sent_counts.push(n);
            }
            let col = |f: fn(&MessageView) -> &str| views.iter().map(f).collect::<Vec<&str>>();
            let ids: Vec<Uuid> = views.iter().map(|v| v.id).collect();
            let room_ids: Vec<Uuid> = views.iter().map(|v| v.room_id).collect();
            let seqs: Vec<i64> = views.iter().map(|v| v.seq).collect();
            let metadata: Vec<&Value> = views.iter().map(|v| &v.metadata).collect();
            let (senders, names, types, contents, cids) = (
                col(|v| &v.sender),
                col(|v| &v.sender_name),
                col(|v| &v.message_type),
                col(|v| &v.content),
                col(|v| &v.client_id),
            );
            let data: Vec<Value> = views.iter().map(|v| json!(v)).collect();
            let heads_stmt = tx
                .prepare_cached(
                    "UPDATE rooms r SET head_seq = b.head, last_activity_at = now(),
                                        message_count = r.message_count + b.added
                     FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS b(id, head, added)
                     WHERE r.id = b.id AND r.head_seq < b.head",
                )
                .await?;
            let sent_stmt = tx
                .prepare_cached(
                    "UPDATE room_members m SET sent_count = m.sent_count + b.n
                     FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS b(room_id, user_id, n)
                     WHERE m.room_id = b.room_id AND m.user_id = b.user_id",
                )
                .await?;
            let messages_stmt = tx
                .prepare_cached(
                    "INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type,
                                           content, metadata, client_id, created_at)
                     SELECT id, room_id, seq, sender, sender_name, message_type, content, metadata,
                            client_id, $10
                     FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[],
                                 $6::text[], $7::text[], $8::json[], $9::text[])
                          AS t(id, room_id, seq, sender, sender_name, message_type, content,
                               metadata, client_id)",
                )
                .await?;
            let events_stmt = tx
                .prepare_cached(
                    "INSERT INTO room_events (room_id, seq, kind, actor, at, data)
                     SELECT room_id, seq, 'message.created', actor, $5, data
                     FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::json[])
                          AS t(room_id, seq, actor, data)",
                )
                .await?;
            let heads_params: [&(dyn ToSql + Sync); 3] = [&head_ids, &heads, &added];
            let sent_params: [&(dyn ToSql + Sync); 3] = [&sent_rooms, &sent_users, &sent_counts];
            let messages_params: [&(dyn ToSql + Sync); 10] = [
                &ids, &room_ids, &seqs, &senders, &names, &types, &contents, &metadata, &cids, &now,
            ];
            let events_params: [&(dyn ToSql + Sync); 5] = [&room_ids, &seqs, &senders, &data, &now];
            let recipients: Vec<&str> = mentioned.iter().map(|m| m.user_id).collect();
            let (_, _, _, _, written, settings) = futures_util::try_join!(
                tx.execute(&heads_stmt, &heads_params),
                tx.execute(&sent_stmt, &sent_params),
                tx.execute(&messages_stmt, &messages_params),
                tx.execute(&events_stmt, &events_params),
                async {
                    if mentioned.is_empty() {
                        Ok(Vec::new())
                    } else {
                        inbox::insert_mentions(&tx, &mentioned).await
                    }
                },
                async {
                    if recipients.is_empty() {
                        Ok(Default::default())
                    } else {
                        inbox::settings_of(&tx, &recipients).await
                    }
                },
            )?;
            // Whether each rings is decided now, from its user's settings.
            let zone = self
                .notifier
                .as_ref()
                .map_or(chrono_tz::UTC, Notifier::zone);
            let at = chrono::Utc::now();
            for (user, n) in written {
                let ring = settings
                    .get(&user)
                    .copied()
                    .unwrap_or_default()
                    .rings(n.kind, at, zone);
                notifications_out.push(Outgoing::new(&user, n, ring));
            }
            for (v, d) in views.iter().zip(data) {
                events_out.push(StoredEvent {
                    room_id: v.room_id,
                    seq: v.seq,
                    kind: EventKind::MessageCreated.into(),
                    at: now,
                    actor: v.sender.clone(),
                    data: d,
                });
            }
        }

        // 5. Administrators sending where their role would not allow it.
        for r in audits {
            super::audit::record(
                &tx,
                &super::audit::Entry {
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
        if let Some(notifier) = &self.notifier {
            notifier.deliver(notifications_out);
        }

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

/// The mentions of each new message (`new` indexes `batch`), in `new`'s order:
/// ids of the room's members only, without duplicates; `mention_all` only from
/// an editor or owner of the room (not from an administrator posting by
/// override). Batches without mentions cost nothing more.
async fn keep_mentions(
    tx: &impl super::GenericClient,
    batch: &[SendRequest],
    new: &[usize],
    roles: &HashMap<(Uuid, &str), Role>,
) -> Result<Vec<KeptMentions>, BackendError> {
    if !new.iter().any(|&i| mentions::present(&batch[i].metadata)) {
        return Ok(Vec::new());
    }
    let mut asked: Vec<(mentions::Requested, bool)> = Vec::with_capacity(new.len());
    let (mut pair_rooms, mut pair_users): (Vec<Uuid>, Vec<String>) = (Vec::new(), Vec::new());
    let mut all_rooms: Vec<Uuid> = Vec::new();
    for &i in new {
        let r = &batch[i];
        let wanted = mentions::requested(&r.metadata);
        let may_all = matches!(
            roles.get(&(r.room_id, r.sender.as_str())),
            Some(Role::Editor | Role::Owner)
        );
        for id in &wanted.ids {
            pair_rooms.push(r.room_id);
            pair_users.push(id.clone());
        }
        if wanted.all && may_all && !all_rooms.contains(&r.room_id) {
            all_rooms.push(r.room_id);
        }
        asked.push((wanted, may_all));
    }
    let members_stmt = tx
        .prepare_cached(
            "SELECT b.room_id, b.user_id
             FROM unnest($1::uuid[], $2::text[]) AS b(room_id, user_id)
             WHERE EXISTS (SELECT 1 FROM room_members m
                           WHERE m.room_id = b.room_id AND m.user_id = b.user_id)",
        )
        .await?;
    let everyone_stmt = tx
        .prepare_cached("SELECT room_id, user_id FROM room_members WHERE room_id = ANY($1)")
        .await?;
    let (member_rows, everyone_rows) = futures_util::try_join!(
        async {
            if pair_rooms.is_empty() {
                Ok(Vec::new())
            } else {
                tx.query(&members_stmt, &[&pair_rooms, &pair_users]).await
            }
        },
        async {
            if all_rooms.is_empty() {
                Ok(Vec::new())
            } else {
                tx.query(&everyone_stmt, &[&all_rooms]).await
            }
        },
    )?;
    let members: std::collections::HashSet<(Uuid, String)> = member_rows
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let mut everyone: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in &everyone_rows {
        everyone.entry(row.get(0)).or_default().push(row.get(1));
    }
    Ok(new
        .iter()
        .zip(asked)
        .map(|(&i, (wanted, may_all))| {
            let r = &batch[i];
            let ids: Vec<String> = wanted
                .ids
                .into_iter()
                .filter(|id| members.contains(&(r.room_id, id.clone())))
                .collect();
            let all = wanted.all && may_all;
            let mut notify: Vec<String> = Vec::new();
            let pool = if all {
                everyone
                    .get(&r.room_id)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
            } else {
                &ids[..]
            };
            for user in pool {
                if *user != r.sender && !notify.contains(user) {
                    notify.push(user.clone());
                }
            }
            KeptMentions {
                present: mentions::present(&r.metadata),
                ids,
                all,
                notify,
            }
        })
        .collect())
}
