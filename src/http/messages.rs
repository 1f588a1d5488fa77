//! `GET /api/rooms/{id}/messages` (M12 history) and `POST /api/rooms/{id}/messages`
//! (sends for integrations, through the same group commit as socket sends).

use actix_web::{HttpResponse, web};
use andon_actors::realtime::{SendError, SendRequest};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::RoomAccess;
use crate::auth::AuthUser;
use crate::db::messages::{self, PageAt};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::realtime::protocol::{self, SendFrame};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/rooms/{id}/messages")
            .get(history)
            .post(post),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/rooms/{id}/messages", tag = "messages", params(("id" = Uuid, Path, description = "Room id"), ("before_seq" = Option<i64>, Query), ("after_seq" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = "default", description = "{messages, has_more} in ascending seq (M12)")), security(("bearer" = [])))]
async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "limit must be 1 to 200",
        ));
    }
    let at = match (query.before_seq, query.after_seq) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "give before_seq or after_seq, not both",
            ));
        }
        (Some(b), None) => PageAt::Before(b),
        (None, Some(a)) => PageAt::After(a),
        (None, None) => PageAt::Latest,
    };
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    let (list, has_more) = messages::page(&client, access.room.id, at, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": list, "has_more": has_more })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostMessage {
    client_id: String,
    content: String,
    message_type: Option<String>,
    metadata: Option<Value>,
}

#[utoipa::path(post, path = "/api/rooms/{id}/messages", tag = "messages", params(("id" = Uuid, Path, description = "Room id")), responses((status = "default", description = "Send {client_id, content, message_type?, metadata?} → 201 message (200 for a repeated client_id)")), security(("bearer" = [])))]
async fn post(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<PostMessage>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let frame = SendFrame {
        room_id: *id,
        client_id: b.client_id,
        message_type: b.message_type.unwrap_or_else(|| "text".into()),
        content: b.content,
        metadata: b.metadata.unwrap_or_else(|| json!({})),
    };
    protocol::check_send(&frame).map_err(|e| match e.code {
        "too_large" => ApiError::new(ErrorCode::PayloadTooLarge, e.message),
        _ => ApiError::validation(e.message),
    })?;
    let request = SendRequest {
        room_id: frame.room_id,
        sender: user.id.clone(),
        sender_name: user.display_name.clone(),
        sender_is_admin: user.is_admin,
        client_id: frame.client_id,
        message_type: frame.message_type,
        content: frame.content,
        metadata: frame.metadata,
    };
    let ack = state
        .realtime
        .commit
        .submit(request)
        .await
        .map_err(|e| match e {
            SendError::Forbidden(m) => ApiError::forbidden(m),
            SendError::NotFound => ApiError::not_found("Room"),
            SendError::Unavailable | SendError::ShuttingDown => {
                ApiError::new(ErrorCode::Unavailable, e.to_string()).with_retry_after(1)
            }
            SendError::Rejected => ApiError::validation(e.to_string()),
        })?;
    let client = state.db_conn().await?;
    let message = messages::get(&client, *id, ack.message_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "acknowledged message {} not found",
                ack.message_id
            ))
        })?;
    Ok(if ack.duplicate {
        HttpResponse::Ok().json(message)
    } else {
        HttpResponse::Created().json(message)
    })
}
