//! The permission matrix of PRODUCT.md §4, in one place, used by REST handlers and
//! socket actions alike. System administrators are handled by the callers: they may
//! do everything, and what their role would not allow is written to the audit log.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Editor,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Self::Viewer),
            "editor" => Some(Self::Editor),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

/// Everything a user can do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read history, files and members; subscribe.
    Read,
    React,
    MarkRead,
    /// Send messages, upload files, signal typing.
    Send,
    /// Edit or delete one's own message.
    EditOwn,
    DeleteAnyMessage,
    /// Update room fields, resolve, reopen.
    UpdateRoom,
    Archive,
    RemoveMember,
    ChangeRole,
    TransferOwnership,
    /// Add a member with this role.
    AddMember(Role),
    /// Promote a viewer to editor (editors may, as owners may).
    PromoteViewer,
    /// Start an incident report of the room.
    GenerateReport,
    /// Take the incident on (the acknowledged milestone).
    Acknowledge,
    /// Declare the incident contained.
    Contain,
    /// Pin a message to the room, or take its pin off.
    Pin,
}

impl Action {
    /// Short name for error messages and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::React => "react",
            Self::MarkRead => "mark_read",
            Self::Send => "send",
            Self::EditOwn => "edit_own_message",
            Self::DeleteAnyMessage => "delete_any_message",
            Self::UpdateRoom => "update_room",
            Self::Archive => "archive",
            Self::RemoveMember => "remove_member",
            Self::ChangeRole => "change_role",
            Self::TransferOwnership => "transfer_ownership",
            Self::AddMember(_) => "add_member",
            Self::PromoteViewer => "promote_viewer",
            Self::GenerateReport => "generate_report",
            Self::Acknowledge => "acknowledge",
            Self::Contain => "contain",
            Self::Pin => "pin",
        }
    }
}

/// Whether a member with `role` (`None`: not a member) may do `action`.
pub fn allows(role: Option<Role>, action: Action) -> bool {
    use Action::*;
    use Role::*;
    let Some(role) = role else {
        return false; // non-members may only see the room in the list and join
    };
    match action {
        Read | React | MarkRead => true,
        Send | EditOwn | UpdateRoom | PromoteViewer | GenerateReport | Acknowledge | Contain
        | Pin => role >= Editor,
        DeleteAnyMessage | Archive | RemoveMember | ChangeRole | TransferOwnership => role == Owner,
        AddMember(new) => match role {
            Owner => new != Owner,
            Editor => matches!(new, Viewer | Editor),
            Viewer => false,
        },
    }
}

/// Whether someone may post to a room now (a send, an upload, typing), and if not,
/// why. The one verdict for every way of posting, so they cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostVerdict {
    Allowed,
    /// Allowed only because the poster is a system administrator: audited.
    AdminOverride,
    /// Archived rooms are read-only, for administrators too.
    Archived,
    NotMember,
    /// A member whose role does not allow sending (a viewer).
    RoleTooLow,
}

impl PostVerdict {
    pub fn allowed(self) -> bool {
        matches!(self, Self::Allowed | Self::AdminOverride)
    }
}

/// The verdict for posting to a room that is `archived` or not, as `role`
/// (`None`: not a member), for a system administrator when `is_admin`.
pub fn may_post(role: Option<Role>, is_admin: bool, archived: bool) -> PostVerdict {
    if archived {
        PostVerdict::Archived
    } else if allows(role, Action::Send) {
        PostVerdict::Allowed
    } else if is_admin {
        PostVerdict::AdminOverride
    } else if role.is_none() {
        PostVerdict::NotMember
    } else {
        PostVerdict::RoleTooLow
    }
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::Role::*;
    use super::*;

    /// The matrix of PRODUCT.md §4, row by row: (action, viewer, editor, owner, non-member).
    #[test]
    fn matrix_matches_the_specification() {
        let rows = [
            (Read, true, true, true, false),
            (React, true, true, true, false),
            (MarkRead, true, true, true, false),
            (Send, false, true, true, false),
            (EditOwn, false, true, true, false),
            (DeleteAnyMessage, false, false, true, false),
            (UpdateRoom, false, true, true, false),
            (Archive, false, false, true, false),
            (RemoveMember, false, false, true, false),
            (ChangeRole, false, false, true, false),
            (TransferOwnership, false, false, true, false),
            (AddMember(Viewer), false, true, true, false),
            (AddMember(Editor), false, true, true, false),
            (AddMember(Owner), false, false, false, false),
            (PromoteViewer, false, true, true, false),
            (GenerateReport, false, true, true, false),
            (Acknowledge, false, true, true, false),
            (Contain, false, true, true, false),
            (Pin, false, true, true, false),
        ];
        for (action, viewer, editor, owner, none) in rows {
            assert_eq!(allows(Some(Viewer), action), viewer, "viewer {action:?}");
            assert_eq!(allows(Some(Editor), action), editor, "editor {action:?}");
            assert_eq!(allows(Some(Owner), action), owner, "owner {action:?}");
            assert_eq!(allows(None, action), none, "non-member {action:?}");
        }
    }

    #[test]
    fn posting_needs_a_writable_room_and_a_sending_role_or_an_admin() {
        use PostVerdict as V;
        assert_eq!(may_post(Some(Editor), false, false), V::Allowed);
        assert_eq!(may_post(Some(Owner), true, false), V::Allowed);
        assert_eq!(may_post(Some(Viewer), true, false), V::AdminOverride);
        assert_eq!(may_post(None, true, false), V::AdminOverride);
        assert_eq!(may_post(None, false, false), V::NotMember);
        assert_eq!(may_post(Some(Viewer), false, false), V::RoleTooLow);
        assert_eq!(may_post(Some(Owner), true, true), V::Archived);
        assert!(V::AdminOverride.allowed() && !V::Archived.allowed());
        assert!(!V::NotMember.allowed() && !V::RoleTooLow.allowed());
    }

    #[test]
    fn roles_round_trip() {
        for r in [Viewer, Editor, Owner] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
