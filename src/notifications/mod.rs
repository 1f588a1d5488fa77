//! Notifications (issue 19): a durable inbox per user, delivered live to every
//! socket the user has open, on any node, without subscribing to a room.
//!
//! A notification is written in the transaction of the change it is about
//! ([`UnitOfWork::notify`](crate::rooms::UnitOfWork::notify)), so it exists
//! exactly when the change does; whether it rings is decided then, from the
//! user's [`Settings`]. Once the transaction commits, [`Notifier::deliver`]
//! hands the frame to the user's sockets on this node and publishes it on the
//! bus (`andon.users.notify`), from which every other node hands it to its own.
//! Sockets register here when they start and leave when they stop.
//!
//! Delivery is best effort: a socket whose mailbox is full, or a node that
//! missed the bus message, loses the live frame only; the inbox
//! (`GET /api/notifications`) has it.

mod settings;

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use andon_actors::realtime::{Notification, NotificationKind, ServerFrame};
use bytestring::ByteString;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use metrics::counter;
use uuid::Uuid;

pub use settings::{QuietHours, QuietHoursText, Ring, Settings};

/// A notification to write: for `user_id` (lower-case e-mail), about room
/// `room_id` (and its event `seq`, if one). `actor` is who caused it (`None`:
/// the system); `text` is short English, as a fallback for clients that do not
/// localise `kind`.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: String,
    pub kind: NotificationKind,
    pub room_id: Uuid,
    pub seq: Option<i64>,
    pub actor: Option<String>,
    pub actor_name: Option<String>,
    pub text: String,
}

impl NewNotification {
    /// `user_id` was added to the room titled `room_title` by `actor`
    /// (`display_name`), in the room's event `seq`.
    pub fn added(
        user_id: &str,
        room_id: Uuid,
        room_title: &str,
        seq: i64,
        actor: &str,
        display_name: &str,
    ) -> Self {
        Self {
            user_id: user_id.to_string(),
            kind: NotificationKind::Added,
            room_id,
            seq: Some(seq),
            actor: Some(actor.to_string()),
            actor_name: Some(display_name.to_string()),
            text: format!("{display_name} added you to {room_title}"),
        }
    }
}

impl NewNotification {
    /// The routing rule `rule` pulled `user_id` into the room titled
    /// `room_title` (its `member.added` event is `seq`).
    pub fn routed(user_id: &str, room_id: Uuid, room_title: &str, seq: i64, rule: &str) -> Self {
        Self {
            user_id: user_id.to_string(),
            kind: NotificationKind::Routed,
            room_id,
            seq: Some(seq),
            actor: None,
            actor_name: None,
            text: format!("Routed to {room_title} (rule: {rule})"),
        }
    }

    /// Nobody acknowledged the room titled `room_title`: it reached `level` of
    /// its ladder, which names `user_id` (its `room.escalated` event is `seq`).
    pub fn escalated(user_id: &str, room_id: Uuid, room_title: &str, seq: i64, level: u32) -> Self {
        Self {
            user_id: user_id.to_string(),
            kind: NotificationKind::Escalated,
            room_id,
            seq: Some(seq),
            actor: None,
            actor_name: None,
            text: format!("Unacknowledged, escalated to you (level {level}): {room_title}"),
        }
    }
}

/// A written notification's frame, for its user's sockets once committed.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub user_id: String,
    pub text: String,
}

impl Outgoing {
    pub fn new(user_id: &str, notification: Notification, ring: bool) -> Self {
        let frame = ServerFrame::Notification { notification, ring };
        Self {
            user_id: user_id.to_string(),
            text: frame.to_text(None),
        }
    }
}

/// Writes `new` with `client` (the transaction of the change it is about) and
/// decides from the user's settings whether it rings at `now`; the frame to
/// deliver after the commit.
pub async fn write(
    client: &impl crate::db::GenericClient,
    new: &NewNotification,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<(Notification, Outgoing), tokio_postgres::Error> {
    let settings = crate::db::notifications::settings(client, &new.user_id).await?;
    let notification = crate::db::notifications::insert(client, new).await?;
    let ring = settings.rings(new.kind, now, zone);
    let outgoing = Outgoing::new(&new.user_id, notification.clone(), ring);
    Ok((notification, outgoing))
}

/// A notification frame for one user's sockets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver {
    pub text: ByteString,
}

/// Notification frames between nodes.
pub trait NotifyBus: Send + Sync {
    /// Publishes `text` for `user`'s sockets on the other nodes.
    fn notify(&self, user: &str, text: &str);
    /// Frames published by other nodes, as `(user, text)`.
    fn notified_elsewhere(&self) -> BoxStream<'static, (String, String)>;
}

/// Delivers notification frames to users' sockets; cloning is cheap.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// This node's sockets by user, then by socket id.
    sockets: DashMap<String, HashMap<u64, Recipient<Deliver>>>,
    bus: Option<Arc<dyn NotifyBus>>,
    /// Quiet hours are read in this zone (`ANDON_TIMEZONE`).
    zone: chrono_tz::Tz,
}

