//! Turns a [`Record`] into the report's sections in its language: the text built
//! from the record (the Summary and Resolution process when no model writes
//! them), and every other section, with times in the configured zone.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::model::{
    Block, Language, Record, ReportContent, Section, SectionKey, TimelineWhat, Written, WrittenBy,
};
use crate::domain::rooms::{IncidentType, RoomStatus, Severity};

/// Longest quote of a message in the report's own text (the timeline and the
/// summary); the record keeps the whole message.
const QUOTE_CHARS: usize = 300;

/// How the report shows times and names things.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub language: Language,
    pub zone: Tz,
}

impl Style {
    fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        self.language.pick(zh, en)
    }

    /// `2026-11-30 14:05` in the configured zone.
    pub fn time(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    fn status(self, s: &str) -> String {
        match RoomStatus::parse(s) {
            Ok(RoomStatus::Active) => self.pick("處理中", "active"),
            Ok(RoomStatus::Resolved) => self.pick("已解決", "resolved"),
            Ok(RoomStatus::Archived) => self.pick("已封存", "archived"),
            Err(_) => s,
        }
        .to_string()
    }

    fn severity(self, s: Severity) -> &'static str {
        match s {
            Severity::Low => self.pick("低", "low"),
            Severity::Medium => self.pick("中", "medium"),
            Severity::High => self.pick("高", "high"),
            Severity::Critical => self.pick("緊急", "critical"),
        }
    }

    fn incident_type(self, t: IncidentType) -> &'static str {
        match t {
            IncidentType::EquipmentFailure => self.pick("設備故障", "equipment failure"),
            IncidentType::MaterialShortage => self.pick("缺料", "material shortage"),
            IncidentType::QualityIssue => self.pick("品質異常", "quality issue"),
            IncidentType::Other => self.pick("其他", "other"),
        }
    }

    fn role(self, r: &str) -> String {
        match r {
            "owner" => self.pick("負責人", "owner"),
            "editor" => self.pick("編輯者", "editor"),
            "viewer" => self.pick("檢視者", "viewer"),
            other => other,
        }
        .to_string()
    }

    /// `1 小時 5 分` / `1 h 5 min`.
    pub fn duration(self, d: TimeDelta) -> String {
        let minutes = d.num_minutes().max(0);
        let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
        let mut parts = Vec::new();
        if days > 0 {
            parts.push(format!("{days} {}", self.pick("天", "d")));
        }
        if hours > 0 {
            parts.push(format!("{hours} {}", self.pick("小時", "h")));
        }
        if mins > 0 || parts.is_empty() {
            parts.push(format!("{mins} {}", self.pick("分", "min")));
        }
        parts.join(" ")
    }

    fn none(self) -> String {
        "—".to_string()
    }
}

