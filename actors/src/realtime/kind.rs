//! The kinds of room events, as stored in `room_events.kind` and sent in `event`
//! frames. The strings are part of the wire protocol and of stored data: they never
//! change, whatever the variants are called.

use serde::{Deserialize, Serialize};

macro_rules! event_kinds {
    ($($(#[$meta:meta])* $variant:ident => $text:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventKind {
            $($(#[$meta])* #[serde(rename = $text)] $variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(Self::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_kinds! {
    MessageCreated => "message.created",
    MessageEdited => "message.edited",
    /// The content is blanked in the message's earlier events too.
    MessageDeleted => "message.deleted",
    ReactionAdded => "reaction.added",
    ReactionRemoved => "reaction.removed",
    /// A message was pinned to the room (editors, owners).
    MessagePinned => "message.pinned",
    /// A pin was taken off, or its message was deleted.
    MessageUnpinned => "message.unpinned",
    FileAdded => "file.added",
    FileDeleted => "file.deleted",
    MemberAdded => "member.added",
    MemberRemoved => "member.removed",
    MemberRoleChanged => "member.role_changed",
    OwnershipTransferred => "ownership.transferred",
    RoomUpdated => "room.updated",
    RoomStatusChanged => "room.status_changed",
    /// The first acknowledgement of the incident (a milestone; set once).
    RoomAcknowledged => "room.acknowledged",
    /// The incident was first declared contained (a milestone; set once).
    RoomContained => "room.contained",
    /// An incident report was completed (its id, language, file name and hash).
    ReportCreated => "report.created",
    /// An unacknowledged room reached a level of its severity's ladder.
    RoomEscalated => "room.escalated",
    /// Never stored: the room actor's last word to its subscribers.
    RoomDeleted => "room.deleted",
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<EventKind> for String {
    fn from(kind: EventKind) -> Self {
        kind.as_str().to_string()
    }
}

// Events carry their kind as text (it comes from the database and goes into frames
// as is): these let that text be compared with a kind.
impl PartialEq<EventKind> for str {
    fn eq(&self, kind: &EventKind) -> bool {
        self == kind.as_str()
    }
}

impl PartialEq<EventKind> for String {
    fn eq(&self, kind: &EventKind) -> bool {
        self.as_str() == kind.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_text_and_serde() {
        for &kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<EventKind>(&json).unwrap(), kind);
        }
        assert_eq!(EventKind::ALL.len(), 20);
    }

    #[test]
    fn the_stored_strings_are_todays() {
        assert_eq!(EventKind::MessageCreated.as_str(), "message.created");
        assert_eq!(EventKind::MemberRoleChanged.as_str(), "member.role_changed");
        assert_eq!(
            EventKind::OwnershipTransferred.to_string(),
            "ownership.transferred"
        );
        assert_eq!(EventKind::parse("message.sent"), None);
        assert!(*"room.deleted" == EventKind::RoomDeleted);
        let stored = String::from("room.updated");
        assert!(stored == EventKind::RoomUpdated && stored != EventKind::RoomStatusChanged);
    }
}
