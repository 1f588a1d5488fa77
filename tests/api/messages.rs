//! Messages over REST (PRODUCT.md M3, M12; `docs/PROTOCOL.md` "Messages over REST"):
//! history pages by `seq`, reactions in history, posting for integrations with
//! idempotent `client_id`s, and who may read or post.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Cast, TestApp, TestUser, WsClient, cast, is_event};

async fn post(app: &TestApp, room: &str, user: &TestUser, body: Value) -> (u16, Value) {
    app.send_as(
        Method::POST,
        &format!("/api/rooms/{room}/messages"),
        &user.token,
        Some(body),
    )
    .await
}

/// Posts `n` text messages as the owner: their seqs.
async fn post_many(app: &TestApp, c: &Cast, n: usize) -> Vec<i64> {
    let mut seqs = Vec::new();
    for i in 0..n {
        let (status, m) = post(
            app,
            &c.room,
            &c.owner,
            json!({"client_id": format!("m{i}"), "content": format!("update {i}")}),
        )
        .await;
        assert_eq!(status, 201, "{m}");
        seqs.push(m["seq"].as_i64().expect("seq"));
    }
    seqs
}

/// `GET /api/rooms/{id}/messages?<query>` as `user`: the seqs and `has_more`.
async fn page(app: &TestApp, c: &Cast, user: &TestUser, query: &str) -> (Vec<i64>, bool) {
    let (status, body) = app
        .get_as(
            &format!("/api/rooms/{}/messages?{query}", c.room),
            &user.token,
        )
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    let seqs = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    (seqs, body["has_more"].as_bool().expect("has_more"))
}

#[tokio::test]
async fn history_pages_by_seq_in_ascending_order() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let s = post_many(&app, &c, 7).await;
    let v = &c.viewer;

    assert_eq!(page(&app, &c, v, "").await, (s.clone(), false));
    assert_eq!(page(&app, &c, v, "limit=3").await, (s[4..].to_vec(), true));
    let before = format!("before_seq={}&limit=3", s[4]);
    assert_eq!(page(&app, &c, v, &before).await, (s[1..4].to_vec(), true));
    let before = format!("before_seq={}&limit=3", s[1]);
    assert_eq!(page(&app, &c, v, &before).await, (s[..1].to_vec(), false));
    let after = format!("after_seq={}&limit=3", s[0]);
    assert_eq!(page(&app, &c, v, &after).await, (s[1..4].to_vec(), true));
    let after = format!("after_seq={}&limit=3", s[3]);
    assert_eq!(page(&app, &c, v, &after).await, (s[4..].to_vec(), false));
    let after = format!("after_seq={}", s[6]);
    assert_eq!(page(&app, &c, v, &after).await, (vec![], false));
    assert_eq!(page(&app, &c, v, "limit=200").await.0, s);

    for bad in ["limit=0", "limit=201", "limit=x", "before_seq=abc"] {
        let (status, body) = app
            .get_as(&format!("/api/rooms/{}/messages?{bad}", c.room), &v.token)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn history_holds_full_messages_with_their_reactions() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let (_, m) = post(
        &app,
        &c.room,
        &c.editor,
        json!({"client_id": "r-1", "content": "Belt replaced"}),
    )
    .await;
    let id = m["id"].as_str().unwrap().to_string();
    for (user, emoji) in [(&c.viewer, "👍"), (&c.owner, "👍"), (&c.owner, "🔥")] {
        let mut ws = WsClient::connect(&app, &user.token).await;
        ws.request_ok(
            json!({"type": "react", "room_id": c.room, "message_id": id, "emoji": emoji, "add": true}),
            "ack",
        )
        .await;
    }

    let (status, body) = app
        .get_as(&format!("/api/rooms/{}/messages", c.room), &c.viewer.token)
        .await;
    assert_eq!(status, 200);
    let got = &body["messages"][0];
    for key in [
        "id",
        "room_id",
        "seq",
        "sender",
        "sender_name",
        "message_type",
        "content",
        "metadata",
        "client_id",
        "created_at",
        "edited_at",
        "deleted",
        "reactions",
        "file",
    ] {
        assert!(got.get(key).is_some(), "missing {key}: {got}");
    }
    let mut reactions: Vec<(String, Vec<String>)> = got["reactions"]
        .as_array()
        .expect("reactions")
        .iter()
        .map(|r| {
            let mut users: Vec<String> = r["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_string())
                .collect();
            users.sort();
            (r["emoji"].as_str().unwrap().to_string(), users)
        })
        .collect();
    reactions.sort();
    let mut thumbs = vec![c.owner.id.clone(), c.viewer.id.clone()];
    thumbs.sort();
    assert_eq!(
        reactions,
        vec![
            ("👍".to_string(), thumbs),
            ("🔥".to_string(), vec![c.owner.id.clone()])
        ]
    );
}

#[tokio::test]
async fn posting_is_idempotent_per_client_id_and_broadcast() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.viewer.token).await;
    ws.subscribe(&c.room, None).await;

    let body = json!({"client_id": "mes-4711", "message_type": "incident_data",
                      "content": "Scrap rate 4.2%", "metadata": {"line": "L3", "scrap": 4.2}});
    let (status, first) = post(&app, &c.room, &c.editor, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["sender"], c.editor.id.as_str());
    assert_eq!(first["message_type"], "incident_data");
    assert_eq!(first["metadata"], json!({"line": "L3", "scrap": 4.2}));
    assert_eq!(first["client_id"], "mes-4711");
    assert_eq!(first["room_id"], c.room.as_str());
    assert_eq!(first["deleted"], false);

    let (status, again) = post(&app, &c.room, &c.editor, body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first, "the original message");

    let event = ws.recv_until("the message", |f| is_event(f, &c.room)).await;
    assert_eq!(event["kind"], "message.created");
    assert_eq!(event["data"], first);
    let count: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM messages", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}

