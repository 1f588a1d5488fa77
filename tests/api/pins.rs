//! Pinned messages (issue 20; docs/PROTOCOL.md "Pins"): who may pin, over the
//! socket and over REST, idempotency, the events in the log and in a resume, a
//! deleted message, the cap per room, archived rooms; and the room history's
//! system events, which the web client shows as lines among the messages.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Cast, TestApp, TestUser, WsClient, archive_room, cast, db_events, is_error};

async fn post_message(app: &TestApp, room: &str, user: &TestUser, text: &str) -> Value {
    let (status, m) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{room}/messages"),
            &user.token,
            Some(json!({"client_id": uuid::Uuid::new_v4().to_string(), "content": text})),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m
}

async fn pin_rest(app: &TestApp, room: &str, user: &TestUser, message: &str) -> (u16, Value) {
    app.send_as(
        Method::POST,
        &format!("/api/rooms/{room}/pins"),
        &user.token,
        Some(json!({ "message_id": message })),
    )
    .await
}

async fn unpin_rest(app: &TestApp, room: &str, user: &TestUser, message: &str) -> (u16, Value) {
    app.send_as(
        Method::DELETE,
        &format!("/api/rooms/{room}/pins/{message}"),
        &user.token,
        None,
    )
    .await
}

async fn pins(app: &TestApp, room: &str, user: &TestUser) -> Vec<Value> {
    let (status, body) = app
        .get_as(&format!("/api/rooms/{room}/pins"), &user.token)
        .await;
    assert_eq!(status, 200, "{body}");
    body["pins"].as_array().unwrap().clone()
}

fn pin_frame(kind: &str, room: &str, message: &str) -> Value {
    json!({"type": kind, "room_id": room, "message_id": message})
}

/// The kinds of the room's logged events, in order.
async fn kinds(app: &TestApp, room: &str) -> Vec<String> {
    db_events(app, room)
        .await
        .into_iter()
        .map(|e| e.1)
        .collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

#[tokio::test]
async fn editors_and_owners_pin_viewers_and_outsiders_are_refused() {
    let app = TestApp::spawn().await;
    let Cast {
        room,
        owner,
        editor,
        viewer,
        outsider,
    } = cast(&app).await;
    let m = post_message(&app, &room, &editor, "Belt jammed at station 4").await;
    let id = m["id"].as_str().unwrap();

    // REST: a viewer and a non-member are refused with the usual codes.
    for (user, status) in [(&viewer, 403), (&outsider, 403)] {
        let (got, body) = pin_rest(&app, &room, user, id).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some("forbidden")),
            "{body}"
        );
        let (got, body) = unpin_rest(&app, &room, user, id).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some("forbidden")),
            "{body}"
        );
    }
    // The socket: the same refusal as an error frame about the room.
    let mut ws = WsClient::connect(&app, &viewer.token).await;
    let reply = ws.request(pin_frame("pin", &room, id)).await;
    assert!(is_error(&reply, "forbidden"), "{reply}");
    assert_eq!(reply["room_id"], room.as_str());
    assert_eq!(count(&kinds(&app, &room).await, "message.pinned"), 0);
    // Reading the pins is for members: the outsider may not, the viewer may.
    let (status, _) = app
        .get_as(&format!("/api/rooms/{room}/pins"), &outsider.token)
        .await;
    assert_eq!(status, 403);
    assert!(pins(&app, &room, &viewer).await.is_empty());

    // An editor pins over REST, the owner unpins over the socket.
    let (status, body) = pin_rest(&app, &room, &editor, id).await;
    assert_eq!(status, 200, "{body}");
    let seq = body["seq"].as_i64().expect("the pin's seq");
    let listed = pins(&app, &room, &viewer).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["message"]["id"], id);
    assert_eq!(listed[0]["message"]["pinned"], true);
    assert_eq!(listed[0]["pinned_by"], editor.id.as_str());
    assert_eq!(listed[0]["pinned_by_name"], "editor");
    assert_eq!(listed[0]["seq"], seq);
    assert!(listed[0]["pinned_at"].is_string());
    // The message says it is pinned in the history too.
    let (_, page) = app
        .get_as(&format!("/api/rooms/{room}/messages"), &viewer.token)
        .await;
    assert_eq!(page["messages"][0]["pinned"], true, "{page}");

    let mut ws = WsClient::connect(&app, &owner.token).await;
    let ack = ws.request_ok(pin_frame("unpin", &room, id), "ack").await;
    assert_eq!(ack["message_id"], id);
    assert!(ack["seq"].as_i64().unwrap() > seq);
    assert!(pins(&app, &room, &viewer).await.is_empty());
    let (_, page) = app
        .get_as(&format!("/api/rooms/{room}/messages"), &viewer.token)
        .await;
    assert_eq!(page["messages"][0]["pinned"], false);
}

