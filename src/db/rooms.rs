//! Incident rooms.

use andon_actors::permissions::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::GenericClient;
use crate::domain::rooms::{IncidentType, Milestone, RoomStatus, Severity};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// A room's own fields, the same for every viewer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Room {
    pub id: Uuid,
    pub title: String,
    pub incident_type: IncidentType,
    pub severity: Severity,
    pub status: RoomStatus,
    pub location: String,
    pub line: Option<String>,
    pub equipment: Option<String>,
    pub description: String,
    pub resolution_notes: Option<String>,
    pub lots: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    pub member_count: i32,
    pub head_seq: i64,
    /// When someone first took the incident on, and who (issue 19).
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// When the incident was first declared contained, and by whom.
    pub contained_at: Option<DateTime<Utc>>,
    pub contained_by: Option<String>,
}

impl Room {
    /// Whether the room still waits for someone to take it on: active and never
    /// acknowledged. Escalation climbs only while this holds.
    pub fn awaits_acknowledgement(&self) -> bool {
        self.status == RoomStatus::Active && self.acknowledged_at.is_none()
    }
}

/// A room as one user sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoomView {
    #[serde(flatten)]
    pub room: Room,
    pub is_member: bool,
    #[schema(value_type = Option<crate::http::openapi::RoleSchema>)]
    pub my_role: Option<Role>,
    /// Messages by others after the user's read marker (0 for non-members).
    pub unread: i64,
    /// Messages after the user's read marker that mention them, by name or as
    /// everyone (0 for non-members).
    pub mentions: i64,
}

const COLUMNS: &str = "r.id, r.title, r.incident_type, r.severity, r.status, r.location, r.line, \
     r.equipment, r.description, r.resolution_notes, r.lots, r.created_by, r.created_at, \
     r.resolved_at, r.archived_at, r.last_activity_at, r.member_count, r.head_seq, \
     r.acknowledged_at, r.acknowledged_by, r.contained_at, r.contained_by";
/// How many columns [`COLUMNS`] selects: a query's own columns follow them.
const COLUMN_COUNT: usize = 22;

fn from_row(row: &Row) -> Room {
    // The CHECK constraints admit only valid names; the fallbacks are unreachable.
    Room {
        id: row.get(0),
        title: row.get(1),
        incident_type: IncidentType::parse(row.get(2)).unwrap_or(IncidentType::Other),
        severity: Severity::parse(row.get(3)).unwrap_or(Severity::Medium),
        status: RoomStatus::parse(row.get(4)).unwrap_or(RoomStatus::Active),
        location: row.get(5),
        line: row.get(6),
        equipment: row.get(7),
        description: row.get(8),
        resolution_notes: row.get(9),
        lots: row.get(10),
        created_by: row.get(11),
        created_at: row.get(12),
        resolved_at: row.get(13),
        archived_at: row.get(14),
        last_activity_at: row.get(15),
        member_count: row.get(16),
        head_seq: row.get(17),
        acknowledged_at: row.get(18),
        acknowledged_by: row.get(19),
        contained_at: row.get(20),
        contained_by: row.get(21),
    }
}

pub struct NewRoom {
    pub id: Uuid,
    pub title: String,
    pub incident_type: IncidentType,
    pub severity: Severity,
    pub location: String,
    pub line: Option<String>,
    pub equipment: Option<String>,
    pub description: String,
    pub lots: Vec<String>,
    pub created_by: String,
}

pub async fn insert(tx: &impl GenericClient, r: &NewRoom) -> Result<Room> {
    let sql = format!(
        "INSERT INTO rooms AS r (id, title, incident_type, severity, location, line, equipment,
                                 description, lots, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &r.id,
                &r.title,
                &r.incident_type.as_str(),
                &r.severity.as_str(),
                &r.location,
                &r.line,
                &r.equipment,
                &r.description,
                &r.lots,
                &r.created_by,
            ],
        )
        .await?;
    Ok(from_row(&row))
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Option<Room>> {
    let sql = format!("SELECT {COLUMNS} FROM rooms r WHERE r.id = $1");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(from_row))
}

