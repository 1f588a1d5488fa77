//! The WebSocket protocol of `docs/PROTOCOL.md` (PRODUCT.md §5, M1–M11), black-box:
//! every client frame and its reply, every error code and close code that can be
//! provoked, the permission rules for socket actions, resumption without gaps or
//! duplicates, idempotent sends, and slow consumers.
//!
//! Waits are for frames (with timeouts) or outcomes (`eventually`); "nothing else
//! arrived" is checked against a later marker frame the server must deliver after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use andon_actors::metrics;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Cast, TestApp, TestUser, WsClient, add_member, archive_room, assert_events_match_db, cast,
    db_events, db_head, eventually, is_error, is_event, new_room, send_frame, ws_open, ws_ticket,
};

fn sorted(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().expect("a user id").to_string())
        .collect();
    ids.sort();
    ids
}

fn ids(users: &[&TestUser]) -> Vec<String> {
    let mut ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    ids
}

fn seq_of(frame: &Value) -> i64 {
    frame["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("no seq in {frame}"))
}

fn id_of(ack: &Value) -> String {
    ack["message_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no message_id in {ack}"))
        .to_string()
}

/// Sends `frame` with a `ref` and asserts the reply is an error with `code`.
async fn expect_error(ws: &mut WsClient, frame: Value, code: &str) -> Value {
    let reply = ws.request(frame.clone()).await;
    assert!(
        is_error(&reply, code),
        "{}: {frame} should fail with {code}, got {reply}",
        ws.label
    );
    assert!(
        reply["message"].is_string(),
        "error without message: {reply}"
    );
    reply
}

fn edit_frame(room: &str, message: &str, content: &str) -> Value {
    json!({"type": "edit", "room_id": room, "message_id": message, "content": content})
}

fn delete_frame(room: &str, message: &str) -> Value {
    json!({"type": "delete", "room_id": room, "message_id": message})
}

fn react_frame(room: &str, message: &str, emoji: &str, add: bool) -> Value {
    json!({"type": "react", "room_id": room, "message_id": message, "emoji": emoji, "add": add})
}

async fn history(app: &TestApp, room: &str, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get_as(&format!("/api/rooms/{room}/messages"), token)
        .await;
    assert_eq!(status, 200, "history: {body}");
    body["messages"].as_array().expect("messages").clone()
}

/// The `unread` count of the room for `user`.
async fn unread(app: &TestApp, room: &str, user: &TestUser) -> Option<i64> {
    let (_, room) = app.get_as(&format!("/api/rooms/{room}"), &user.token).await;
    room["unread"].as_i64()
}

async fn last_read_seq(app: &TestApp, c: &Cast, user: &TestUser) -> i64 {
    let (status, body) = app
        .get_as(&format!("/api/rooms/{}/members", c.room), &c.owner.token)
        .await;
    assert_eq!(status, 200, "{body}");
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.id.as_str())
        .unwrap_or_else(|| panic!("{} not in {body}", user.id))["last_read_seq"]
        .as_i64()
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------
// Client frames and their replies
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn subscribe_replays_after_after_seq_then_streams_live_events() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let log = db_events(&app, &c.room).await;
    let head = log.last().unwrap().0;
    assert_eq!(head, 3, "owner, editor and viewer added");

    // From after_seq 0: the whole log, in order.
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let sub = owner.subscribe(&c.room, Some(0)).await;
    assert_eq!(sub["head_seq"], head);
    assert_eq!(sorted(&sub["online"]), ids(&[&c.owner]));
    owner.drain_to(&c.room, head).await;
    assert_events_match_db("replay from 0", &owner.events(&c.room), &log);

    // From after_seq 1, then again from 0 on the same socket: a restart.
    let mut editor = WsClient::connect(&app, &c.editor.token)
        .await
        .named("editor");
    editor.subscribe(&c.room, Some(1)).await;
    editor.drain_to(&c.room, head).await;
    assert_events_match_db("replay from 1", &editor.events(&c.room), &log[1..]);
    editor.log.clear();
    let again = editor.subscribe(&c.room, Some(0)).await;
    assert_eq!(again["head_seq"], head);
    editor.drain_to(&c.room, head).await;
    assert_events_match_db("resubscribe from 0", &editor.events(&c.room), &log);

    // Without after_seq: no replay, the first event is the next live one.
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    let sub = viewer.subscribe(&c.room, None).await;
    assert_eq!(sub["head_seq"], head);
    assert_eq!(
        sorted(&sub["online"]),
        ids(&[&c.owner, &c.editor, &c.viewer])
    );
    let ack = editor.send_text(&c.room, "live-1", "Belt torn").await;
    assert_eq!(seq_of(&ack), head + 1);
    let first = viewer
        .recv_until("the first event", |f| is_event(f, &c.room))
        .await;
    assert_eq!(seq_of(&first), head + 1, "no replay without after_seq");
    assert_eq!(seq_of(&owner.recv_event(&c.room, head + 1).await), head + 1);
    let log = db_events(&app, &c.room).await;
    assert_events_match_db("live", &owner.events(&c.room), &log);
}

