//! `GET /api/rooms/{id}/messages` (M12 history) and `POST /api/rooms/{id}/messages`
//! (sends for integrations, through the same group commit as socket sends).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::events;
use crate::db::messages::{self, MessageView, PageAt};
use crate::domain::text;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::realtime::protocol::SendFrame;
use crate::rooms::RoomAccess;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/rooms/{id}/messages")
            .get(history)
            .post(post),
    );
}

/// At most one of `before_seq`, `after_seq` and `around_seq`; none gives the
/// latest page.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    /// A page around this seq (a search hit): up to half of `limit` older
    /// messages, then the message at this seq and newer ones.
    around_seq: Option<i64>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Which page of history: one way, or both ways around a seq.
enum Want {
    Page(PageAt),
    Around(i64),
}

/// The message types a client may send (files arrive as uploads).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // A schema only: `check_send` parses the text.
enum SendableType {
    Text,
    IncidentData,
}

#[derive(Serialize, ToSchema)]
struct MessagePage {
    /// In ascending seq.
    messages: Vec<MessageView>,
    /// More messages lie beyond the page in its direction (older for the latest
    /// page, `before_seq` and `around_seq`; newer for `after_seq`).
    has_more: bool,
    /// The room's other events (status changes, milestones, members, files,
    /// pins, reports, escalations…) in the span of history this page covers, in
    /// ascending seq, for clients that show them as lines among the messages: from
    /// just after the page's oldest message (from the start when `has_more` is
    /// false) up to the page's end. At most [`SYSTEM_EVENTS_MAX`], the newest.
    #[schema(value_type = Vec<crate::http::openapi::EventSchema>)]
    events: Vec<events::Event>,
    /// `around_seq` only: older messages exist before the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    has_older: Option<bool>,
    /// `around_seq` only: newer messages exist after the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    has_newer: Option<bool>,
}

/// System events one page carries at most.
const SYSTEM_EVENTS_MAX: i64 = 500;

#[utoipa::path(get, path = "/api/rooms/{id}/messages", tag = "messages", params(("id" = Uuid, Path, description = "Room id"), HistoryQuery), responses(
    (status = 200, description = "One page of history (M12)", body = MessagePage),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
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
    let want = match (query.before_seq, query.after_seq, query.around_seq) {
        (Some(b), None, None) => Want::Page(PageAt::Before(b)),
        (None, Some(a), None) => Want::Page(PageAt::After(a)),
        (None, None, None) => Want::Page(PageAt::Latest),
        (None, None, Some(seq)) => Want::Around(seq),
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "give at most one of before_seq, after_seq and around_seq",
            ));
        }
    };
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    // The page, and the span of seqs it covers: the room's other events of that
    // span come with it (older history starts where this page ends).
    let (page, span) = match want {
        Want::Page(at) => {
            let (list, has_more) = messages::page(&client, access.room.id, at, limit).await?;
            let (oldest, newest) = (list.first().map(|m| m.seq), list.last().map(|m| m.seq));
            let span = match at {
                PageAt::Before(b) => (oldest.filter(|_| has_more).unwrap_or(0), b),
                PageAt::Latest => (oldest.filter(|_| has_more).unwrap_or(0), i64::MAX),
                PageAt::After(a) => (a, newest.filter(|_| has_more).unwrap_or(i64::MAX)),
            };
            let page = MessagePage {
                messages: list,
                has_more,
                events: Vec::new(),
                has_older: None,
                has_newer: None,
            };
            (page, span)
        }
        Want::Around(seq) => {
            let (list, has_older, has_newer) =
                messages::around(&client, access.room.id, seq, limit).await?;
            let (oldest, newest) = (list.first().map(|m| m.seq), list.last().map(|m| m.seq));
            let span = (
                oldest.filter(|_| has_older).unwrap_or(0),
                newest.filter(|_| has_newer).unwrap_or(i64::MAX),
            );
            let page = MessagePage {
                messages: list,
                has_more: has_older,
                events: Vec::new(),
                has_older: Some(has_older),
                has_newer: Some(has_newer),
            };
            (page, span)
        }
    };
    let events =
        events::system_between(&client, access.room.id, span.0, span.1, SYSTEM_EVENTS_MAX).await?;
    Ok(HttpResponse::Ok().json(MessagePage { events, ..page }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostMessage {
    /// The sender's id for this message: a retry with the same id is not stored twice.
    #[schema(min_length = 1, max_length = 64)]
    client_id: String,
    /// Required (not blank) for `text`.
    content: String,
    /// Default `text`.
    #[schema(value_type = Option<SendableType>)]
    message_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
}

#[utoipa::path(post, path = "/api/rooms/{id}/messages", tag = "messages", params(("id" = Uuid, Path, description = "Room id")), request_body = PostMessage, responses(
    (status = 200, description = "A repeated `client_id`: the message stored the first time", body = MessageView),
    (status = 201, description = "Stored", body = MessageView),
    (status = 400, description = "`bad_request`: NUL in the text or metadata; `validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 413, description = "`payload_too_large`", body = ErrorBody),
), security(("bearer" = [])))]
async fn post(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<PostMessage>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    // PostgreSQL refuses NUL in text and in JSON: one such message would fail the
    // whole commit batch it lands in, other senders' messages included.
    let storable = text::storable("client_id", &b.client_id)
        .and_then(|()| text::storable("content", &b.content))
        .and_then(|()| text::storable("message_type", b.message_type.as_deref().unwrap_or("")))
        .and_then(|()| {
            b.metadata
                .as_ref()
                .map_or(Ok(()), |m| text::storable_json("metadata", m))
        });
    if let Err(message) = storable {
        return Err(ApiError::new(ErrorCode::BadRequest, message));
    }
    let frame = SendFrame {
        room_id: *id,
        client_id: b.client_id,
        message_type: b.message_type.unwrap_or_else(|| "text".into()),
        content: b.content,
        metadata: b.metadata.unwrap_or_else(|| json!({})),
    };
    let ack = state.rooms.send(&user, frame).await?;
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
