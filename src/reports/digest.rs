//! The record as plain text for a model (issue 18), within a token budget whatever
//! the room's size: the room's facts first, then the key events (the messages the
//! room pinned, issue 20), then its status changes, then as many
//! messages as fit, the newest kept, shown oldest first and with a line saying how
//! many were left out.
//!
//! Token counts are estimates (the model's tokenizer is unknown here), made high
//! on purpose so that the digest fits the model's context with room to spare.

use chrono::{DateTime, SecondsFormat, Utc};

use super::model::{Language, PinnedMessage, Record, RecordMessage, StatusChange};

/// The budget the report pipeline uses: a digest and the instructions fit in an
/// 8k context with room for the answer.
pub const DEFAULT_BUDGET_TOKENS: usize = 6_000;

/// Most tokens one message may take; the rest of it is cut.
const MESSAGE_MAX_TOKENS: usize = 300;

/// A high estimate, for Chinese and English text, of the tokens `text` takes: a
/// character of three UTF-8 bytes (CJK, kana, Hangul, typographic punctuation)
/// counts as one token and one of four (emoji, rare ideographs) as two; the
/// rest, one token per four bytes.
pub fn estimate_tokens(text: &str) -> usize {
    let mut counter = Counter::default();
    for c in text.chars() {
        counter.add(c);
    }
    counter.tokens()
}

#[derive(Default, Clone, Copy)]
struct Counter {
    wide: usize,
    narrow_bytes: usize,
}

impl Counter {
    fn add(&mut self, c: char) {
        match c.len_utf8() {
            n @ (1 | 2) => self.narrow_bytes += n,
            3 => self.wide += 1,
            _ => self.wide += 2,
        }
    }

    fn tokens(self) -> usize {
        self.wide + self.narrow_bytes.div_ceil(4)
    }
}

