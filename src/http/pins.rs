//! Pinned messages (issue 20): `GET /api/rooms/{id}/pins` lists them in pin order,
//! `POST /api/rooms/{id}/pins` pins one, `DELETE /api/rooms/{id}/pins/{message_id}`
//! takes a pin off. Pinning goes through the same room service as the socket's
//! `pin` and `unpin` frames.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::pins::{self, PinView};
use crate::error::ApiResult;
use crate::http::openapi::ErrorBody;
use crate::rooms::RoomAccess;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/rooms/{id}/pins").get(list).post(pin))
        .service(web::resource("/api/rooms/{id}/pins/{message_id}").delete(unpin));
}

#[derive(Serialize, ToSchema)]
struct PinList {
    /// In pin order (oldest pin first).
    pins: Vec<PinView>,
    /// How many pins a room may hold.
    max: i64,
}

#[utoipa::path(get, path = "/api/rooms/{id}/pins", tag = "messages", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The room's pinned messages, in pin order, with who pinned them and when", body = PinList),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
), security(("bearer" = [])))]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    Ok(HttpResponse::Ok().json(PinList {
        pins: pins::list(&client, access.room.id).await?,
        max: pins::PINS_MAX,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PinBody {
    message_id: Uuid,
}

/// The answer to a pin or an unpin: like the socket's ack.
#[derive(Serialize, ToSchema)]
struct PinAck {
    message_id: Uuid,
    /// The seq of the `message.pinned` / `message.unpinned` event; `null` when the
    /// message already was in that state and nothing was written.
    seq: Option<i64>,
}

#[utoipa::path(post, path = "/api/rooms/{id}/pins", tag = "messages", params(("id" = Uuid, Path, description = "Room id")), request_body = PinBody, responses(
    (status = 200, description = "Pinned (`seq` of its event), or already pinned (`seq: null`)", body = PinAck),
    (status = 403, description = "`forbidden`: viewers and non-members; `room_archived` is 409", body = ErrorBody),
    (status = 404, description = "`not_found`: no such room or message", body = ErrorBody),
    (status = 409, description = "`message_deleted`, `pin_limit_reached`, `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn pin(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<PinBody>,
) -> ApiResult<HttpResponse> {
    let message_id = body.message_id;
    let seq = state.rooms.pin(&user, *id, message_id, true).await?;
    Ok(HttpResponse::Ok().json(PinAck { message_id, seq }))
}

#[utoipa::path(delete, path = "/api/rooms/{id}/pins/{message_id}", tag = "messages", params(("id" = Uuid, Path, description = "Room id"), ("message_id" = Uuid, Path, description = "Message id")), responses(
    (status = 200, description = "Unpinned (`seq` of its event), or not pinned (`seq: null`)", body = PinAck),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn unpin(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (room_id, message_id) = path.into_inner();
    let seq = state.rooms.pin(&user, room_id, message_id, false).await?;
    Ok(HttpResponse::Ok().json(PinAck { message_id, seq }))
}