#[tokio::test]
async fn unsubscribe_stops_the_room_s_events() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let mut editor = WsClient::connect(&app, &c.editor.token)
        .await
        .named("editor");
    owner.subscribe(&c.room, None).await;

    let reply = owner
        .request_ok(
            json!({"type": "unsubscribe", "room_id": c.room}),
            "unsubscribed",
        )
        .await;
    assert_eq!(reply["room_id"], c.room.as_str());
    let missed = editor.send_text(&c.room, "while-away", "Belt torn").await;

    // Subscribing again without after_seq: the message sent while unsubscribed is
    // below the new head and never arrives; the next one does.
    let sub = owner.subscribe(&c.room, None).await;
    assert_eq!(sub["head_seq"], missed["seq"]);
    let next = editor
        .send_text(&c.room, "after", "Spare belt fitted")
        .await;
    owner.recv_event(&c.room, seq_of(&next)).await;
    assert_eq!(owner.seqs(&c.room), vec![seq_of(&next)]);
}

#[tokio::test]
async fn send_is_acked_then_broadcast_to_every_subscriber_the_sender_included() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let head = db_head(&app, &c.room).await;
    let mut editor = WsClient::connect(&app, &c.editor.token)
        .await
        .named("editor");
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    for ws in [&mut editor, &mut owner, &mut viewer] {
        ws.subscribe(&c.room, None).await;
    }

    let ack = editor
        .request_ok(
            send_frame(&c.room, "c-1", "Hydraulic pressure dropping"),
            "ack",
        )
        .await;
    assert_eq!(ack["client_id"], "c-1");
    assert_eq!(seq_of(&ack), head + 1);
    let message_id = id_of(&ack);
    assert!(
        editor.events(&c.room).is_empty(),
        "the ack comes before the sender's copy of the event"
    );

    for ws in [&mut editor, &mut owner, &mut viewer] {
        let event = ws.recv_event(&c.room, head + 1).await;
        assert_eq!(event["kind"], "message.created", "{event}");
        assert_eq!(event["actor"], c.editor.id.as_str());
        assert!(event["at"].is_string());
        let m = &event["data"];
        assert_eq!(m["id"], message_id.as_str());
        assert_eq!(m["room_id"], c.room.as_str());
        assert_eq!(m["seq"], head + 1);
        assert_eq!(m["sender"], c.editor.id.as_str());
        assert_eq!(m["sender_name"], "editor");
        assert_eq!(m["message_type"], "text");
        assert_eq!(m["content"], "Hydraulic pressure dropping");
        assert_eq!(m["metadata"], json!({}));
        assert_eq!(m["client_id"], "c-1");
        assert!(m["created_at"].is_string());
        assert_eq!(
            (&m["edited_at"], &m["deleted"], &m["reactions"], &m["file"]),
            (&Value::Null, &json!(false), &json!([]), &Value::Null)
        );
    }

    // incident_data carries its metadata.
    let meta = json!({"line": "L3", "downtime_min": 12, "lots": ["LOT-7"]});
    let ack = editor
        .request_ok(
            json!({"type": "send", "room_id": c.room, "client_id": "c-2",
                   "message_type": "incident_data", "content": "", "metadata": meta}),
            "ack",
        )
        .await;
    let event = owner.recv_event(&c.room, seq_of(&ack)).await;
    assert_eq!(event["data"]["message_type"], "incident_data");
    assert_eq!(event["data"]["metadata"], meta);
}

#[tokio::test]
async fn edit_and_delete_are_acked_broadcast_and_kept_in_history() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut editor = WsClient::connect(&app, &c.editor.token)
        .await
        .named("editor");
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    owner.subscribe(&c.room, None).await;
    editor.subscribe(&c.room, None).await;
    let sent = editor.send_text(&c.room, "e-1", "Pressure 80 bar").await;
    let (m, s) = (id_of(&sent), seq_of(&sent));

    let ack = editor
        .request_ok(edit_frame(&c.room, &m, "Pressure 60 bar"), "ack")
        .await;
    assert_eq!(
        (ack["message_id"].as_str(), seq_of(&ack)),
        (Some(&*m), s + 1)
    );
    for ws in [&mut owner, &mut editor] {
        let event = ws.recv_event(&c.room, s + 1).await;
        assert_eq!(event["kind"], "message.edited");
        assert_eq!(event["data"]["message_id"], m.as_str());
        assert_eq!(event["data"]["content"], "Pressure 60 bar");
        assert!(event["data"]["edited_at"].is_string(), "{event}");
    }
    let msg = history(&app, &c.room, &c.viewer.token).await;
    assert_eq!(msg[0]["content"], "Pressure 60 bar");
    assert!(msg[0]["edited_at"].is_string());
    let uuid: uuid::Uuid = m.parse().unwrap();
    let kept: Vec<String> = app
        .db
        .client()
        .await
        .query(
            "SELECT content FROM message_edits WHERE message_id = $1",
            &[&uuid],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kept, vec!["Pressure 80 bar"], "the earlier version is kept");

    let ack = editor.request_ok(delete_frame(&c.room, &m), "ack").await;
    assert_eq!(
        (ack["message_id"].as_str(), seq_of(&ack)),
        (Some(&*m), s + 2)
    );
    for ws in [&mut owner, &mut editor] {
        let event = ws.recv_event(&c.room, s + 2).await;
        assert_eq!(event["kind"], "message.deleted");
        assert_eq!(
            event["data"],
            json!({"message_id": m, "deleted_by": c.editor.id})
        );
    }
    let msg = history(&app, &c.room, &c.viewer.token).await;
    assert_eq!(msg.len(), 1);
    assert_eq!(
        (&msg[0]["deleted"], &msg[0]["content"], &msg[0]["metadata"]),
        (&json!(true), &json!(""), &json!({}))
    );
}

