//! What a subscriber reads from the room service: its standing in a room (may it
//! read, what may it do) and the room's log, a page at a time, for a replay.

use andon_actors::permissions::Role;
use uuid::Uuid;

use super::{RoomAccess, Rooms};
use crate::auth::AuthUser;
use crate::db::events::{self, ReplayEvent};
use crate::domain::rooms::RoomStatus;
use crate::error::ApiResult;

/// A reader's standing in a room, as of the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Their role; `None` for an administrator who is not a member.
    pub role: Option<Role>,
    /// Archived rooms are read-only.
    pub archived: bool,
}

impl From<&RoomAccess> for Standing {
    fn from(access: &RoomAccess) -> Self {
        Self {
            role: access.role,
            archived: access.room.status == RoomStatus::Archived,
        }
    }
}

impl Rooms {
    /// The standing of someone who wants to read the room (subscribe to it):
    /// members, and audited administrators; 403 for others, 404 when there is
    /// no such room.
    pub async fn readable(&self, user: &AuthUser, room_id: Uuid) -> ApiResult<Standing> {
        let client = self.conn().await?;
        let access = RoomAccess::readable(&client, room_id, user).await?;
        Ok(Standing::from(&access))
    }

    /// The standing re-read after a change to the caller's membership or to the
    /// room's status (no read check: the room decides on the subscription).
    pub async fn standing(&self, user: &AuthUser, room_id: Uuid) -> ApiResult<Standing> {
        let client = self.conn().await?;
        let access = RoomAccess::load(&client, room_id, user, false).await?;
        Ok(Standing::from(&access))
    }

    /// Up to `limit` events of the room's log after `after`, cut once the page
    /// holds `max_bytes` of frames (always at least one event).
    pub async fn replay_page(
        &self,
        room_id: Uuid,
        after: i64,
        limit: i64,
        max_bytes: usize,
    ) -> ApiResult<Vec<ReplayEvent>> {
        let client = self.conn().await?;
        Ok(events::list_frames(&client, room_id, after, limit, max_bytes).await?)
    }
}
