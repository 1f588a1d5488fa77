//! Notifications (issue 19): the `added` kind, live on every socket of the user
//! without a subscription (on any node), the inbox by REST, read markers, and
//! the settings that decide whether one rings.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient, add_member, nats_url, new_room};

/// The next `notification` frame, which must arrive within a second.
async fn notification_within_a_second(ws: &mut WsClient) -> Value {
    let started = Instant::now();
    let frame = tokio::time::timeout(
        Duration::from_secs(1),
        ws.recv_until("a notification frame", |f| f["type"] == "notification"),
    )
    .await
    .expect("a notification frame within a second");
    assert!(started.elapsed() < Duration::from_secs(1));
    frame
}

async fn inbox(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let (status, body) = app
        .get_as(&format!("/api/notifications{query}"), &user.token)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn mark_read(app: &TestApp, user: &TestUser, body: Value) -> (u16, Value) {
    app.send_as(
        Method::POST,
        "/api/notifications/read",
        &user.token,
        Some(body),
    )
    .await
}

async fn put_settings(app: &TestApp, user: &TestUser, body: Value) -> (u16, Value) {
    app.send_as(Method::PUT, "/api/me/settings", &user.token, Some(body))
        .await
}

/// The seq of the room's `member.added` event for `user`.
async fn added_seq(app: &TestApp, owner: &TestUser, room: &str, user: &str) -> i64 {
    let (status, body) = app
        .get_as(&format!("/api/rooms/{room}/events"), &owner.token)
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "member.added" && e["data"]["user_id"] == user)
        .and_then(|e| e["seq"].as_i64())
        .expect("the member.added event")
}

#[tokio::test]
async fn someone_added_to_a_room_is_notified_live_without_subscribing_and_in_the_inbox() {
    let app = TestApp::spawn().await;
    let (owner, member) = tokio::join!(app.user("owner"), app.user("member"));
    let room = new_room(&app, &owner).await;
    // Two sockets of the member's, neither subscribed to anything.
    let mut first = WsClient::connect(&app, &member.token).await.named("first");
    let mut second = WsClient::connect(&app, &member.token).await.named("second");

    add_member(&app, &owner, &room, &member, "editor").await;
    let frame = notification_within_a_second(&mut first).await;
    let other = notification_within_a_second(&mut second).await;
    assert_eq!(frame, other);
    assert_eq!(frame["ring"], true, "{frame}");
    let n = &frame["notification"];
    assert_eq!(n["kind"], "added");
    assert_eq!(n["room_id"], room.as_str());
    assert_eq!(n["room_title"], "Line 3 conveyor stopped");
    assert_eq!(n["actor"], owner.id.as_str());
    assert_eq!(n["actor_name"], "owner");
    assert_eq!(n["text"], "owner added you to Line 3 conveyor stopped");
    assert_eq!(n["read_at"], Value::Null);
    assert_eq!(n["seq"], added_seq(&app, &owner, &room, &member.id).await);

    let listed = inbox(&app, &member, "").await;
    assert_eq!(listed["unread"], 1);
    assert_eq!(
        listed["notifications"],
        json!([n]),
        "the stored one is the one sent"
    );
    // The actor is not notified of their own action, nor of creating the room.
    let own = inbox(&app, &owner, "").await;
    assert_eq!(own, json!({"notifications": [], "unread": 0}));
}