#[tokio::test]
async fn reactions_are_broadcast_and_idempotent() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    owner.subscribe(&c.room, None).await;
    let sent = owner
        .send_text(&c.room, "r-1", "Who has the spare belt?")
        .await;
    let (m, s) = (id_of(&sent), seq_of(&sent));

    let ack = viewer
        .request_ok(react_frame(&c.room, &m, "👍", true), "ack")
        .await;
    assert_eq!(
        (ack["message_id"].as_str(), seq_of(&ack)),
        (Some(&*m), s + 1)
    );
    let event = owner.recv_event(&c.room, s + 1).await;
    assert_eq!(event["kind"], "reaction.added");
    assert_eq!(
        event["data"],
        json!({"message_id": m, "emoji": "👍", "user": c.viewer.id})
    );

    let again = viewer
        .request_ok(react_frame(&c.room, &m, "👍", true), "ack")
        .await;
    assert_eq!(
        (again["message_id"].as_str(), &again["seq"]),
        (Some(&*m), &Value::Null)
    );

    let ack = viewer
        .request_ok(react_frame(&c.room, &m, "👍", false), "ack")
        .await;
    assert_eq!(seq_of(&ack), s + 2);
    let event = owner.recv_event(&c.room, s + 2).await;
    assert_eq!(event["kind"], "reaction.removed");
    assert_eq!(
        event["data"],
        json!({"message_id": m, "emoji": "👍", "user": c.viewer.id})
    );
    let again = viewer
        .request_ok(react_frame(&c.room, &m, "👍", false), "ack")
        .await;
    assert_eq!(again["seq"], Value::Null);
    assert_eq!(db_head(&app, &c.room).await, s + 2, "no-ops write nothing");
}

#[tokio::test]
async fn typing_reaches_other_users_only_at_most_once_a_second() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut typist = WsClient::connect(&app, &c.editor.token)
        .await
        .named("typist");
    let mut typist_tab = WsClient::connect(&app, &c.editor.token)
        .await
        .named("typist's other socket");
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    for ws in [&mut typist, &mut typist_tab, &mut owner, &mut viewer] {
        ws.subscribe(&c.room, None).await;
    }
    let typing = json!({"type": "typing", "room_id": c.room});
    typist.send(typing.clone()).await;
    typist.send(typing).await; // within the same second: dropped
    // The marker: a message sent after the typing frames.
    let marker = seq_of(&typist.send_text(&c.room, "t-1", "Checking").await);

    for ws in [&mut owner, &mut viewer] {
        let frames = ws
            .recv_until_collect("the marker", |f| is_event(f, &c.room) && f["seq"] == marker)
            .await;
        let typing: Vec<&Value> = frames.iter().filter(|f| f["type"] == "typing").collect();
        assert_eq!(typing.len(), 1, "{}: {frames:?}", ws.label);
        assert_eq!(
            *typing[0],
            json!({"type": "typing", "room_id": c.room, "user": c.editor.id,
                   "display_name": "editor", "expires_in_ms": 3000})
        );
    }
    for ws in [&mut typist, &mut typist_tab] {
        let frames = ws
            .recv_until_collect("the marker", |f| is_event(f, &c.room) && f["seq"] == marker)
            .await;
        assert!(
            frames.iter().all(|f| f["type"] != "typing"),
            "{}: typing echoed to the typist: {frames:?}",
            ws.label
        );
    }
}

