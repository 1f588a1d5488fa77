//! A user's notification settings: which kinds ring, and quiet hours when
//! nothing rings.

use andon_actors::realtime::NotificationKind;
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user set, or the defaults: every kind rings, no quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    pub ring: Ring,
    #[schema(value_type = Option<QuietHoursText>)]
    pub quiet_hours: Option<QuietHours>,
}

impl Settings {
    /// Whether a notification of `kind` rings at `now`: its kind is on, and it
    /// is not within the quiet hours, read in `zone`.
    pub fn rings(&self, kind: NotificationKind, now: DateTime<Utc>, zone: chrono_tz::Tz) -> bool {
        let local = now.with_timezone(&zone).time();
        self.ring.of(kind) && !self.quiet_hours.is_some_and(|q| q.contains(local))
    }
}

fn yes() -> bool {
    true
}

/// The kinds that ring (a browser notification and a sound); a kind left out
/// rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ring {
    #[serde(default = "yes")]
    pub routed: bool,
    #[serde(default = "yes")]
    pub escalated: bool,
    #[serde(default = "yes")]
    pub mentioned: bool,
    #[serde(default = "yes")]
    pub added: bool,
}

impl Default for Ring {
    fn default() -> Self {
        Self {
            routed: true,
            escalated: true,
            mentioned: true,
            added: true,
        }
    }
}

impl Ring {
    pub fn of(&self, kind: NotificationKind) -> bool {
        match kind {
            NotificationKind::Routed => self.routed,
            NotificationKind::Escalated => self.escalated,
            NotificationKind::Mentioned => self.mentioned,
            NotificationKind::Added => self.added,
        }
    }
}

/// From `start` until `end`, local time; past midnight when `end` is earlier
/// (22:00–06:00). Never empty: `start` and `end` differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QuietHoursText", into = "QuietHoursText")]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

impl QuietHours {
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// Quiet hours as written: `"HH:MM"`, 24-hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = QuietHours)]
pub struct QuietHoursText {
    /// When they begin, `HH:MM`.
    #[schema(example = "22:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start: String,
    /// When they end, `HH:MM`; earlier than `start` for hours past midnight.
    #[schema(example = "06:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end: String,
}

fn clock_time(name: &str, s: &str) -> Result<NaiveTime, String> {
    let t = (s.len() == 5)
        .then(|| NaiveTime::parse_from_str(s, "%H:%M").ok())
        .flatten();
    t.ok_or_else(|| format!("quiet_hours.{name}: `{s}` is not a time HH:MM (00:00 to 23:59)"))
}

impl TryFrom<QuietHoursText> for QuietHours {
    type Error = String;

    fn try_from(t: QuietHoursText) -> Result<Self, String> {
        let start = clock_time("start", &t.start)?;
        let end = clock_time("end", &t.end)?;
        if start == end {
            return Err("quiet_hours: start and end must differ".into());
        }
        Ok(Self { start, end })
    }
}

impl From<QuietHours> for QuietHoursText {
    fn from(q: QuietHours) -> Self {
        Self {
            start: q.start.format("%H:%M").to_string(),
            end: q.end.format("%H:%M").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn hours(start: &str, end: &str) -> Result<QuietHours, String> {
        QuietHours::try_from(QuietHoursText {
            start: start.into(),
            end: end.into(),
        })
    }

    fn at(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_past_midnight_wrap() {
        let q = hours("22:00", "06:00").unwrap();
        for t in ["22:00", "23:59", "00:00", "05:59"] {
            assert!(q.contains(at(t)), "{t}");
        }
        for t in ["06:00", "12:00", "21:59"] {
            assert!(!q.contains(at(t)), "{t}");
        }
    }

    #[test]
    fn quiet_hours_within_a_day() {
        let q = hours("12:00", "13:30").unwrap();
        assert!(q.contains(at("12:00")) && q.contains(at("13:29")));
        assert!(!q.contains(at("13:30")) && !q.contains(at("11:59")));
    }

    #[test]
    fn quiet_hours_are_clock_times_that_differ() {
        for (s, e) in [
            ("24:00", "06:00"),
            ("7:00", "08:00"),
            ("22:00", "6pm"),
            ("", "06:00"),
        ] {
            assert!(hours(s, e).is_err(), "{s}–{e}");
        }
        assert!(hours("06:00", "06:00").unwrap_err().contains("differ"));
        let q = hours("23:05", "00:10").unwrap();
        assert_eq!(
            QuietHoursText::from(q),
            QuietHoursText {
                start: "23:05".into(),
                end: "00:10".into()
            }
        );
    }

    #[test]
    fn ringing_follows_the_kind_and_the_quiet_hours_in_the_zone() {
        let taipei = chrono_tz::Asia::Taipei;
        // 23:30 in Taipei (UTC+8).
        let night = Utc.with_ymd_and_hms(2026, 11, 30, 15, 30, 0).unwrap();
        let day = Utc.with_ymd_and_hms(2026, 11, 30, 3, 0, 0).unwrap();
        let mut s = Settings::default();
        assert!(s.rings(NotificationKind::Added, night, taipei));
        s.ring.added = false;
        assert!(!s.rings(NotificationKind::Added, day, taipei));
        assert!(s.rings(NotificationKind::Escalated, day, taipei));
        s.quiet_hours = Some(hours("22:00", "06:00").unwrap());
        assert!(!s.rings(NotificationKind::Escalated, night, taipei));
        assert!(s.rings(NotificationKind::Escalated, day, taipei));
        // The same instant is 15:30 in UTC: not quiet there.
        assert!(s.rings(NotificationKind::Escalated, night, chrono_tz::UTC));
    }

    #[test]
    fn stored_settings_read_with_defaults() {
        let s: Settings = serde_json::from_value(
            serde_json::json!({"ring": {"added": false}, "quiet_hours": null}),
        )
        .unwrap();
        assert_eq!(
            s.ring,
            Ring {
                added: false,
                ..Ring::default()
            }
        );
        let json = serde_json::to_value(Settings {
            quiet_hours: Some(hours("22:00", "06:00").unwrap()),
            ..s
        })
        .unwrap();
        assert_eq!(
            json["quiet_hours"],
            serde_json::json!({"start": "22:00", "end": "06:00"})
        );
    }
}