#[tokio::test]
async fn members_read_history_and_only_editors_and_owners_post() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let path = format!("/api/rooms/{}/messages", c.room);
    let msg = |id: &str| json!({"client_id": id, "content": "hello"});

    for user in [&c.viewer, &c.editor, &c.owner] {
        assert_eq!(app.get_as(&path, &user.token).await.0, 200, "{}", user.id);
    }
    let (status, body) = app.get_as(&path, &c.outsider.token).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    for (user, expected) in [
        (&c.viewer, 403),
        (&c.outsider, 403),
        (&c.editor, 201),
        (&c.owner, 201),
    ] {
        let (status, body) = post(&app, &c.room, user, msg(&user.id)).await;
        assert_eq!(status, expected, "{}: {body}", user.id);
    }

    let nowhere = uuid::Uuid::new_v4();
    let (status, _) = app
        .get_as(&format!("/api/rooms/{nowhere}/messages"), &c.owner.token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.call(app.http.get(app.url(&path))).await;
    assert_eq!(status, 401);

    for bad in [
        json!({"content": "no client id"}),
        json!({"client_id": "", "content": "x"}),
        json!({"client_id": "b", "content": "   "}),
        json!({"client_id": "c", "content": "x", "colour": "red"}),
    ] {
        let (status, body) = post(&app, &c.room, &c.editor, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn nul_in_a_posted_message_is_a_bad_request_and_spoils_no_batch() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    // Found by scripts/api-fuzz: PostgreSQL refuses NUL in text and JSON, and the
    // failed batch answered 503.
    for body in [
        json!({"client_id": "n-1", "content": "a\0b"}),
        json!({"client_id": "n-2", "content": "ok", "metadata": {"k": ["x\0"]}}),
        json!({"client_id": "n-3", "content": "ok", "metadata": {"k\0": 1}}),
    ] {
        let (status, answer) = post(&app, &c.room, &c.editor, body.clone()).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (400, Some("bad_request")),
            "{body}: {answer}"
        );
    }
    let (status, answer) = post(
        &app,
        &c.room,
        &c.editor,
        json!({"client_id": "n-4", "content": "fine"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
}

/// Found by the API fuzzer: numbers at the ends of the `f64` range were stored,
/// then every read of the room's history failed (and panicked the worker): the
/// database rewrote them in its own notation, which does not read back. Metadata is
/// now kept as written.
#[tokio::test]
async fn metadata_numbers_at_the_ends_of_the_float_range_read_back_as_sent() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let metadata = json!({"max": 1.7976931348623155e308, "tiny": -2.2250738585072014e-308,
                          "sub": -1.1125369292536007e-308, "big": -2.7105884655826508e16});
    let (status, body) = post(
        &app,
        &c.room,
        &c.editor,
        json!({"client_id": "f1", "content": "edge", "metadata": metadata}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, history) = app
        .get_as(&format!("/api/rooms/{}/messages", c.room), &c.editor.token)
        .await;
    assert_eq!(status, 200, "{history}");
    let stored = history["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["client_id"] == "f1"))
        .map(|m| m["metadata"].clone());
    assert_eq!(stored, Some(metadata));
}