#[tokio::test]
async fn read_markers_move_forward_only_and_are_shown_to_others() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    owner.subscribe(&c.room, None).await;
    viewer.subscribe(&c.room, None).await;
    let mut seqs = Vec::new();
    for i in 0..3 {
        let ack = owner.send_text(&c.room, &format!("m{i}"), "update").await;
        seqs.push(seq_of(&ack));
    }
    assert_eq!(unread(&app, &c.room, &c.viewer).await, Some(3));

    viewer
        .send(json!({"type": "read", "room_id": c.room, "seq": seqs[1]}))
        .await;
    let read = owner
        .recv_until("the viewer's read marker", |f| f["type"] == "read")
        .await;
    assert_eq!(
        read,
        json!({"type": "read", "room_id": c.room, "user": c.viewer.id, "seq": seqs[1]})
    );
    eventually(10, "the marker to be stored", || async {
        (last_read_seq(&app, &c, &c.viewer).await == seqs[1]).then_some(())
    })
    .await;
    assert_eq!(unread(&app, &c.room, &c.viewer).await, Some(1));

    // Lower: ignored. The reply to the ping comes after the socket handled it.
    viewer
        .send(json!({"type": "read", "room_id": c.room, "seq": 1}))
        .await;
    viewer.request_ok(json!({"type": "ping"}), "pong").await;
    assert_eq!(last_read_seq(&app, &c, &c.viewer).await, seqs[1]);

    // Beyond the head: clamped.
    viewer
        .send(json!({"type": "read", "room_id": c.room, "seq": 1_000_000}))
        .await;
    let head = db_head(&app, &c.room).await;
    eventually(10, "the marker to reach the head", || async {
        (last_read_seq(&app, &c, &c.viewer).await == head).then_some(())
    })
    .await;
    assert_eq!(unread(&app, &c.room, &c.viewer).await, Some(0));
}

#[tokio::test]
async fn ping_gets_pong_and_every_reply_echoes_ref() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let cases = [
        (json!({"type": "ping", "ref": "p-1"}), "pong"),
        (json!({"type": "ping", "ref": {"n": [1, 2]}}), "pong"),
        (
            json!({"type": "subscribe", "room_id": c.room, "ref": 7}),
            "subscribed",
        ),
        (
            json!({"type": "send", "room_id": c.room, "client_id": "x", "content": "hi", "ref": 8.5}),
            "ack",
        ),
        (
            json!({"type": "unsubscribe", "room_id": c.room, "ref": [1, "a"]}),
            "unsubscribed",
        ),
        (json!({"type": "dance", "ref": "e-1"}), "error"),
    ];
    for (frame, reply_type) in cases {
        let r = frame["ref"].clone();
        ws.send(frame.clone()).await;
        let reply = ws
            .recv_until("the reply", |f| {
                let t = f["type"].as_str().unwrap_or("");
                ["subscribed", "unsubscribed", "ack", "pong", "error"].contains(&t)
            })
            .await;
        assert_eq!(reply["type"], reply_type, "{frame} → {reply}");
        assert_eq!(reply["ref"], r, "{frame} → {reply}");
    }
    ws.send(json!({"type": "ping"})).await;
    let pong = ws.recv_until("pong", |f| f["type"] == "pong").await;
    assert!(pong.get("ref").is_none() || pong["ref"].is_null(), "{pong}");
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_unknown_or_incomplete_frames_are_bad_requests() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    ws.subscribe(&c.room, None).await;

    ws.send_raw("{not json").await;
    let reply = ws.recv_until("an error", |f| f["type"] == "error").await;
    assert!(is_error(&reply, "bad_request"), "{reply}");

    let room = c.room.as_str();
    for frame in [
        json!({"type": "dance"}),
        json!({"room_id": room}),
        json!({"type": "send", "room_id": room}),
        json!({"type": "subscribe"}),
        json!({"type": "send", "room_id": room, "client_id": "b", "message_type": "text", "content": "  "}),
        json!({"type": "send", "room_id": room, "client_id": "x".repeat(65), "content": "hi"}),
        json!({"type": "send", "room_id": room, "client_id": "c", "message_type": "system", "content": "hi"}),
        json!({"type": "react", "room_id": room, "message_id": uuid::Uuid::new_v4(), "emoji": "a b", "add": true}),
    ] {
        expect_error(&mut ws, frame, "bad_request").await;
    }
    // Still usable.
    ws.request_ok(json!({"type": "ping"}), "pong").await;

    // Typing without a subscription.
    let mut other = WsClient::connect(&app, &c.editor.token).await;
    expect_error(
        &mut other,
        json!({"type": "typing", "room_id": room}),
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn actions_the_role_or_an_archived_room_forbids_are_forbidden() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let room = c.room.as_str();

    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    viewer.subscribe(room, None).await;
    expect_error(&mut viewer, send_frame(room, "v-1", "hello"), "forbidden").await;
    expect_error(
        &mut viewer,
        json!({"type": "typing", "room_id": room}),
        "forbidden",
    )
    .await;

    let mut outsider = WsClient::connect(&app, &c.outsider.token)
        .await
        .named("outsider");
    expect_error(
        &mut outsider,
        json!({"type": "subscribe", "room_id": room, "after_seq": 0}),
        "forbidden",
    )
    .await;

    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    let m = id_of(&owner.send_text(room, "o-1", "before archiving").await);
    archive_room(&app, &c.owner, room).await;
    expect_error(&mut owner, send_frame(room, "o-2", "after"), "forbidden").await;
    expect_error(&mut owner, react_frame(room, &m, "👍", true), "forbidden").await;
    expect_error(&mut owner, edit_frame(room, &m, "changed"), "forbidden").await;
    // Members may still read an archived room.
    owner.subscribe(room, Some(0)).await;
}

