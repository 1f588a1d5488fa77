//! Incident milestones (issue 19): acknowledge and contain. Who may declare them,
//! that the first declaration stands and later ones change nothing (no event, no
//! audit row), that containing acknowledges an unacknowledged room, and that
//! reopening keeps them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, WsClient, archive_room, cast, db_events, new_room};

/// `POST /api/rooms/{room}/{milestone}` as the token's user: status and body.
async fn declare(app: &TestApp, room: &str, milestone: &str, token: &str) -> (u16, Value) {
    app.send_as(
        Method::POST,
        &format!("/api/rooms/{room}/{milestone}"),
        token,
        None,
    )
    .await
}

/// The kinds of the room's events after the first `skip`, from the database.
async fn kinds_after(app: &TestApp, room: &str, skip: usize) -> Vec<String> {
    db_events(app, room)
        .await
        .into_iter()
        .skip(skip)
        .map(|e| e.1)
        .collect()
}

async fn set_status(app: &TestApp, room: &str, token: &str, body: Value) {
    let (status, got) = app
        .send_as(
            Method::PATCH,
            &format!("/api/rooms/{room}"),
            token,
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "changing the status: {got}");
}

#[tokio::test]
async fn the_first_acknowledgement_sets_the_milestone_and_is_seen_live() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    ws.subscribe(&c.room, None).await;
    let before = db_events(&app, &c.room).await.len();

    let (status, room) = declare(&app, &c.room, "acknowledge", &c.editor.token).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["acknowledged_by"], c.editor.id.as_str());
    let at = room["acknowledged_at"]
        .as_str()
        .expect("acknowledged_at")
        .to_string();
    assert!(room["contained_at"].is_null() && room["contained_by"].is_null());
    assert_eq!(room["my_role"], "editor");

    let event = ws.recv_kind(&c.room, "room.acknowledged").await;
    assert_eq!(event["actor"], c.editor.id.as_str());
    assert_eq!(event["data"]["by"], c.editor.id.as_str());
    assert_eq!(event["data"]["at"], at.as_str());
    assert_eq!(
        event["at"],
        at.as_str(),
        "the event is the milestone's time"
    );
    assert_eq!(event["data"]["room"]["acknowledged_at"], at.as_str());

    // Again, by someone else: the first stands, and nothing is written.
    let (status, again) = declare(&app, &c.room, "acknowledge", &c.owner.token).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["acknowledged_by"], c.editor.id.as_str());
    assert_eq!(again["acknowledged_at"], at.as_str());
    assert_eq!(again["head_seq"], room["head_seq"]);
    assert_eq!(
        kinds_after(&app, &c.room, before).await,
        ["room.acknowledged"]
    );
    let (_, got) = app
        .get_as(&format!("/api/rooms/{}", c.room), &c.viewer.token)
        .await;
    assert_eq!(got["acknowledged_at"], at.as_str());
}

