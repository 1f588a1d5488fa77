//! Room access checks shared by every room change and read: find the room, the
//! caller's role, and apply the permission matrix. A system administrator passes every check; when
//! their role would not have allowed the action, an audit row is written in the
//! same transaction as the change.

use andon_actors::permissions::{self, Action, Role};
use serde_json::json;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::rooms::Room;
use crate::db::{GenericClient, audit, members, rooms};
use crate::domain::rooms::RoomStatus;
use crate::error::{ApiError, ApiResult, ErrorCode};

pub struct RoomAccess {
    pub room: Room,
    pub role: Option<Role>,
}

impl RoomAccess {
    /// Reads the room (locked until the transaction ends when `lock`) and the
    /// caller's role. 404 when there is no such room, or when it is archived and
    /// the caller is neither a member nor an admin.
    pub async fn load(
        client: &impl GenericClient,
        room_id: Uuid,
        user: &AuthUser,
        lock: bool,
    ) -> ApiResult<Self> {
        let room = if lock {
            rooms::lock(client, room_id).await?
        } else {
            rooms::get(client, room_id).await?
        }
        .ok_or_else(|| ApiError::not_found("Room"))?;
        let role = members::role_of(client, room_id, &user.id).await?;
        if room.status == RoomStatus::Archived && role.is_none() && !user.is_admin {
            return Err(ApiError::not_found("Room"));
        }
        Ok(Self { room, role })
    }

    /// The room for someone who wants to read it (history, members, files, the
    /// log, a subscription): members, and audited admins; 403 for others.
    pub async fn readable(
        client: &impl GenericClient,
        room_id: Uuid,
        user: &AuthUser,
    ) -> ApiResult<Self> {
        let access = Self::load(client, room_id, user, false).await?;
        access.authorize(client, user, Action::Read, None).await?;
        Ok(access)
    }

    /// Allows `action` or answers 403; an admin override is audited.
    pub async fn authorize(
        &self,
        client: &impl GenericClient,
        user: &AuthUser,
        action: Action,
        target: Option<&str>,
    ) -> ApiResult<()> {
        if permissions::allows(self.role, action) {
            return Ok(());
        }
        if user.is_admin {
            audit::record(
                client,
                &audit::Entry {
                    actor: &user.id,
                    action: action.name(),
                    room_id: Some(self.room.id),
                    target,
                    details: json!({ "role": self.role.map(Role::as_str) }),
                },
            )
            .await?;
            return Ok(());
        }
        Err(ApiError::forbidden(match self.role {
            None => format!("Join the room first: only members may {}", action.name()),
            Some(role) => format!(
                "Your role in this room ({}) does not allow {}",
                role.as_str(),
                action.name()
            ),
        }))
    }

    /// Archived rooms are read-only.
    pub fn ensure_writable(&self) -> ApiResult<()> {
        if self.room.status == RoomStatus::Archived {
            return Err(ApiError::new(
                ErrorCode::RoomArchived,
                "The room is archived and read-only",
            ));
        }
        Ok(())
    }
}