#[tokio::test]
async fn unknown_rooms_and_messages_are_not_found() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let room = c.room.as_str();
    let nowhere = uuid::Uuid::new_v4().to_string();
    let no_message = uuid::Uuid::new_v4().to_string();

    let mut owner = WsClient::connect(&app, &c.owner.token).await;
    expect_error(
        &mut owner,
        json!({"type": "subscribe", "room_id": nowhere}),
        "not_found",
    )
    .await;
    expect_error(&mut owner, send_frame(&nowhere, "n-1", "hi"), "not_found").await;
    expect_error(&mut owner, edit_frame(room, &no_message, "x"), "not_found").await;
    expect_error(&mut owner, delete_frame(room, &no_message), "not_found").await;
    expect_error(
        &mut owner,
        react_frame(room, &no_message, "👍", true),
        "not_found",
    )
    .await;

    // An archived room looks absent to non-members.
    archive_room(&app, &c.owner, room).await;
    let mut outsider = WsClient::connect(&app, &c.outsider.token).await;
    expect_error(
        &mut outsider,
        json!({"type": "subscribe", "room_id": room}),
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn content_or_metadata_over_the_limit_is_too_large() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let room = c.room.as_str();
    let small = id_of(&ws.send_text(room, "small", "fits").await);

    expect_error(
        &mut ws,
        send_frame(room, "big-1", &"x".repeat(10_001)),
        "too_large",
    )
    .await;
    expect_error(
        &mut ws,
        json!({"type": "send", "room_id": room, "client_id": "big-2", "content": "ok",
               "metadata": {"blob": "x".repeat(17 * 1024)}}),
        "too_large",
    )
    .await;
    expect_error(
        &mut ws,
        edit_frame(room, &small, &"x".repeat(10_001)),
        "too_large",
    )
    .await;
    // The limit counts characters, not bytes.
    ws.send_text(room, "max", &"界".repeat(10_000)).await;
    let count: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM messages", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2, "only the messages within the limit are stored");
}

#[tokio::test]
async fn editing_after_the_window_is_refused() {
    let app = TestApp::builder()
        .env("ANDON_EDIT_WINDOW_SECS", 1)
        .spawn()
        .await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let m = id_of(&ws.send_text(&c.room, "w-1", "Pressure 80 bar").await);

    // The window is the behaviour under test: retry until it has passed. Every
    // answer before that is an ack; afterwards the edit is refused for good.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut attempt = 0;
    let refused = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the edit window never closed"
        );
        attempt += 1;
        let reply = ws
            .request(edit_frame(&c.room, &m, &format!("edit {attempt}")))
            .await;
        if reply["type"] != "ack" {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(is_error(&refused, "edit_window_passed"), "{refused}");
    let reply = ws.request(edit_frame(&c.room, &m, "again")).await;
    assert!(is_error(&reply, "edit_window_passed"), "{reply}");
    let msg = history(&app, &c.room, &c.editor.token).await;
    assert_ne!(msg[0]["content"], "again");
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_with_1009() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let huge = send_frame(&c.room, "huge", &"x".repeat(70 * 1024)).to_string();
    let _ = ws.try_send_raw(&huge).await; // the server may close while it arrives
    assert_eq!(ws.expect_close().await, 1009);
    let count: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM messages", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}

#[tokio::test]
async fn ten_bad_frames_close_with_4400() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    for i in 0..9 {
        ws.send_raw(&format!("not json {i}")).await;
    }
    // Nine bad frames: still open.
    ws.request_ok(json!({"type": "ping"}), "pong").await;
    assert_eq!(ws.frames_of_type("error").len(), 9);
    ws.send_raw("not json 10").await;
    assert_eq!(ws.expect_close().await, 4400);
}

#[tokio::test]
async fn logout_closes_that_session_s_sockets_with_4001() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let (status, body) = app.login(&c.editor.id, &c.editor.password).await;
    assert_eq!(status, 200, "{body}");
    let other_session = body["token"].as_str().unwrap().to_string();

    let mut ws = WsClient::connect(&app, &c.editor.token)
        .await
        .named("ended");
    let mut other = WsClient::connect(&app, &other_session)
        .await
        .named("other session");
    ws.subscribe(&c.room, None).await;
    other.subscribe(&c.room, None).await;
    let (status, _) = app
        .send_as(Method::POST, "/api/auth/logout", &c.editor.token, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(ws.expect_close().await, 4001);
    other.request_ok(json!({"type": "ping"}), "pong").await;
}

