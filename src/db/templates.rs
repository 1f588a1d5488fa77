//! Room templates (R6): defaults for new rooms, managed by administrators.

use andon_actors::permissions::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use crate::domain::rooms::{IncidentType, Severity};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DefaultMember {
    pub user_id: String,
    #[schema(value_type = crate::http::openapi::RoleSchema)]
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub id: Uuid,
    pub name: String,
    pub incident_type: IncidentType,
    pub default_severity: Severity,
    pub default_description: String,
    pub default_members: Vec<DefaultMember>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A template's editable fields, all validated.
pub struct TemplateFields {
    pub name: String,
    pub incident_type: IncidentType,
    pub default_severity: Severity,
    pub default_description: String,
    pub default_members: Vec<DefaultMember>,
}

const COLUMNS: &str = "id, name, incident_type, default_severity, default_description, \
                       default_members, created_by, created_at, updated_at";

fn from_row(row: &Row) -> Template {
    let members: serde_json::Value = row.get(5);
    Template {
        id: row.get(0),
        name: row.get(1),
        incident_type: IncidentType::parse(row.get(2)).unwrap_or(IncidentType::Other),
        default_severity: Severity::parse(row.get(3)).unwrap_or(Severity::Medium),
        default_description: row.get(4),
        // Written only by `insert`/`update` from validated members.
        default_members: serde_json::from_value(members).unwrap_or_default(),
        created_by: row.get(6),
        created_at: row.get(7),
        updated_at: row.get(8),
    }
}

/// The JSON a list of default members is stored as (templates and routing rules).
pub(crate) fn members_json(m: &[DefaultMember]) -> serde_json::Value {
    serde_json::to_value(m).unwrap_or_default()
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<Template>> {
    let sql = format!("SELECT {COLUMNS} FROM templates ORDER BY name");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(from_row)
        .collect())
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Option<Template>> {
    let sql = format!("SELECT {COLUMNS} FROM templates WHERE id = $1");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(from_row))
}

/// Inserts; `None` when the name is taken.
pub async fn insert(
    client: &impl GenericClient,
    f: &TemplateFields,
    created_by: &str,
) -> Result<Option<Template>> {
    let sql = format!(
        "INSERT INTO templates (id, name, incident_type, default_severity, default_description,
                                default_members, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(
            &stmt,
            &[
                &Uuid::new_v4(),
                &f.name,
                &f.incident_type.as_str(),
                &f.default_severity.as_str(),
                &f.default_description,
                &members_json(&f.default_members),
                &created_by,
            ],
        )
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Replaces the fields; `Err` of a unique violation is left to the caller.
pub async fn update(
    client: &impl GenericClient,
    id: Uuid,
    f: &TemplateFields,
) -> Result<Option<Template>> {
    let sql = format!(
        "UPDATE templates SET name = $2, incident_type = $3, default_severity = $4,
                default_description = $5, default_members = $6, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(
            &stmt,
            &[
                &id,
                &f.name,
                &f.incident_type.as_str(),
                &f.default_severity.as_str(),
                &f.default_description,
                &members_json(&f.default_members),
            ],
        )
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn delete(client: &impl GenericClient, id: Uuid) -> Result<bool> {
    let stmt = client
        .prepare_cached("DELETE FROM templates WHERE id = $1")
        .await?;
    Ok(client.execute(&stmt, &[&id]).await? > 0)
}
