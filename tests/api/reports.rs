//! Incident reports (issue 18): started over REST, progress over the socket, the
//! .docx opened as the zip it is and read for what it must hold.

use std::io::Read;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient, add_member, archive_room, cast, eventually};

/// A 1600×1200 photo-like JPEG (a gradient: it compresses as photos do).
pub fn photo(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([(x / 7) as u8 ^ seed, (y / 5) as u8, ((x + y) / 11) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    openssl::sha::sha256(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Uploads `bytes` as `name`; the file's JSON.
pub async fn upload(
    app: &TestApp,
    user: &TestUser,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let part = Part::bytes(bytes).file_name(name.to_string());
    let (status, body) = app
        .call(
            app.authed(
                Method::POST,
                &format!("/api/rooms/{room}/files"),
                &user.token,
            )
            .multipart(Form::new().part("file", part)),
        )
        .await;
    assert_eq!(status, 201, "uploading {name}: {body}");
    body["file"].clone()
}

/// `POST /api/rooms/{room}/reports`: status and body.
pub async fn start_report(
    app: &TestApp,
    user: &TestUser,
    room: &str,
    language: &str,
    ai: bool,
) -> (u16, Value) {
    app.send_as(
        Method::POST,
        &format!("/api/rooms/{room}/reports"),
        &user.token,
        Some(json!({ "language": language, "ai": ai })),
    )
    .await
}

/// Polls the report until it is finished; its detail.
pub async fn finished(app: &TestApp, user: &TestUser, room: &str, report: &str) -> Value {
    let path = format!("/api/rooms/{room}/reports/{report}");
    eventually(60, "the report to finish", || async {
        let (status, body) = app.get_as(&path, &user.token).await;
        assert_eq!(status, 200, "{body}");
        matches!(body["status"].as_str(), Some("completed" | "failed")).then_some(body)
    })
    .await
}

/// A completed report of the room, in `language`: its detail and its .docx.
pub async fn report(
    app: &TestApp,
    user: &TestUser,
    room: &str,
    language: &str,
    ai: bool,
) -> (Value, Docx) {
    let (status, started) = start_report(app, user, room, language, ai).await;
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().unwrap();
    let detail = finished(app, user, room, id).await;
    assert_eq!(detail["status"], "completed", "{detail}");
    let resp = app
        .authed(
            Method::GET,
            detail["content_url"].as_str().unwrap(),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let disposition = headers["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(".docx"), "{disposition}");
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert_eq!(detail["size"].as_i64(), Some(bytes.len() as i64));
    assert_eq!(detail["sha256"].as_str(), Some(sha256_hex(&bytes).as_str()));
    // `scripts/report-screenshot` renders this one for docs/screenshots.
    if let Ok(path) = std::env::var("ANDON_REPORT_SAMPLE")
        && language == "zh-TW"
    {
        std::fs::write(path, &bytes).unwrap();
    }
    (detail, Docx::open(bytes))
}

/// A .docx opened as the zip archive it is.
pub struct Docx {
    archive: zip::ZipArchive<std::io::Cursor<Vec<u8>>>,
}

impl Docx {
    pub fn open(bytes: Vec<u8>) -> Self {
        Self {
            archive: zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive"),
        }
    }

    /// The main document's XML.
    pub fn document(&mut self) -> String {
        let mut xml = String::new();
        self.archive
            .by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        xml
    }

    /// The document's text: what `w:t` elements hold, joined.
    pub fn text(&mut self) -> String {
        let xml = self.document();
        let mut text = String::new();
        for piece in xml.split("<w:t").skip(1) {
            let Some(start) = piece.find('>') else {
                continue;
            };
            let body = &piece[start + 1..];
            if let Some(end) = body.find("</w:t>") {
                text.push_str(&body[..end]);
                text.push('\n');
            }
        }
        text.replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
    }

    /// Parts under `word/media/`, with their bytes.
    pub fn media(&mut self) -> Vec<(String, Vec<u8>)> {
        let mut parts = Vec::new();
        for i in 0..self.archive.len() {
            let mut part = self.archive.by_index(i).unwrap();
            if part.is_file() && part.name().starts_with("word/media/") {
                let mut bytes = Vec::new();
                part.read_to_end(&mut bytes).unwrap();
                parts.push((part.name().to_string(), bytes));
            }
        }
        parts
    }
}

const ZH_HEADINGS: [&str; 9] = [
    "事件摘要",
    "時間軸",
    "參與人員",
    "處理過程",
    "目前狀態",
    "最終處置結果",
    "批號、產線與設備",
    "關鍵數據",
    "佐證資料",
];
const EN_HEADINGS: [&str; 9] = [
    "Summary",
    "Timeline",
    "Participants",
    "Resolution process",
    "Current status",
    "Final resolution",
    "LOTs, line and equipment",
    "Figures",
    "Evidence",
];

/// `at` (RFC 3339) as the report shows it in Asia/Taipei (UTC+8, no DST).
fn taipei(at: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(at).unwrap();
    (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A room with LOTs, line and equipment, messages from two people, two photos
/// and a text file, resolved with notes.
struct Incident {
    room: String,
    created_at: String,
    files: Vec<Value>,
    owner: TestUser,
    editor: TestUser,
    viewer: TestUser,
}

async fn incident(app: &TestApp) -> Incident {
    let named = |name: &'static str, who: &'static str| async move {
        let id = format!(
            "{who}-{}@andon.test",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        app.user_with_id(&id, name).await
    };
    let (owner, editor, viewer) = tokio::join!(
        named("王建明", "wang"),
        named("陳怡君", "chen"),
        named("林志豪", "lin")
    );
    let room = app
        .create_room(
            &owner.token,
            json!({
                "title": "SMT-3 回焊爐 4 區溫度異常", "incident_type": "equipment_failure",
                "severity": "high", "location": "新竹二廠 3F",
                "description": "4 區實測 245°C，超出規格上限 235°C，產線暫停。",
                "line": "SMT-3", "equipment": "Reflow oven R-7",
                "lots": ["LOT-2411-A7", "LOT-2411-B2"],
            }),
        )
        .await;
    let room_id = room["id"].as_str().unwrap().to_string();
    add_member(app, &owner, &room_id, &editor, "editor").await;
    add_member(app, &owner, &room_id, &viewer, "viewer").await;
    let mut ws = WsClient::connect(app, &owner.token).await;
    ws.subscribe(&room_id, None).await;
    ws.send_text(&room_id, "m1", "輸送帶停止，溫度 245°C 超出規格")
        .await;
    let mut ws2 = WsClient::connect(app, &editor.token).await;
    ws2.subscribe(&room_id, None).await;
    ws2.send_text(&room_id, "m2", "On my way; isolating LOT-2411-A7")
        .await;
    let (status, body) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{room_id}/contain"),
            &editor.token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let files = vec![
        upload(app, &editor, &room_id, "oven-zone-4.jpg", photo(1)).await,
        upload(app, &editor, &room_id, "belt.jpg", photo(2)).await,
        upload(
            app,
            &owner,
            &room_id,
            "profile.csv",
            b"zone,temp\n4,245\n".to_vec(),
        )
        .await,
    ];
    ws.send_text(
        &room_id,
        "m3",
        "4 區加熱器已更換，溫度曲線驗證合格，恢復生產",
    )
    .await;
    let (status, body) = app
        .send_as(
            Method::PATCH,
            &format!("/api/rooms/{room_id}"),
            &owner.token,
            Some(json!({"status": "resolved", "resolution_notes": "更換 4 區加熱器，重新驗證溫度曲線"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    Incident {
        room: room_id,
        created_at: room["created_at"].as_str().unwrap().to_string(),
        files,
        owner,
        editor,
        viewer,
    }
}

#[tokio::test]
async fn a_report_holds_every_section_the_timeline_in_the_zone_the_evidence_and_the_lots() {
    let app = TestApp::spawn().await;
    let i = incident(&app).await;

    let (detail, mut docx) = report(&app, &i.editor, &i.room, "zh-TW", false).await;
    let text = docx.text();
    for heading in ZH_HEADINGS {
        assert!(text.contains(heading), "no heading {heading} in:\n{text}");
    }
    for lot in ["LOT-2411-A7", "LOT-2411-B2", "SMT-3", "Reflow oven R-7"] {
        assert!(text.contains(lot), "{lot} missing");
    }
    assert!(text.contains("更換 4 區加熱器"), "final resolution missing");
    for f in &i.files {
        let sha = f["sha256"].as_str().unwrap();
        assert!(text.contains(sha), "SHA-256 of {} missing", f["name"]);
    }
    // One embedded picture per image, re-encoded (no EXIF, smaller side).
    let media = docx.media();
    assert_eq!(
        media.len(),
        2,
        "{:?}",
        media.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    for (name, bytes) in &media {
        let img = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            img.width() <= 1280 && img.height() <= 1280,
            "{name} not downscaled"
        );
    }

    // The sections as JSON, in the document's order; the timeline in order and
    // in Asia/Taipei.
    let sections = detail["content"]["sections"].as_array().unwrap();
    let keys: Vec<&str> = sections
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "summary",
            "timeline",
            "participants",
            "resolution_process",
            "current_status",
            "final_resolution",
            "lots_line_equipment",
            "figures",
            "evidence"
        ]
    );
    let timeline = &sections[1]["blocks"][0];
    assert_eq!(timeline["type"], "table");
    let rows = timeline["rows"].as_array().unwrap();
    let times: Vec<&str> = rows.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {times:?}"
    );
    assert_eq!(
        times[0],
        taipei(&i.created_at),
        "creation not in Asia/Taipei"
    );
    assert!(text.contains(&taipei(&i.created_at)));
    let whats: Vec<&str> = rows.iter().map(|r| r[2].as_str().unwrap()).collect();
    assert!(
        whats.iter().any(|w| w.contains("oven-zone-4.jpg")),
        "{whats:?}"
    );
    assert!(whats.iter().any(|w| w.contains("已解決")), "{whats:?}");
    for milestone in ["確認接手", "已控制"] {
        assert!(whats.contains(&milestone), "{milestone}: {whats:?}");
    }
    assert!(whats.iter().any(|w| w.contains("輸送帶停止")), "{whats:?}");
    let participants = serde_json::to_string(&sections[2]).unwrap();
    assert!(participants.contains("editor") || participants.contains("編輯者"));

    let (_, mut en) = report(&app, &i.owner, &i.room, "en", false).await;
    let text = en.text();
    for heading in EN_HEADINGS {
        assert!(text.contains(heading), "no heading {heading} in:\n{text}");
    }
    assert!(!text.contains("事件摘要"));
    assert_eq!(en.media().len(), 2);

    // Both are in the list, newest first, and in the room's log.
    let (_, list) = app
        .get_as(&format!("/api/rooms/{}/reports", i.room), &i.viewer.token)
        .await;
    let langs: Vec<&str> = list["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["en", "zh-TW"]);
    assert_eq!(list["ai_available"], false);
    let (_, events) = app
        .get_as(
            &format!("/api/rooms/{}/events?after_seq=0", i.room),
            &i.viewer.token,
        )
        .await;
    let created: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "report.created")
        .collect();
    assert_eq!(created.len(), 2, "{events}");
    assert_eq!(created[0]["data"]["report"]["id"], detail["id"]);
    assert_eq!(created[0]["actor"], i.editor.id);
}

#[tokio::test]
async fn progress_goes_to_the_requesters_sockets_only() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut requester = WsClient::connect(&app, &c.editor.token).await;
    requester.subscribe(&c.room, None).await;
    let mut other = WsClient::connect(&app, &c.owner.token).await;
    other.subscribe(&c.room, None).await;

    let (status, started) = start_report(&app, &c.editor, &c.room, "en", false).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["status"], "pending");
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("completed") {
        let f = requester
            .recv_until("report progress", |f| f["type"] == "report_progress")
            .await;
        assert_eq!(f["report_id"], started["id"]);
        seen.push(f["status"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["collecting", "writing", "assembling", "completed"]);
    // The durable event reaches everyone; the progress frames only the requester.
    other.recv_kind(&c.room, "report.created").await;
    while let Some(crate::helpers::Frame::Json(_)) = other
        .try_next_frame(std::time::Duration::from_millis(300))
        .await
    {}
    let progress: Vec<&Value> = other
        .log
        .iter()
        .filter(|f| f["type"] == "report_progress")
        .collect();
    assert!(progress.is_empty(), "{progress:?}");
}

#[tokio::test]
async fn viewers_and_outsiders_may_not_start_reports_and_bad_requests_are_refused() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    for who in [&c.viewer, &c.outsider] {
        let (status, body) = start_report(&app, who, &c.room, "en", false).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "forbidden");
    }
    let (status, _) = app
        .get_as(&format!("/api/rooms/{}/reports", c.room), &c.outsider.token)
        .await;
    assert_eq!(status, 403);
    let (status, body) = start_report(&app, &c.editor, &c.room, "fr", false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    // No model configured: asking for AI is refused, not silently ignored.
    let (status, body) = start_report(&app, &c.editor, &c.room, "en", true).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("ANDON_LLM_URL"));
    let (_, list) = app
        .get_as(&format!("/api/rooms/{}/reports", c.room), &c.viewer.token)
        .await;
    assert_eq!(list["reports"], json!([]), "nothing was started");
    let (status, _) = app
        .get_as(
            &format!("/api/rooms/{}/reports/{}", c.room, uuid::Uuid::new_v4()),
            &c.viewer.token,
        )
        .await;
    assert_eq!(status, 404);
}

/// Issue 20: the messages the room pinned are the timeline's key events, in pin
/// order; a pinned message deleted since is not among them.
#[tokio::test]
async fn pinned_messages_are_the_reports_key_events_in_pin_order() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    ws.subscribe(&c.room, None).await;
    let mut ids = Vec::new();
    for (cid, text) in [
        ("k1", "Zone 4 heater reads 245°C"),
        ("k2", "Isolated LOT-2411-A7"),
        ("k3", "Wrong reading, ignore"),
    ] {
        let ack = ws.send_text(&c.room, cid, text).await;
        ids.push(ack["message_id"].as_str().unwrap().to_string());
    }
    // Pinned in the order 2, 1, 3; the third is then deleted.
    for i in [1, 0, 2] {
        ws.request_ok(
            json!({"type": "pin", "room_id": c.room, "message_id": ids[i]}),
            "ack",
        )
        .await;
    }
    ws.request_ok(
        json!({"type": "delete", "room_id": c.room, "message_id": ids[2]}),
        "ack",
    )
    .await;

    for (language, heading) in [
        ("en", "Key events (pinned messages)"),
        ("zh-TW", "關鍵事件（釘選訊息）"),
    ] {
        let (detail, mut docx) = report(&app, &c.editor, &c.room, language, false).await;
        let timeline = &detail["content"]["sections"][1];
        assert_eq!(timeline["key"], "timeline");
        let blocks = timeline["blocks"].as_array().unwrap();
        let at = blocks
            .iter()
            .position(|b| b["type"] == "subheading" && b["text"] == heading)
            .unwrap_or_else(|| panic!("no key events in {timeline}"));
        let rows: Vec<&str> = blocks[at + 1]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[2].as_str().unwrap())
            .collect();
        assert_eq!(rows, ["Isolated LOT-2411-A7", "Zone 4 heater reads 245°C"]);
        let text = docx.text();
        assert!(text.contains(heading), "{text}");
        assert!(!text.contains("Wrong reading"), "{text}");
    }
}

#[tokio::test]
async fn a_report_of_an_archived_room_works() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let owner = &c.owner;
    let mut ws = WsClient::connect(&app, &owner.token).await;
    ws.subscribe(&c.room, None).await;
    ws.send_text(&c.room, "a1", "conveyor jammed").await;
    archive_room(&app, owner, &c.room).await;
    let (detail, mut docx) = report(&app, owner, &c.room, "en", false).await;
    let text = docx.text();
    assert!(text.contains("archived"), "{text}");
    assert!(text.contains("belt replaced"));
    assert_eq!(detail["requested_by"], owner.id);
}

#[tokio::test]
async fn a_report_whose_process_died_is_failed_once_its_lease_lapses() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = uuid::Uuid::new_v4();
    let room: uuid::Uuid = c.room.parse().unwrap();
    app.db
        .client()
        .await
        .execute(
            "INSERT INTO reports (id, room_id, requested_by, language, ai, status, lease_until)
             VALUES ($1, $2, $3, 'en', false, 'writing', now() - interval '1 second')",
            &[&id, &room, &c.editor.id],
        )
        .await
        .unwrap();
    let app = app.restart().await;
    let detail = finished(&app, &c.editor, &c.room, &id.to_string()).await;
    assert_eq!(detail["status"], "failed");
    assert!(
        detail["reason"].as_str().unwrap().contains("interrupted"),
        "{detail}"
    );
    // A new one for the same room starts instead of waiting on the dead one.
    let (status, _) = start_report(&app, &c.editor, &c.room, "en", false).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn permanent_deletion_removes_the_rooms_reports_from_storage() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    add_member(&app, &c.owner, &c.room, &admin, "editor").await;
    let (detail, _) = report(&app, &c.owner, &c.room, "en", false).await;
    let room: uuid::Uuid = c.room.parse().unwrap();
    let key = format!(
        "rooms/{room}/{}.report.docx",
        detail["id"].as_str().unwrap()
    );
    assert!(app.storage.objects().await.contains(&key));
    assert_eq!(
        crate::helpers::delete_room_permanently(&app, &admin, &c.room).await,
        204
    );
    eventually(10, "the report's object to go", || async {
        (!app.storage.objects().await.contains(&key)).then_some(())
    })
    .await;
}

/// Writes `n` text messages by `sender` straight into the room's log, as the
/// send path would have (the send path is tested elsewhere; here only their
/// reading by the report matters, and 10,000 sends would be the test's time).
pub async fn seed_messages(db: &tokio_postgres::Client, room: uuid::Uuid, sender: &str, n: i64) {
    db.batch_execute("BEGIN").await.unwrap();
    let head: i64 = db
        .query_one(
            "SELECT head_seq FROM rooms WHERE id = $1 FOR UPDATE",
            &[&room],
        )
        .await
        .unwrap()
        .get(0);
    db.execute(
        "INSERT INTO messages (id, room_id, seq, sender, sender_name, message_type, content,
                               client_id, created_at)
         SELECT gen_random_uuid(), $1, $2::bigint + g, $3, 'Seeded sender', 'text',
                'reading ' || g || ': 三號線輸送帶 zone temperature nominal, belt speed 1.2 m/s',
                'seed-' || g, now() + g * interval '1 second'
         FROM generate_series(1::bigint, $4::bigint) g",
        &[&room, &head, &sender, &n],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO room_events (room_id, seq, kind, actor, at, data)
         SELECT room_id, seq, 'message.created', sender, created_at,
                jsonb_build_object('message', jsonb_build_object('id', id, 'content', content))
         FROM messages WHERE room_id = $1 AND seq > $2",
        &[&room, &head],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE rooms SET head_seq = head_seq + $2 WHERE id = $1",
        &[&room, &n],
    )
    .await
    .unwrap();
    db.batch_execute("COMMIT").await.unwrap();
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Photo-sized JPEGs (3000×2000, about 250 KB each; decoded, 18 MB of RGB
/// pixels), each different: one picture with a block of its own colour.
fn big_photos(n: u8) -> Vec<Vec<u8>> {
    let base = image::RgbImage::from_fn(3000, 2000, |x, y| {
        image::Rgb([(x / 11) as u8, (y / 7) as u8, ((x * y) / 9973) as u8])
    });
    (0..n)
        .map(|i| {
            let mut img = base.clone();
            for y in 0..64 {
                for x in 0..64 {
                    img.put_pixel(x + 64 * u32::from(i % 40), y, image::Rgb([i, 255 - i, 0]));
                }
            }
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
                .encode_image(&img)
                .unwrap();
            out
        })
        .collect()
}

/// The report of a room of 10,000 messages and 50 photos completes in a real
/// `andon serve`, and the process's peak memory while it runs stays within a
/// bound: the photos are decoded one or two at a time and the messages read
/// in bounded pieces. Held all at once, the decoded photos alone would be
/// 50 × 18 MB.
#[tokio::test]
async fn a_report_of_10000_messages_and_50_photos_completes_in_bounded_memory() {
    use crate::helpers::{TestAd, TestDb, binary};
    /// Growth of the peak resident set over the idle server's, while the
    /// report runs. Measured: see docs/BENCHMARKS.md ("Issue 18: incident
    /// reports").
    const PEAK_GROWTH_MAX_MIB: u64 = 100;

    let (ad, db) = tokio::join!(TestAd::start(), TestDb::create());
    ad.add_user("big@andon.test", "pw-big", "Big Room").await;
    let server = binary::serve(&[
        (
            "ANDON_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("ANDON_DATABASE_URL", db.url.as_str()),
        ("ANDON_AD_URL", ad.url.as_str()),
    ])
    .await;
    let pid = server.child.id().unwrap();
    let token = server.login("big@andon.test", "pw-big").await;
    let room = server
        .post(
            "/api/rooms",
            Some(&token),
            json!({"title": "Big room", "incident_type": "quality_issue", "severity": "high",
                   "lots": ["LOT-BIG-1"]}),
        )
        .await;
    let room_id: uuid::Uuid = room["id"].as_str().unwrap().parse().unwrap();
    seed_messages(&db.client().await, room_id, "big@andon.test", 10_000).await;
    let http = reqwest::Client::new();
    for (i, photo) in big_photos(50).into_iter().enumerate() {
        let part = Part::bytes(photo).file_name(format!("photo-{i:02}.jpg"));
        let resp = http
            .post(server.url(&format!("/api/rooms/{room_id}/files")))
            .bearer_auth(&token)
            .multipart(Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }

    // The peak from here on: `5` resets VmHWM to the current resident set.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let before = proc_kib(pid, "VmRSS");
    let started = server
        .post(
            &format!("/api/rooms/{room_id}/reports"),
            Some(&token),
            json!({"language": "en"}),
        )
        .await;
    let path = format!(
        "/api/rooms/{room_id}/reports/{}",
        started["id"].as_str().unwrap()
    );
    let detail: Value = eventually(120, "the big report", || async {
        let body: Value = http
            .get(server.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        matches!(body["status"].as_str(), Some("completed" | "failed")).then_some(body)
    })
    .await;
    assert_eq!(detail["status"], "completed", "{detail}");
    let growth_mib = proc_kib(pid, "VmHWM").saturating_sub(before) / 1024;
    eprintln!("report of 10,000 messages and 50 photos: peak RSS +{growth_mib} MiB");
    assert!(
        growth_mib <= PEAK_GROWTH_MAX_MIB,
        "peak memory grew by {growth_mib} MiB (bound {PEAK_GROWTH_MAX_MIB})"
    );
    let figures = serde_json::to_string(&detail["content"]["sections"][7]).unwrap();
    // Every message counted: the seeded ones and the photos' own.
    assert!(figures.contains("10050"), "{figures}");
    let docx = http
        .get(server.url(detail["content_url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(Docx::open(docx.to_vec()).media().len(), 50);
}

/// The Summary's paragraphs and notes, as the preview shows them.
fn summary_text(detail: &Value) -> String {
    detail["content"]["sections"][0]["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn with_a_model_its_text_is_the_summary_and_when_it_fails_the_record_is() {
    let llm = crate::helpers::TestLlm::start().await;
    let app = TestApp::builder()
        .env("ANDON_LLM_URL", &llm.url)
        .env("ANDON_LLM_MODEL", "plant-llm")
        .env("ANDON_LLM_TIMEOUT_SECS", "1")
        .spawn()
        .await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    ws.subscribe(&c.room, None).await;
    ws.send_text(&c.room, "l1", "Belt motor tripped at 14:02")
        .await;
    let (_, list) = app
        .get_as(&format!("/api/rooms/{}/reports", c.room), &c.owner.token)
        .await;
    assert_eq!(list["ai_available"], true);

    let (detail, mut docx) = report(&app, &c.owner, &c.room, "en", true).await;
    let summary = summary_text(&detail);
    assert!(summary.contains("FAKE-LLM SUMMARY"), "{summary}");
    assert!(
        summary.contains("plant-llm"),
        "the note names the model: {summary}"
    );
    assert!(docx.text().contains("FAKE-LLM SUMMARY"));
    let process = serde_json::to_string(&detail["content"]["sections"][3]).unwrap();
    assert!(process.contains("FAKE-LLM PROCESS"), "{process}");
    let stats = llm.stats().await;
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["last_request"]["model"], "plant-llm");

    // The model slow past the timeout, answering broken JSON, or down: the
    // report completes with the text from the record and says why.
    for (mode, why) in [("slow", "timed out"), ("broken", "JSON"), ("down", "503")] {
        llm.set_mode(mode).await;
        let (detail, mut docx) = report(&app, &c.owner, &c.room, "en", true).await;
        let summary = summary_text(&detail);
        assert!(!summary.contains("FAKE-LLM"), "{mode}: {summary}");
        assert!(
            summary.contains("Belt motor tripped"),
            "{mode}: built from the record: {summary}"
        );
        assert!(
            summary.contains(why),
            "{mode}: the note says why: {summary}"
        );
        let notes: Vec<&Value> = detail["content"]["sections"][0]["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "note")
            .collect();
        assert_eq!(notes.len(), 1, "{mode}: {summary}");
        assert!(docx.text().contains(notes[0]["text"].as_str().unwrap()));
    }
    // Without `ai`, nothing is sent to the model.
    let before = llm.stats().await["requests"].clone();
    report(&app, &c.owner, &c.room, "zh-TW", false).await;
    assert_eq!(llm.stats().await["requests"], before);
}

#[tokio::test]
async fn a_report_interrupted_by_a_restart_is_failed_with_a_reason() {
    let llm = crate::helpers::TestLlm::start().await;
    llm.set_mode("slow").await;
    let app = TestApp::builder()
        .env("ANDON_LLM_URL", &llm.url)
        .env("ANDON_LLM_TIMEOUT_SECS", "300")
        .spawn()
        .await;
    let c = cast(&app).await;
    let (status, started) = start_report(&app, &c.owner, &c.room, "en", true).await;
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    let path = format!("/api/rooms/{}/reports/{id}", c.room);
    eventually(10, "the report to wait on the model", || async {
        let (_, r) = app.get_as(&path, &c.owner.token).await;
        (r["status"] == "writing").then_some(())
    })
    .await;
    let app = app.restart().await;
    let (_, detail) = app.get_as(&path, &c.owner.token).await;
    assert_eq!(detail["status"], "failed", "{detail}");
    assert!(
        detail["reason"].as_str().unwrap().contains("restarted"),
        "{detail}"
    );
    assert!(detail["finished_at"].is_string());
}

#[tokio::test]
async fn the_queue_is_bounded_and_asking_twice_gives_the_running_report() {
    let llm = crate::helpers::TestLlm::start().await;
    llm.set_mode("slow").await;
    let app = TestApp::builder()
        .env("ANDON_LLM_URL", &llm.url)
        .env("ANDON_LLM_TIMEOUT_SECS", "300")
        .env("ANDON_REPORT_WORKERS", "1")
        .env("ANDON_REPORT_QUEUE", "2")
        .spawn()
        .await;
    let c = cast(&app).await;
    let (status, first) = start_report(&app, &c.owner, &c.room, "en", true).await;
    assert_eq!(status, 202, "{first}");
    // The same again (a double click): the running one, not a second.
    let (status, again) = start_report(&app, &c.editor, &c.room, "en", true).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    // Another kind waits for the one worker.
    let (status, second) = start_report(&app, &c.owner, &c.room, "zh-TW", true).await;
    assert_eq!(status, 202, "{second}");
    let (_, queued) = app
        .get_as(
            &format!(
                "/api/rooms/{}/reports/{}",
                c.room,
                second["id"].as_str().unwrap()
            ),
            &c.owner.token,
        )
        .await;
    assert_eq!(queued["status"], "pending", "{queued}");
    // The queue is full: refused with a reason and a time to retry.
    let resp = app
        .authed(
            Method::POST,
            &format!("/api/rooms/{}/reports", c.room),
            &c.owner.token,
        )
        .json(&json!({"language": "en", "ai": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    let (_, list) = app
        .get_as(&format!("/api/rooms/{}/reports", c.room), &c.owner.token)
        .await;
    assert_eq!(list["reports"].as_array().unwrap().len(), 2);
}
