//! Mentions (issue 20): `metadata.mentions` and `metadata.mention_all` checked
//! against the room at commit, `mentioned` notifications live and in the
//! inbox, and the room list's count of unread mentions.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WsClient, add_member, eventually, new_room};

/// Sends over REST as `user`; status and body.
async fn post(
    app: &TestApp,
    user: &TestUser,
    room: &str,
    cid: &str,
    metadata: Value,
) -> (u16, Value) {
    app.send_as(
        Method::POST,
        &format!("/api/rooms/{room}/messages"),
        &user.token,
        Some(json!({"client_id": cid, "content": format!("message {cid}"), "metadata": metadata})),
    )
    .await
}

/// Sends over REST; panics unless stored.
async fn post_ok(app: &TestApp, user: &TestUser, room: &str, cid: &str, metadata: Value) -> Value {
    let (status, body) = post(app, user, room, cid, metadata).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// `user`'s `mentioned` notifications, newest first.
async fn mentioned(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let (status, body) = app.get_as("/api/notifications", &user.token).await;
    assert_eq!(status, 200, "{body}");
    body["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter(|n| n["kind"] == "mentioned")
        .cloned()
        .collect()
}

/// The room as `user` sees it in `GET /api/rooms`.
async fn listed(app: &TestApp, user: &TestUser, room: &str) -> Value {
    let (status, body) = app.get_as("/api/rooms", &user.token).await;
    assert_eq!(status, 200, "{body}");
    body["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .find(|r| r["id"] == room)
        .cloned()
        .unwrap_or_else(|| panic!("room {room} not listed: {body}"))
}

#[tokio::test]
async fn only_members_are_kept_once_and_each_but_the_author_is_notified_live_or_in_the_inbox() {
    let app = TestApp::spawn().await;
    let (owner, online, offline, outsider) = tokio::join!(
        app.user("owner"),
        app.user("online"),
        app.user("offline"),
        app.user("outsider")
    );
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &online, "editor").await;
    add_member(&app, &owner, &room, &offline, "viewer").await;
    // A socket of `online`'s, subscribed to nothing.
    let mut theirs = WsClient::connect(&app, &online.token).await.named("online");
    let mut mine = WsClient::connect(&app, &owner.token).await.named("owner");
    mine.subscribe(&room, None).await;

    let asked = json!({
        "note": "kept",
        "mentions": [online.id, online.id.to_uppercase(), offline.id, outsider.id,
                     "ghost@nowhere.test", owner.id, online.id],
    });
    let ack = mine
        .request_ok(
            json!({"type": "send", "room_id": room, "client_id": "m1",
                   "content": "@online @offline look", "metadata": asked}),
            "ack",
        )
        .await;
    let seq = ack["seq"].as_i64().expect("seq");
    let event = mine.recv_event(&room, seq).await;
    let kept = json!({"note": "kept", "mentions": [online.id, offline.id, owner.id]});
    assert_eq!(event["data"]["metadata"], kept, "{event}");

    // Live, without a subscription.
    let frame = tokio::time::timeout(
        Duration::from_secs(2),
        theirs.recv_until("a notification", |f| f["type"] == "notification"),
    )
    .await
    .expect("the mention, live");
    let n = &frame["notification"];
    assert_eq!(n["kind"], "mentioned");
    assert_eq!(n["room_id"], room.as_str());
    assert_eq!(n["seq"], seq);
    assert_eq!(n["actor"], owner.id.as_str());
    assert_eq!(n["actor_name"], "owner");
    assert_eq!(n["text"], "owner mentioned you in Line 3 conveyor stopped");
    assert_eq!(frame["ring"], true);
    let inbox = mentioned(&app, &online).await;
    assert_eq!(inbox.len(), 1, "once: {inbox:?}");
    assert_eq!(&inbox[0], n, "stored as sent");

    // Offline: in the inbox. Not the author, not the outsider.
    let theirs_later = mentioned(&app, &offline).await;
    assert_eq!(theirs_later.len(), 1, "{theirs_later:?}");
    assert_eq!(theirs_later[0]["seq"], seq);
    assert!(mentioned(&app, &owner).await.is_empty());
    assert!(mentioned(&app, &outsider).await.is_empty());

    // History and a resume show what was kept.
    let (status, history) = app
        .get_as(&format!("/api/rooms/{room}/messages"), &owner.token)
        .await;
    assert_eq!(status, 200, "{history}");
    let stored = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["seq"] == seq)
        .cloned()
        .expect("the message");
    assert_eq!(stored["metadata"], kept);
    let mut resumed = WsClient::connect(&app, &offline.token)
        .await
        .named("resumed");
    resumed.subscribe(&room, Some(seq - 1)).await;
    let replayed = resumed.recv_event(&room, seq).await;
    assert_eq!(replayed["data"]["metadata"], kept);

    // Mentions nobody of the room: neither key is stored, nobody is notified.
    let none = post_ok(
        &app,
        &owner,
        &room,
        "m2",
        json!({"mentions": [outsider.id], "mention_all": false}),
    )
    .await;
    assert_eq!(none["metadata"], json!({}));
    assert!(mentioned(&app, &outsider).await.is_empty());
    assert_eq!(mentioned(&app, &offline).await.len(), 1);
}

#[tokio::test]
async fn everyone_can_be_mentioned_by_editors_and_owners_only() {
    let app = TestApp::spawn().await;
    let (owner, editor, viewer, admin) = tokio::join!(
        app.user("owner"),
        app.user("editor"),
        app.user("viewer"),
        app.user_with_id("admin@andon.test", "Admin")
    );
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &editor, "editor").await;
    add_member(&app, &owner, &room, &viewer, "viewer").await;
    add_member(&app, &owner, &room, &admin, "viewer").await;

    // An editor's @all: everyone else, once even if also named.
    let sent = post_ok(
        &app,
        &editor,
        &room,
        "all1",
        json!({"mention_all": true, "mentions": [viewer.id]}),
    )
    .await;
    assert_eq!(
        sent["metadata"],
        json!({"mention_all": true, "mentions": [viewer.id]})
    );
    for user in [&owner, &viewer, &admin] {
        let got = mentioned(&app, user).await;
        assert_eq!(got.len(), 1, "{}: {got:?}", user.id);
        assert_eq!(got[0]["seq"], sent["seq"]);
    }
    assert!(mentioned(&app, &editor).await.is_empty(), "not the author");

    // An administrator posting by override, with the room role of a viewer:
    // the message is stored, its @all is dropped.
    let by_admin = post_ok(&app, &admin, &room, "all2", json!({"mention_all": true})).await;
    assert_eq!(by_admin["metadata"], json!({}));
    assert_eq!(mentioned(&app, &owner).await.len(), 1);
    assert_eq!(mentioned(&app, &editor).await.len(), 0);

    // A viewer cannot send at all, @all or not.
    let (status, body) = post(&app, &viewer, &room, "all3", json!({"mention_all": true})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(mentioned(&app, &editor).await.len(), 0);
}

#[tokio::test]
async fn mentions_of_the_wrong_shape_or_too_many_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let room = new_room(&app, &owner).await;
    let too_many: Vec<String> = (0..51).map(|i| format!("u{i}@andon.test")).collect();
    for (i, bad) in [
        json!({"mentions": too_many}),
        json!({"mentions": "someone@andon.test"}),
        json!({"mentions": [42]}),
        json!({"mention_all": "yes"}),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = post(&app, &owner, &room, &format!("bad{i}"), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "validation_failed", "{body}");
    }
    // Fifty is the limit, not over it.
    let fifty: Vec<String> = too_many[..50].to_vec();
    post_ok(&app, &owner, &room, "fifty", json!({ "mentions": fifty })).await;

    // The socket answers the same with `bad_request`.
    let mut ws = WsClient::connect(&app, &owner.token).await;
    let reply = ws
        .request(
            json!({"type": "send", "room_id": room, "client_id": "ws1", "content": "x",
                        "metadata": {"mentions": too_many}}),
        )
        .await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request", "{reply}");
}