/// Reads the room and locks its row until the transaction ends: every change to
/// one room is serialized behind this lock.
pub async fn lock(tx: &impl GenericClient, id: Uuid) -> Result<Option<Room>> {
    let sql = format!("SELECT {COLUMNS} FROM rooms r WHERE r.id = $1 FOR UPDATE");
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx.query_opt(&stmt, &[&id]).await?.as_ref().map(from_row))
}

/// Field changes; `None` leaves a field as it is. For `line` and `equipment` an
/// empty string clears the field.
#[derive(Debug, Default)]
pub struct FieldChanges {
    pub title: Option<String>,
    pub incident_type: Option<IncidentType>,
    pub severity: Option<Severity>,
    pub location: Option<String>,
    pub line: Option<String>,
    pub equipment: Option<String>,
    pub description: Option<String>,
    pub lots: Option<Vec<String>>,
}

pub async fn update_fields(tx: &impl GenericClient, id: Uuid, c: &FieldChanges) -> Result<Room> {
    let sql = format!(
        "UPDATE rooms r SET
             title = coalesce($2, title),
             incident_type = coalesce($3, incident_type),
             severity = coalesce($4, severity),
             location = coalesce($5, location),
             line = CASE WHEN $6::text IS NULL THEN line ELSE nullif($6, '') END,
             equipment = CASE WHEN $7::text IS NULL THEN equipment ELSE nullif($7, '') END,
             description = coalesce($8, description),
             lots = coalesce($9, lots)
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &id,
                &c.title,
                &c.incident_type.map(IncidentType::as_str),
                &c.severity.map(Severity::as_str),
                &c.location,
                &c.line,
                &c.equipment,
                &c.description,
                &c.lots,
            ],
        )
        .await?;
    Ok(from_row(&row))
}

/// Moves the room to `status`, stamping `resolved_at`/`archived_at`.
pub async fn set_status(
    tx: &impl GenericClient,
    id: Uuid,
    status: RoomStatus,
    resolution_notes: Option<&str>,
) -> Result<Room> {
    let sql = format!(
        "UPDATE rooms r SET
             status = $2,
             resolution_notes = coalesce($3, resolution_notes),
             resolved_at = CASE $2 WHEN 'resolved' THEN now() WHEN 'active' THEN NULL ELSE resolved_at END,
             archived_at = CASE $2 WHEN 'archived' THEN now() ELSE archived_at END
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let row = tx
        .query_one(&stmt, &[&id, &status.as_str(), &resolution_notes])
        .await?;
    Ok(from_row(&row))
}

/// Sets `milestone` to now, by `by`, unless it is set already (the first
/// declaration stands).
pub async fn set_milestone(
    tx: &impl GenericClient,
    id: Uuid,
    milestone: Milestone,
    by: &str,
) -> Result<Room> {
    let set = match milestone {
        Milestone::Acknowledged => {
            "acknowledged_at = coalesce(acknowledged_at, now()),
             acknowledged_by = coalesce(acknowledged_by, $2)"
        }
        Milestone::Contained => {
            "contained_at = coalesce(contained_at, now()),
             contained_by = coalesce(contained_by, $2)"
        }
    };
    let sql = format!("UPDATE rooms r SET {set} WHERE id = $1 RETURNING {COLUMNS}");
    let stmt = tx.prepare_cached(&sql).await?;
    let row = tx.query_one(&stmt, &[&id, &by]).await?;
    Ok(from_row(&row))
}

/// Deletes the room and everything in it. `messages` and `room_events` carry no
/// foreign key (migration V6): their rows go explicitly, after the room row, whose
/// deletion waits for any send batch holding the room's lock.
pub async fn delete(tx: &impl GenericClient, id: Uuid) -> Result<bool> {
    let stmt = tx.prepare_cached("DELETE FROM rooms WHERE id = $1").await?;
    if tx.execute(&stmt, &[&id]).await? == 0 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM messages WHERE room_id = $1",
        "DELETE FROM room_events WHERE room_id = $1",
    ] {
        let stmt = tx.prepare_cached(sql).await?;
        tx.execute(&stmt, &[&id]).await?;
    }
    Ok(true)
}

