//! Pins (issue 20): editors and owners pin a message to the room, or take its
//! pin off, over REST or the socket. One [`RoomChange`] each: the permission
//! matrix, the room writable, one `message.pinned` / `message.unpinned` event, or
//! nothing at all when the message already was in that state.
//!
//! [`RoomChange`]: super::RoomChange

use andon_actors::permissions::Action;
use andon_actors::realtime::EventKind;
use serde_json::json;
use uuid::Uuid;

use super::{RoomChange, Rooms};
use crate::auth::AuthUser;
use crate::db::messages::{self, MessageView};
use crate::db::pins::{self, PINS_MAX};
use crate::error::{ApiError, ApiResult, ErrorCode};

impl Rooms {
    /// Pins (`pin`) or unpins a message; the event's seq, `None` when it already
    /// was in that state (nothing is written).
    pub async fn pin(
        &self,
        user: &AuthUser,
        room: Uuid,
        message: Uuid,
        pin: bool,
    ) -> ApiResult<Option<i64>> {
        self.change(room, user, async |c| {
            c.authorize(Action::Pin, Some(&message.to_string())).await?;
            let msg = messages::lock(c.tx(), room, message)
                .await?
                .ok_or_else(|| ApiError::not_found("Message"))?;
            let pinned = pins::is_pinned(c.tx(), message).await?;
            if pinned == pin {
                // An admin override audited above is not kept for a no-op.
                c.abandon();
                return Ok(None);
            }
            if pin {
                if msg.deleted {
                    return Err(ApiError::new(
                        ErrorCode::MessageDeleted,
                        "The message is deleted and cannot be pinned",
                    ));
                }
                if pins::count(c.tx(), room).await? >= PINS_MAX {
                    return Err(ApiError::new(
                        ErrorCode::PinLimitReached,
                        format!("A room holds at most {PINS_MAX} pins: unpin one first"),
                    ));
                }
                let seq = c.append(EventKind::MessagePinned, pin_data(&msg)).await?;
                pins::add(c.tx(), room, message, seq, &user.id).await?;
                Ok(Some(seq))
            } else {
                pins::remove(c.tx(), message).await?;
                c.append(EventKind::MessageUnpinned, pin_data(&msg))
                    .await
                    .map(Some)
            }
        })
        .await
    }
}

/// What a pin event says of its message: enough to place and name it.
fn pin_data(m: &MessageView) -> serde_json::Value {
    json!({ "message_id": m.id, "message_seq": m.seq, "sender": m.sender })
}

/// A message being deleted in `c` loses its pin: `message.unpinned` with
/// `"deleted": true`, after the deletion's own event.
pub async fn unpin_deleted(c: &mut RoomChange<'_>, message: Uuid) -> ApiResult<()> {
    if !pins::remove(c.tx(), message).await? {
        return Ok(());
    }
    let room = c.room_id();
    let seq = messages::get(c.tx(), room, message).await?.map(|m| m.seq);
    c.append(
        EventKind::MessageUnpinned,
        json!({ "message_id": message, "message_seq": seq, "deleted": true }),
    )
    .await?;
    Ok(())
}
