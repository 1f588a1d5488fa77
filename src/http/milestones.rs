//! Incident milestones (issue 19): acknowledge and contain a room. Detection is the
//! room's creation and resolution its status change (`http/rooms.rs`); these two
//! are declared by members in between. Each is set once, by the first who declares
//! it, with an event in the room's log; declaring it again changes nothing.
//!
//! Containing a room nobody acknowledged acknowledges it too (two events): whoever
//! made the line safe has plainly taken the incident on, and MTTA stays defined.
//! Milestones are declared on active rooms only: a resolved room is past them
//! (reopening keeps the ones it had), an archived one is read-only.

use actix_web::{HttpResponse, web};
use andon_actors::permissions::Action;
use andon_actors::realtime::EventKind;
use serde_json::json;
use uuid::Uuid;

use super::rooms::view;
use crate::auth::AuthUser;
use crate::db::rooms::{self, Room, RoomView};
use crate::domain::rooms::{Milestone, RoomStatus};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::ErrorBody;
use crate::rooms::{RoomAccess, RoomChange};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/rooms/{id}/acknowledge").post(acknowledge))
        .service(web::resource("/api/rooms/{id}/contain").post(contain));
}

#[utoipa::path(post, path = "/api/rooms/{id}/acknowledge", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The room, acknowledged (by the caller unless someone was first)", body = RoomView),
    (status = 403, description = "`forbidden`: editors and owners only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`room_archived`; `invalid_transition`: the room is resolved and was never acknowledged", body = ErrorBody),
), security(("bearer" = [])))]
async fn acknowledge(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    declare(&state, &user, *id, Milestone::Acknowledged).await
}

#[utoipa::path(post, path = "/api/rooms/{id}/contain", tag = "rooms", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The room, contained (and acknowledged, if it was not)", body = RoomView),
    (status = 403, description = "`forbidden`: editors and owners only", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`room_archived`; `invalid_transition`: the room is resolved and was never contained", body = ErrorBody),
), security(("bearer" = [])))]
async fn contain(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    declare(&state, &user, *id, Milestone::Contained).await
}

/// Declares `milestone` on the room unless it is already set; the room as the
/// caller sees it either way.
async fn declare(
    state: &AppState,
    user: &AuthUser,
    room_id: Uuid,
    milestone: Milestone,
) -> ApiResult<HttpResponse> {
    let action = match milestone {
        Milestone::Acknowledged => Action::Acknowledge,
        Milestone::Contained => Action::Contain,
    };
    let result = state
        .rooms
        .change(room_id, user, async |c| {
            c.authorize(action, None).await?;
            if reached(c.room(), milestone) {
                // Nothing to do: an administrator's audited override goes too.
                c.abandon();
            } else {
                if c.room().status != RoomStatus::Active {
                    return Err(ApiError::new(
                        ErrorCode::InvalidTransition,
                        format!(
                            "The room is {}: milestones are declared while it is active",
                            c.room().status.as_str()
                        ),
                    ));
                }
                if milestone == Milestone::Contained && c.room().awaits_acknowledgement() {
                    set(c, Milestone::Acknowledged, &user.id).await?;
                }
                set(c, milestone, &user.id).await?;
            }
            let access = RoomAccess::load(c.tx(), c.room_id(), user, false).await?;
            view(c.tx(), access, user).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Whether `room` has `milestone` already.
fn reached(room: &Room, milestone: Milestone) -> bool {
    match milestone {
        Milestone::Acknowledged => room.acknowledged_at.is_some(),
        Milestone::Contained => room.contained_at.is_some(),
    }
}

/// Sets `milestone` and appends its event `{at, by, room}`.
async fn set(c: &mut RoomChange<'_>, milestone: Milestone, by: &str) -> ApiResult<()> {
    let room = rooms::set_milestone(c.tx(), c.room_id(), milestone, by).await?;
    let (kind, at) = match milestone {
        Milestone::Acknowledged => (EventKind::RoomAcknowledged, room.acknowledged_at),
        Milestone::Contained => (EventKind::RoomContained, room.contained_at),
    };
    c.append(kind, json!({ "at": at, "by": by, "room": room }))
        .await?;
    Ok(())
}