#[tokio::test]
async fn pinning_twice_writes_nothing_and_events_reach_live_and_resuming_sockets() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let m = post_message(&app, &c.room, &c.editor, "Heater at 310°C").await;
    let id = m["id"].as_str().unwrap();
    let mut watcher = WsClient::connect(&app, &c.viewer.token).await;
    let head = watcher.subscribe(&c.room, None).await["head_seq"]
        .as_i64()
        .unwrap();

    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let first = ws.request_ok(pin_frame("pin", &c.room, id), "ack").await;
    let seq = first["seq"].as_i64().expect("a seq for the first pin");
    // Again, over the socket and over REST: acknowledged with no seq, no event.
    let again = ws.request_ok(pin_frame("pin", &c.room, id), "ack").await;
    assert_eq!(again["seq"], Value::Null, "{again}");
    let (status, body) = pin_rest(&app, &c.room, &c.owner, id).await;
    assert_eq!((status, &body["seq"]), (200, &Value::Null), "{body}");
    let logged = kinds(&app, &c.room).await;
    assert_eq!(count(&logged, "message.pinned"), 1, "{logged:?}");

    // Live: the watcher gets the pin event with what the client needs.
    let event = watcher.recv_kind(&c.room, "message.pinned").await;
    assert_eq!(event["seq"], seq);
    assert_eq!(event["actor"], c.editor.id.as_str());
    assert_eq!(event["data"]["message_id"], id);
    assert_eq!(event["data"]["message_seq"], m["seq"]);

    // Unpin twice: one event.
    let (status, body) = unpin_rest(&app, &c.room, &c.owner, id).await;
    assert_eq!(status, 200, "{body}");
    let unpinned = body["seq"].as_i64().unwrap();
    let (_, body) = unpin_rest(&app, &c.room, &c.owner, id).await;
    assert_eq!(body["seq"], Value::Null);
    let ack = ws.request_ok(pin_frame("unpin", &c.room, id), "ack").await;
    assert_eq!(ack["seq"], Value::Null);
    assert_eq!(count(&kinds(&app, &c.room).await, "message.unpinned"), 1);
    watcher.recv_event(&c.room, unpinned).await;

    // A socket resuming from before the pin replays both events, in order.
    let mut late = WsClient::connect(&app, &c.owner.token).await;
    late.subscribe(&c.room, Some(head)).await;
    late.recv_event(&c.room, unpinned).await;
    let replayed: Vec<(i64, String)> = late
        .events(&c.room)
        .iter()
        .filter(|e| {
            e["kind"].as_str().unwrap().starts_with("message.") && e["seq"].as_i64() > Some(head)
        })
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        replayed,
        vec![
            (seq, "message.pinned".to_string()),
            (unpinned, "message.unpinned".to_string())
        ]
    );
    // And REST's event log has them too.
    let (_, log) = app
        .get_as(
            &format!("/api/rooms/{}/events?after_seq={head}", c.room),
            &c.viewer.token,
        )
        .await;
    let logged: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(logged, ["message.pinned", "message.unpinned"]);
}

