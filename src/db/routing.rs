//! Routing rules (`migrations/V14__routing_rules.sql`): who is pulled into a room
//! by its type, severity, location and line.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use super::rooms::Room;
use super::templates::{self, DefaultMember};
use crate::domain::rooms::{IncidentType, Severity};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoutingRule {
    pub id: Uuid,
    pub name: String,
    /// Each match field that is set must equal the room's (location and line
    /// compared without regard to case); a rule with none matches every room.
    pub incident_type: Option<IncidentType>,
    pub severity: Option<Severity>,
    pub location: Option<String>,
    pub line: Option<String>,
    /// Added to matching rooms with these roles.
    pub members: Vec<DefaultMember>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A rule's editable fields, all validated.
pub struct RuleFields {
    pub name: String,
    pub incident_type: Option<IncidentType>,
    pub severity: Option<Severity>,
    pub location: Option<String>,
    pub line: Option<String>,
    pub members: Vec<DefaultMember>,
}

const COLUMNS: &str = "id, name, incident_type, severity, location, line, members, created_by, created_at, updated_at";

fn from_row(row: &Row) -> RoutingRule {
    RoutingRule {
        id: row.get(0),
        name: row.get(1),
        incident_type: row
            .get::<_, Option<&str>>(2)
            .and_then(|t| IncidentType::parse(t).ok()),
        severity: row
            .get::<_, Option<&str>>(3)
            .and_then(|s| Severity::parse(s).ok()),
        location: row.get(4),
        line: row.get(5),
        // Written only by `insert`/`update` from validated members.
        members: serde_json::from_value(row.get(6)).unwrap_or_default(),
        created_by: row.get(7),
        created_at: row.get(8),
        updated_at: row.get(9),
    }
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<RoutingRule>> {
    let sql = format!("SELECT {COLUMNS} FROM routing_rules ORDER BY name");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(from_row)
        .collect())
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Option<RoutingRule>> {
    let sql = format!("SELECT {COLUMNS} FROM routing_rules WHERE id = $1");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(from_row))
}

pub async fn insert(
    client: &impl GenericClient,
    id: Uuid,
    f: &RuleFields,
    by: &str,
) -> Result<RoutingRule> {
    let sql = format!(
        "INSERT INTO routing_rules (id, name, incident_type, severity, location, line, members, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let members = templates::members_json(&f.members);
    let row = client
        .query_one(
            &stmt,
            &[
                &id,
                &f.name,
                &f.incident_type.map(IncidentType::as_str),
                &f.severity.map(Severity::as_str),
                &f.location,
                &f.line,
                &members,
                &by,
            ],
        )
        .await?;
    Ok(from_row(&row))
}

/// Replaces a rule's fields; `None` when there is no such rule.
pub async fn update(
    client: &impl GenericClient,
    id: Uuid,
    f: &RuleFields,
) -> Result<Option<RoutingRule>> {
    let sql = format!(
        "UPDATE routing_rules SET name = $2, incident_type = $3, severity = $4, location = $5,
                line = $6, members = $7, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let members = templates::members_json(&f.members);
    Ok(client
        .query_opt(
            &stmt,
            &[
                &id,
                &f.name,
                &f.incident_type.map(IncidentType::as_str),
                &f.severity.map(Severity::as_str),
                &f.location,
                &f.line,
                &members,
            ],
        )
        .await?
        .as_ref()
        .map(from_row))
}

pub async fn delete(client: &impl GenericClient, id: Uuid) -> Result<bool> {
    let stmt = client
        .prepare_cached("DELETE FROM routing_rules WHERE id = $1")
        .await?;
    Ok(client.execute(&stmt, &[&id]).await? == 1)
}

/// The rules `room` matches, by name.
pub async fn matching(client: &impl GenericClient, room: &Room) -> Result<Vec<RoutingRule>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM routing_rules
         WHERE (incident_type IS NULL OR incident_type = $1)
           AND (severity IS NULL OR severity = $2)
           AND (location IS NULL OR lower(location) = lower($3))
           AND (line IS NULL OR lower(line) = lower($4))
         ORDER BY name"
    );
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(
            &stmt,
            &[
                &room.incident_type.as_str(),
                &room.severity.as_str(),
                &room.location,
                &room.line.as_deref().unwrap_or(""),
            ],
        )
        .await?
        .iter()
        .map(from_row)
        .collect())
}

/// Someone a rule pulled into a room.
#[derive(Debug, Clone)]
pub struct Routed {
    pub user_id: String,
    pub role: andon_actors::permissions::Role,
    pub rule: String,
}

/// The actor recorded as having added people by a rule.
pub const ACTOR: &str = "routing";

/// Adds the people of every rule `room` matches who are not members yet (in
/// the caller's transaction, the room's row locked); who was added, by which
/// rule. The caller appends their `member.added` events.
pub async fn route(tx: &impl GenericClient, room: &Room) -> Result<Vec<Routed>> {
    let mut added: Vec<Routed> = Vec::new();
    for rule in matching(tx, room).await? {
        for m in rule.members {
            if added.iter().any(|a| a.user_id == m.user_id) {
                continue;
            }
            if super::members::add(tx, room.id, &m.user_id, m.role, ACTOR).await? {
                added.push(Routed {
                    user_id: m.user_id,
                    role: m.role,
                    rule: rule.name.clone(),
                });
            }
        }
    }
    Ok(added)
}
