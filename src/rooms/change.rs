//! The unit of work of a room change: the transaction, and the events and
//! notifications to deliver once it has committed.

use andon_actors::permissions::{Action, Role};
use andon_actors::realtime::{EventKind, Notification, StoredEvent};
use deadpool_postgres::Transaction;
use serde_json::Value;
use uuid::Uuid;

use super::RoomAccess;
use crate::auth::AuthUser;
use crate::db::events;
use crate::db::rooms::Room;
use crate::error::ApiResult;
use crate::notifications::{self, NewNotification, Outgoing};

/// A transaction and the events and notifications it wrote, delivered only
/// after its commit.
pub struct UnitOfWork<'a> {
    tx: Transaction<'a>,
    events: Vec<StoredEvent>,
    notifications: Vec<Outgoing>,
    /// Where quiet hours are read.
    zone: chrono_tz::Tz,
    abandoned: bool,
}

/// What a committed unit of work delivers.
pub(super) struct Committed {
    pub events: Vec<StoredEvent>,
    pub notifications: Vec<Outgoing>,
}

impl<'a> UnitOfWork<'a> {
    pub(super) fn new(tx: Transaction<'a>, zone: chrono_tz::Tz) -> Self {
        Self {
            tx,
            events: Vec::new(),
            notifications: Vec::new(),
            zone,
            abandoned: false,
        }
    }

    pub fn tx(&self) -> &Transaction<'a> {
        &self.tx
    }

    /// Appends an event to the room's log (the next seq, under the room's row
    /// lock); returns its seq.
    pub async fn append(
        &mut self,
        room_id: Uuid,
        kind: EventKind,
        actor: &str,
        data: Value,
    ) -> ApiResult<i64> {
        let event = events::append(&self.tx, room_id, kind, actor, data).await?;
        let seq = event.seq;
        self.events.push(event);
        Ok(seq)
    }

    /// Writes an event whose seq was reserved (`events::reserve`), for data that
    /// must carry its own seq.
    pub async fn insert(&mut self, event: StoredEvent) -> ApiResult<()> {
        events::insert(&self.tx, &event).await?;
        self.events.push(event);
        Ok(())
    }

    /// Writes a notification into its user's inbox, ringing or not by their
    /// settings now; it reaches their sockets (on every node) after the commit.
    pub async fn notify(&mut self, new: &NewNotification) -> ApiResult<Notification> {
        let (notification, outgoing) =
            notifications::write(&self.tx, new, self.zone, chrono::Utc::now()).await?;
        self.notifications.push(outgoing);
        Ok(notification)
    }

    /// Nothing changed after all: roll back instead of committing, so that
    /// nothing written on the way (an audited override) is kept.
    pub fn abandon(&mut self) {
        self.abandoned = true;
    }

    /// Commits (or rolls back, if abandoned); what to deliver.
    pub(super) async fn commit(self) -> ApiResult<Committed> {
        if self.abandoned {
            self.tx.rollback().await?;
            return Ok(Committed {
                events: Vec::new(),
                notifications: Vec::new(),
            });
        }
        self.tx.commit().await?;
        Ok(Committed {
            events: self.events,
            notifications: self.notifications,
        })
    }
}

/// A change to one room by one user: the unit of work, with the room locked and
/// the user's access to it read under the lock.
pub struct RoomChange<'a> {
    work: UnitOfWork<'a>,
    access: RoomAccess,
    user: &'a AuthUser,
}

impl<'a> RoomChange<'a> {
    pub(super) fn new(work: UnitOfWork<'a>, access: RoomAccess, user: &'a AuthUser) -> Self {
        Self { work, access, user }
    }

    pub(super) fn into_work(self) -> UnitOfWork<'a> {
        self.work
    }

    pub fn tx(&self) -> &Transaction<'a> {
        self.work.tx()
    }

    /// The room as locked at the start of the change.
    pub fn room(&self) -> &Room {
        &self.access.room
    }

    pub fn room_id(&self) -> Uuid {
        self.access.room.id
    }

    /// The user's role in the room (`None`: not a member).
    pub fn role(&self) -> Option<Role> {
        self.access.role
    }

    pub fn access(&self) -> &RoomAccess {
        &self.access
    }

    /// Allows `action` or answers 403; an admin override is audited in this
    /// transaction.
    pub async fn authorize(&self, action: Action, target: Option<&str>) -> ApiResult<()> {
        self.access
            .authorize(self.work.tx(), self.user, action, target)
            .await
    }

    /// Appends an event of this room by this user; returns its seq.
    pub async fn append(&mut self, kind: EventKind, data: Value) -> ApiResult<i64> {
        let room_id = self.room_id();
        self.work.append(room_id, kind, &self.user.id, data).await
    }

    /// See [`UnitOfWork::insert`].
    pub async fn insert(&mut self, event: StoredEvent) -> ApiResult<()> {
        self.work.insert(event).await
    }

    /// See [`UnitOfWork::notify`].
    pub async fn notify(&mut self, new: &NewNotification) -> ApiResult<Notification> {
        self.work.notify(new).await
    }

    /// See [`UnitOfWork::abandon`].
    pub fn abandon(&mut self) {
        self.work.abandon();
    }
}