#[tokio::test]
async fn the_room_list_counts_unread_mentions_until_the_read_marker_passes_them() {
    let app = TestApp::spawn().await;
    let (owner, member) = tokio::join!(app.user("owner"), app.user("member"));
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &member, "editor").await;

    let first = post_ok(&app, &owner, &room, "a", json!({"mentions": [member.id]})).await;
    post_ok(&app, &owner, &room, "b", json!({})).await;
    let last = post_ok(&app, &owner, &room, "c", json!({"mention_all": true})).await;
    let seen = listed(&app, &member, &room).await;
    assert_eq!(
        (seen["mentions"].clone(), seen["unread"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(listed(&app, &owner, &room).await["mentions"], 0, "own");
    let (_, one) = app
        .get_as(&format!("/api/rooms/{room}"), &member.token)
        .await;
    assert_eq!(one["mentions"], 2, "{one}");

    // Read up to the first mention, then to the end.
    let mut ws = WsClient::connect(&app, &member.token).await;
    ws.subscribe(&room, None).await;
    for (seq, left) in [(&first["seq"], 1), (&last["seq"], 0)] {
        ws.send(json!({"type": "read", "room_id": room, "seq": seq}))
            .await;
        eventually(5, "the mention count to follow the read marker", || async {
            (listed(&app, &member, &room).await["mentions"] == left).then_some(())
        })
        .await;
    }
    let (_, one) = app
        .get_as(&format!("/api/rooms/{room}"), &member.token)
        .await;
    assert_eq!(one["mentions"], 0, "{one}");
}

#[tokio::test]
async fn a_mention_set_not_to_ring_is_still_delivered_and_counted() {
    let app = TestApp::spawn().await;
    let (owner, member) = tokio::join!(app.user("owner"), app.user("member"));
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &member, "editor").await;
    let quiet = json!({"ring": {"routed": true, "escalated": true, "mentioned": false, "added": true},
                       "quiet_hours": null});
    let (status, body) = app
        .send_as(Method::PUT, "/api/me/settings", &member.token, Some(quiet))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut ws = WsClient::connect(&app, &member.token).await;
    post_ok(&app, &owner, &room, "q", json!({"mentions": [member.id]})).await;
    let frame = ws
        .recv_until("a notification", |f| f["type"] == "notification")
        .await;
    assert_eq!(frame["notification"]["kind"], "mentioned");
    assert_eq!(frame["ring"], false, "{frame}");
    assert_eq!(listed(&app, &member, &room).await["mentions"], 1);
}
