//! Room members (PRODUCT.md R5): list, add, change role, remove, transfer ownership.

use actix_web::{HttpResponse, web};
use andon_actors::permissions::{Action, Role};
use andon_actors::realtime::EventKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::members;
use crate::domain::user_id;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::openapi::{ErrorBody, RoleSchema};
use crate::notifications::NewNotification;
use crate::rooms::RoomAccess;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/rooms/{id}/members").get(list).post(add))
        .service(
            web::resource("/api/rooms/{id}/members/{user_id}")
                .patch(change_role)
                .delete(remove),
        )
        .service(web::resource("/api/rooms/{id}/transfer").post(transfer));
}

/// A role a member may be given directly: ownership only moves by transfer.
fn assignable_role(role: &str) -> ApiResult<Role> {
    match Role::parse(role) {
        Some(Role::Owner) => Err(ApiError::validation(
            "role must be editor or viewer; ownership moves with POST /transfer",
        )),
        Some(r) => Ok(r),
        None => Err(ApiError::validation(format!(
            "role: `{role}` is not one of: editor, viewer"
        ))),
    }
}

fn parse_user(raw: &str) -> ApiResult<String> {
    user_id(raw).map_err(|e| ApiError::validation(format!("user_id: {e}")))
}

#[derive(Serialize, ToSchema)]
struct MemberList {
    members: Vec<members::Member>,
}

/// A member's role after a change.
#[derive(Serialize, ToSchema)]
struct MemberRole {
    user_id: String,
    #[schema(value_type = RoleSchema)]
    role: Role,
}