#[tokio::test]
async fn pins_are_listed_in_pin_order_and_an_admin_override_is_audited() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let a = post_message(&app, &c.room, &c.editor, "first").await;
    let b = post_message(&app, &c.room, &c.editor, "second").await;
    // Pinned the other way round from the messages' order.
    for m in [&b, &a] {
        let (status, body) = pin_rest(&app, &c.room, &c.owner, m["id"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{body}");
    }
    let order: Vec<Value> = pins(&app, &c.room, &c.viewer)
        .await
        .iter()
        .map(|p| p["message"]["content"].clone())
        .collect();
    assert_eq!(order, [json!("second"), json!("first")]);

    // A system administrator who is not a member may unpin, on the record.
    let (status, body) = unpin_rest(&app, &c.room, &admin, b["id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["seq"].is_i64());
    let audited: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM audit_log WHERE actor = 'admin@andon.test' AND action = 'pin'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 1);
    // An override that changes nothing leaves no record.
    let (_, body) = unpin_rest(&app, &c.room, &admin, b["id"].as_str().unwrap()).await;
    assert_eq!(body["seq"], Value::Null);
    let audited: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM audit_log WHERE actor = 'admin@andon.test' AND action = 'pin'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_deleted_message_loses_its_pin_and_cannot_be_pinned() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let m = post_message(&app, &c.room, &c.editor, "wrong reading").await;
    let id = m["id"].as_str().unwrap();
    let (status, _) = pin_rest(&app, &c.room, &c.editor, id).await;
    assert_eq!(status, 200);
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    ws.subscribe(&c.room, None).await;
    ws.request_ok(
        json!({"type": "delete", "room_id": c.room, "message_id": id}),
        "ack",
    )
    .await;
    let unpinned = ws.recv_kind(&c.room, "message.unpinned").await;
    assert_eq!(unpinned["data"]["message_id"], id);
    assert_eq!(unpinned["data"]["deleted"], true);
    assert!(pins(&app, &c.room, &c.viewer).await.is_empty());

    let (status, body) = pin_rest(&app, &c.room, &c.editor, id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("message_deleted")),
        "{body}"
    );
    let reply = ws.request(pin_frame("pin", &c.room, id)).await;
    assert!(is_error(&reply, "message_deleted"), "{reply}");
    // Unpinning it is a no-op, and an unknown message is not found.
    let (status, body) = unpin_rest(&app, &c.room, &c.editor, id).await;
    assert_eq!((status, &body["seq"]), (200, &Value::Null));
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = pin_rest(&app, &c.room, &c.editor, &unknown).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    // A malformed body is refused.
    let (status, _) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{}/pins", c.room),
            &c.editor.token,
            Some(json!({"message_id": "nope"})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_room_holds_at_most_fifty_pins() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ids = Vec::new();
    for i in 0..51 {
        let m = post_message(&app, &c.room, &c.editor, &format!("reading {i}")).await;
        ids.push(m["id"].as_str().unwrap().to_string());
    }
    for id in &ids[..50] {
        let (status, body) = pin_rest(&app, &c.room, &c.editor, id).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = pin_rest(&app, &c.room, &c.editor, &ids[50]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("pin_limit_reached")),
        "{body}"
    );
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    let reply = ws.request(pin_frame("pin", &c.room, &ids[50])).await;
    assert!(is_error(&reply, "pin_limit_reached"), "{reply}");
    assert_eq!(pins(&app, &c.room, &c.viewer).await.len(), 50);
    // Once one is taken off, there is room again.
    unpin_rest(&app, &c.room, &c.editor, &ids[0]).await;
    let (status, _) = pin_rest(&app, &c.room, &c.editor, &ids[50]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_archived_room_is_read_only_for_pins() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let a = post_message(&app, &c.room, &c.editor, "pinned before").await;
    let b = post_message(&app, &c.room, &c.editor, "not pinned").await;
    pin_rest(&app, &c.room, &c.editor, a["id"].as_str().unwrap()).await;
    archive_room(&app, &c.owner, &c.room).await;
    let (status, body) = pin_rest(&app, &c.room, &c.owner, b["id"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("room_archived")),
        "{body}"
    );
    let (status, body) = unpin_rest(&app, &c.room, &c.owner, a["id"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("room_archived")),
        "{body}"
    );
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    let reply = ws
        .request(pin_frame("unpin", &c.room, a["id"].as_str().unwrap()))
        .await;
    assert!(is_error(&reply, "forbidden"), "{reply}");
    // Still readable.
    assert_eq!(pins(&app, &c.room, &c.viewer).await.len(), 1);
}

/// The history the web client loads carries the room's other events in the
/// span of its page, with the fields the conversation's system lines read.
#[tokio::test]
async fn history_pages_carry_every_system_event_of_their_span() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let extra = app.user("extra").await;
    let room = c.room.as_str();
    let call = |method: Method, path: String, user: &TestUser, body: Option<Value>| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let (status, got) = app.send_as(method, &path, &token, body).await;
            assert!(status < 300, "{path}: {status} {got}");
            got
        }
    };
    let first = post_message(&app, room, &c.editor, "belt stopped").await;
    call(
        Method::POST,
        format!("/api/rooms/{room}/acknowledge"),
        &c.editor,
        None,
    )
    .await;
    call(
        Method::POST,
        format!("/api/rooms/{room}/contain"),
        &c.editor,
        None,
    )
    .await;
    call(
        Method::POST,
        format!("/api/rooms/{room}/members"),
        &c.owner,
        Some(json!({"user_id": extra.id, "role": "viewer"})),
    )
    .await;
    call(
        Method::PATCH,
        format!("/api/rooms/{room}/members/{}", extra.id),
        &c.owner,
        Some(json!({"role": "editor"})),
    )
    .await;
    call(
        Method::DELETE,
        format!("/api/rooms/{room}/members/{}", extra.id),
        &c.owner,
        None,
    )
    .await;
    call(
        Method::PATCH,
        format!("/api/rooms/{room}"),
        &c.owner,
        Some(json!({"severity": "critical"})),
    )
    .await;
    pin_rest(&app, room, &c.editor, first["id"].as_str().unwrap()).await;
    unpin_rest(&app, room, &c.editor, first["id"].as_str().unwrap()).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"line 3 log\n".to_vec())
            .file_name("log.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let (status, file) = app
        .call(
            app.authed(
                Method::POST,
                &format!("/api/rooms/{room}/files"),
                &c.editor.token,
            )
            .multipart(form),
        )
        .await;
    assert_eq!(status, 201, "{file}");
    let file_id = file["id"]
        .as_str()
        .or(file["file"]["id"].as_str())
        .unwrap()
        .to_string();
    call(
        Method::DELETE,
        format!("/api/rooms/{room}/files/{file_id}"),
        &c.editor,
        None,
    )
    .await;
    call(
        Method::POST,
        format!("/api/rooms/{room}/transfer"),
        &c.owner,
        Some(json!({"user_id": c.editor.id})),
    )
    .await;
    call(
        Method::PATCH,
        format!("/api/rooms/{room}"),
        &c.editor,
        Some(json!({"status": "resolved", "resolution_notes": "belt replaced"})),
    )
    .await;
    // Messages between them, so that the events fall into different pages.
    for i in 0..3 {
        post_message(&app, room, &c.editor, &format!("after {i}")).await;
    }

    // Page through the history two messages at a time, newest first, gathering
    // the system events of each page.
    let mut gathered: Vec<Value> = Vec::new();
    let mut path = format!("/api/rooms/{room}/messages?limit=2");
    loop {
        let (status, page) = app.get_as(&path, &c.viewer.token).await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().expect("events").clone();
        for e in &events {
            assert!(
                ![
                    "message.created",
                    "message.edited",
                    "message.deleted",
                    "reaction.added",
                    "reaction.removed"
                ]
                .contains(&e["kind"].as_str().unwrap()),
                "a message event among the system events: {e}"
            );
        }
        gathered.splice(0..0, events);
        if page["has_more"] != true {
            break;
        }
        let oldest = page["messages"][0]["seq"].as_i64().unwrap();
        path = format!("/api/rooms/{room}/messages?limit=2&before_seq={oldest}");
    }
    // Every system event of the log exactly once, in seq order.
    let want: Vec<(i64, String)> = db_events(&app, room)
        .await
        .into_iter()
        .filter(|e| {
            !e.1.starts_with("message.c")
                && !e.1.starts_with("message.e")
                && e.1 != "message.deleted"
                && !e.1.starts_with("reaction.")
        })
        .map(|e| (e.0, e.1))
        .collect();
    let got: Vec<(i64, String)> = gathered
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let kinds: Vec<&str> = got.iter().map(|(_, k)| k.as_str()).collect();
    for kind in [
        "member.added",
        "member.role_changed",
        "member.removed",
        "room.acknowledged",
        "room.contained",
        "room.updated",
        "room.status_changed",
        "message.pinned",
        "message.unpinned",
        "file.added",
        "file.deleted",
        "ownership.transferred",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    // The fields the system lines read.
    let of = |kind: &str| gathered.iter().find(|e| e["kind"] == kind).unwrap().clone();
    for e in &gathered {
        assert!(e["actor"].is_string() && e["at"].is_string(), "{e}");
        assert_eq!(e["room_id"], room, "{e}");
    }
    let added = gathered
        .iter()
        .find(|e| e["kind"] == "member.added" && e["data"]["user_id"] == extra.id.as_str())
        .unwrap();
    assert_eq!(added["data"]["role"], "viewer");
    assert_eq!(added["actor"], c.owner.id.as_str());
    assert_eq!(of("member.role_changed")["data"]["to"], "editor");
    assert_eq!(of("member.removed")["data"]["user_id"], extra.id.as_str());
    assert_eq!(of("room.status_changed")["data"]["to"], "resolved");
    assert_eq!(of("room.updated")["data"]["changed"], json!(["severity"]));
    assert_eq!(of("room.updated")["data"]["room"]["severity"], "critical");
    assert_eq!(
        of("ownership.transferred")["data"]["to"],
        c.editor.id.as_str()
    );
    assert_eq!(of("file.added")["data"]["file"]["name"], "log.txt");
    assert_eq!(of("message.pinned")["data"]["message_seq"], first["seq"]);
    assert!(of("room.acknowledged")["data"]["by"].is_string());
}