/// Bytes as people read them: `812 KB`, `4.2 MB`.
pub fn size(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn quote(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= QUOTE_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(QUOTE_CHARS).collect();
    format!("{cut}…")
}

/// The Summary and Resolution process as the record tells them.
pub fn from_record(record: &Record, style: Style) -> Written {
    let room = &record.room;
    let s = style;
    let (title, kind, severity) = (
        &room.title,
        s.incident_type(room.incident_type),
        s.severity(room.severity),
    );
    let (opened, status) = (s.time(room.created_at), s.status(room.status.as_str()));
    // The timeline starts with the room's creation, by its creator.
    let by = record
        .timeline
        .first()
        .map_or("", |t| t.actor_name.as_str());
    let place = &room.location;
    let mut summary = vec![match (s.language, place.is_empty()) {
        (Language::ZhTw, true) => {
            format!(
                "「{title}」為{kind}事件，嚴重度{severity}，於 {opened} 由 {by} 建立。目前狀態：{status}。"
            )
        }
        (Language::ZhTw, false) => format!(
            "「{title}」為{kind}事件，嚴重度{severity}，於 {opened} 由 {by} 建立，地點：{place}。目前狀態：{status}。"
        ),
        (Language::En, true) => format!(
            "\"{title}\" is a {kind} incident of {severity} severity, opened on {opened} by {by}. Current status: {status}."
        ),
        (Language::En, false) => format!(
            "\"{title}\" is a {kind} incident of {severity} severity, opened on {opened} by {by} at {place}. Current status: {status}."
        ),
    }];
    if !room.description.trim().is_empty() {
        summary.push(format!(
            "{}{}",
            s.pick("描述：", "Description: "),
            room.description.trim()
        ));
    }
    summary.push(match s.language {
        Language::ZhTw => format!(
            "共 {} 則訊息、{} 位參與人員、{} 個檔案。",
            record.message_count,
            record.participants.len(),
            record.files.len()
        ),
        Language::En => format!(
            "{} messages, {} participants, {} files.",
            record.message_count,
            record.participants.len(),
            record.files.len()
        ),
    });
    let quoted = |zh: &str, en: &str, m: &super::model::RecordMessage| match s.language {
        Language::ZhTw => format!(
            "{zh}（{}，{}）：{}",
            s.time(m.at),
            m.sender_name,
            quote(&m.content)
        ),
        Language::En => format!(
            "{en} ({}, {}): {}",
            s.time(m.at),
            m.sender_name,
            quote(&m.content)
        ),
    };
    if let Some(first) = record.messages.first() {
        summary.push(quoted("第一則訊息", "First message", first));
    }
    if let Some(last) = record.messages.last().filter(|_| record.messages.len() > 1) {
        summary.push(quoted("最後一則訊息", "Last message", last));
    }
    if let Some(notes) = room
        .resolution_notes
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        summary.push(format!(
            "{}{}",
            s.pick("處置結果：", "Resolution: "),
            notes.trim()
        ));
    }

    let mut process: Vec<String> = Vec::new();
    if let Some(at) = record.first_response_at {
        process.push(match s.language {
            Language::ZhTw => format!(
                "{} 首次回應（建立後 {}）。",
                s.time(at),
                s.duration(at - room.created_at)
            ),
            Language::En => format!(
                "{}: first response ({} after the room opened).",
                s.time(at),
                s.duration(at - room.created_at)
            ),
        });
    }
    for c in &record.status_changes {
        let mut line = match s.language {
            Language::ZhTw => format!(
                "{} {} 將狀態由「{}」改為「{}」。",
                s.time(c.at),
                c.by_name,
                s.status(&c.from),
                s.status(&c.to)
            ),
            Language::En => format!(
                "{}: {} changed the status from {} to {}.",
                s.time(c.at),
                c.by_name,
                s.status(&c.from),
                s.status(&c.to)
            ),
        };
        if let Some(n) = c.resolution_notes.as_deref().filter(|_| c.to == "resolved") {
            line.push_str(&format!(
                "{}{}",
                s.pick(" 處置說明：", " Notes: "),
                quote(n)
            ));
        }
        process.push(line);
    }
    if process.is_empty() {
        process.push(
            s.pick(
                "尚無處理紀錄：沒有回應，狀態也未曾變更。",
                "Nothing recorded yet: no response and no status change.",
            )
            .to_string(),
        );
    }
    Written {
        summary,
        resolution_process: process,
        by: WrittenBy::Record,
    }
}