#[utoipa::path(get, path = "/api/rooms/{id}/members", tag = "members", params(("id" = Uuid, Path, description = "Room id")), responses(
    (status = 200, description = "The members", body = MemberList),
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
    let found = members::list(&client, access.room.id).await?;
    Ok(HttpResponse::Ok().json(MemberList { members: found }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddMember {
    /// The member's e-mail; they need not have logged in yet.
    #[schema(format = Email)]
    user_id: String,
    /// `editor` or `viewer` (ownership moves by transfer).
    #[schema(value_type = RoleSchema)]
    role: String,
}

#[utoipa::path(post, path = "/api/rooms/{id}/members", tag = "members", params(("id" = Uuid, Path, description = "Room id")), request_body = AddMember, responses(
    (status = 201, description = "Added (R5); the member gets an `added` notification", body = MemberRole),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`already_member`, `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn add(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<AddMember>,
) -> ApiResult<HttpResponse> {
    let target = parse_user(&body.user_id)?;
    let role = assignable_role(&body.role)?;
    state
        .rooms
        .change(*id, &user, async |c| {
            c.authorize(Action::AddMember(role), Some(&target)).await?;
            if !members::add(c.tx(), c.room_id(), &target, role, &user.id).await? {
                return Err(ApiError::new(
                    ErrorCode::AlreadyMember,
                    format!("{target} is already a member"),
                ));
            }
            let seq = c
                .append(
                    EventKind::MemberAdded,
                    json!({ "user_id": target, "role": role, "added_by": user.id }),
                )
                .await?;
            if target != user.id {
                let title = c.room().title.clone();
                let added = NewNotification::added(
                    &target,
                    c.room_id(),
                    &title,
                    seq,
                    &user.id,
                    &user.display_name,
                );
                c.notify(&added).await?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(MemberRole {
        user_id: target,
        role,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeRole {
    /// `editor` or `viewer`.
    #[schema(value_type = RoleSchema)]
    role: String,
}

#[utoipa::path(patch, path = "/api/rooms/{id}/members/{user_id}", tag = "members", params(("id" = Uuid, Path, description = "Room id"), ("user_id" = String, Path, description = "Member e-mail")), request_body = ChangeRole, responses(
    (status = 200, description = "The member's role now", body = MemberRole),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`: no such room or member", body = ErrorBody),
    (status = 409, description = "`owner_must_transfer`, `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn change_role(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, String)>,
    body: web::Json<ChangeRole>,
) -> ApiResult<HttpResponse> {
    let (room_id, raw_target) = path.into_inner();
    let target = parse_user(&raw_target)?;
    let to = assignable_role(&body.role)?;
    state
        .rooms
        .change(room_id, &user, async |c| {
            let from = members::role_of(c.tx(), room_id, &target)
                .await?
                .ok_or_else(|| ApiError::not_found("Member"))?;
            if from == Role::Owner {
                return Err(ApiError::new(
                    ErrorCode::OwnerMustTransfer,
                    "The owner's role changes only by transferring ownership",
                ));
            }
            // Editors may promote a viewer to editor; every other change is the owner's.
            let action = if (from, to) == (Role::Viewer, Role::Editor) {
                Action::PromoteViewer
            } else {
                Action::ChangeRole
            };
            c.authorize(action, Some(&target)).await?;
            if from != to {
                members::set_role(c.tx(), room_id, &target, to).await?;
                c.append(
                    EventKind::MemberRoleChanged,
                    json!({ "user_id": target, "from": from, "to": to }),
                )
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(MemberRole {
        user_id: target,
        role: to,
    }))
}

#[utoipa::path(delete, path = "/api/rooms/{id}/members/{user_id}", tag = "members", params(("id" = Uuid, Path, description = "Room id"), ("user_id" = String, Path, description = "Member e-mail")), responses(
    (status = 204, description = "Removed (or left)"),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`: no such room or member", body = ErrorBody),
    (status = 409, description = "`owner_must_transfer`, `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn remove(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, String)>,
) -> ApiResult<HttpResponse> {
    let (room_id, raw_target) = path.into_inner();
    let target = parse_user(&raw_target)?;
    state
        .rooms
        .change(room_id, &user, async |c| {
            let role = members::role_of(c.tx(), room_id, &target)
                .await?
                .ok_or_else(|| ApiError::not_found("Member"))?;
            if role == Role::Owner {
                return Err(ApiError::new(
                    ErrorCode::OwnerMustTransfer,
                    "The owner must transfer ownership before leaving the room",
                ));
            }
            let leaving = target == user.id;
            if !leaving {
                c.authorize(Action::RemoveMember, Some(&target)).await?;
            }
            members::remove(c.tx(), room_id, &target).await?;
            c.append(
                EventKind::MemberRemoved,
                json!({ "user_id": target, "removed_by": user.id, "left": leaving }),
            )
            .await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Transfer {
    /// The new owner, a member of the room.
    #[schema(format = Email)]
    user_id: String,
}

#[derive(Serialize, ToSchema)]
struct Transferred {
    owner: String,
    previous_owner: String,
}

#[utoipa::path(post, path = "/api/rooms/{id}/transfer", tag = "members", params(("id" = Uuid, Path, description = "Room id")), request_body = Transfer, responses(
    (status = 200, description = "Ownership moved; the previous owner is an editor", body = Transferred),
    (status = 400, description = "`validation_failed`", body = ErrorBody),
    (status = 403, description = "`forbidden`", body = ErrorBody),
    (status = 404, description = "`not_found`", body = ErrorBody),
    (status = 409, description = "`conflict`: already the owner; `room_archived`", body = ErrorBody),
), security(("bearer" = [])))]
async fn transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Transfer>,
) -> ApiResult<HttpResponse> {
    let target = parse_user(&body.user_id)?;
    let owner = state
        .rooms
        .change(*id, &user, async |c| {
            c.authorize(Action::TransferOwnership, Some(&target))
                .await?;
            let room_id = c.room_id();
            let target_role = members::role_of(c.tx(), room_id, &target)
                .await?
                .ok_or_else(|| {
                    ApiError::validation("The new owner must be a member of the room")
                })?;
            if target_role == Role::Owner {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("{target} already owns the room"),
                ));
            }
            let owner = members::list(c.tx(), room_id)
                .await?
                .into_iter()
                .find(|m| m.role == Role::Owner)
                .map(|m| m.user_id)
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("room {room_id} has no owner"))
                })?;
            // The old owner steps down first: one owner per room is a unique index.
            members::set_role(c.tx(), room_id, &owner, Role::Editor).await?;
            members::set_role(c.tx(), room_id, &target, Role::Owner).await?;
            c.append(
                EventKind::OwnershipTransferred,
                json!({ "from": owner, "to": target }),
            )
            .await?;
            Ok(owner)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Transferred {
        owner: target,
        previous_owner: owner,
    }))
}
