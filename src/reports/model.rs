//! What a report is made of, between the stages that build it:
//!
//! - [`Record`]: what was read from the room's record (bounded: a huge room gives
//!   a record of the same size as a small one, apart from its counts);
//! - [`Written`]: the Summary and Resolution process, from the record or a model;
//! - [`ReportContent`]: the finished sections in the chosen language, as the
//!   preview shows them (`GET …/reports/{rid}`) and the .docx lays them out. Every
//!   text in it is final (times already in the configured zone), so the preview
//!   and the document cannot disagree.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::files::FileView;
use crate::db::rooms::Room;

/// The language a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Language {
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ZhTw => "zh-TW",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh-TW" => Some(Self::ZhTw),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The text for this language.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::ZhTw => zh,
            Self::En => en,
        }
    }
}

/// The sections of a report, in the order the document has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SectionKey {
    Summary,
    Timeline,
    Participants,
    ResolutionProcess,
    CurrentStatus,
    FinalResolution,
    LotsLineEquipment,
    Figures,
    Evidence,
}

impl SectionKey {
    pub const ALL: [SectionKey; 9] = [
        Self::Summary,
        Self::Timeline,
        Self::Participants,
        Self::ResolutionProcess,
        Self::CurrentStatus,
        Self::FinalResolution,
        Self::LotsLineEquipment,
        Self::Figures,
        Self::Evidence,
    ];

    pub fn heading(self, language: Language) -> &'static str {
        match self {
            Self::Summary => language.pick("事件摘要", "Summary"),
            Self::Timeline => language.pick("時間軸", "Timeline"),
            Self::Participants => language.pick("參與人員", "Participants"),
            Self::ResolutionProcess => language.pick("處理過程", "Resolution process"),
            Self::CurrentStatus => language.pick("目前狀態", "Current status"),
            Self::FinalResolution => language.pick("最終處置結果", "Final resolution"),
            Self::LotsLineEquipment => {
                language.pick("批號、產線與設備", "LOTs, line and equipment")
            }
            Self::Figures => language.pick("關鍵數據", "Figures"),
            Self::Evidence => language.pick("佐證資料", "Evidence"),
        }
    }
}

/// A finished report's sections, in its language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportContent {
    pub language: Language,
    /// The document's title line, e.g. "事件報告：三號線輸送帶停止".
    pub title: String,
    /// Under the title: room id, when and by whom generated, the time zone.
    pub subtitle: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Section {
    pub key: SectionKey,
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// One piece of a section's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph {
        text: String,
    },
    /// A heading within a section (e.g. the timeline's key events).
    Subheading {
        text: String,
    },
    /// A remark about how the section was made (e.g. the model timed out and the
    /// text comes from the record); shown set apart, in italics.
    Note {
        text: String,
    },
    /// A table; `header` is its first row, shown bold.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// An embedded picture: the evidence image `file_id`, downscaled and stripped
    /// of metadata when the document is assembled.
    Image {
        file_id: Uuid,
        caption: String,
    },
}

/// An image ready to embed: JPEG bytes without metadata, and its pixel size.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub file_id: Uuid,
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// What the report is built from, read from the database in bounded pieces.
#[derive(Debug, Clone)]
pub struct Record {
    pub room: Room,
    pub generated_at: DateTime<Utc>,
    /// Display name of who asked for the report.
    pub requested_by: String,
    pub participants: Vec<Participant>,
    /// Structural events (creation, status changes, members, files, room
    /// changes) and key messages, oldest first; at most [`Record::TIMELINE_MAX`].
    pub timeline: Vec<TimelineItem>,
    /// Timeline entries left out because of the cap.
    pub timeline_omitted: u64,
    /// Messages in the room (not deleted), all of them counted.
    pub message_count: i64,
    /// The first messages and the last ones, oldest first (the key messages the
    /// deterministic text and the model's digest quote); at most
    /// [`Record::MESSAGES_MAX`].
    pub messages: Vec<RecordMessage>,
    pub status_changes: Vec<StatusChange>,
    /// The room's files (not deleted), oldest first.
    pub files: Vec<FileView>,
    /// The first message by someone other than the room's creator.
    pub first_response_at: Option<DateTime<Utc>>,
    /// The pinned messages (not deleted), in pin order: the key events the
    /// people in the room chose. At most `db::pins::PINS_MAX`.
    pub pinned: Vec<PinnedMessage>,
}

impl Record {
    pub const TIMELINE_MAX: usize = 2_000;
    pub const MESSAGES_MAX: usize = 200;
}

#[derive(Debug, Clone)]
pub struct Participant {
    pub user_id: String,
    pub name: String,
    pub job_title: Option<String>,
    /// owner, editor or viewer; `None` for someone who wrote and has left.
    pub role: Option<String>,
    pub first_message_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub what: TimelineWhat,
}

/// What happened, in data; the text is made in the report's language.
#[derive(Debug, Clone)]
pub enum TimelineWhat {
    Created,
    StatusChanged {
        from: String,
        to: String,
    },
    /// The incident was taken on (a milestone).
    Acknowledged,
    /// The incident was declared contained (a milestone).
    Contained,
    MemberJoined {
        name: String,
        role: String,
    },
    MemberLeft {
        name: String,
    },
    FileAdded {
        name: String,
    },
    RoomUpdated {
        fields: Vec<String>,
    },
    /// A key message (first, last, first of each participant, incident data).
    Message {
        text: String,
    },
}

#[derive(Debug, Clone)]
pub struct RecordMessage {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub sender_name: String,
    pub content: String,
}

/// A pinned message: the message, and who pinned it when.
#[derive(Debug, Clone)]
pub struct PinnedMessage {
    pub message: RecordMessage,
    pub pinned_by_name: String,
    pub pinned_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub by_name: String,
    pub from: String,
    pub to: String,
    pub resolution_notes: Option<String>,
}

/// The two sections that a model may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub summary: Vec<String>,
    pub resolution_process: Vec<String>,
    /// Who wrote them.
    pub by: WrittenBy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenBy {
    /// Built from the record; no model was asked.
    Record,
    /// Written by the configured model.
    Model { model: String },
    /// A model was asked and failed; the text is from the record. The reason is
    /// for people ("timed out after 60 s", "answer was not the JSON asked for").
    Fallback { reason: String },
}