#[tokio::test]
async fn forced_logout_by_the_ad_closes_sockets_with_4001() {
    let app = TestApp::builder()
        .env("ANDON_REFRESH_THRESHOLD_SECS", 2)
        .env("ANDON_REFRESH_RETRY_SECS", 1)
        .spawn()
        .await;
    app.ad.set_token_ttl(3).await;
    let user = app.user("forced").await;
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
    let room = new_room(&app, &user).await;
    let mut ws = WsClient::connect(&app, &user.token).await;
    ws.subscribe(&room, None).await;

    app.ad.set_password(&user.id, "other").await;
    assert_eq!(ws.expect_close_within(Duration::from_secs(30)).await, 4001);
}

#[tokio::test]
async fn presence_follows_a_user_s_first_and_last_socket() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let room = c.room.as_str();
    // Presence frames list who came online and who went offline.
    let is_presence = |user: &str, online: bool| {
        let user = json!(user);
        let list = if online { "online" } else { "offline" };
        move |f: &Value| {
            f["type"] == "presence" && f[list].as_array().is_some_and(|l| l.contains(&user))
        }
    };
    let mentions = |f: &Value, user: &TestUser| {
        let user = json!(user.id);
        f["type"] == "presence"
            && ["online", "offline"]
                .iter()
                .any(|list| f[list].as_array().is_some_and(|l| l.contains(&user)))
    };

    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    owner.subscribe(room, None).await;
    let mut first = WsClient::connect(&app, &c.editor.token)
        .await
        .named("first");
    let sub = first.subscribe(room, None).await;
    assert_eq!(sorted(&sub["online"]), ids(&[&c.owner, &c.editor]));
    let online = owner
        .recv_until("editor online", is_presence(&c.editor.id, true))
        .await;
    assert_eq!(online["room_id"], room);
    assert_eq!(online["offline"], json!([]));

    // A second socket of the same user arrives and leaves: no presence. The
    // viewer's arrival afterwards is announced with (or after) anything pending.
    let mut second = WsClient::connect(&app, &c.editor.token)
        .await
        .named("second");
    second.subscribe(room, None).await;
    second
        .request_ok(
            json!({"type": "unsubscribe", "room_id": room}),
            "unsubscribed",
        )
        .await;
    second.close().await;
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    viewer.subscribe(room, None).await;
    let frames = owner
        .recv_until_collect("viewer online", is_presence(&c.viewer.id, true))
        .await;
    assert!(
        !frames.iter().any(|f| mentions(f, &c.editor)),
        "presence for a second socket: {frames:?}"
    );

    // The last socket goes away without a goodbye.
    drop(first);
    owner
        .recv_until("editor offline", is_presence(&c.editor.id, false))
        .await;
}

#[tokio::test]
async fn tickets_are_single_use_and_must_exist() {
    let app = TestApp::spawn().await;
    let user = app.user("ticket").await;
    let ticket = ws_ticket(&app, &user.token).await;
    let mut ws = ws_open(&app, Some(&ticket), None)
        .await
        .unwrap_or_else(|(s, b)| panic!("first use refused: {s} {b}"));
    ws.request_ok(json!({"type": "ping"}), "pong").await;

    for (what, t) in [
        ("a used ticket", Some(ticket.as_str())),
        ("an unknown ticket", Some("bm90LWEtdGlja2V0")),
        ("no ticket", None),
    ] {
        match ws_open(&app, t, None).await {
            Ok(_) => panic!("{what} was accepted"),
            Err((status, body)) => {
                assert_eq!(status, 401, "{what}: {body}");
                assert_eq!(body["code"], "invalid_ticket", "{what}: {body}");
            }
        }
    }
    let (status, _) = app.call(app.http.post(app.url("/api/ws-ticket"))).await;
    assert_eq!(status, 401, "a ticket needs a session");
}