#[tokio::test]
async fn editors_owners_and_audited_admins_may_declare_milestones_viewers_and_outsiders_not() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    for milestone in ["acknowledge", "contain"] {
        for (who, token) in [("viewer", &c.viewer.token), ("outsider", &c.outsider.token)] {
            let (status, body) = declare(&app, &c.room, milestone, token).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (403, Some("forbidden")),
                "{who} {milestone}: {body}"
            );
        }
    }
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, _) = declare(&app, &missing, "acknowledge", &c.owner.token).await;
    assert_eq!(status, 404);

    let audit = async || -> Vec<(String, Option<uuid::Uuid>)> {
        app.db
            .client()
            .await
            .query(
                "SELECT action, room_id FROM audit_log WHERE actor = 'admin@andon.test' ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    let (status, room) = declare(&app, &c.room, "acknowledge", &admin.token).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["acknowledged_by"], "admin@andon.test");
    let room_id: uuid::Uuid = c.room.parse().unwrap();
    assert_eq!(audit().await, [("acknowledge".to_string(), Some(room_id))]);
    // A no-op override leaves no audit row.
    let (status, _) = declare(&app, &c.room, "acknowledge", &admin.token).await;
    assert_eq!(status, 200);
    assert_eq!(audit().await.len(), 1);

    let (status, room) = declare(&app, &c.room, "contain", &c.editor.token).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(
        (
            room["contained_by"].as_str(),
            room["acknowledged_by"].as_str()
        ),
        (Some(c.editor.id.as_str()), Some("admin@andon.test"))
    );
    for (who, token) in [("viewer", &c.viewer.token), ("outsider", &c.outsider.token)] {
        let (status, _) = declare(&app, &c.room, "contain", token).await;
        assert_eq!(status, 403, "{who}: a no-op is still checked");
    }
}

#[tokio::test]
async fn containing_an_unacknowledged_room_acknowledges_it_too() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    ws.subscribe(&c.room, None).await;
    let before = db_events(&app, &c.room).await.len();

    let (status, room) = declare(&app, &c.room, "contain", &c.owner.token).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["contained_by"], c.owner.id.as_str());
    assert_eq!(room["acknowledged_by"], c.owner.id.as_str());
    assert!(room["contained_at"].is_string());
    assert_eq!(room["acknowledged_at"], room["contained_at"]);
    assert_eq!(
        kinds_after(&app, &c.room, before).await,
        ["room.acknowledged", "room.contained"]
    );
    let acknowledged = ws.recv_kind(&c.room, "room.acknowledged").await;
    let contained = ws.recv_kind(&c.room, "room.contained").await;
    assert_eq!(contained["seq"], acknowledged["seq"].as_i64().unwrap() + 1);
    assert_eq!(
        contained["data"]["room"]["contained_by"],
        c.owner.id.as_str()
    );
    assert_eq!(contained["data"]["at"], room["contained_at"]);

    // Again (either milestone): nothing changes.
    for milestone in ["contain", "acknowledge"] {
        let (status, again) = declare(&app, &c.room, milestone, &c.editor.token).await;
        assert_eq!(status, 200);
        assert_eq!(again["contained_by"], c.owner.id.as_str());
        assert_eq!(again["head_seq"], room["head_seq"]);
    }
}

#[tokio::test]
async fn reopening_keeps_the_milestones_resolved_rooms_take_none_archived_rooms_refuse() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let resolve = json!({"status": "resolved", "resolution_notes": "belt replaced"});

    // Resolved before anyone acknowledged: too late to acknowledge.
    set_status(&app, &c.room, &c.owner.token, resolve.clone()).await;
    for milestone in ["acknowledge", "contain"] {
        let (status, body) = declare(&app, &c.room, milestone, &c.editor.token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("invalid_transition")),
            "{milestone}: {body}"
        );
    }
    // Reopened, it is an open incident again.
    set_status(&app, &c.room, &c.owner.token, json!({"status": "active"})).await;
    let (status, room) = declare(&app, &c.room, "acknowledge", &c.editor.token).await;
    assert_eq!(status, 200, "{room}");
    let (status, room) = declare(&app, &c.room, "contain", &c.editor.token).await;
    assert_eq!(status, 200, "{room}");
    set_status(&app, &c.room, &c.owner.token, resolve.clone()).await;
    // Declared milestones answer as they are on a resolved room.
    let (status, same) = declare(&app, &c.room, "acknowledge", &c.viewer.token).await;
    assert_eq!(status, 403, "{same}");
    let (status, same) = declare(&app, &c.room, "contain", &c.editor.token).await;
    assert_eq!(
        (status, &same["contained_at"]),
        (200, &room["contained_at"])
    );
    set_status(&app, &c.room, &c.owner.token, json!({"status": "active"})).await;

    let (_, now) = app
        .get_as(&format!("/api/rooms/{}", c.room), &c.owner.token)
        .await;
    for key in [
        "acknowledged_at",
        "acknowledged_by",
        "contained_at",
        "contained_by",
    ] {
        assert_eq!(now[key], room[key], "{key} kept on reopening");
    }
    assert!(now["resolved_at"].is_null());
    let kinds = kinds_after(&app, &c.room, 3).await;
    assert_eq!(
        kinds,
        [
            "room.status_changed",
            "room.status_changed",
            "room.acknowledged",
            "room.contained",
            "room.status_changed",
            "room.status_changed",
        ]
    );

    let archived = new_room(&app, &c.owner).await;
    archive_room(&app, &c.owner, &archived).await;
    for milestone in ["acknowledge", "contain"] {
        let (status, body) = declare(&app, &archived, milestone, &c.owner.token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("room_archived")),
            "{milestone}: {body}"
        );
    }
}
