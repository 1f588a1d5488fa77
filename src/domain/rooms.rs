//! Room enums and field limits.

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            pub fn parse(s: &str) -> ::std::result::Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)*
                    other => Err(format!(
                        "`{other}` is not one of: {}",
                        Self::ALL.join(", ")
                    )),
                }
            }
        }
    };
}
/// Other modules' enums stored as text use the same macro.
pub(crate) use string_enum;

string_enum!(
    /// What went wrong on the line.
    IncidentType {
        EquipmentFailure => "equipment_failure",
        MaterialShortage => "material_shortage",
        QualityIssue => "quality_issue",
        Other => "other",
    }
);

string_enum!(Severity {
    Low => "low",
    Medium => "medium",
    High => "high",
    Critical => "critical",
});

string_enum!(
    /// `active` → `resolved` → `archived`; resolved may reopen to active.
    RoomStatus {
        Active => "active",
        Resolved => "resolved",
        Archived => "archived",
    }
);

/// The milestones of an incident that members declare, between its detection (the
/// room's creation) and its resolution (a status change). Each is set once, by
/// the first who declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// Someone has taken the incident on.
    Acknowledged,
    /// The damage is stopped (the line is safe, suspect lots are held); the cause
    /// may still be open.
    Contained,
}

/// Why a room cannot move to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("The room is already {}", .0.as_str())]
    Unchanged(RoomStatus),
    #[error("A room cannot go from {} to {}", .from.as_str(), .to.as_str())]
    NotAllowed { from: RoomStatus, to: RoomStatus },
    #[error("Resolving needs resolution_notes")]
    NotesRequired,
}

impl RoomStatus {
    /// Checks a move along the lifecycle: `active` → `resolved` (with notes, not
    /// blank) → `archived`, `active` → `archived`, and `resolved` → `active`.
    /// Archived is final.
    pub fn transition(self, to: RoomStatus, notes: Option<&str>) -> Result<(), TransitionError> {
        use RoomStatus::*;
        match (self, to) {
            _ if self == to => Err(TransitionError::Unchanged(to)),
            (Active, Resolved) if notes.is_none_or(str::is_empty) => {
                Err(TransitionError::NotesRequired)
            }
            (Active, Resolved) | (Resolved, Active) | (Active | Resolved, Archived) => Ok(()),
            (from, to) => Err(TransitionError::NotAllowed { from, to }),
        }
    }
}

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const SHORT_FIELD_MAX: usize = 200;
pub const RESOLUTION_MAX: usize = 10_000;
pub const LOT_MAX: usize = 64;
pub const LOTS_MAX: usize = 100;

/// LOT/batch numbers: trimmed, 1–64 characters each, at most 100, duplicates dropped
/// (order kept).
pub fn parse_lots(lots: &[String]) -> Result<Vec<String>, String> {
    if lots.len() > LOTS_MAX {
        return Err(format!("at most {LOTS_MAX} LOT numbers"));
    }
    let mut out: Vec<String> = Vec::with_capacity(lots.len());
    for lot in lots {
        let lot = super::bounded_text("each LOT number", lot, 1, LOT_MAX)?;
        if !out.contains(&lot) {
            out.push(lot);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_their_names_only() {
        assert_eq!(Severity::parse("critical").unwrap(), Severity::Critical);
        assert_eq!(
            IncidentType::parse("quality_issue").unwrap().as_str(),
            "quality_issue"
        );
        let err = Severity::parse("urgent").unwrap_err();
        assert!(err.contains("low, medium, high, critical"), "{err}");
        assert!(RoomStatus::parse("Active").is_err());
    }

    #[test]
    fn statuses_move_along_the_lifecycle_only() {
        use RoomStatus::*;
        assert_eq!(Active.transition(Resolved, Some("fixed")), Ok(()));
        assert_eq!(Resolved.transition(Active, None), Ok(()));
        assert_eq!(Active.transition(Archived, None), Ok(()));
        assert_eq!(Resolved.transition(Archived, Some("")), Ok(()));
        for to in [Active, Resolved] {
            assert_eq!(
                Archived.transition(to, Some("x")),
                Err(TransitionError::NotAllowed { from: Archived, to })
            );
        }
        for s in [Active, Resolved, Archived] {
            assert_eq!(s.transition(s, None), Err(TransitionError::Unchanged(s)));
        }
    }

    #[test]
    fn resolving_needs_notes() {
        use RoomStatus::*;
        for notes in [None, Some("")] {
            assert_eq!(
                Active.transition(Resolved, notes),
                Err(TransitionError::NotesRequired)
            );
        }
        assert_eq!(
            Archived.transition(Active, None).unwrap_err().to_string(),
            "A room cannot go from archived to active"
        );
        assert_eq!(
            Resolved.transition(Resolved, None).unwrap_err().to_string(),
            "The room is already resolved"
        );
    }

    #[test]
    fn lots_are_trimmed_bounded_and_deduplicated() {
        let lots = parse_lots(&[" L-001 ".into(), "L-002".into(), "L-001".into()]).unwrap();
        assert_eq!(lots, ["L-001", "L-002"]);
        assert!(parse_lots(&[String::new()]).is_err());
        assert!(parse_lots(&["x".repeat(65)]).is_err());
        assert!(parse_lots(&vec!["a".into(); 101]).is_err());
    }
}
