//! The escalation ladders' database side (issue 19): what
//! [`andon_actors::escalation::EscalationActor`] reads and the climb it asks
//! for, in one transaction per level.

use std::time::Duration;

use andon_actors::escalation::{Climb, EscalationBackend, Level, OpenRoom};
use andon_actors::permissions::Role;
use andon_actors::realtime::EventKind;
use andon_actors::session::BackendError;
use serde_json::json;
use uuid::Uuid;

use crate::db::{escalation, members, rooms};
use crate::domain::rooms::Severity;
use crate::notifications::NewNotification;
use crate::rooms::Rooms;

/// The actor recorded on what a ladder does (events, additions).
pub const ACTOR: &str = "escalation";

pub struct PgEscalation {
    pub db: deadpool_postgres::Pool,
    pub rooms: Rooms,
}

#[async_trait::async_trait]
impl EscalationBackend for PgEscalation {
    async fn open_rooms(&self) -> Result<Vec<OpenRoom>, BackendError> {
        let client = crate::db::conn(&self.db).await?;
        Ok(escalation::open_rooms(&client)
            .await?
            .into_iter()
            .map(|(id, severity, detected_at, level)| OpenRoom {
                id,
                severity,
                detected_at,
                level: u32::try_from(level).unwrap_or(0),
            })
            .collect())
    }

    async fn ladder(&self, severity: &str) -> Result<Vec<Level>, BackendError> {
        let severity = Severity::parse(severity)?;
        let client = crate::db::conn(&self.db).await?;
        Ok(escalation::get(&client, severity)
            .await?
            .levels
            .into_iter()
            .map(|l| Level {
                after: Duration::from_secs(l.after_secs),
                notify: l.notify,
            })
            .collect())
    }

    async fn climb(&self, room_id: Uuid, level: u32) -> Result<Climb, BackendError> {
        let climbed = self
            .rooms
            .work(async |w| {
                let Some(room) = rooms::lock(w.tx(), room_id).await? else {
                    return Ok(Climb::Closed);
                };
                if !room.awaits_acknowledgement() {
                    return Ok(Climb::Closed);
                }
                let policy = escalation::get(w.tx(), room.severity).await?;
                let Some(spec) = policy.levels.get(level as usize - 1) else {
                    return Ok(Climb::Closed); // the ladder was shortened
                };
                // The compare-and-set: only from the level just below.
                if !escalation::reach(w.tx(), room_id, level).await? {
                    return Ok(Climb::AlreadyThere);
                }
                let mut added = Vec::new();
                for person in &spec.notify {
                    if members::add(w.tx(), room_id, person, Role::Editor, ACTOR).await? {
                        w.append(
                            room_id,
                            EventKind::MemberAdded,
                            ACTOR,
                            json!({ "user_id": person, "role": Role::Editor, "added_by": ACTOR,
                                    "escalation_level": level }),
                        )
                        .await?;
                        added.push(person.clone());
                    }
                }
                let seq = w
                    .append(
                        room_id,
                        EventKind::RoomEscalated,
                        ACTOR,
                        json!({ "level": level, "after_secs": spec.after_secs,
                                "notify": spec.notify, "added": added }),
                    )
                    .await?;
                for person in &spec.notify {
                    w.notify(&NewNotification::escalated(
                        person,
                        room_id,
                        &room.title,
                        seq,
                        level,
                    ))
                    .await?;
                }
                Ok(Climb::Climbed)
            })
            .await
            .map_err(|e| BackendError::from(e.to_string()))?;
        Ok(climbed)
    }
}
