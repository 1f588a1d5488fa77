//! Incident reports' rows (`migrations/V10__reports.sql`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;
use crate::reports::model::{Language, ReportContent};

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

crate::domain::rooms::string_enum!(
    /// Where a report is: `pending` (queued, waiting for a free worker),
    /// `collecting` (reading the room's record), `writing` (the Summary and
    /// Resolution process, by a model if asked), `assembling` (the images and the
    /// .docx), then `completed` or `failed`.
    ReportStatus {
        Pending => "pending",
        Collecting => "collecting",
        Writing => "writing",
        Assembling => "assembling",
        Completed => "completed",
        Failed => "failed",
    }
);

/// A report as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub id: Uuid,
    pub room_id: Uuid,
    pub requested_by: String,
    pub language: Language,
    pub ai: bool,
    pub status: ReportStatus,
    /// Why it failed (for people).
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The download's file name, once completed.
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    /// `GET` it for the .docx, once completed.
    pub content_url: Option<String>,
    #[serde(skip)]
    pub storage_key: Option<String>,
}

/// A report with its sections (`GET …/reports/{rid}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportDetail {
    #[serde(flatten)]
    pub report: Report,
    /// The sections, once completed (the preview).
    pub content: Option<ReportContent>,
}

const COLUMNS: &str = "id, room_id, requested_by, language, ai, status, reason, created_at, \
                       finished_at, file_name, size, sha256, storage_key";

fn from_row(row: &Row) -> Report {
    let id: Uuid = row.get(0);
    let room_id: Uuid = row.get(1);
    // The CHECK constraint admits only the statuses.
    let status = ReportStatus::parse(row.get(5)).unwrap_or(ReportStatus::Failed);
    Report {
        id,
        room_id,
        requested_by: row.get(2),
        language: Language::parse(row.get(3)).unwrap_or(Language::En),
        ai: row.get(4),
        status,
        reason: row.get(6),
        created_at: row.get(7),
        finished_at: row.get(8),
        file_name: row.get(9),
        size: row.get(10),
        sha256: row.get(11),
        content_url: (status == ReportStatus::Completed)
            .then(|| format!("/api/rooms/{room_id}/reports/{id}/content")),
        storage_key: row.get(12),
    }
}

pub struct NewReport<'a> {
    pub id: Uuid,
    pub room_id: Uuid,
    pub requested_by: &'a str,
    pub language: Language,
    pub ai: bool,
    pub lease: std::time::Duration,
}

pub async fn insert(client: &impl GenericClient, r: &NewReport<'_>) -> Result<Report> {
    let sql = format!(
        "INSERT INTO reports (id, room_id, requested_by, language, ai, lease_until)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &r.id,
                &r.room_id,
                &r.requested_by,
                &r.language.as_str(),
                &r.ai,
                &r.lease.as_secs_f64(),
            ],
        )
        .await?;
    Ok(from_row(&row))
}

/// The room's reports, newest first.
pub async fn list(client: &impl GenericClient, room: Uuid, limit: i64) -> Result<Vec<Report>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE room_id = $1 ORDER BY created_at DESC, id LIMIT $2"
    );
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[&room, &limit])
        .await?
        .iter()
        .map(from_row)
        .collect())
}

pub async fn get(
    client: &impl GenericClient,
    room: Uuid,
    id: Uuid,
) -> Result<Option<ReportDetail>> {
    let sql = format!("SELECT {COLUMNS}, content FROM reports WHERE room_id = $1 AND id = $2");
    let stmt = client.prepare_cached(&sql).await?;
    let Some(row) = client.query_opt(&stmt, &[&room, &id]).await? else {
        return Ok(None);
    };
    let content: Option<serde_json::Value> = row.get(13);
    Ok(Some(ReportDetail {
        report: from_row(&row),
        // Written by this server from the same type; a row it cannot read shows
        // no preview rather than failing the request.
        content: content.and_then(|c| serde_json::from_value(c).ok()),
    }))
}

/// Reports of the room not finished yet.
pub async fn unfinished_in_room(client: &impl GenericClient, room: Uuid) -> Result<Vec<Report>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reports
         WHERE room_id = $1 AND status NOT IN ('completed', 'failed') ORDER BY created_at"
    );
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[&room])
        .await?
        .iter()
        .map(from_row)
        .collect())
}

/// Moves an unfinished report to a running stage; false if it is finished
/// already (failed by a sweep, or its room deleted).
pub async fn set_stage(client: &impl GenericClient, id: Uuid, stage: ReportStatus) -> Result<bool> {
    let stmt = client
        .prepare_cached(
            "UPDATE reports SET status = $2
             WHERE id = $1 AND status NOT IN ('completed', 'failed')",
        )
        .await?;
    Ok(client.execute(&stmt, &[&id, &stage.as_str()]).await? == 1)
}

pub struct Finished<'a> {
    pub content: &'a ReportContent,
    pub file_name: &'a str,
    pub storage_key: &'a str,
    pub size: i64,
    pub sha256: &'a str,
}

/// Marks the report completed; `None` if it was finished already.
pub async fn complete(
    client: &impl GenericClient,
    id: Uuid,
    f: &Finished<'_>,
) -> Result<Option<Report>> {
    let sql = format!(
        "UPDATE reports SET status = 'completed', content = $2, file_name = $3, storage_key = $4,
                size = $5, sha256 = $6, finished_at = now()
         WHERE id = $1 AND status NOT IN ('completed', 'failed') RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let content = serde_json::to_value(f.content).unwrap_or_default();
    Ok(client
        .query_opt(
            &stmt,
            &[
                &id,
                &content,
                &f.file_name,
                &f.storage_key,
                &f.size,
                &f.sha256,
            ],
        )
        .await?
        .as_ref()
        .map(from_row))
}

/// Marks the report failed with `reason`; `None` if it was finished already.
pub async fn fail(client: &impl GenericClient, id: Uuid, reason: &str) -> Result<Option<Report>> {
    let sql = format!(
        "UPDATE reports SET status = 'failed', reason = $2, finished_at = now()
         WHERE id = $1 AND status NOT IN ('completed', 'failed') RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&stmt, &[&id, &reason])
        .await?
        .as_ref()
        .map(from_row))
}

/// Extends the lease of these unfinished reports (the process still holds them).
pub async fn renew(
    client: &impl GenericClient,
    ids: &[Uuid],
    lease: std::time::Duration,
) -> Result<u64> {
    let stmt = client
        .prepare_cached(
            "UPDATE reports SET lease_until = now() + make_interval(secs => $2)
             WHERE id = ANY($1) AND status NOT IN ('completed', 'failed')",
        )
        .await?;
    client.execute(&stmt, &[&ids, &lease.as_secs_f64()]).await
}

/// Fails every unfinished report whose lease lapsed: the process that held it
/// is gone. Returns them.
pub async fn fail_lapsed(client: &impl GenericClient, reason: &str) -> Result<Vec<Report>> {
    let sql = format!(
        "UPDATE reports SET status = 'failed', reason = $1, finished_at = now()
         WHERE status NOT IN ('completed', 'failed') AND lease_until < now() RETURNING {COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[&reason])
        .await?
        .iter()
        .map(from_row)
        .collect())
}
