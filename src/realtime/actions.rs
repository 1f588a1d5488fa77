//! Message actions that are not sends: edit, delete, react, mark read. Each is
//! one transaction under the room's row lock, checks the permission matrix, writes
//! its event and publishes it after the commit.

use andon_actors::permissions::Action;
use serde_json::json;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::{audit, events, files, messages};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::access::RoomAccess;
use crate::state::AppState;

use super::protocol::CONTENT_MAX;

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

/// Edits the caller's own message within the edit window; returns the event seq.
pub async fn edit(
    state: &AppState,
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
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let access = RoomAccess::load(&tx, room, user, true).await?;
    access.ensure_writable()?;
    let msg = messages::lock(&tx, room, message)
        .await?
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::not_found("Message"))?;
    if msg.sender != user.id && !user.is_admin {
        return Err(ApiError::forbidden("Only the sender may edit a message"));
    }
    access
        .authorize(&tx, user, Action::EditOwn, Some(&message.to_string()))
        .await?;
    if msg.sender != user.id {
        // Only an administrator gets here: changing another person's words is an
        // override whatever their room role, so it goes on the record with what
        // the message said before.
        audit::record(
            &tx,
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
    if age.to_std().unwrap_or_default() > state.realtime.config.edit_window {
        return Err(ApiError::new(
            ErrorCode::EditWindowPassed,
            "The edit window of this message has passed",
        ));
    }
    let edited_at = messages::edit(&tx, message, content).await?;
    let event = events::append(
        &tx,
        room,
        "message.edited",
        &user.id,
        json!({"message_id": message, "content": content, "edited_at": edited_at}),
    )
    .await?;
    tx.commit().await?;
    let seq = event.seq;
    state.realtime.publish(vec![event]);
    Ok(seq)
}

/// Soft-deletes a message: the sender's own, or any for the owner.
pub async fn delete(
    state: &AppState,
    user: &AuthUser,
    room: Uuid,
    message: Uuid,
) -> ApiResult<i64> {
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let access = RoomAccess::load(&tx, room, user, true).await?;
    access.ensure_writable()?;
    let msg = messages::lock(&tx, room, message)
        .await?
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::not_found("Message"))?;
    let action = if msg.sender == user.id {
        Action::EditOwn
    } else {
        Action::DeleteAnyMessage
    };
    access
        .authorize(&tx, user, action, Some(&message.to_string()))
        .await?;
    messages::soft_delete(&tx, room, message, &user.id).await?;
    let event = events::append(
        &tx,
        room,
        "message.deleted",
        &user.id,
        json!({"message_id": message, "deleted_by": user.id}),
    )
    .await?;
    let seq = event.seq;
    let mut published = vec![event];
    // A file message takes its file with it.
    if let Some(file) = files::of_messages(&tx, &[message]).await?.pop() {
        files::soft_delete(&tx, file.id, &user.id).await?;
        published.push(
            events::append(
                &tx,
                room,
                "file.deleted",
                &user.id,
                json!({"file_id": file.id, "message_id": message}),
            )
            .await?,
        );
    }
    tx.commit().await?;
    state.realtime.publish(published);
    Ok(seq)
}

/// Adds or removes a reaction; `None` when it already was in that state.
pub async fn react(
    state: &AppState,
    user: &AuthUser,
    room: Uuid,
    message: Uuid,
    emoji: &str,
    add: bool,
) -> ApiResult<Option<i64>> {
    check_emoji(emoji)?;
    let mut client = state.db_conn().await?;
    let tx = client.transaction().await?;
    let access = RoomAccess::load(&tx, room, user, true).await?;
    access.ensure_writable()?;
    access
        .authorize(&tx, user, Action::React, Some(&message.to_string()))
        .await?;
    messages::lock(&tx, room, message)
        .await?
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::not_found("Message"))?;
    if !messages::react(&tx, message, &user.id, emoji, add).await? {
        return Ok(None);
    }
    let kind = if add {
        "reaction.added"
    } else {
        "reaction.removed"
    };
    let event = events::append(
        &tx,
        room,
        kind,
        &user.id,
        json!({"message_id": message, "emoji": emoji, "user": user.id}),
    )
    .await?;
    tx.commit().await?;
    let seq = event.seq;
    state.realtime.publish(vec![event]);
    Ok(Some(seq))
}

/// Moves the read marker forward; returns the stored marker.
pub async fn mark_read(state: &AppState, user: &AuthUser, room: Uuid, seq: i64) -> ApiResult<i64> {
    let client = state.db_conn().await?;
    messages::mark_read(&client, room, &user.id, seq)
        .await?
        .ok_or_else(|| ApiError::forbidden("Only members have read markers"))
}