// ---------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn socket_actions_follow_the_room_roles() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let room = c.room.as_str();
    let editor2 = app.user("editor2").await;
    add_member(&app, &c.owner, room, &editor2, "editor").await;

    let mut editor = WsClient::connect(&app, &c.editor.token)
        .await
        .named("editor");
    let mut other = WsClient::connect(&app, &editor2.token)
        .await
        .named("editor2");
    let mine = id_of(&editor.send_text(room, "a", "mine").await);
    let theirs = id_of(&other.send_text(room, "b", "theirs").await);
    let for_owner = id_of(&other.send_text(room, "c", "owner deletes").await);

    // Viewer: subscribe, react and read; not send, typing, edit or delete.
    let mut viewer = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("viewer");
    viewer.subscribe(room, Some(0)).await;
    viewer
        .request_ok(react_frame(room, &mine, "👀", true), "ack")
        .await;
    viewer
        .send(json!({"type": "read", "room_id": room, "seq": 2}))
        .await;
    expect_error(&mut viewer, send_frame(room, "v", "hi"), "forbidden").await;
    expect_error(
        &mut viewer,
        json!({"type": "typing", "room_id": room}),
        "forbidden",
    )
    .await;
    expect_error(&mut viewer, edit_frame(room, &mine, "x"), "forbidden").await;
    expect_error(&mut viewer, delete_frame(room, &mine), "forbidden").await;
    eventually(10, "the viewer's read marker", || async {
        (last_read_seq(&app, &c, &c.viewer).await == 2).then_some(())
    })
    .await;

    // Editor: own messages only.
    editor
        .request_ok(edit_frame(room, &mine, "mine, edited"), "ack")
        .await;
    expect_error(&mut editor, edit_frame(room, &theirs, "x"), "forbidden").await;
    expect_error(&mut editor, delete_frame(room, &theirs), "forbidden").await;
    editor.request_ok(delete_frame(room, &mine), "ack").await;

    // Owner: deletes anyone's message, edits only their own.
    let mut owner = WsClient::connect(&app, &c.owner.token).await.named("owner");
    owner
        .request_ok(delete_frame(room, &for_owner), "ack")
        .await;
    expect_error(&mut owner, edit_frame(room, &theirs, "x"), "forbidden").await;

    // Non-member: nothing.
    let mut outsider = WsClient::connect(&app, &c.outsider.token)
        .await
        .named("outsider");
    expect_error(
        &mut outsider,
        json!({"type": "subscribe", "room_id": room}),
        "forbidden",
    )
    .await;
    expect_error(&mut outsider, send_frame(room, "o", "hi"), "forbidden").await;
    expect_error(
        &mut outsider,
        react_frame(room, &theirs, "👍", true),
        "forbidden",
    )
    .await;

    let msgs = history(&app, room, &c.owner.token).await;
    let by_id = |id: &str| msgs.iter().find(|m| m["id"] == id).unwrap().clone();
    assert_eq!(by_id(&theirs)["content"], "theirs");
    assert_eq!(by_id(&theirs)["deleted"], false);
    assert_eq!(by_id(&for_owner)["deleted"], true);
}

// ---------------------------------------------------------------------------------
// Resumption, idempotency, slow consumers
// ---------------------------------------------------------------------------------

/// Sends `n` messages in batches of 5, waiting for each batch's acks.
async fn send_batches(ws: &mut WsClient, room: &str, name: &str, n: usize) {
    const BATCH: usize = 5;
    for batch in 0..n.div_ceil(BATCH) {
        let range = batch * BATCH..((batch + 1) * BATCH).min(n);
        let count = range.len();
        for i in range {
            ws.send(send_frame(
                room,
                &format!("{name}-{i}"),
                &format!("{name} #{i}"),
            ))
            .await;
        }
        for _ in 0..count {
            let reply = ws
                .recv_until("an ack", |f| {
                    matches!(f["type"].as_str(), Some("ack" | "error"))
                })
                .await;
            assert_eq!(reply["type"], "ack", "{name}: {reply}");
        }
    }
}

/// Connects, resubscribes after `last` and reads a few events, again and again,
/// until `done`; then reads up to the final head. Every room event received.
async fn keep_resuming(app: &TestApp, token: &str, room: &str, done: &AtomicBool) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    let mut round = 0usize;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let last = seen.last().map(seq_of).unwrap_or(0);
        let mut ws = WsClient::connect(app, token).await.named("resumer");
        ws.subscribe(room, Some(last)).await;
        if finished {
            ws.drain_to(room, db_head(app, room).await).await;
        } else {
            let wanted = 1 + (round * 3) % 5;
            while ws.events(room).len() < wanted {
                if ws
                    .try_next_frame(Duration::from_millis(300))
                    .await
                    .is_none()
                {
                    break; // quiet room: reconnect and look again
                }
            }
        }
        seen.extend(ws.events(room));
        drop(ws); // abruptly, events possibly in flight
        if finished {
            return seen;
        }
        round += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_sees_exactly_the_room_log_even_when_resuming() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let room = c.room.as_str();
    let senders = [
        app.user("s1").await,
        app.user("s2").await,
        app.user("s3").await,
    ];
    for s in &senders {
        add_member(&app, &c.owner, room, s, "editor").await;
    }
    let done = AtomicBool::new(false);
    let app = &app;

    let sending = async {
        let clients = join_all(senders.iter().enumerate().map(|(i, s)| async move {
            let name = format!("sender{i}");
            let mut ws = WsClient::connect(app, &s.token).await.named(&name);
            ws.subscribe(room, Some(0)).await;
            send_batches(&mut ws, room, &name, 50).await;
            ws
        }))
        .await;
        done.store(true, Ordering::SeqCst);
        clients
    };
    let (mut clients, resumed) =
        tokio::join!(sending, keep_resuming(app, &c.viewer.token, room, &done));

    let log = db_events(app, room).await;
    assert_eq!(log.iter().filter(|e| e.1 == "message.created").count(), 150);
    let head = log.last().unwrap().0;
    for ws in &mut clients {
        ws.drain_to(room, head).await;
        assert_events_match_db(&ws.label.clone(), &ws.events(room), &log);
    }
    assert_events_match_db("resumer", &resumed, &log);
}

