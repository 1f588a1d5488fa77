//! Reads a room's record for a report, in bounded pieces: however many messages
//! the room holds, the [`Record`] has at most [`Record::MESSAGES_MAX`] of them and
//! at most [`Record::TIMELINE_MAX`] timeline entries; the rest are counted.

use std::collections::HashMap;

use andon_actors::realtime::EventKind;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::model::{
    Participant, PinnedMessage, Record, RecordMessage, StatusChange, TimelineItem, TimelineWhat,
};
use crate::db::{GenericClient, files, rooms};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// Messages quoted from each end of the conversation.
const MESSAGES_EACH_END: i64 = (Record::MESSAGES_MAX / 2) as i64;
/// `incident_data` messages (measurements, readings) put on the timeline.
const INCIDENT_DATA_MAX: i64 = 100;

/// The kinds of events that make the timeline (with the key messages).
const TIMELINE_KINDS: [EventKind; 7] = [
    EventKind::RoomStatusChanged,
    EventKind::RoomAcknowledged,
    EventKind::RoomContained,
    EventKind::MemberAdded,
    EventKind::MemberRemoved,
    EventKind::FileAdded,
    EventKind::RoomUpdated,
];

/// The record of `room_id` as of now; `None` if the room is gone.
pub async fn record(
    client: &impl GenericClient,
    room_id: Uuid,
    requested_by: &str,
) -> Result<Option<Record>> {
    let Some(room) = rooms::get(client, room_id).await? else {
        return Ok(None);
    };
    let message_count: i64 = client
        .query_one(
            "SELECT count(*) FROM messages WHERE room_id = $1 AND deleted_at IS NULL",
            &[&room_id],
        )
        .await?
        .get(0);
    let messages = end_messages(client, room_id).await?;
    let firsts = first_message_of_each(client, room_id).await?;
    let incident_data = client
        .query(
            "SELECT seq, created_at, sender_name, content FROM messages
             WHERE room_id = $1 AND deleted_at IS NULL AND message_type = 'incident_data'
             ORDER BY seq LIMIT $2",
            &[&room_id, &INCIDENT_DATA_MAX],
        )
        .await?
        .iter()
        .map(message_from_row)
        .collect::<Vec<_>>();
    let first_response_at: Option<DateTime<Utc>> = client
        .query_one(
            "SELECT min(created_at) FROM messages
             WHERE room_id = $1 AND sender <> $2 AND message_type <> 'system'",
            &[&room_id, &room.created_by],
        )
        .await?
        .get(0);

    let kinds: Vec<&str> = TIMELINE_KINDS.iter().map(|k| k.as_str()).collect();
    let limit = Record::TIMELINE_MAX as i64;
    let events = client
        .query(
            "SELECT kind, actor, at, data FROM room_events
             WHERE room_id = $1 AND kind = ANY($2) ORDER BY seq LIMIT $3",
            &[&room_id, &kinds, &limit],
        )
        .await?;
    let event_total: i64 = client
        .query_one(
            "SELECT count(*) FROM room_events WHERE room_id = $1 AND kind = ANY($2)",
            &[&room_id, &kinds],
        )
        .await?
        .get(0);

    // Pinned messages, in pin order (a deleted message has lost its pin).
    let pins = client
        .query(
            "SELECT m.seq, m.created_at, m.sender_name, m.content, p.pinned_by, p.pinned_at,
                    m.message_type, f.original_name
             FROM message_pins p JOIN messages m ON m.id = p.message_id
             LEFT JOIN files f ON f.message_id = m.id AND f.deleted_at IS NULL
             WHERE p.room_id = $1 AND m.deleted_at IS NULL ORDER BY p.seq LIMIT $2",
            &[&room_id, &crate::db::pins::PINS_MAX],
        )
        .await?;

    // Everyone named anywhere, to show names instead of e-mails.
    let members = client
        .query(
            "SELECT m.user_id, m.role FROM room_members m WHERE m.room_id = $1 ORDER BY m.added_at",
            &[&room_id],
        )
        .await?;
    let mut ids: Vec<String> = vec![room.created_by.clone(), requested_by.to_string()];
    ids.extend(members.iter().map(|r| r.get::<_, String>(0)));
    ids.extend(firsts.iter().map(|(sender, _)| sender.clone()));
    ids.extend(pins.iter().map(|r| r.get::<_, String>(4)));
    for e in &events {
        ids.push(e.get(1));
        if let Some(subject) = e.get::<_, Value>(3)["user_id"].as_str() {
            ids.push(subject.to_string());
        }
    }
    ids.sort();
    ids.dedup();
    let people: HashMap<String, (String, Option<String>)> = client
        .query(
            "SELECT id, display_name, job_title FROM users WHERE id = ANY($1)",
            &[&ids],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let name = |id: &str| {
        people
            .get(id)
            .map_or_else(|| id.to_string(), |p| p.0.clone())
    };

    let mut participants: Vec<Participant> = members
        .iter()
        .map(|r| {
            let user_id: String = r.get(0);
            Participant {
                name: name(&user_id),
                job_title: people.get(&user_id).and_then(|p| p.1.clone()),
                role: Some(r.get(1)),
                first_message_at: firsts
                    .iter()
                    .find(|(s, _)| *s == user_id)
                    .map(|(_, m)| m.at),
                user_id,
            }
        })
        .collect();
    // People who wrote and are no longer members are participants too.
    for (sender, m) in &firsts {
        if !participants.iter().any(|p| &p.user_id == sender) {
            participants.push(Participant {
                user_id: sender.clone(),
                name: people
                    .get(sender)
                    .map_or_else(|| m.sender_name.clone(), |p| p.0.clone()),
                job_title: people.get(sender).and_then(|p| p.1.clone()),
                role: None,
                first_message_at: Some(m.at),
            });
        }
    }

    let mut timeline = vec![TimelineItem {
        at: room.created_at,
        actor_name: name(&room.created_by),
        what: TimelineWhat::Created,
    }];
    let mut status_changes = Vec::new();
    for e in &events {
        let kind: &str = e.get(0);
        let actor: &str = e.get(1);
        let at: DateTime<Utc> = e.get(2);
        let data: Value = e.get(3);
        let text = |field: &str| data[field].as_str().unwrap_or_default().to_string();
        let what = match EventKind::parse(kind) {
            Some(EventKind::RoomStatusChanged) => {
                status_changes.push(StatusChange {
                    at,
                    by_name: name(actor),
                    from: text("from"),
                    to: text("to"),
                    resolution_notes: data["resolution_notes"].as_str().map(str::to_string),
                });
                TimelineWhat::StatusChanged {
                    from: text("from"),
                    to: text("to"),
                }
            }
            Some(EventKind::RoomAcknowledged) => TimelineWhat::Acknowledged,
            Some(EventKind::RoomContained) => TimelineWhat::Contained,
            Some(EventKind::MemberAdded) => TimelineWhat::MemberJoined {
                name: name(&text("user_id")),
                role: text("role"),
            },
            Some(EventKind::MemberRemoved) => TimelineWhat::MemberLeft {
                name: name(&text("user_id")),
            },
            Some(EventKind::FileAdded) => TimelineWhat::FileAdded {
                name: data["file"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            },
            _ => TimelineWhat::RoomUpdated {
                fields: data["changed"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        };
        timeline.push(TimelineItem {
            at,
            actor_name: name(actor),
            what,
        });
    }
    // Key messages: the first and the last, each participant's first, and
    // incident data (a file's message without a caption is on the timeline as
    // the file already).
    let mut key: Vec<&RecordMessage> = firsts
        .iter()
        .map(|(_, m)| m)
        .filter(|m| !m.content.is_empty())
        .collect();
    key.extend(incident_data.iter());
    key.extend(messages.first());
    key.extend(messages.last());
    key.sort_by_key(|m| m.seq);
    key.dedup_by_key(|m| m.seq);
    timeline.extend(key.into_iter().map(|m| TimelineItem {
        at: m.at,
        actor_name: m.sender_name.clone(),
        what: TimelineWhat::Message {
            text: m.content.clone(),
        },
    }));
    timeline.sort_by_key(|t| t.at);
    let kept = timeline.len().min(Record::TIMELINE_MAX);
    let timeline_omitted = (timeline.len() - kept) as u64
        + u64::try_from(event_total - events.len() as i64).unwrap_or(0);
    timeline.truncate(kept);

    let pinned = pins
        .iter()
        .map(|r| {
            let mut message = message_from_row(r);
            // A file's message without a caption is shown by its file's name.
            if message.content.is_empty()
                && let Some(file) = r.get::<_, Option<String>>(7)
            {
                message.content = file;
            }
            PinnedMessage {
                message,
                pinned_by_name: name(r.get(4)),
                pinned_at: r.get(5),
            }
        })
        .collect();

    let mut room_files = files::list(client, room_id).await?;
    room_files.reverse();

    Ok(Some(Record {
        room,
        generated_at: Utc::now(),
        requested_by: name(requested_by),
        participants,
        timeline,
        timeline_omitted,
        message_count,
        messages,
        status_changes,
        files: room_files,
        first_response_at,
        pinned,
    }))
}

fn message_from_row(r: &tokio_postgres::Row) -> RecordMessage {
    RecordMessage {
        seq: r.get(0),
        at: r.get(1),
        sender_name: r.get(2),
        content: r.get(3),
    }
}

/// The first and the last messages, oldest first, without repeats.
async fn end_messages(client: &impl GenericClient, room_id: Uuid) -> Result<Vec<RecordMessage>> {
    let first = client
        .query(
            "SELECT seq, created_at, sender_name, content FROM messages
             WHERE room_id = $1 AND deleted_at IS NULL AND message_type <> 'system'
               AND content <> ''
             ORDER BY seq LIMIT $2",
            &[&room_id, &MESSAGES_EACH_END],
        )
        .await?;
    let last = client
        .query(
            "SELECT seq, created_at, sender_name, content FROM messages
             WHERE room_id = $1 AND deleted_at IS NULL AND message_type <> 'system'
               AND content <> ''
             ORDER BY seq DESC LIMIT $2",
            &[&room_id, &MESSAGES_EACH_END],
        )
        .await?;
    let mut all: Vec<RecordMessage> = first
        .iter()
        .chain(last.iter())
        .map(message_from_row)
        .collect();
    all.sort_by_key(|m| m.seq);
    all.dedup_by_key(|m| m.seq);
    Ok(all)
}

/// Each sender's first message, by sender.
async fn first_message_of_each(
    client: &impl GenericClient,
    room_id: Uuid,
) -> Result<Vec<(String, RecordMessage)>> {
    Ok(client
        .query(
            "SELECT DISTINCT ON (sender) seq, created_at, sender_name, content, sender
             FROM messages
             WHERE room_id = $1 AND deleted_at IS NULL AND message_type <> 'system'
             ORDER BY sender, seq",
            &[&room_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(4), message_from_row(r)))
        .collect())
}