#[tokio::test]
async fn template_default_members_are_notified_when_a_room_is_created_from_it() {
    let app = TestApp::spawn().await;
    let (admin, owner, member) = tokio::join!(
        app.user_with_id("admin@andon.test", "Admin"),
        app.user("owner"),
        app.user("member")
    );
    let (status, template) = app
        .send_as(
            Method::POST,
            "/api/templates",
            &admin.token,
            Some(
                json!({"name": "Conveyor stop", "incident_type": "equipment_failure",
                        "default_severity": "high", "default_description": "",
                        "default_members": [{"user_id": member.id, "role": "editor"}]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{template}");
    let mut ws = WsClient::connect(&app, &member.token).await;
    let room = app
        .create_room(
            &owner.token,
            json!({"title": "From a template", "template_id": template["id"]}),
        )
        .await;
    let frame = notification_within_a_second(&mut ws).await;
    assert_eq!(frame["notification"]["room_id"], room["id"]);
    assert_eq!(frame["notification"]["kind"], "added");
    assert_eq!(inbox(&app, &member, "?unread=true").await["unread"], 1);
}

#[tokio::test]
async fn someone_offline_finds_the_notification_when_they_log_in() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let room = new_room(&app, &owner).await;
    let later = format!(
        "later-{}@andon.test",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let (status, body) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{room}/members"),
            &owner.token,
            Some(json!({"user_id": later, "role": "viewer"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let user = app.user_with_id(&later, "Later").await;
    let listed = inbox(&app, &user, "?unread=true").await;
    assert_eq!(listed["unread"], 1);
    assert_eq!(listed["notifications"][0]["kind"], "added");
    assert_eq!(listed["notifications"][0]["room_id"], room.as_str());
}

#[tokio::test]
async fn notifications_are_marked_read_by_id_or_all_and_only_by_their_user() {
    let app = TestApp::spawn().await;
    let (owner, member, other) =
        tokio::join!(app.user("owner"), app.user("member"), app.user("other"));
    for _ in 0..3 {
        let room = new_room(&app, &owner).await;
        add_member(&app, &owner, &room, &member, "viewer").await;
    }
    let listed = inbox(&app, &member, "").await;
    assert_eq!(listed["unread"], 3);
    let all = listed["notifications"]
        .as_array()
        .expect("notifications")
        .clone();
    assert_eq!(all.len(), 3);
    let created: Vec<&str> = all
        .iter()
        .map(|n| n["created_at"].as_str().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );

    // Pages: `limit`, then `before` the oldest of the page.
    let page = inbox(&app, &member, "?limit=2").await;
    assert_eq!(page["notifications"].as_array().unwrap().len(), 2);
    let before = page["notifications"][1]["created_at"].as_str().unwrap();
    let query = format!("?before={}", urlencoding(before));
    let rest = inbox(&app, &member, &query).await;
    assert_eq!(rest["notifications"], json!([all[2]]));

    // Someone else can neither see nor mark them.
    assert_eq!(inbox(&app, &other, "").await["notifications"], json!([]));
    let (status, body) = mark_read(&app, &other, json!({"ids": [all[0]["id"]]})).await;
    assert_eq!((status, body), (200, json!({"unread": 0})));
    assert_eq!(inbox(&app, &member, "").await["unread"], 3);
    let (status, _) = mark_read(&app, &other, json!({"all": true})).await;
    assert_eq!(status, 200);
    assert_eq!(inbox(&app, &member, "").await["unread"], 3);

    let (status, body) = mark_read(&app, &member, json!({"ids": [all[0]["id"]]})).await;
    assert_eq!((status, body), (200, json!({"unread": 2})));
    let unread = inbox(&app, &member, "?unread=true").await;
    assert_eq!(unread["notifications"], json!([all[1], all[2]]));
    let read = inbox(&app, &member, "").await;
    assert!(read["notifications"][0]["read_at"].is_string(), "{read}");

    let (status, body) = mark_read(&app, &member, json!({"all": true})).await;
    assert_eq!((status, body), (200, json!({"unread": 0})));
    assert_eq!(
        inbox(&app, &member, "?unread=true").await["notifications"],
        json!([])
    );

    for bad in [
        json!({}),
        json!({"all": false}),
        json!({"ids": [], "all": true}),
    ] {
        let (status, body) = mark_read(&app, &member, bad.clone()).await;
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!("validation_failed")),
            "{bad}"
        );
    }
    for query in ["?limit=0", "?limit=101", "?before=yesterday"] {
        let (status, body) = app
            .get_as(&format!("/api/notifications{query}"), &member.token)
            .await;
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!("invalid_query")),
            "{query}"
        );
    }
}

/// `2026-11-30T06:00:00.123+00:00` as a query value.
fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn settings_are_validated_and_decide_whether_a_notification_rings() {
    // Quiet hours are read in ANDON_TIMEZONE: UTC here, to place them around now.
    let app = TestApp::builder()
        .env("ANDON_TIMEZONE", "UTC")
        .spawn()
        .await;
    let (owner, member) = tokio::join!(app.user("owner"), app.user("member"));
    let (status, defaults) = app.get_as("/api/me/settings", &member.token).await;
    assert_eq!(status, 200);
    let every = json!({"routed": true, "escalated": true, "mentioned": true, "added": true});
    assert_eq!(defaults, json!({"ring": every, "quiet_hours": null}));

    for bad in [
        json!({"ring": every, "quiet_hours": {"start": "25:00", "end": "06:00"}}),
        json!({"ring": every, "quiet_hours": {"start": "6:00", "end": "07:00"}}),
        json!({"ring": every, "quiet_hours": {"start": "22:00", "end": "22:00"}}),
    ] {
        let (status, body) = put_settings(&app, &member, bad.clone()).await;
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!("validation_failed")),
            "{bad}"
        );
    }
    assert_eq!(
        app.get_as("/api/me/settings", &member.token).await.1,
        defaults
    );

    let mut ws = WsClient::connect(&app, &member.token).await;
    // `added` turned off: it does not ring (and is still delivered and stored).
    let off = json!({"ring": {"routed": true, "escalated": true, "mentioned": true, "added": false},
                     "quiet_hours": null});
    assert_eq!(
        put_settings(&app, &member, off.clone()).await,
        (200, off.clone())
    );
    assert_eq!(app.get_as("/api/me/settings", &member.token).await.1, off);
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &member, "viewer").await;
    assert_eq!(notification_within_a_second(&mut ws).await["ring"], false);

    // On again, but within quiet hours (the hour around now): it does not ring.
    let now = chrono::Utc::now();
    let hhmm = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M").to_string();
    let quiet = json!({"ring": every, "quiet_hours": {
        "start": hhmm(now - chrono::Duration::minutes(30)),
        "end": hhmm(now + chrono::Duration::minutes(30)),
    }});
    assert_eq!(
        put_settings(&app, &member, quiet.clone()).await,
        (200, quiet)
    );
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &member, "viewer").await;
    assert_eq!(notification_within_a_second(&mut ws).await["ring"], false);

    // Quiet hours elsewhere in the day: it rings.
    let awake = json!({"ring": every, "quiet_hours": {
        "start": hhmm(now + chrono::Duration::hours(2)),
        "end": hhmm(now + chrono::Duration::hours(3)),
    }});
    assert_eq!(put_settings(&app, &member, awake).await.0, 200);
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &member, "viewer").await;
    assert_eq!(notification_within_a_second(&mut ws).await["ring"], true);
    assert_eq!(inbox(&app, &member, "").await["unread"], 3);
}

#[tokio::test]
async fn a_socket_on_another_node_gets_the_notification() {
    let a = TestApp::builder()
        .env("ANDON_NATS_URL", nats_url())
        .spawn()
        .await;
    let b = a.node().await;
    let (owner, member) = tokio::join!(a.user("owner"), a.user("member"));
    let room = new_room(&a, &owner).await;
    let mut on_b = WsClient::connect(&b, &member.token).await.named("on B");

    add_member(&a, &owner, &room, &member, "editor").await;
    let frame = notification_within_a_second(&mut on_b).await;
    assert_eq!(frame["notification"]["room_id"], room.as_str());
    assert_eq!(frame["notification"]["kind"], "added");
    // Once: B did not also deliver it from its own bus message.
    assert!(
        on_b.try_next_frame(Duration::from_millis(300))
            .await
            .is_none(),
        "{:?}",
        on_b.frames_of_type("notification")
    );
}