#[tokio::test]
async fn a_retried_send_creates_one_message_and_returns_the_same_ack() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let room = c.room.as_str();
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    ws.subscribe(room, None).await;
    let first = ws.send_text(room, "retry-1", "Line 3 stopped").await;
    let again = ws.send_text(room, "retry-1", "Line 3 stopped").await;
    ws.close().await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let after_reconnect = ws.send_text(room, "retry-1", "Line 3 stopped").await;
    let ack = |a: &Value| {
        (
            a["client_id"].clone(),
            a["message_id"].clone(),
            a["seq"].clone(),
        )
    };
    assert_eq!(ack(&again), ack(&first));
    assert_eq!(ack(&after_reconnect), ack(&first));

    // The same client_id over REST is the same send.
    let (status, body) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{room}/messages"),
            &c.editor.token,
            Some(json!({"client_id": "retry-1", "content": "Line 3 stopped"})),
        )
        .await;
    assert_eq!((status, &body["id"]), (200, &first["message_id"]), "{body}");

    // Another sender's client_id space is their own.
    let mut owner = WsClient::connect(&app, &c.owner.token).await;
    let theirs = owner.send_text(room, "retry-1", "Line 3 stopped").await;
    assert_ne!(theirs["message_id"], first["message_id"]);

    let client = app.db.client().await;
    let room_id: uuid::Uuid = room.parse().unwrap();
    let count = |sql: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(sql, &[&room_id])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE room_id = $1").await,
        2
    );
    assert_eq!(
        count("SELECT count(*) FROM room_events WHERE room_id = $1 AND kind = 'message.created'")
            .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_socket_is_closed_with_4008_and_others_get_everything() {
    const MESSAGES: usize = 1500;
    const SENDERS: usize = 5;
    const QUEUE: usize = 64;
    let app = TestApp::builder()
        .env("ANDON_WS_QUEUE_FRAMES", QUEUE)
        .spawn()
        .await;
    let c = cast(&app).await;
    let room = c.room.as_str();

    let mut stalled = WsClient::connect_with_recv_buffer(&app, &c.viewer.token, 4096)
        .await
        .named("stalled");
    let head = stalled.subscribe(room, None).await["head_seq"]
        .as_i64()
        .expect("head_seq");
    let mut reader = WsClient::connect(&app, &c.owner.token)
        .await
        .named("reader");
    reader.subscribe(room, None).await;

    let reading = async {
        // Counting, not cloning: the log holds 12 MB by the end.
        let mut expected = head + 1;
        while expected <= head + MESSAGES as i64 {
            let event = reader.recv_until("a message", |f| is_event(f, room)).await;
            assert_eq!(seq_of(&event), expected, "reader: gap or duplicate");
            expected += 1;
        }
    };
    let content = "x".repeat(8000);
    let sending = join_all((0..SENDERS).map(|s| {
        let (token, content) = (c.editor.token.clone(), content.clone());
        let app = &app;
        async move {
            let mut ws = WsClient::connect(app, &token).await.named("sender");
            // Under the limit of 100 frames a second per socket.
            let mut pace = tokio::time::interval(Duration::from_millis(13));
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let per_sender = MESSAGES / SENDERS;
            for i in 0..per_sender {
                pace.tick().await;
                ws.send(send_frame(room, &format!("slow-{s}-{i}"), &content))
                    .await;
            }
            for _ in 0..per_sender {
                let reply = ws
                    .recv_until("an ack", |f| {
                        matches!(f["type"].as_str(), Some("ack" | "error"))
                    })
                    .await;
                assert_eq!(reply["type"], "ack", "{reply}");
            }
        }
    }));
    // The stalled client reads its close as soon as the server decided on it: a
    // socket whose close frame cannot be written is dropped after a grace period,
    // which a client still stalled behind the senders would miss.
    let closed = async {
        eventually(30, "a slow-consumer close", || async {
            (app.metrics.counter(metrics::SLOW_CONSUMER_CLOSES) >= 1).then_some(())
        })
        .await;
        stalled.expect_close_within(Duration::from_secs(10)).await
    };
    let (_, _, code) = tokio::join!(reading, sending, closed);
    assert_eq!(code, 4008);
    let high_water = app.metrics.gauge(metrics::QUEUE_FRAMES_MAX) as usize;
    assert!(
        high_water <= QUEUE,
        "a queue held {high_water} frames; the bound is {QUEUE}"
    );

    // What the stalled socket got is a gap-free prefix; resuming gives the rest.
    let got = stalled.seqs(room);
    let prefix: Vec<i64> = (head + 1..head + 1 + got.len() as i64).collect();
    assert_eq!(got, prefix, "stalled: gap or duplicate before the close");
    let last = got.last().copied().unwrap_or(head);
    let mut resumed = WsClient::connect(&app, &c.viewer.token)
        .await
        .named("resumed");
    resumed.subscribe(room, Some(last)).await;
    let final_head = db_head(&app, room).await;
    assert_eq!(final_head, head + MESSAGES as i64);
    resumed.drain_to(room, final_head).await;
    let rest: Vec<i64> = (last + 1..=final_head).collect();
    assert_eq!(resumed.seqs(room), rest, "resumed: gap or duplicate");
}
