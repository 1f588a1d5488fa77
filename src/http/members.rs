//! Room members (PRODUCT.md R5): list, add, change role, remove, transfer ownership.

use actix_web::{HttpResponse, web};
use andon_actors::permissions::{Action, Role};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::access::RoomAccess;
use crate::auth::AuthUser;
use crate::db::{events, members};
use crate::domain::user_id;
use crate::error::{ApiError, ApiResult, ErrorCode};
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

#[utoipa::path(get, path = "/api/rooms/{id}/members", tag = "members", params(("id" = Uuid, Path, description = "Room id")), responses((status = "default", description = "{members}")), security(("bearer" = [])))]
async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let client = state.db_conn().await?;
    let access = RoomAccess::readable(&client, *id, &user).await?;
    let found = members::list(&client, access.room.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "members": found })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMember {
    user_id: String,
    role: String,
}

#[utoipa::path(post, path = "/api/rooms/{id}/members", tag = "members", params(("id" = Uuid, Path, description = "Room id")), responses((status = "default", description = "Add {user_id, role} (R5) → 201")), security(("bearer" = [])))]
async fn add(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<AddMember>,
) -> ApiResult<HttpResponse> {
    let target = parse_user(&body.user_id)?;
    let role = assignable_role(&body.role)?;
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let mut published = Vec::new();
    let access = RoomAccess::load(&tx, *id, &user, true).await?;
    access.ensure_writable()?;
    access
        .authorize(&tx, &user, Action::AddMember(role), Some(&target))
        .await?;
    if !members::add(&tx, access.room.id, &target, role, &user.id).await? {
        return Err(ApiError::new(
            ErrorCode::AlreadyMember,
            format!("{target} is already a member"),
        ));
    }
    published.push(
        events::append(
            &tx,
            access.room.id,
            "member.added",
            &user.id,
            json!({ "user_id": target, "role": role, "added_by": user.id }),
        )
        .await?,
    );
    tx.commit().await?;
    state.realtime.publish(published);
    Ok(HttpResponse::Created().json(json!({ "user_id": target, "role": role })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRole {
    role: String,
}

#[utoipa::path(patch, path = "/api/rooms/{id}/members/{user_id}", tag = "members", params(("id" = Uuid, Path, description = "Room id"), ("user_id" = String, Path, description = "Member e-mail")), responses((status = "default", description = "Change a role {role}")), security(("bearer" = [])))]
async fn change_role(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, String)>,
    body: web::Json<ChangeRole>,
) -> ApiResult<HttpResponse> {
    let (room_id, raw_target) = path.into_inner();
    let target = parse_user(&raw_target)?;
    let to = assignable_role(&body.role)?;
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let mut published = Vec::new();
    let access = RoomAccess::load(&tx, room_id, &user, true).await?;
    access.ensure_writable()?;
    let from = members::role_of(&tx, room_id, &target)
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
    access.authorize(&tx, &user, action, Some(&target)).await?;
    if from != to {
        members::set_role(&tx, room_id, &target, to).await?;
        published.push(
            events::append(
                &tx,
                room_id,
                "member.role_changed",
                &user.id,
                json!({ "user_id": target, "from": from, "to": to }),
            )
            .await?,
        );
    }
    tx.commit().await?;
    state.realtime.publish(published);
    Ok(HttpResponse::Ok().json(json!({ "user_id": target, "role": to })))
}

#[utoipa::path(delete, path = "/api/rooms/{id}/members/{user_id}", tag = "members", params(("id" = Uuid, Path, description = "Room id"), ("user_id" = String, Path, description = "Member e-mail")), responses((status = "default", description = "Remove a member (204)")), security(("bearer" = [])))]
async fn remove(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, String)>,
) -> ApiResult<HttpResponse> {
    let (room_id, raw_target) = path.into_inner();
    let target = parse_user(&raw_target)?;
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let mut published = Vec::new();
    let access = RoomAccess::load(&tx, room_id, &user, true).await?;
    access.ensure_writable()?;
    let role = members::role_of(&tx, room_id, &target)
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
        access
            .authorize(&tx, &user, Action::RemoveMember, Some(&target))
            .await?;
    }
    members::remove(&tx, room_id, &target).await?;
    published.push(
        events::append(
            &tx,
            room_id,
            "member.removed",
            &user.id,
            json!({ "user_id": target, "removed_by": user.id, "left": leaving }),
        )
        .await?,
    );
    tx.commit().await?;
    state.realtime.publish(published);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    user_id: String,
}

#[utoipa::path(post, path = "/api/rooms/{id}/transfer", tag = "members", params(("id" = Uuid, Path, description = "Room id")), responses((status = "default", description = "Transfer ownership {user_id}")), security(("bearer" = [])))]
async fn transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Transfer>,
) -> ApiResult<HttpResponse> {
    let target = parse_user(&body.user_id)?;
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let mut published = Vec::new();
    let access = RoomAccess::load(&tx, *id, &user, true).await?;
    access.ensure_writable()?;
    access
        .authorize(&tx, &user, Action::TransferOwnership, Some(&target))
        .await?;
    let room_id = access.room.id;
    let target_role = members::role_of(&tx, room_id, &target)
        .await?
        .ok_or_else(|| ApiError::validation("The new owner must be a member of the room"))?;
    if target_role == Role::Owner {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("{target} already owns the room"),
        ));
    }
    let owner = members::list(&tx, room_id)
        .await?
        .into_iter()
        .find(|m| m.role == Role::Owner)
        .map(|m| m.user_id)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("room {room_id} has no owner")))?;
    // The old owner steps down first: one owner per room is a unique index.
    members::set_role(&tx, room_id, &owner, Role::Editor).await?;
    members::set_role(&tx, room_id, &target, Role::Owner).await?;
    published.push(
        events::append(
            &tx,
            room_id,
            "ownership.transferred",
            &user.id,
            json!({ "from": owner, "to": target }),
        )
        .await?,
    );
    tx.commit().await?;
    state.realtime.publish(published);
    Ok(HttpResponse::Ok().json(json!({ "owner": target, "previous_owner": owner })))
}