/// The whole report: `written` for the Summary and Resolution process, the
/// rest from the record; `embedded` is how many images are shown in the document
/// (the first ones), the others being listed only.
pub fn content(record: &Record, written: &Written, style: Style, embedded: usize) -> ReportContent {
    let s = style;
    let room = &record.room;
    let section = |key: SectionKey, blocks: Vec<Block>| Section {
        key,
        heading: key.heading(s.language).to_string(),
        blocks,
    };
    let paragraphs = |texts: &[String]| {
        texts
            .iter()
            .map(|t| Block::Paragraph { text: t.clone() })
            .collect::<Vec<_>>()
    };
    let written_note = match &written.by {
        WrittenBy::Record => None,
        WrittenBy::Model { model } => Some(match s.language {
            Language::ZhTw => format!("本節由 AI 模型（{model}）依事件紀錄撰寫，請以紀錄為準。"),
            Language::En => format!(
                "Written by an AI model ({model}) from the incident record; the record prevails."
            ),
        }),
        WrittenBy::Fallback { reason } => Some(reason.clone()),
    };
    let with_note = |mut blocks: Vec<Block>| {
        if let Some(text) = &written_note {
            blocks.insert(0, Block::Note { text: text.clone() });
        }
        blocks
    };

    let mut timeline_rows: Vec<Vec<String>> = record
        .timeline
        .iter()
        .map(|t| {
            let what = match &t.what {
                TimelineWhat::Created => s.pick("建立事件", "Incident opened").to_string(),
                TimelineWhat::StatusChanged { from, to } => format!(
                    "{}{} → {}",
                    s.pick("狀態：", "Status: "),
                    s.status(from),
                    s.status(to)
                ),
                TimelineWhat::Acknowledged => s.pick("確認接手", "Acknowledged").to_string(),
                TimelineWhat::Contained => s.pick("已控制", "Contained").to_string(),
                TimelineWhat::MemberJoined { name, role } => match s.language {
                    Language::ZhTw => format!("加入：{name}（{}）", s.role(role)),
                    Language::En => format!("Joined: {name} ({})", s.role(role)),
                },
                TimelineWhat::MemberLeft { name } => {
                    format!("{}{}", s.pick("離開：", "Left: "), name)
                }
                TimelineWhat::FileAdded { name } => {
                    format!("{}{}", s.pick("上傳檔案：", "File: "), name)
                }
                TimelineWhat::RoomUpdated { fields } => format!(
                    "{}{}",
                    s.pick("更新事件資料：", "Room updated: "),
                    fields.join(", ")
                ),
                TimelineWhat::Message { text } => {
                    format!("{}{}", s.pick("訊息：", "Message: "), quote(text))
                }
            };
            vec![s.time(t.at), t.actor_name.clone(), what]
        })
        .collect();
    let mut timeline = Vec::new();
    if record.timeline_omitted > 0 {
        timeline.push(Block::Note {
            text: match s.language {
                Language::ZhTw => format!("另有 {} 筆較晚的紀錄未列出。", record.timeline_omitted),
                Language::En => {
                    format!("{} later entries are not listed.", record.timeline_omitted)
                }
            },
        });
    }
    timeline.insert(
        0,
        Block::Table {
            header: vec![
                s.pick("時間", "Time").into(),
                s.pick("人員", "Who").into(),
                s.pick("事件", "What").into(),
            ],
            rows: std::mem::take(&mut timeline_rows),
        },
    );
    // The key events: the messages the room pinned, in pin order.
    if !record.pinned.is_empty() {
        timeline.push(Block::Subheading {
            text: s
                .pick("關鍵事件（釘選訊息）", "Key events (pinned messages)")
                .into(),
        });
        timeline.push(Block::Table {
            header: vec![
                s.pick("時間", "Time").into(),
                s.pick("人員", "Who").into(),
                s.pick("訊息", "Message").into(),
                s.pick("釘選者", "Pinned by").into(),
            ],
            rows: record
                .pinned
                .iter()
                .map(|p| {
                    vec![
                        s.time(p.message.at),
                        p.message.sender_name.clone(),
                        quote(&p.message.content),
                        format!("{} · {}", p.pinned_by_name, s.time(p.pinned_at)),
                    ]
                })
                .collect(),
        });
    }

    let participants = vec![Block::Table {
        header: vec![
            s.pick("姓名", "Name").into(),
            s.pick("職稱", "Job title").into(),
            s.pick("角色", "Role").into(),
            s.pick("首次發言", "First message").into(),
        ],
        rows: record
            .participants
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.job_title.clone().unwrap_or_else(|| s.none()),
                    p.role
                        .as_deref()
                        .map_or_else(|| s.pick("已離開", "left").to_string(), |r| s.role(r)),
                    p.first_message_at.map_or_else(|| s.none(), |t| s.time(t)),
                ]
            })
            .collect(),
    }];

    let current = vec![Block::Table {
        header: vec![
            s.pick("項目", "Field").into(),
            s.pick("內容", "Value").into(),
        ],
        rows: vec![
            vec![
                s.pick("狀態", "Status").into(),
                s.status(room.status.as_str()),
            ],
            vec![
                s.pick("嚴重度", "Severity").into(),
                s.severity(room.severity).into(),
            ],
            vec![
                s.pick("類型", "Type").into(),
                s.incident_type(room.incident_type).into(),
            ],
            vec![s.pick("建立時間", "Opened").into(), s.time(room.created_at)],
            vec![
                s.pick("解決時間", "Resolved").into(),
                room.resolved_at.map_or_else(|| s.none(), |t| s.time(t)),
            ],
            vec![
                s.pick("封存時間", "Archived").into(),
                room.archived_at.map_or_else(|| s.none(), |t| s.time(t)),
            ],
            vec![
                s.pick("最後活動", "Last activity").into(),
                s.time(room.last_activity_at),
            ],
            vec![
                s.pick("成員數", "Members").into(),
                room.member_count.to_string(),
            ],
        ],
    }];

    let final_resolution = vec![Block::Paragraph {
        text: room
            .resolution_notes
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| {
                s.pick("尚未填寫處置結果。", "No resolution recorded yet.")
                    .into()
            }),
    }];

    let or_none = |v: Option<&String>| {
        v.filter(|t| !t.is_empty())
            .cloned()
            .unwrap_or_else(|| s.none())
    };
    let lots = vec![Block::Table {
        header: vec![
            s.pick("項目", "Field").into(),
            s.pick("內容", "Value").into(),
        ],
        rows: vec![
            vec![
                s.pick("批號 (LOT)", "LOTs").into(),
                if room.lots.is_empty() {
                    s.none()
                } else {
                    room.lots.join(", ")
                },
            ],
            vec![s.pick("產線", "Line").into(), or_none(room.line.as_ref())],
            vec![
                s.pick("設備", "Equipment").into(),
                or_none(room.equipment.as_ref()),
            ],
            vec![
                s.pick("地點", "Location").into(),
                or_none(Some(&room.location)),
            ],
        ],
    }];

    let resolve = room
        .resolved_at
        .filter(|_| room.status != RoomStatus::Active)
        .map(|t| t - room.created_at);
    let figures = vec![Block::Table {
        header: vec![
            s.pick("指標", "Figure").into(),
            s.pick("數值", "Value").into(),
        ],
        rows: vec![
            vec![
                s.pick("首次回應時間", "Time to first response").into(),
                record
                    .first_response_at
                    .map_or_else(|| s.none(), |t| s.duration(t - room.created_at)),
            ],
            vec![
                s.pick("解決所需時間", "Time to resolve").into(),
                resolve.map_or_else(
                    || s.pick("尚未解決", "not resolved").to_string(),
                    |d| s.duration(d),
                ),
            ],
            vec![
                s.pick("訊息數", "Messages").into(),
                record.message_count.to_string(),
            ],
            vec![
                s.pick("參與人數", "Participants").into(),
                record.participants.len().to_string(),
            ],
            vec![
                s.pick("檔案數", "Files").into(),
                record.files.len().to_string(),
            ],
        ],
    }];

    let mut evidence = Vec::new();
    let images: Vec<_> = record.files.iter().filter(|f| f.kind == "image").collect();
    for f in images.iter().take(embedded) {
        evidence.push(Block::Image {
            file_id: f.id,
            caption: format!(
                "{} · {} · {} · SHA-256 {}",
                f.name,
                s.time(f.uploaded_at),
                size(f.size),
                f.sha256
            ),
        });
    }
    if images.len() > embedded {
        evidence.push(Block::Note {
            text: match s.language {
                Language::ZhTw => format!(
                    "另有 {} 張圖片未嵌入，已列於下表並附 SHA-256。",
                    images.len() - embedded
                ),
                Language::En => format!(
                    "{} more images are not embedded; they are listed below with their SHA-256.",
                    images.len() - embedded
                ),
            },
        });
    }
    if record.files.is_empty() {
        evidence.push(Block::Paragraph {
            text: s
                .pick(
                    "本事件沒有上傳任何檔案。",
                    "No files were uploaded to this incident.",
                )
                .into(),
        });
    } else {
        evidence.push(Block::Paragraph {
            text: s
                .pick(
                    "所有檔案的 SHA-256 雜湊值如下，可用於日後驗證原始檔案未被更動。",
                    "Every file's SHA-256 is listed so that the originals can be verified later.",
                )
                .into(),
        });
        evidence.push(Block::Table {
            header: vec![
                s.pick("檔名", "Name").into(),
                s.pick("大小", "Size").into(),
                s.pick("上傳者", "Uploaded by").into(),
                s.pick("時間", "Time").into(),
                "SHA-256".into(),
            ],
            rows: record
                .files
                .iter()
                .map(|f| {
                    vec![
                        f.name.clone(),
                        size(f.size),
                        f.uploader.clone(),
                        s.time(f.uploaded_at),
                        f.sha256.clone(),
                    ]
                })
                .collect(),
        });
    }

    let sections = vec![
        section(SectionKey::Summary, with_note(paragraphs(&written.summary))),
        section(SectionKey::Timeline, timeline),
        section(SectionKey::Participants, participants),
        section(
            SectionKey::ResolutionProcess,
            with_note(paragraphs(&written.resolution_process)),
        ),
        section(SectionKey::CurrentStatus, current),
        section(SectionKey::FinalResolution, final_resolution),
        section(SectionKey::LotsLineEquipment, lots),
        section(SectionKey::Figures, figures),
        section(SectionKey::Evidence, evidence),
    ];
    let offset = record
        .generated_at
        .with_timezone(&s.zone)
        .format("%:z")
        .to_string();
    ReportContent {
        language: s.language,
        title: format!(
            "{}{}",
            s.pick("事件報告：", "Incident report: "),
            room.title
        ),
        subtitle: vec![
            format!(
                "{}{} · {}",
                s.pick("產生時間：", "Generated "),
                s.time(record.generated_at),
                record.requested_by
            ),
            format!(
                "{}{} (UTC{offset})",
                s.pick("時區：", "Time zone: "),
                s.zone.name()
            ),
            format!("{}{}", s.pick("事件編號：", "Incident id: "), room.id),
        ],
        sections,
    }
}