impl Notifier {
    pub fn new(zone: chrono_tz::Tz, bus: Option<Arc<dyn NotifyBus>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                sockets: DashMap::new(),
                bus,
                zone,
            }),
        }
    }

    pub fn zone(&self) -> chrono_tz::Tz {
        self.inner.zone
    }

    /// Delivers, from now on, to the frames published by other nodes; a task
    /// on the current runtime, ended when the bus's stream ends.
    pub fn listen(&self) {
        let Some(bus) = &self.inner.bus else {
            return;
        };
        let mut elsewhere = bus.notified_elsewhere();
        let this = self.clone();
        tokio::spawn(async move {
            while let Some((user, text)) = elsewhere.next().await {
                this.deliver_here(&user, text.into());
            }
        });
    }

    /// Socket `id` of `user` on this node gets `user`'s notifications.
    pub fn register(&self, user: &str, id: u64, socket: Recipient<Deliver>) {
        self.inner
            .sockets
            .entry(user.to_string())
            .or_default()
            .insert(id, socket);
    }

    pub fn unregister(&self, user: &str, id: u64) {
        if let Some(mut sockets) = self.inner.sockets.get_mut(user) {
            sockets.remove(&id);
        }
        self.inner.sockets.remove_if(user, |_, s| s.is_empty());
    }

    /// Hands committed notifications to their users' sockets, here and on the
    /// other nodes.
    pub fn deliver(&self, outgoing: Vec<Outgoing>) {
        for o in outgoing {
            if let Some(bus) = &self.inner.bus {
                bus.notify(&o.user_id, &o.text);
            }
            self.deliver_here(&o.user_id, o.text.into());
        }
    }

    /// To `user`'s sockets on this node. A full mailbox drops the frame: the
    /// inbox keeps the notification.
    fn deliver_here(&self, user: &str, text: ByteString) {
        let Some(sockets) = self.inner.sockets.get(user) else {
            return;
        };
        for socket in sockets.values() {
            let sent = socket.try_send(Deliver { text: text.clone() });
            if sent.is_err() {
                counter!("andon_notifications_dropped_total").increment(1);
            } else {
                counter!("andon_notifications_delivered_total").increment(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A socket that keeps what it was handed.
    struct Socket(Arc<Mutex<Vec<String>>>);

    impl Actor for Socket {
        type Context = Context<Self>;
    }

    impl Handler<Deliver> for Socket {
        type Result = ();
        fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
            self.0.lock().unwrap().push(msg.text.to_string());
        }
    }

    fn socket() -> (Recipient<Deliver>, Arc<Mutex<Vec<String>>>) {
        let got = Arc::new(Mutex::new(Vec::new()));
        (Socket(got.clone()).start().recipient(), got)
    }

    /// What the bus was asked to publish.
    #[derive(Default)]
    struct Wire(Mutex<Vec<(String, String)>>);

    impl NotifyBus for Wire {
        fn notify(&self, user: &str, text: &str) {
            self.0.lock().unwrap().push((user.into(), text.into()));
        }
        fn notified_elsewhere(&self) -> BoxStream<'static, (String, String)> {
            futures_util::stream::empty().boxed()
        }
    }

    fn outgoing(user: &str, text: &str) -> Outgoing {
        Outgoing {
            user_id: user.into(),
            text: text.into(),
        }
    }

    #[actix_web::test]
    async fn every_socket_of_the_user_gets_it_and_the_bus_carries_it_to_other_nodes() {
        let wire = Arc::new(Wire::default());
        let notifier = Notifier::new(chrono_tz::UTC, Some(wire.clone()));
        let (a1, got_a1) = socket();
        let (a2, got_a2) = socket();
        let (b, got_b) = socket();
        notifier.register("a@x", 1, a1);
        notifier.register("a@x", 2, a2);
        notifier.register("b@x", 3, b);

        notifier.deliver(vec![outgoing("a@x", "for a")]);
        notifier.unregister("a@x", 2);
        notifier.deliver(vec![outgoing("a@x", "again")]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;

        assert_eq!(*got_a1.lock().unwrap(), ["for a", "again"]);
        assert_eq!(
            *got_a2.lock().unwrap(),
            ["for a"],
            "no more once unregistered"
        );
        assert!(got_b.lock().unwrap().is_empty());
        let published = wire.0.lock().unwrap().clone();
        assert_eq!(
            published,
            [
                ("a@x".into(), "for a".into()),
                ("a@x".into(), "again".into())
            ]
        );
    }

    #[actix_web::test]
    async fn a_user_without_sockets_is_forgotten() {
        let notifier = Notifier::new(chrono_tz::UTC, None);
        let (s, _) = socket();
        notifier.register("a@x", 1, s);
        notifier.unregister("a@x", 1);
        assert!(notifier.inner.sockets.is_empty());
        // Nobody to deliver to: nothing happens.
        notifier.deliver(vec![outgoing("a@x", "lost live, kept in the inbox")]);
    }
}
