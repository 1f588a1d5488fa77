//! The room as a working record: message search in one room and across rooms,
//! and the edit history of a message.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::search::{self, Cursor, EditVersion, Hit};
use crate::db::{audit, messages};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::rooms::RoomAccess;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/rooms/{id}/messages/search").get(in_room))
        .service(web::resource("/api/search/messages").get(across_rooms))
        .service(web::resource("/api/rooms/{id}/messages/{message_id}/edits").get(edits));
}

/// The longest query, in characters.
pub const QUERY_MAX: usize = 200;

/// The query, trimmed: 1 to [`QUERY_MAX`] characters, no NUL.
fn check_query(q: &str) -> ApiResult<&str> {
    let q = q.trim();
    let n = q.chars().count();
    if n == 0 || n > QUERY_MAX {
        return Err(ApiError::validation(format!(
            "q must be 1 to {QUERY_MAX} characters (not counting spaces around it), got {n}"
        )));
    }
    crate::domain::text::storable("q", q).map_err(ApiError::validation)?;
    Ok(q)
}

fn check_limit(limit: Option<i64>) -> ApiResult<i64> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "limit must be 1 to 100",
        ));
    }
    Ok(limit)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RoomSearchQuery {
    /// Text to find in the messages' content: 1 to 200 characters after trimming,
    /// case-insensitive substring.
    #[serde(default)]
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// Only hits with a lower seq: the `next_before_seq` of the previous page.
    before_seq: Option<i64>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct RoomSearchPage {
    /// Newest (highest seq) first.
    hits: Vec<Hit>,
    /// More hits lie beyond this page.
    has_more: bool,
    /// Pass as `before_seq` for the next page; null on the last page.
    next_before_seq: Option<i64>,
}

#[utoipa::path(get, path = "/api/rooms/{id}/messages/search", tag = "messages", params(("id" = Uuid, Path, description = "Room id"), RoomSearchQuery), responses(
    (status = 200, description = "Messages of the room containing `q`, newest first", body = RoomSearchPage),
    (status = 400, description = "`validation_failed`: `q` empty, too long or with NUL; `invalid_query`: `limit`", body = ErrorBody),
    (status = 403, description = "`forbidden`: not a member", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn in_room(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<RoomSearchQuery>,
) -> ApiResult<HttpResponse> {
    let q = check_query(&query.q)?;
    let limit = check_limit(query.limit)?;
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    let (hits, has_more) =
        search::in_room(&client, access.room.id, q, query.before_seq, limit).await?;
    let next_before_seq = has_more.then(|| hits.last().map(|h| h.seq)).flatten();
    Ok(HttpResponse::Ok().json(RoomSearchPage {
        hits,
        has_more,
        next_before_seq,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct GlobalSearchQuery {
    /// Text to find in the messages' content: 1 to 200 characters after trimming,
    /// case-insensitive substring.
    #[serde(default)]
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// Only hits after this one in the order: the `next_before` of the previous
    /// page (opaque).
    before: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct GlobalSearchPage {
    /// Newest (`created_at`, then message id) first; each with its room's title.
    hits: Vec<Hit>,
    has_more: bool,
    /// Pass as `before` for the next page; null on the last page.
    next_before: Option<String>,
}

#[utoipa::path(get, path = "/api/search/messages", tag = "messages", params(GlobalSearchQuery), responses(
    (status = 200, description = "Messages containing `q` in every room the caller may read, newest first", body = GlobalSearchPage),
    (status = 400, description = "`validation_failed`: `q` empty, too long or with NUL; `invalid_query`: `limit` or `before`", body = ErrorBody),
), security(("bearer" = [])))]
async fn across_rooms(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<GlobalSearchQuery>,
) -> ApiResult<HttpResponse> {
    let q = check_query(&query.q)?;
    let limit = check_limit(query.limit)?;
    let before = match query.before.as_deref() {
        None => None,
        Some(s) => Some(Cursor::decode(s).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                "before must be the next_before of a previous page",
            )
        })?),
    };
    let client = state.db_conn().await?;
    let (hits, has_more) =
        search::across_rooms(&client, &user.id, user.is_admin, q, before, limit).await?;
    if user.is_admin {
        // Reading a room one is not a member of is an audited override, here as
        // when an administrator opens such a room.
        let rooms: Vec<Uuid> = hits
            .iter()
            .map(|h| h.room_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let member = search::member_of(&client, &user.id, &rooms).await?;
        for room in rooms.iter().filter(|r| !member.contains(r)) {
            audit::record(
                &client,
                &audit::Entry {
                    actor: &user.id,
                    action: "read",
                    room_id: Some(*room),
                    target: Some("search"),
                    details: json!({ "role": null, "q": q }),
                },
            )
            .await?;
        }
    }
    let next_before = has_more
        .then(|| {
            hits.last().map(|h| {
                Cursor {
                    created_at: h.created_at,
                    id: h.message_id,
                }
                .encode()
            })
        })
        .flatten();
    Ok(HttpResponse::Ok().json(GlobalSearchPage {
        hits,
        has_more,
        next_before,
    }))
}

#[derive(Serialize, ToSchema)]
struct EditHistory {
    message_id: Uuid,
    /// A deleted message keeps no readable history: `versions` is empty and
    /// `content` is empty, as in the timeline.
    deleted: bool,
    created_at: DateTime<Utc>,
    /// When it was last edited; null when never.
    edited_at: Option<DateTime<Utc>>,
    /// The earlier versions, oldest first.
    versions: Vec<EditVersion>,
    /// The current text.
    content: String,
}

#[utoipa::path(get, path = "/api/rooms/{id}/messages/{message_id}/edits", tag = "messages", params(
    ("id" = Uuid, Path, description = "Room id"),
    ("message_id" = Uuid, Path, description = "Message id"),
), responses(
    (status = 200, description = "The message's earlier versions, oldest first, and its current text", body = EditHistory),
    (status = 403, description = "`forbidden`: not a member", body = ErrorBody),
    (status = 404, description = "`not_found`: no such room, or no such message in it", body = ErrorBody),
), security(("bearer" = [])))]
async fn edits(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room, message) = path.into_inner();
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, room, &user).await?;
    let m = messages::get(&client, access.room.id, message)
        .await?
        .ok_or_else(|| ApiError::not_found("Message"))?;
    let versions = if m.deleted {
        Vec::new()
    } else {
        search::edits(&client, m.id, m.created_at).await?
    };
    Ok(HttpResponse::Ok().json(EditHistory {
        message_id: m.id,
        deleted: m.deleted,
        created_at: m.created_at,
        edited_at: m.edited_at,
        versions,
        content: m.content,
    }))
}
