//! Message actions, shared by REST handlers and sockets: send (through group
//! commit), edit, delete, react, mark read. All but the send are a [`RoomChange`]
//! each: one transaction under the room's row lock that checks the permission
//! matrix, writes its event and publishes it after the commit.
//!
//! [`RoomChange`]: super::RoomChange

use andon_actors::permissions::Action;
use andon_actors::realtime::{EventKind, SendAck, SendRequest};
use serde_json::json;
use uuid::Uuid;

use super::Rooms;
use crate::auth::AuthUser;
use crate::db::{audit, files, messages};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::realtime::protocol::{self, CONTENT_MAX, SendFrame};

/// Emoji: 1–10 characters, no spaces or control characters.
pub fn check_emoji(emoji: &str) -> ApiResult<()> {
    let n = emoji.chars().count();
    if n == 0 || n > 10 || emoji.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::validation(
            "emoji must be 1 to 10 characters without spaces",
        ));
    }
    Ok(())
}

/// The group commit request of a send by `user` (checked with
/// `protocol::validate_send` first).
pub fn send_request(user: &AuthUser, frame: SendFrame) -> SendRequest {
    SendRequest {
        room_id: frame.room_id,
        sender: user.id.clone(),
        sender_name: user.display_name.clone(),
        sender_is_admin: user.is_admin,
        client_id: frame.client_id,
        message_type: frame.message_type,
        content: frame.content,
        metadata: frame.metadata,
    }
}

impl Rooms {
    /// Sends a message: checked, then stored by group commit (which checks the
    /// sender's role under the room's lock). Acknowledged once committed.
    pub async fn send(&self, user: &AuthUser, frame: SendFrame) -> ApiResult<SendAck> {
        protocol::validate_send(&frame)?;
        self.submit(send_request(user, frame)).await
    }

    /// Hands a checked send to group commit; answers once it is committed.
    pub async fn submit(&self, request: SendRequest) -> ApiResult<SendAck> {
        Ok(self.commit.submit(request).await?)
    }

    /// Edits the caller's own message within the edit window; returns the event seq.
    pub async fn edit(
        &self,
        user: &AuthUser,
        room: Uuid,
        message: Uuid,
        content: &str,
    ) -> ApiResult<i64> {
        if content.trim().is_empty() {
            return Err(ApiError::validation("content must not be blank"));
        }
        crate::domain::text::storable("content", content).map_err(ApiError::validation)?;
        if content.chars().count() > CONTENT_MAX {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("content is over {CONTENT_MAX} characters"),
            ));
        }
        let edit_window = self.edit_window;
        self.change(room, user, async |c| {
            let msg = messages::lock(c.tx(), room, message)
                .await?
                .filter(|m| !m.deleted)
                .ok_or_else(|| ApiError::not_found("Message"))?;
            if msg.sender != user.id && !user.is_admin {
                return Err(ApiError::forbidden("Only the sender may edit a message"));
            }
            c.authorize(Action::EditOwn, Some(&message.to_string()))
                .await?;
            if msg.sender != user.id {
                // Only an administrator gets here: changing another person's words
                // is an override whatever their room role, so it goes on the record
                // with what the message said before.
                audit::record(
                    c.tx(),
                    &audit::Entry {
                        actor: &user.id,
                        action: "edit_others_message",
                        room_id: Some(room),
                        target: Some(&message.to_string()),
                        details: json!({ "sender": msg.sender, "previous_content": msg.content }),
                    },
                )
                .await?;
            }
            let age = chrono::Utc::now() - msg.created_at;
            if age.to_std().unwrap_or_default() > edit_window {
                return Err(ApiError::new(
                    ErrorCode::EditWindowPassed,
                    "The edit window of this message has passed",
                ));
            }
            let edited_at = messages::edit(c.tx(), message, content).await?;
            c.append(
                EventKind::MessageEdited,
                json!({"message_id": message, "content": content, "edited_at": edited_at}),
            )
            .await
        })
        .await
    }

    /// Soft-deletes a message: the sender's own, or any for the owner.
    pub async fn delete(&self, user: &AuthUser, room: Uuid, message: Uuid) -> ApiResult<i64> {
        self.change(room, user, async |c| {
            let msg = messages::lock(c.tx(), room, message)
                .await?
                .filter(|m| !m.deleted)
                .ok_or_else(|| ApiError::not_found("Message"))?;
            let action = if msg.sender == user.id {
                Action::EditOwn
            } else {
                Action::DeleteAnyMessage
            };
            c.authorize(action, Some(&message.to_string())).await?;
            messages::soft_delete(c.tx(), room, message, &user.id).await?;
            let seq = c
                .append(
                    EventKind::MessageDeleted,
                    json!({"message_id": message, "deleted_by": user.id}),
                )
                .await?;
            super::pins::unpin_deleted(c, message).await?;
            // A file message takes its file with it.
            if let Some(file) = files::of_messages(c.tx(), &[message]).await?.pop() {
                files::soft_delete(c.tx(), file.id, &user.id).await?;
                c.append(
                    EventKind::FileDeleted,
                    json!({"file_id": file.id, "message_id": message}),
                )
                .await?;
            }
            Ok(seq)
        })
        .await
    }

    /// Adds or removes a reaction; `None` when it already was in that state.
    pub async fn react(
        &self,
        user: &AuthUser,
        room: Uuid,
        message: Uuid,
        emoji: &str,
        add: bool,
    ) -> ApiResult<Option<i64>> {
        check_emoji(emoji)?;
        self.change(room, user, async |c| {
            c.authorize(Action::React, Some(&message.to_string()))
                .await?;
            messages::lock(c.tx(), room, message)
                .await?
                .filter(|m| !m.deleted)
                .ok_or_else(|| ApiError::not_found("Message"))?;
            if !messages::react(c.tx(), message, &user.id, emoji, add).await? {
                c.abandon();
                return Ok(None);
            }
            let kind = if add {
                EventKind::ReactionAdded
            } else {
                EventKind::ReactionRemoved
            };
            let data = json!({"message_id": message, "emoji": emoji, "user": user.id});
            c.append(kind, data).await.map(Some)
        })
        .await
    }

    /// Moves the read marker forward; returns the stored marker.
    pub async fn mark_read(&self, user: &AuthUser, room: Uuid, seq: i64) -> ApiResult<i64> {
        let client = self.conn().await?;
        messages::mark_read(&client, room, &user.id, seq)
            .await?
            .ok_or_else(|| ApiError::forbidden("Only members have read markers"))
    }
}
