//! Uploaded files' records.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use super::GenericClient;

type Result<T> = std::result::Result<T, tokio_postgres::Error>;

/// The file object of the API, of `file.added` events and of messages' `file`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = File)]
pub struct FileView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub name: String,
    pub kind: String,
    pub mime_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploader: String,
    pub uploaded_at: DateTime<Utc>,
    pub message_id: Option<Uuid>,
    pub has_thumbnail: bool,
    pub content_url: String,
    pub thumbnail_url: Option<String>,
    #[serde(skip)]
    pub storage_key: String,
    #[serde(skip)]
    pub thumbnail_key: Option<String>,
    #[serde(skip)]
    pub deleted: bool,
}

const COLUMNS: &str = "id, room_id, original_name, kind, mime_type, size, sha256, uploader, uploaded_at, \
                       message_id, storage_key, thumbnail_key, deleted_at";

fn from_row(row: &Row) -> FileView {
    let id: Uuid = row.get(0);
    let room_id: Uuid = row.get(1);
    let thumbnail_key: Option<String> = row.get(11);
    let base = format!("/api/rooms/{room_id}/files/{id}");
    FileView {
        id,
        room_id,
        name: row.get(2),
        kind: row.get(3),
        mime_type: row.get(4),
        size: row.get(5),
        sha256: row.get(6),
        uploader: row.get(7),
        uploaded_at: row.get(8),
        message_id: row.get(9),
        has_thumbnail: thumbnail_key.is_some(),
        content_url: format!("{base}/content"),
        thumbnail_url: thumbnail_key.as_ref().map(|_| format!("{base}/thumbnail")),
        storage_key: row.get(10),
        thumbnail_key,
        deleted: row.get::<_, Option<DateTime<Utc>>>(12).is_some(),
    }
}

pub struct NewFile<'a> {
    pub id: Uuid,
    pub room_id: Uuid,
    pub uploader: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub mime_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub thumbnail_key: Option<&'a str>,
    pub message_id: Uuid,
}

pub async fn insert(tx: &impl GenericClient, f: &NewFile<'_>) -> Result<FileView> {
    let sql = format!(
        "INSERT INTO files (id, room_id, uploader, original_name, kind, mime_type, size, sha256,
                            storage_key, thumbnail_key, message_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &f.id,
                &f.room_id,
                &f.uploader,
                &f.name,
                &f.kind,
                &f.mime_type,
                &f.size,
                &f.sha256,
                &f.storage_key,
                &f.thumbnail_key,
                &f.message_id,
            ],
        )
        .await?;
    Ok(from_row(&row))
}

/// A file of the room (deleted ones too: callers decide).
pub async fn get(client: &impl GenericClient, room: Uuid, id: Uuid) -> Result<Option<FileView>> {
    let sql = format!("SELECT {COLUMNS} FROM files WHERE room_id = $1 AND id = $2");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query_opt(&stmt, &[&room, &id])
        .await?
        .as_ref()
        .map(from_row))
}

/// The room's files, newest first, without deleted ones.
pub async fn list(client: &impl GenericClient, room: Uuid) -> Result<Vec<FileView>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM files WHERE room_id = $1 AND deleted_at IS NULL ORDER BY uploaded_at DESC"
    );
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[&room])
        .await?
        .iter()
        .map(from_row)
        .collect())
}

/// The files of these messages (for history pages).
pub async fn of_messages(client: &impl GenericClient, messages: &[Uuid]) -> Result<Vec<FileView>> {
    let sql =
        format!("SELECT {COLUMNS} FROM files WHERE message_id = ANY($1) AND deleted_at IS NULL");
    let stmt = client.prepare_cached(&sql).await?;
    Ok(client
        .query(&stmt, &[&messages])
        .await?
        .iter()
        .map(from_row)
        .collect())
}

pub async fn soft_delete(tx: &impl GenericClient, id: Uuid, by: &str) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE files SET deleted_at = now(), deleted_by = $2 WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&id, &by]).await?;
    Ok(())
}
