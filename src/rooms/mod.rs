//! The room service, below both `http` and `realtime`: who may do what in a room
//! ([`RoomAccess`]), the unit of work every room change runs in ([`RoomChange`]),
//! and the message actions (send, edit, delete, react, mark read) that REST
//! handlers and sockets share.
//!
//! A room change is always: lock the room's row, check the caller's access, make
//! the change, append its event(s), commit, and only then publish the events to the
//! room actors (and the notifications it wrote to their users' sockets).
//! [`Rooms::change`] runs that frame; the handler states the change.

mod access;
mod change;
pub mod messages;
pub mod pins;
mod reading;

use std::time::Duration;

use andon_actors::realtime::{GroupCommit, RoomDirectory, StoredEvent};
use deadpool_postgres::{Object, Pool};
use uuid::Uuid;

pub use access::RoomAccess;
use change::Committed;
pub use change::{RoomChange, UnitOfWork};
pub use reading::Standing;

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::notifications::Notifier;

/// Handle to the room service; cloning is cheap.
#[derive(Clone)]
pub struct Rooms {
    db: Pool,
    directory: RoomDirectory,
    commit: GroupCommit,
    edit_window: Duration,
    notifier: Notifier,
}

impl Rooms {
    pub fn new(
        db: Pool,
        directory: RoomDirectory,
        commit: GroupCommit,
        edit_window: Duration,
        notifier: Notifier,
    ) -> Self {
        Self {
            db,
            directory,
            commit,
            edit_window,
            notifier,
        }
    }

    /// A pooled connection (the wait is measured for `/metrics`).
    pub async fn conn(&self) -> ApiResult<Object> {
        Ok(crate::db::conn(&self.db).await?)
    }

    /// Runs `change` on room `room_id` for `user` in one transaction: the room's
    /// row locked (changes to one room are serialized), the room writable, the
    /// caller's role read under the lock. The events `change` appended are
    /// published after the commit, never before, and so are its notifications. An error, or a change that
    /// [abandons](UnitOfWork::abandon), rolls back and publishes nothing.
    pub async fn change<T>(
        &self,
        room_id: Uuid,
        user: &AuthUser,
        change: impl AsyncFnOnce(&mut RoomChange<'_>) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let access = RoomAccess::load(&tx, room_id, user, true).await?;
        access.ensure_writable()?;
        let mut c = RoomChange::new(UnitOfWork::new(tx, self.notifier.zone()), access, user);
        let out = change(&mut c).await?;
        self.delivered(c.into_work().commit().await?);
        Ok(out)
    }

    /// Runs `work` in one transaction, for a change with no room to lock yet (a
    /// room being created); its events and notifications are delivered after
    /// the commit.
    pub async fn work<T>(
        &self,
        work: impl AsyncFnOnce(&mut UnitOfWork<'_>) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let mut conn = self.conn().await?;
        let mut w = UnitOfWork::new(conn.transaction().await?, self.notifier.zone());
        let out = work(&mut w).await?;
        self.delivered(w.commit().await?);
        Ok(out)
    }

    fn delivered(&self, committed: Committed) {
        self.publish(committed.events);
        self.notifier.deliver(committed.notifications);
    }

    /// Hands committed events to the room actors that deliver them.
    pub fn publish(&self, events: Vec<StoredEvent>) {
        if !events.is_empty() {
            self.directory.publish(events);
        }
    }

    /// Hands an ephemeral frame to `user`'s sockets in the room, on every node.
    pub fn to_user(&self, room_id: Uuid, user: &str, text: String) {
        self.directory.to_user(room_id, user, text);
    }

    /// Tells the room's subscribers that it is gone (after its deletion committed).
    pub fn deleted(&self, room_id: Uuid, actor: &str) {
        self.directory.room_deleted(room_id, actor);
    }
}
