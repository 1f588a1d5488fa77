//! Rooms over REST (PRODUCT.md R1–R4, R7): creation, validation, the status
//! lifecycle, search and pagination, the event log under concurrency, and
//! permanent deletion.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn room_body(title: &str) -> Value {
    json!({"title": title, "incident_type": "equipment_failure", "severity": "high"})
}

fn titles(list: &Value) -> Vec<String> {
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn create_returns_the_full_room_with_the_creator_as_owner() {
    let app = TestApp::spawn().await;
    let u = app.user("maker").await;
    let room = app
        .create_room(
            &u.token,
            json!({
                "title": "  三號線輸送帶停止 ", "incident_type": "equipment_failure",
                "severity": "critical", "location": "Plant 1 / Line 3", "line": "L3",
                "equipment": "CV-301", "description": "Belt stopped at 07:42",
                "lots": ["LOT-A", " LOT-B", "LOT-A"],
            }),
        )
        .await;
    assert_eq!(room["title"], "三號線輸送帶停止");
    assert_eq!(room["status"], "active");
    assert_eq!(room["lots"], json!(["LOT-A", "LOT-B"]));
    assert_eq!(
        (room["line"].as_str(), room["equipment"].as_str()),
        (Some("L3"), Some("CV-301"))
    );
    assert_eq!(room["created_by"], u.id.as_str());
    assert_eq!(room["member_count"], 1);
    assert_eq!(
        (room["is_member"].as_bool(), room["my_role"].as_str()),
        (Some(true), Some("owner"))
    );
    assert_eq!(room["head_seq"], 1, "the owner's member.added event");
    for key in [
        "id",
        "resolution_notes",
        "created_at",
        "resolved_at",
        "archived_at",
        "last_activity_at",
        "unread",
    ] {
        assert!(room.get(key).is_some(), "missing {key}");
    }
    let id = room["id"].as_str().unwrap();
    let (status, got) = app.get_as(&format!("/api/rooms/{id}"), &u.token).await;
    assert_eq!(status, 200);
    assert_eq!(got["title"], room["title"]);
}

#[tokio::test]
async fn invalid_input_is_refused_with_a_clear_error() {
    let app = TestApp::spawn().await;
    let u = app.user("val").await;
    let cases = [
        json!({"title": "", "incident_type": "other", "severity": "low"}),
        json!({"title": "x".repeat(201), "incident_type": "other", "severity": "low"}),
        json!({"title": "ok", "incident_type": "fire", "severity": "low"}),
        json!({"title": "ok", "incident_type": "other", "severity": "urgent"}),
        json!({"title": "ok", "incident_type": "other"}),
        json!({"title": "ok", "incident_type": "other", "severity": "low", "colour": "red"}),
        json!({"title": "ok", "incident_type": "other", "severity": "low", "lots": ["x".repeat(65)]}),
        json!({"title": "ok", "incident_type": "other", "severity": "low", "template_id": uuid::Uuid::new_v4()}),
    ];
    for case in cases {
        let (status, body) = app
            .send_as(Method::POST, "/api/rooms", &u.token, Some(case.clone()))
            .await;
        assert_eq!(status, 400, "{case} → {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let (status, _) = app.get_as("/api/rooms/not-a-uuid", &u.token).await;
    assert_eq!(status, 400);
    let (status, body) = app
        .get_as(&format!("/api/rooms/{}", uuid::Uuid::new_v4()), &u.token)
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, _) = app.get_as("/api/rooms?severity=urgent", &u.token).await;
    assert_eq!(status, 400);
    let (status, _) = app.get_as("/api/rooms?page_size=500", &u.token).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn status_lifecycle_resolve_needs_notes_reopen_and_archive_is_read_only() {
    let app = TestApp::spawn().await;
    let u = app.user("life").await;
    let room = app
        .create_room(&u.token, room_body("Oven 2 temperature"))
        .await;
    let path = format!("/api/rooms/{}", room["id"].as_str().unwrap());
    let patch = |body: Value| app.send_as(Method::PATCH, &path, &u.token, Some(body));

    let (status, body) = patch(json!({"status": "resolved"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("validation_failed"))
    );
    let (status, body) =
        patch(json!({"status": "resolved", "resolution_notes": "Thermocouple replaced"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "resolved");
    assert!(body["resolved_at"].is_string());
    let (status, body) = patch(json!({"status": "resolved", "resolution_notes": "again"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    let (status, body) = patch(json!({"status": "active"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("active")));
    assert!(body["resolved_at"].is_null());
    let (status, body) = patch(json!({"status": "archived"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("archived")));
    assert!(body["archived_at"].is_string());
    let (status, body) = patch(json!({"title": "changed"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("room_archived"))
    );

    let (_, events) = app.get_as(&format!("{path}/events"), &u.token).await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "member.added",
            "room.status_changed",
            "room.status_changed",
            "room.status_changed"
        ]
    );
}

#[tokio::test]
async fn field_updates_are_events_with_the_new_room() {
    let app = TestApp::spawn().await;
    let u = app.user("upd").await;
    let room = app.create_room(&u.token, room_body("Robot cell 7")).await;
    let id = room["id"].as_str().unwrap();
    let (status, body) = app
        .send_as(
            Method::PATCH,
            &format!("/api/rooms/{id}"),
            &u.token,
            Some(json!({"severity": "low", "lots": ["L-9"], "line": ""})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["severity"].as_str(), body["lots"][0].as_str()),
        (Some("low"), Some("L-9"))
    );
    let (_, events) = app
        .get_as(&format!("/api/rooms/{id}/events?after_seq=1"), &u.token)
        .await;
    let e = &events["events"][0];
    assert_eq!(
        (e["seq"].as_i64(), e["kind"].as_str()),
        (Some(2), Some("room.updated"))
    );
    assert_eq!(e["actor"], u.id.as_str());
    assert_eq!(e["data"]["changed"], json!(["severity", "line", "lots"]));
    assert_eq!(e["data"]["room"]["severity"], "low");
    assert_eq!(events["head_seq"], 2);
}

#[tokio::test]
async fn fifty_concurrent_changes_get_gap_free_sequence_numbers() {
    let app = TestApp::spawn().await;
    let u = app.user("race").await;
    let room = app.create_room(&u.token, room_body("Concurrency")).await;
    let id = room["id"].as_str().unwrap().to_string();
    let start = room["head_seq"].as_i64().unwrap();

    let changes = (0..50).map(|i| {
        let (app, token, id) = (&app, u.token.clone(), id.clone());
        async move {
            app.send_as(
                Method::PATCH,
                &format!("/api/rooms/{id}"),
                &token,
                Some(json!({"description": format!("update {i}")})),
            )
            .await
            .0
        }
    });
    let statuses = futures_util::future::join_all(changes).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let (_, events) = app
        .get_as(&format!("/api/rooms/{id}/events?limit=1000"), &u.token)
        .await;
    let seqs: Vec<i64> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=start + 50).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_eq!(events["head_seq"], start + 50);
}

#[tokio::test]
async fn search_filters_and_pagination_work_in_chinese_and_english() {
    let app = TestApp::spawn().await;
    let u = app.user("search").await;
    let other = app.user("other").await;
    let make = |token: String, body: Value| {
        let app = &app;
        async move { app.create_room(&token, body).await }
    };
    make(u.token.clone(), json!({"title": "三號線輸送帶停止", "incident_type": "equipment_failure", "severity": "critical"})).await;
    make(u.token.clone(), json!({"title": "二號線缺料", "incident_type": "material_shortage", "severity": "high", "location": "二號線"})).await;
    make(other.token.clone(), json!({"title": "Line 3 conveyor jam", "incident_type": "equipment_failure", "severity": "medium", "description": "Bearing overheating"})).await;
    make(other.token.clone(), json!({"title": "Batch failed inspection", "incident_type": "quality_issue", "severity": "low", "lots": ["LOT-2026-001"]})).await;

    let search = |q: &'static str| {
        let (app, token) = (&app, u.token.clone());
        async move {
            let (status, body) = app
                .get_as(&format!("/api/rooms?q={}", urlencode(q)), &token)
                .await;
            assert_eq!(status, 200);
            let mut t = titles(&body);
            t.sort();
            assert_eq!(body["total"].as_i64().unwrap() as usize, t.len());
            t
        }
    };
    assert_eq!(search("輸送帶").await, ["三號線輸送帶停止"]);
    assert_eq!(search("號線").await, ["三號線輸送帶停止", "二號線缺料"]);
    assert_eq!(search("CONVEY").await, ["Line 3 conveyor jam"]);
    assert_eq!(
        search("bearing").await,
        ["Line 3 conveyor jam"],
        "description"
    );
    assert_eq!(
        search("lot-2026").await,
        ["Batch failed inspection"],
        "LOTs"
    );
    assert_eq!(search("100%").await, Vec::<String>::new(), "% is literal");

    let (_, body) = app
        .get_as("/api/rooms?incident_type=equipment_failure", &u.token)
        .await;
    assert_eq!(body["total"], 2);
    let (_, body) = app.get_as("/api/rooms?severity=low", &u.token).await;
    assert_eq!(titles(&body), ["Batch failed inspection"]);
    let (_, body) = app.get_as("/api/rooms?mine=true", &u.token).await;
    assert_eq!(body["total"], 2);
    assert!(
        body["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["is_member"] == true)
    );
    let (_, body) = app.get_as("/api/rooms", &u.token).await;
    assert_eq!(
        body["total"], 4,
        "every non-archived room is visible to everyone"
    );
    let newest_first = titles(&body);
    assert_eq!(
        newest_first[0], "Batch failed inspection",
        "sorted by last activity"
    );
    let theirs = body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Line 3 conveyor jam")
        .unwrap();
    assert_eq!(
        (theirs["is_member"].as_bool(), theirs["my_role"].is_null()),
        (Some(false), true)
    );
}

/// The search text follows edits, and a send moves the room to the top of the
/// list without touching its search text (migration V6: the search trigger runs
/// only for the columns it reads, and sends update the room row in place).
#[tokio::test]
async fn sends_reorder_the_list_and_search_follows_edits() {
    let app = TestApp::spawn().await;
    let u = app.user("order").await;
    let oven = app
        .create_room(&u.token, room_body("Oven 2 temperature"))
        .await;
    let oven_id = oven["id"].as_str().unwrap();
    app.create_room(&u.token, room_body("Press 4 hydraulic leak"))
        .await;
    let (_, body) = app.get_as("/api/rooms", &u.token).await;
    assert_eq!(titles(&body)[0], "Press 4 hydraulic leak", "newest first");

    let mut ws = crate::helpers::WsClient::connect(&app, &u.token).await;
    ws.send_text(oven_id, "c1", "Thermocouple reads 40 °C high")
        .await;
    let (_, body) = app.get_as("/api/rooms", &u.token).await;
    assert_eq!(
        titles(&body)[0],
        "Oven 2 temperature",
        "moved up by the send"
    );
    let (_, body) = app.get_as("/api/rooms?q=oven", &u.token).await;
    assert_eq!(titles(&body), ["Oven 2 temperature"], "search text kept");

    let path = format!("/api/rooms/{oven_id}");
    let (status, _) = app
        .send_as(
            Method::PATCH,
            &path,
            &u.token,
            Some(json!({"title": "Oven 2 輸送帶 overheating"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = app
        .get_as(&format!("/api/rooms?q={}", urlencode("輸送帶")), &u.token)
        .await;
    assert_eq!(titles(&body), ["Oven 2 輸送帶 overheating"]);
}

#[tokio::test]
async fn pagination_totals_and_archived_visibility() {
    let app = TestApp::spawn().await;
    let u = app.user("pages").await;
    let outsider = app.user("outsider").await;
    for i in 0..25 {
        app.create_room(&u.token, room_body(&format!("Room {i:02}")))
            .await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (_, body) = app
            .get_as(&format!("/api/rooms?page={page}&page_size=10"), &u.token)
            .await;
        assert_eq!(
            (body["total"].as_i64(), body["page"].as_i64()),
            (Some(25), Some(page))
        );
        seen.extend(titles(&body));
    }
    assert_eq!(seen.len(), 25);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25, "no room on two pages");
    let (_, body) = app.get_as("/api/rooms?page=4&page_size=10", &u.token).await;
    assert_eq!(
        (
            body["total"].as_i64(),
            body["rooms"].as_array().unwrap().len()
        ),
        (Some(25), 0)
    );

    // Archive one: gone from the default list, listed for its members on request only.
    let (_, body) = app.get_as("/api/rooms?page_size=1", &u.token).await;
    let id = body["rooms"][0]["id"].as_str().unwrap().to_string();
    app.send_as(
        Method::PATCH,
        &format!("/api/rooms/{id}"),
        &u.token,
        Some(json!({"status": "archived"})),
    )
    .await;
    let (_, body) = app.get_as("/api/rooms", &outsider.token).await;
    assert_eq!(body["total"], 24);
    let (_, body) = app
        .get_as("/api/rooms?status=archived", &outsider.token)
        .await;
    assert_eq!(body["total"], 0);
    let (status, _) = app
        .get_as(&format!("/api/rooms/{id}"), &outsider.token)
        .await;
    assert_eq!(status, 404);
    let (_, body) = app.get_as("/api/rooms?status=archived", &u.token).await;
    assert_eq!(body["total"], 1);
}

#[tokio::test]
async fn permanent_delete_is_for_admins_and_leaves_no_row_of_the_room() {
    let app = TestApp::spawn().await;
    let owner = app.user("del").await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let room = app
        .create_room(&owner.token, room_body("To be deleted"))
        .await;
    let id = room["id"].as_str().unwrap();
    app.send_as(
        Method::POST,
        &format!("/api/rooms/{id}/members"),
        &owner.token,
        Some(json!({"user_id": "someone@andon.test", "role": "viewer"})),
    )
    .await;
    let mut ws = crate::helpers::WsClient::connect(&app, &owner.token).await;
    ws.send_text(id, "c1", "stored, then deleted with the room")
        .await;
    let path = format!("/api/rooms/{id}/permanent");
    let (status, _) = app.send_as(Method::DELETE, &path, &owner.token, None).await;
    assert_eq!(status, 403, "owners may not");
    let (status, _) = app.send_as(Method::DELETE, &path, &admin.token, None).await;
    assert_eq!(status, 204);
    let (status, _) = app.send_as(Method::DELETE, &path, &admin.token, None).await;
    assert_eq!(status, 404);

    let client = app.db.client().await;
    let room_id = uuid::Uuid::parse_str(id).unwrap();
    for table in [
        "rooms WHERE id = $1",
        "room_members WHERE room_id = $1",
        "room_events WHERE room_id = $1",
        "messages WHERE room_id = $1",
        "audit_log WHERE room_id = $1",
    ] {
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[&room_id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}");
    }
    let audited: i64 = client
        .query_one(
            "SELECT count(*) FROM audit_log WHERE action = 'delete_room_permanently' AND details->>'room' = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 1, "who deleted what is kept");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn nul_in_a_search_is_a_bad_request_not_a_server_error() {
    let app = TestApp::spawn().await;
    let me = app.user("lin").await;
    // Found by scripts/api-fuzz: PostgreSQL refuses NUL in text.
    for path in ["/api/users?q=0%00%C2%B0", "/api/rooms?q=line%00"] {
        let (status, body) = app.get_as(path, &me.token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{path}: {body}"
        );
    }
}