/// `text` cut to at most `max` tokens, marked with "…" when cut.
fn truncate(text: &str, max: usize) -> String {
    if estimate_tokens(text) <= max {
        return text.to_string();
    }
    // One token is kept for the ellipsis.
    let Some(room) = max.checked_sub(1) else {
        return String::new();
    };
    let mut counter = Counter::default();
    let mut out = String::new();
    for c in text.chars() {
        counter.add(c);
        if counter.tokens() > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// One line, whatever the text holds (line breaks and control characters too).
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.replace(char::is_control, ""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The record as text of at most `budget_tokens` tokens (by [`estimate_tokens`]).
/// The first line is the room's title.
pub fn digest(record: &Record, language: Language, budget: usize) -> String {
    // Estimates add up to at least the estimate of the joined text (the byte part
    // rounds up per piece), so keeping the sum of the pieces within the budget
    // keeps the whole within it.
    let mut out = truncate(&facts(record, language, budget), budget);
    let mut left = budget.saturating_sub(estimate_tokens(&out));

    let pinned = pinned_section(&record.pinned, language, left.min(budget / 4));
    left = left.saturating_sub(estimate_tokens(&pinned));
    out.push_str(&pinned);

    let status = status_section(&record.status_changes, language, left.min(budget / 5));
    left = left.saturating_sub(estimate_tokens(&status));
    out.push_str(&status);

    out.push_str(&messages_section(record, language, left));
    out
}

fn facts(record: &Record, language: Language, budget: usize) -> String {
    let room = &record.room;
    let cut = |text: &str, share: usize| truncate(&one_line(text), budget / share);
    let fields: [(&'static str, &'static str, Option<String>); 12] = [
        ("標題：", "Title: ", Some(one_line(&room.title))),
        ("類型：", "Type: ", Some(room.incident_type.as_str().into())),
        (
            "嚴重度：",
            "Severity: ",
            Some(room.severity.as_str().into()),
        ),
        ("狀態：", "Status: ", Some(room.status.as_str().into())),
        ("地點：", "Location: ", Some(one_line(&room.location))),
        ("產線：", "Line: ", room.line.as_deref().map(one_line)),
        (
            "設備：",
            "Equipment: ",
            room.equipment.as_deref().map(one_line),
        ),
        (
            "批號：",
            "LOTs: ",
            (!room.lots.is_empty()).then(|| cut(&room.lots.join(", "), 10)),
        ),
        ("描述：", "Description: ", Some(cut(&room.description, 5))),
        (
            "處置說明：",
            "Resolution notes: ",
            room.resolution_notes.as_deref().map(|n| cut(n, 5)),
        ),
        ("建立時間：", "Created: ", Some(utc(room.created_at))),
        ("解決時間：", "Resolved: ", room.resolved_at.map(utc)),
    ];
    fields
        .into_iter()
        .filter_map(|(zh, en, value)| Some(format!("{}{}\n", language.pick(zh, en), value?)))
        .collect()
}

/// The lines of `items` that fit in `budget` taking the newest (last) first,
/// returned oldest first. Stops at the first that does not fit, so what is kept
/// is the unbroken end of the record.
fn newest_that_fit<'a, T: 'a>(
    items: impl DoubleEndedIterator<Item = &'a T>,
    budget: usize,
    line: impl Fn(&T) -> String,
) -> Vec<String> {
    let mut kept = Vec::new();
    let mut used = 0;
    for item in items.rev() {
        let text = line(item);
        let tokens = estimate_tokens(&text);
        if used + tokens > budget {
            break;
        }
        used += tokens;
        kept.push(text);
    }
    kept.reverse();
    kept
}

fn status_section(changes: &[StatusChange], language: Language, budget: usize) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let header = language
        .pick(
            "\n狀態變更（由舊到新）：\n",
            "\nStatus changes (oldest first):\n",
        )
        .to_string();
    // Room for the header and the line saying how many were left out.
    let omitted_line = |n: usize| match language {
        Language::ZhTw => format!("（另有 {n} 筆較早的狀態變更未列出）\n"),
        Language::En => format!("({n} earlier status changes left out)\n"),
    };
    let reserve = estimate_tokens(&header) + estimate_tokens(&omitted_line(changes.len()));
    let Some(room) = budget.checked_sub(reserve) else {
        return String::new();
    };
    let lines = newest_that_fit(changes.iter(), room, |c| {
        let notes = c
            .resolution_notes
            .as_deref()
            .map(|n| {
                let n = truncate(&one_line(n), MESSAGE_MAX_TOKENS);
                format!("{}{n}", language.pick("；說明：", "; notes: "))
            })
            .unwrap_or_default();
        format!(
            "{} {}: {} -> {}{notes}\n",
            utc(c.at),
            one_line(&c.by_name),
            c.from,
            c.to
        )
    });
    let mut text = header;
    let omitted = changes.len() - lines.len();
    if omitted > 0 {
        text.push_str(&omitted_line(omitted));
    }
    text.extend(lines);
    text
}

/// The pinned messages in pin order, as many as fit from the first pin on.
fn pinned_section(pins: &[PinnedMessage], language: Language, budget: usize) -> String {
    if pins.is_empty() {
        return String::new();
    }
    let header = language
        .pick(
            "\n關鍵事件（成員釘選的訊息，依釘選順序）：\n",
            "\nKey events (messages the members pinned, in pin order):\n",
        )
        .to_string();
    let omitted_line = |n: usize| match language {
        Language::ZhTw => format!("（另有 {n} 則釘選訊息未列出）\n"),
        Language::En => format!("({n} more pinned messages left out)\n"),
    };
    let reserve = estimate_tokens(&header) + estimate_tokens(&omitted_line(pins.len()));
    let Some(mut room) = budget.checked_sub(reserve) else {
        return String::new();
    };
    let per_message = MESSAGE_MAX_TOKENS.min(budget / 4);
    let mut text = header;
    let mut shown = 0;
    for p in pins {
        let m = &p.message;
        let line = format!(
            "#{} {} {}: {}\n",
            m.seq,
            utc(m.at),
            one_line(&m.sender_name),
            truncate(&one_line(&m.content), per_message)
        );
        let tokens = estimate_tokens(&line);
        if tokens > room {
            break;
        }
        room -= tokens;
        text.push_str(&line);
        shown += 1;
    }
    if shown < pins.len() {
        text.push_str(&omitted_line(pins.len() - shown));
    }
    text
}

fn messages_section(record: &Record, language: Language, budget: usize) -> String {
    let total = usize::try_from(record.message_count)
        .unwrap_or(0)
        .max(record.messages.len());
    let header = |shown: usize, omitted: usize| match language {
        Language::ZhTw => format!(
            "\n訊息：共 {total} 則，以下為最新的 {shown} 則（由舊到新），{omitted} 則未列出。\n"
        ),
        Language::En => format!(
            "\nMessages: {total} in the room; the newest {shown} below (oldest first), {omitted} left out.\n"
        ),
    };
    // Both numbers are at most `total`: this reserve is enough for the header.
    let reserve = estimate_tokens(&header(total, total));
    let Some(room) = budget.checked_sub(reserve) else {
        return String::new();
    };
    let per_message = MESSAGE_MAX_TOKENS.min(budget / 10);
    let lines = newest_that_fit(record.messages.iter(), room, |m: &RecordMessage| {
        let content = truncate(&one_line(&m.content), per_message);
        format!(
            "#{} {} {}: {content}\n",
            m.seq,
            utc(m.at),
            one_line(&m.sender_name)
        )
    });
    let mut text = header(lines.len(), total - lines.len());
    text.extend(lines);
    text
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::db::rooms::Room;
    use crate::domain::rooms::{IncidentType, RoomStatus, Severity};

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap() + chrono::Duration::minutes(minute)
    }

    fn record(messages: usize) -> Record {
        Record {
            room: Room {
                id: Uuid::nil(),
                title: "Line 3 conveyor stopped".into(),
                incident_type: IncidentType::EquipmentFailure,
                severity: Severity::High,
                status: RoomStatus::Resolved,
                location: "Plant 1".into(),
                line: Some("L3".into()),
                equipment: Some("CV-301".into()),
                description: "Belt jammed at the\ntransfer point".into(),
                resolution_notes: Some("Replaced the roller".into()),
                lots: vec!["A123".into(), "A124".into()],
                created_by: "alice".into(),
                created_at: at(0),
                resolved_at: Some(at(120)),
                archived_at: None,
                last_activity_at: at(120),
                member_count: 3,
                head_seq: i64::try_from(messages).unwrap(),
                acknowledged_at: None,
                acknowledged_by: None,
                contained_at: None,
                contained_by: None,
            },
            generated_at: at(200),
            requested_by: "Alice".into(),
            participants: Vec::new(),
            timeline: Vec::new(),
            timeline_omitted: 0,
            message_count: i64::try_from(messages).unwrap(),
            messages: (1..=messages)
                .map(|i| RecordMessage {
                    seq: i64::try_from(i).unwrap(),
                    at: at(i64::try_from(i).unwrap() / 100),
                    sender_name: "Bob".into(),
                    content: format!("message {i}: roller temperature checked, still jammed"),
                })
                .collect(),
            status_changes: vec![StatusChange {
                at: at(120),
                by_name: "Alice".into(),
                from: "active".into(),
                to: "resolved".into(),
                resolution_notes: Some("Replaced the roller".into()),
            }],
            files: Vec::new(),
            first_response_at: Some(at(1)),
            pinned: Vec::new(),
        }
    }

    #[test]
    fn estimate_counts_wide_characters_and_narrow_bytes() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("é"), 1);
        assert_eq!(estimate_tokens("輸送帶停止"), 5);
        assert_eq!(estimate_tokens("停 a"), 2);
        assert_eq!(estimate_tokens("😀"), 2);
        // High on purpose: about 4 characters of English a token.
        assert_eq!(estimate_tokens("The conveyor stopped."), 6);
    }

    #[test]
    fn truncation_stays_within_its_limit_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        for max in 0..12 {
            for text in [
                "停機原因為輸送帶滾輪卡住",
                "the roller jammed at the transfer",
            ] {
                let cut = truncate(text, max);
                assert!(estimate_tokens(&cut) <= max, "{max} {cut}");
                assert!(cut.is_empty() || cut.ends_with('…') || cut == text);
            }
        }
    }

    #[test]
    fn ten_thousand_messages_keep_the_newest_within_the_budget() {
        let r = record(10_000);
        let d = digest(&r, Language::En, DEFAULT_BUDGET_TOKENS);
        assert!(estimate_tokens(&d) <= DEFAULT_BUDGET_TOKENS);
        assert!(d.starts_with("Title: Line 3 conveyor stopped\n"), "{d}");
        for fact in [
            "Type: equipment_failure",
            "Severity: high",
            "Status: resolved",
            "Location: Plant 1",
            "Line: L3",
            "Equipment: CV-301",
            "LOTs: A123, A124",
            "Created: 2024-05-01T08:00:00Z",
            "Resolved: 2024-05-01T10:00:00Z",
            "Description: Belt jammed at the transfer point",
            "Resolution notes: Replaced the roller",
            "2024-05-01T10:00:00Z Alice: active -> resolved; notes: Replaced the roller",
        ] {
            assert!(d.contains(fact), "{fact} missing from {d}");
        }
        let shown: Vec<&str> = d.lines().filter(|l| l.starts_with('#')).collect();
        assert!(shown.len() > 50, "{}", shown.len());
        assert!(shown.last().unwrap().starts_with("#10000 "));
        assert!(
            shown
                .first()
                .unwrap()
                .starts_with(&format!("#{} ", 10_001 - shown.len()))
        );
        assert!(!d.contains("message 1:"));
        assert!(d.contains(&format!(
            "Messages: 10000 in the room; the newest {} below (oldest first), {} left out.",
            shown.len(),
            10_000 - shown.len()
        )));
    }

    #[test]
    fn no_budget_is_exceeded_however_large_the_record() {
        let mut r = record(300);
        r.room.description = "輸送帶滾輪卡住".repeat(1_500);
        r.room.resolution_notes = Some("更換滾輪 ".repeat(2_000));
        r.room.lots = (0..100).map(|i| format!("LOT-{i:060}")).collect();
        r.status_changes = (0..200).map(|_| r.status_changes[0].clone()).collect();
        r.messages[299].content = "😀".repeat(4_000);
        for language in [Language::ZhTw, Language::En] {
            for budget in [0, 1, 2, 7, 30, 100, 500, 2_000, DEFAULT_BUDGET_TOKENS] {
                let d = digest(&r, language, budget);
                assert!(estimate_tokens(&d) <= budget, "{budget}: {d}");
                if budget >= 500 {
                    assert!(d.contains("Line 3 conveyor stopped"), "{budget}: {d}");
                    assert!(d.contains("#300 "), "{budget}: {d}");
                }
            }
        }
        let d = digest(&r, Language::ZhTw, DEFAULT_BUDGET_TOKENS);
        assert!(d.contains("（另有 "), "{d}");
        assert!(d.contains("😀…"), "the long last message is cut: {d}");
    }

    #[test]
    fn labels_follow_the_language_and_short_records_are_whole() {
        let d = digest(&record(3), Language::ZhTw, DEFAULT_BUDGET_TOKENS);
        assert!(d.starts_with("標題：Line 3 conveyor stopped\n類型：equipment_failure\n"));
        assert!(d.contains("訊息：共 3 則，以下為最新的 3 則（由舊到新），0 則未列出。"));
        let shown: Vec<&str> = d.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(shown.len(), 3);
        assert!(shown[0].starts_with("#1 2024-05-01T08:00:00Z Bob: message 1:"));
    }
}