/// A file name for the download: the room's title with anything a file system
/// or a header could choke on replaced, and the date.
pub fn file_name(record: &Record, style: Style) -> String {
    let title: String = record
        .room
        .title
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(80)
        .collect();
    let title = title.trim().trim_matches('.');
    let date = record
        .generated_at
        .with_timezone(&style.zone)
        .format("%Y%m%d-%H%M");
    format!(
        "{} {} {date}.docx",
        style.pick("事件報告", "Incident report"),
        if title.is_empty() { "-" } else { title }
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::db::files::FileView;
    use crate::db::rooms::Room;
    use crate::reports::model::{Participant, RecordMessage, TimelineItem};

    const TAIPEI: Style = Style {
        language: Language::ZhTw,
        zone: chrono_tz::Asia::Taipei,
    };
    const EN: Style = Style {
        language: Language::En,
        zone: chrono_tz::UTC,
    };

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap()
    }

    fn image(n: u8) -> FileView {
        let id = uuid::Uuid::from_u128(u128::from(n));
        FileView {
            id,
            room_id: uuid::Uuid::nil(),
            name: format!("photo-{n}.jpg"),
            kind: "image".into(),
            mime_type: "image/jpeg".into(),
            size: 2_500_000,
            sha256: format!("{n:064x}"),
            uploader: "lin@plant.example".into(),
            uploaded_at: at(6, n.into()),
            message_id: None,
            has_thumbnail: true,
            content_url: String::new(),
            thumbnail_url: None,
            storage_key: format!("rooms/x/{id}"),
            thumbnail_key: None,
            deleted: false,
        }
    }

    fn record(title: &str, images: u8) -> Record {
        Record {
            room: Room {
                id: uuid::Uuid::nil(),
                title: title.into(),
                incident_type: IncidentType::EquipmentFailure,
                severity: Severity::High,
                status: RoomStatus::Resolved,
                location: String::new(),
                line: Some("SMT-3".into()),
                equipment: None,
                description: String::new(),
                resolution_notes: Some("heater replaced".into()),
                lots: vec!["LOT-1".into()],
                created_by: "wang@plant.example".into(),
                created_at: at(5, 0),
                resolved_at: Some(at(6, 35)),
                archived_at: None,
                last_activity_at: at(6, 35),
                member_count: 2,
                head_seq: 10,
                acknowledged_at: None,
                acknowledged_by: None,
                contained_at: None,
                contained_by: None,
            },
            generated_at: at(7, 0),
            requested_by: "Lin".into(),
            participants: vec![Participant {
                user_id: "lin@plant.example".into(),
                name: "Lin".into(),
                job_title: None,
                role: Some("editor".into()),
                first_message_at: Some(at(5, 7)),
            }],
            timeline: vec![TimelineItem {
                at: at(5, 0),
                actor_name: "Wang".into(),
                what: TimelineWhat::Created,
            }],
            timeline_omitted: 0,
            message_count: 1,
            messages: vec![RecordMessage {
                seq: 3,
                at: at(5, 7),
                sender_name: "Lin".into(),
                content: "belt stopped".into(),
            }],
            status_changes: Vec::new(),
            files: (0..images).map(image).collect(),
            first_response_at: Some(at(5, 7)),
            pinned: Vec::new(),
        }
    }

    fn section(c: &ReportContent, key: SectionKey) -> &Section {
        c.sections.iter().find(|s| s.key == key).unwrap()
    }

    #[test]
    fn durations_read_in_both_languages() {
        assert_eq!(EN.duration(TimeDelta::minutes(65)), "1 h 5 min");
        assert_eq!(TAIPEI.duration(TimeDelta::minutes(65)), "1 小時 5 分");
        assert_eq!(EN.duration(TimeDelta::seconds(20)), "0 min");
        assert_eq!(EN.duration(TimeDelta::minutes(26 * 60)), "1 d 2 h");
        assert_eq!(EN.duration(TimeDelta::minutes(-5)), "0 min");
    }

    #[test]
    fn english_text_has_english_punctuation() {
        let r = record("t", 0);
        let written = from_record(&r, EN);
        assert!(
            written
                .summary
                .contains(&"First message (2026-11-30 05:07, Lin): belt stopped".to_string()),
            "{:?}",
            written.summary
        );
        assert!(written.summary.iter().all(|p| !p.contains('（')));
        let zh = from_record(&r, TAIPEI);
        assert!(
            zh.summary
                .contains(&"第一則訊息（2026-11-30 13:07，Lin）：belt stopped".to_string())
        );
    }

    #[test]
    fn times_are_shown_in_the_configured_zone() {
        assert_eq!(TAIPEI.time(at(5, 0)), "2026-11-30 13:00");
        assert_eq!(EN.time(at(5, 0)), "2026-11-30 05:00");
    }

    #[test]
    fn figures_are_the_times_to_first_response_and_to_resolve() {
        let c = content(&record("t", 0), &from_record(&record("t", 0), EN), EN, 0);
        let Block::Table { rows, .. } = &section(&c, SectionKey::Figures).blocks[0] else {
            panic!("a table");
        };
        assert_eq!(rows[0], ["Time to first response", "7 min"]);
        assert_eq!(rows[1], ["Time to resolve", "1 h 35 min"]);
    }

    #[test]
    fn milestones_are_lines_of_the_timeline_in_both_languages() {
        let mut r = record("t", 0);
        for (minute, what) in [
            (2, TimelineWhat::Acknowledged),
            (9, TimelineWhat::Contained),
        ] {
            r.timeline.push(TimelineItem {
                at: at(5, minute),
                actor_name: "Lin".into(),
                what,
            });
        }
        for (style, acknowledged, contained) in [
            (EN, "Acknowledged", "Contained"),
            (TAIPEI, "確認接手", "已控制"),
        ] {
            let c = content(&r, &from_record(&r, style), style, 0);
            let Block::Table { rows, .. } = &section(&c, SectionKey::Timeline).blocks[0] else {
                panic!("a table");
            };
            let whats: Vec<&str> = rows.iter().map(|row| row[2].as_str()).collect();
            assert!(
                whats.contains(&acknowledged) && whats.contains(&contained),
                "{whats:?}"
            );
        }
    }

    #[test]
    fn a_fallback_says_why_at_the_top_of_both_written_sections() {
        let r = record("t", 0);
        let written = Written {
            by: WrittenBy::Fallback {
                reason: "The AI summary was unavailable (timed out after 60 s).".into(),
            },
            ..from_record(&r, EN)
        };
        let c = content(&r, &written, EN, 0);
        for key in [SectionKey::Summary, SectionKey::ResolutionProcess] {
            assert!(
                matches!(&section(&c, key).blocks[0], Block::Note { text } if text.contains("timed out")),
                "{key:?}"
            );
        }
        let plain = content(&r, &from_record(&r, EN), EN, 0);
        assert!(
            !section(&plain, SectionKey::Summary)
                .blocks
                .iter()
                .any(|b| matches!(b, Block::Note { .. }))
        );
    }

    #[test]
    fn images_past_the_cap_are_listed_not_embedded_and_every_file_keeps_its_hash() {
        let r = record("t", 3);
        let c = content(&r, &from_record(&r, EN), EN, 2);
        let blocks = &section(&c, SectionKey::Evidence).blocks;
        let embedded = blocks
            .iter()
            .filter(|b| matches!(b, Block::Image { .. }))
            .count();
        assert_eq!(embedded, 2);
        assert!(
            blocks
                .iter()
                .any(|b| matches!(b, Block::Note { text } if text.starts_with("1 more image")))
        );
        let Some(Block::Table { rows, .. }) = blocks.last() else {
            panic!("the file table last");
        };
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2][4], format!("{:064x}", 2));
        assert_eq!(rows[0][1], "2.4 MB");
    }

    #[test]
    fn pinned_messages_are_the_timelines_key_events_in_both_languages() {
        use crate::reports::model::PinnedMessage;
        let mut r = record("Line 3", 0);
        let plain = content(&r, &from_record(&r, EN), EN, 0);
        assert!(
            !section(&plain, SectionKey::Timeline)
                .blocks
                .iter()
                .any(|b| matches!(b, Block::Subheading { .. })),
            "no key events without pins"
        );
        for (n, text) in [(2, "heater at 310°C"), (1, "belt jammed at station 4")] {
            r.pinned.push(PinnedMessage {
                message: RecordMessage {
                    seq: n,
                    at: at(5, 10 * n as u32),
                    sender_name: "Lin".into(),
                    content: text.into(),
                },
                pinned_by_name: "Wang".into(),
                pinned_at: at(6, n as u32),
            });
        }
        for (style, heading, by) in [
            (TAIPEI, "關鍵事件（釘選訊息）", "釘選者"),
            (EN, "Key events (pinned messages)", "Pinned by"),
        ] {
            let c = content(&r, &from_record(&r, style), style, 0);
            let blocks = &section(&c, SectionKey::Timeline).blocks;
            let i = blocks
                .iter()
                .position(|b| matches!(b, Block::Subheading { text } if text == heading))
                .expect(heading);
            let Block::Table { header, rows } = &blocks[i + 1] else {
                panic!("a table after the heading")
            };
            assert_eq!(header[3], by);
            // In pin order, not in message order.
            assert_eq!(rows[0][2], "heater at 310°C");
            assert_eq!(rows[1][2], "belt jammed at station 4");
            assert!(rows[0][3].starts_with("Wang · "), "{:?}", rows[0]);
        }
    }

    #[test]
    fn every_heading_is_in_the_reports_language_in_order() {
        let r = record("t", 0);
        let zh = content(&r, &from_record(&r, TAIPEI), TAIPEI, 0);
        let keys: Vec<SectionKey> = zh.sections.iter().map(|s| s.key).collect();
        assert_eq!(keys, SectionKey::ALL);
        assert_eq!(zh.sections[0].heading, "事件摘要");
        assert!(zh.title.starts_with("事件報告"));
        let en = content(&r, &from_record(&r, EN), EN, 0);
        assert_eq!(en.sections[8].heading, "Evidence");
    }

    #[test]
    fn the_file_name_keeps_the_title_but_nothing_a_file_system_refuses() {
        let name = file_name(&record("三號線 A/B: \"停機\"?\u{7}", 0), TAIPEI);
        assert_eq!(name, "事件報告 三號線 A_B_ _停機___ 20261130-1500.docx");
        assert_eq!(
            file_name(&record("...", 0), EN),
            "Incident report - 20261130-0700.docx"
        );
    }
}