/// What to list (R2).
#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<RoomStatus>,
    pub incident_type: Option<IncidentType>,
    pub severity: Option<Severity>,
    pub mine: bool,
    /// Lower-cased, LIKE-escaped search text.
    pub q: Option<String>,
    pub page: i64,
    pub page_size: i64,
}

/// One page of rooms as `viewer` sees them, and the total over all pages.
pub async fn list(
    client: &impl GenericClient,
    viewer: &str,
    viewer_is_admin: bool,
    f: &ListFilter,
) -> Result<(Vec<RoomView>, i64)> {
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(viewer.to_string())];
    let mut conditions: Vec<String> = Vec::new();
    let bind = |params: &mut Vec<Box<dyn ToSql + Sync + Send>>, v: Box<dyn ToSql + Sync + Send>| {
        params.push(v);
        format!("${}", params.len())
    };
    match f.status {
        // Archived rooms: members and admins only, and only when asked for.
        Some(RoomStatus::Archived) => {
            conditions.push("r.status = 'archived'".into());
            if !viewer_is_admin {
                conditions.push("m.user_id IS NOT NULL".into());
            }
        }
        Some(s) => {
            let p = bind(&mut params, Box::new(s.as_str()));
            conditions.push(format!("r.status = {p}"));
        }
        None => conditions.push("r.status <> 'archived'".into()),
    }
    if let Some(t) = f.incident_type {
        let p = bind(&mut params, Box::new(t.as_str()));
        conditions.push(format!("r.incident_type = {p}"));
    }
    if let Some(s) = f.severity {
        let p = bind(&mut params, Box::new(s.as_str()));
        conditions.push(format!("r.severity = {p}"));
    }
    if f.mine {
        conditions.push("m.user_id IS NOT NULL".into());
    }
    if let Some(q) = &f.q {
        let p = bind(&mut params, Box::new(format!("%{q}%")));
        conditions.push(format!("r.search_text LIKE {p} ESCAPE '\\'"));
    }
    let from = format!(
        "FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 WHERE {}",
        conditions.join(" AND ")
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let total: i64 = client
        .query_one(&format!("SELECT count(*) {from}"), &refs)
        .await?
        .get(0);

    let sql = format!(
        "SELECT {COLUMNS}, m.role,
                CASE WHEN m.user_id IS NULL THEN 0 ELSE {UNREAD} END,
                CASE WHEN m.user_id IS NULL THEN 0 ELSE {MENTIONS} END
         {from}
         ORDER BY r.last_activity_at DESC, r.id
         LIMIT {} OFFSET {}",
        f.page_size,
        (f.page - 1) * f.page_size
    );
    let rows = client.query(&sql, &refs).await?;
    let rooms = rows
        .iter()
        .map(|row| {
            let my_role = row
                .get::<_, Option<&str>>(COLUMN_COUNT)
                .and_then(Role::parse);
            RoomView {
                room: from_row(row),
                is_member: my_role.is_some(),
                my_role,
                unread: row.get(COLUMN_COUNT + 1),
                mentions: row.get(COLUMN_COUNT + 2),
            }
        })
        .collect();
    Ok((rooms, total))
}

/// Messages by others after a member's read marker, from the counters of V7 (no
/// history is read). `r` is the room's row, `m` the member's.
const UNREAD: &str =
    "GREATEST(0, (r.message_count - m.read_count) - (m.sent_count - m.read_sent_count))";

/// Mentions of a member after their read marker: their `mentioned`
/// notifications of the room (V17's index; V12). `r` is the room's row, `m` the
/// member's.
const MENTIONS: &str = "(SELECT count(*) FROM notifications n
      WHERE n.user_id = m.user_id AND n.room_id = r.id AND n.kind = 'mentioned'
        AND n.seq > m.last_read_seq)";

/// Unread messages and unread mentions for one member (0 for non-members).
pub async fn unread(client: &impl GenericClient, room: Uuid, user: &str) -> Result<(i64, i64)> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {UNREAD}, {MENTIONS} FROM rooms r JOIN room_members m ON m.room_id = r.id
             WHERE r.id = $1 AND m.user_id = $2"
        ))
        .await?;
    Ok(client
        .query_opt(&stmt, &[&room, &user])
        .await?
        .map_or((0, 0), |row| (row.get(0), row.get(1))))
}
