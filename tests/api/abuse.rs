//! One ordinary user must not be able to hurt others: poisoned sends, sockets that
//! never read, echoed input, too many sockets, tickets or subscriptions, expensive
//! requests starving the send path (issue 15's findings, each shown fixed here).

use std::time::Duration;

use andon::config::DatabaseConfig;
use andon::db::batch::PgBatchWriter;
use andon_actors::metrics;
use andon_actors::realtime::{BatchError, BatchWriter, SendRequest};
use futures_util::future::join_all;
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_with_nul_are_refused_and_cost_other_users_nothing() {
    let app = TestApp::spawn().await;
    let (a, b) = (cast(&app).await, cast(&app).await);
    let mut attacker = WsClient::connect(&app, &a.editor.token)
        .await
        .named("attacker");
    let mut victim = WsClient::connect(&app, &b.editor.token)
        .await
        .named("victim");
    const N: usize = 100;
    let poison = async {
        for i in 0..N {
            let mut frame = send_frame(&a.room, &format!("p{i}"), "stop\u{0}line");
            if i % 3 == 1 {
                frame["metadata"] = json!({"note": "\u{0}"});
                frame["content"] = json!("fine");
            }
            attacker.send(frame).await;
        }
        let mut refused = 0;
        for _ in 0..N {
            let reply = attacker
                .recv_until("a reply", |f| {
                    matches!(f["type"].as_str(), Some("ack" | "error"))
                })
                .await;
            assert!(is_error(&reply, "bad_request"), "{reply}");
            assert!(
                reply["message"].as_str().unwrap_or("").contains("NUL"),
                "{reply}"
            );
            refused += 1;
        }
        refused
    };
    let honest = async {
        for i in 0..2 * N {
            victim
                .send(send_frame(&b.room, &format!("v{i}"), "Line 3 stopped"))
                .await;
        }
        let mut acked = 0;
        for _ in 0..2 * N {
            let reply = victim
                .recv_until("a reply", |f| {
                    matches!(f["type"].as_str(), Some("ack" | "error"))
                })
                .await;
            assert_eq!(reply["type"], "ack", "an honest send failed: {reply}");
            acked += 1;
        }
        acked
    };
    let (refused, acked) = tokio::join!(poison, honest);
    assert_eq!((refused, acked), (N, 2 * N));

    // REST: the same refusal, never a 500.
    let (status, body) = app
        .send_as(
            reqwest::Method::POST,
            &format!("/api/rooms/{}/messages", a.room),
            &a.editor.token,
            Some(json!({"client_id": "r1", "content": "a\u{0}b"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    let (status, body) = app.get_as("/api/users?q=0%00%C2%B0", &a.editor.token).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.get_as("/api/rooms?q=a%00", &a.editor.token).await;
    assert_eq!(status, 400, "{body}");
}

/// A row the database refuses fails the batch as `Rejected` (so group commit
/// splits it), not as an outage that would fail every send in it.
#[tokio::test]
async fn the_batch_writer_tells_a_refused_row_from_an_outage() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let pool = andon::db::pool(&DatabaseConfig {
        url: SecretString::from(app.db.url.clone()),
        pool_size: 1,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(15),
    })
    .unwrap();
    let writer = PgBatchWriter {
        db: pool,
        notifier: None,
    };
    let request = |cid: &str, content: &str| SendRequest {
        room_id: c.room.parse().unwrap(),
        sender: c.editor.id.clone(),
        sender_name: "Editor".into(),
        sender_is_admin: false,
        client_id: cid.into(),
        message_type: "text".into(),
        content: content.into(),
        metadata: json!({}),
    };
    let batch = [
        request("g1", "ok"),
        request("bad", "a\u{0}b"),
        request("g2", "ok"),
    ];
    match writer.write(&batch).await {
        Err(BatchError::Rejected(_)) => {}
        other => panic!("expected Rejected, got {:?}", other.map(|o| o.results)),
    }
    let outcome = writer.write(&batch[..1]).await.expect("the good row alone");
    assert!(outcome.results[0].is_ok());
}

#[tokio::test]
async fn a_large_ref_is_refused_and_never_echoed() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    let big = "r".repeat(60 * 1024);
    ws.send(json!({"type": "ping", "ref": big})).await;
    let reply = ws.recv().await;
    assert!(is_error(&reply, "bad_request"), "{reply}");
    assert!(reply.get("ref").is_none(), "the ref came back");
    assert!(
        reply.to_string().len() < 300,
        "{} bytes",
        reply.to_string().len()
    );

    let evil = "<img src=x onerror=alert(1)>".repeat(50);
    ws.send(json!({"type": evil})).await;
    let reply = ws.recv().await;
    assert!(is_error(&reply, "bad_request"), "{reply}");
    assert!(
        !reply.to_string().contains("onerror"),
        "input echoed: {reply}"
    );
}

/// `POST /api/ws-ticket`, whatever it answers.
async fn ticket(app: &TestApp, token: &str) -> (u16, serde_json::Value) {
    app.send_as(reqwest::Method::POST, "/api/ws-ticket", token, None)
        .await
}

#[tokio::test]
async fn a_session_holds_a_bounded_number_of_sockets() {
    let app = TestApp::builder()
        .env("ANDON_WS_SOCKETS_PER_SESSION", 3)
        .spawn()
        .await;
    let c = cast(&app).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(WsClient::connect(&app, &c.editor.token).await);
    }
    let (status, body) = ticket(&app, &c.editor.token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("too_many_sockets")),
        "{body}"
    );
    // Another session of the same user, and other users, are not affected.
    WsClient::connect(&app, &c.owner.token).await;
    open.pop().unwrap().close().await;
    eventually(10, "the closed socket's place freed", || async {
        let (status, _) = ticket(&app, &c.editor.token).await;
        (status == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn tickets_are_limited_per_session() {
    let app = TestApp::builder()
        .env("ANDON_WS_TICKETS_PER_MINUTE", 5)
        .spawn()
        .await;
    let c = cast(&app).await;
    for _ in 0..5 {
        ws_ticket(&app, &c.editor.token).await;
    }
    let (status, body) = ticket(&app, &c.editor.token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    ws_ticket(&app, &c.owner.token).await;
}

#[tokio::test]
async fn a_socket_subscribes_to_a_bounded_number_of_rooms() {
    let app = TestApp::builder()
        .env("ANDON_WS_SUBSCRIPTIONS_PER_SOCKET", 3)
        .spawn()
        .await;
    let c = cast(&app).await;
    let mut rooms = vec![c.room.clone()];
    for _ in 0..3 {
        rooms.push(new_room(&app, &c.owner).await);
    }
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    for room in &rooms[..3] {
        ws.subscribe(room, None).await;
    }
    let reply = ws
        .request(json!({"type": "subscribe", "room_id": rooms[3]}))
        .await;
    assert!(is_error(&reply, "too_many_subscriptions"), "{reply}");
    ws.subscribe(&rooms[0], None).await; // again: replaces, does not add
    ws.request_ok(
        json!({"type": "unsubscribe", "room_id": rooms[0]}),
        "unsubscribed",
    )
    .await;
    ws.subscribe(&rooms[3], None).await;
}

/// One socket subscribed with `after_seq: 0` to many rooms of large events that
/// never reads: what the server holds for it is one replay page read ahead and its
/// queue, within their byte bounds; when it reads at last, it gets every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_reads_holds_one_replay_page_and_a_bounded_queue() {
    const QUEUE_BYTES: usize = 256 * 1024;
    const ROOMS: usize = 8;
    const EVENTS: usize = 150;
    let app = TestApp::builder()
        .env("ANDON_WS_QUEUE_BYTES", QUEUE_BYTES)
        .spawn()
        .await;
    let c = cast(&app).await;
    let mut rooms = vec![c.room.clone()];
    while rooms.len() < ROOMS {
        rooms.push(new_room(&app, &c.owner).await);
    }
    let content = "x".repeat(8000);
    join_all(rooms.iter().map(|room| {
        let (content, token) = (content.clone(), c.owner.token.clone());
        let app = &app;
        async move {
            let mut ws = WsClient::connect(app, &token).await;
            for i in 0..EVENTS {
                ws.request_ok(send_frame(room, &format!("big-{i}"), &content), "ack")
                    .await;
            }
        }
    }))
    .await;

    let mut idle = WsClient::connect_with_recv_buffer(&app, &c.owner.token, 4096)
        .await
        .named("idle");
    for room in &rooms {
        idle.send(json!({"type": "subscribe", "room_id": room, "after_seq": 0}))
            .await;
    }
    // The server fills what it may, then waits for the reader.
    eventually(20, "the idle socket's queue to fill", || async {
        let held = app.metrics.gauge(metrics::QUEUE_BYTES_MAX) as usize;
        (held > QUEUE_BYTES / 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = app.metrics.gauge(metrics::QUEUE_BYTES_MAX) as usize;
    assert!(
        queued <= QUEUE_BYTES,
        "the queue held {queued} bytes; the bound is {QUEUE_BYTES}"
    );
    let read_ahead = app.metrics.gauge(metrics::REPLAY_READ_AHEAD_MAX) as usize;
    // One page: a quarter of the queue's bytes, plus the event that crosses it.
    assert!(
        read_ahead <= QUEUE_BYTES / 4 + 9000,
        "{read_ahead} bytes read ahead: more than one page"
    );
    for room in &rooms {
        let head = db_head(&app, room).await;
        idle.drain_to(room, head).await;
        let want: Vec<i64> = (1..=head).collect();
        assert_eq!(idle.seqs(room), want, "room {room}: gap or duplicate");
    }
    assert_eq!(
        app.metrics.counter(metrics::SLOW_CONSUMER_CLOSES),
        0,
        "a replay tripped 4008"
    );
}

/// Requests that wait (here on a row lock; in real life on an expensive query) are
/// cut off by the statement timeout, and while they hold every pooled connection,
/// sends still commit: group commit has connections of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_and_never_starve_the_send_path() {
    let app = TestApp::builder()
        .env("ANDON_DATABASE_POOL_SIZE", 2)
        .env("ANDON_DATABASE_STATEMENT_TIMEOUT_SECS", 3)
        .spawn()
        .await;
    let (a, b) = (cast(&app).await, cast(&app).await);
    let mut sender = WsClient::connect(&app, &b.editor.token).await;
    sender.subscribe(&b.room, None).await;

    let locker = app.db.client().await;
    let room_a: uuid::Uuid = a.room.parse().unwrap();
    locker.batch_execute("BEGIN").await.unwrap();
    locker
        .execute("SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE", &[&room_a])
        .await
        .unwrap();
    let path = format!("/api/rooms/{}", a.room);
    let blocked = join_all((0..2).map(|i| {
        app.send_as(
            reqwest::Method::PATCH,
            &path,
            &a.owner.token,
            Some(json!({"title": format!("Renamed {i}")})),
        )
    }));
    let sending = async {
        eventually(
            10,
            "both pooled connections waiting on the lock",
            || async {
                let waiting: i64 = app
                    .db
                    .client()
                    .await
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .get(0);
                (waiting >= 2).then_some(())
            },
        )
        .await;
        sender
            .request_ok(
                send_frame(&b.room, "while-starved", "Line 2 stopped"),
                "ack",
            )
            .await
    };
    let (answers, ack) = tokio::join!(blocked, sending);
    assert!(ack["seq"].as_i64().is_some(), "{ack}");
    for (status, body) in answers {
        assert_eq!(
            (status, body["code"].as_str()),
            (503, Some("unavailable")),
            "{body}"
        );
    }
    locker.batch_execute("ROLLBACK").await.unwrap();
}

/// A user's unread count of `room` in the room list and in the room itself.
async fn unread(app: &TestApp, room: &str, token: &str) -> (i64, i64) {
    let (_, list) = app.get_as("/api/rooms", token).await;
    let listed = list["rooms"]
        .as_array()
        .and_then(|rooms| rooms.iter().find(|r| r["id"] == room))
        .map(|r| r["unread"].as_i64().unwrap_or(-1));
    let (_, one) = app.get_as(&format!("/api/rooms/{room}"), token).await;
    (listed.unwrap_or(-1), one["unread"].as_i64().unwrap_or(-1))
}

#[tokio::test]
async fn unread_counts_come_from_counters_and_leave_out_ones_own_messages() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut editor = WsClient::connect(&app, &c.editor.token).await;
    let mut owner = WsClient::connect(&app, &c.owner.token).await;
    for i in 0..3 {
        editor
            .request_ok(send_frame(&c.room, &format!("e{i}"), "from editor"), "ack")
            .await;
    }
    for i in 0..2 {
        owner
            .request_ok(send_frame(&c.room, &format!("o{i}"), "from owner"), "ack")
            .await;
    }
    assert_eq!(unread(&app, &c.room, &c.editor.token).await, (2, 2));
    assert_eq!(unread(&app, &c.room, &c.owner.token).await, (3, 3));
    assert_eq!(unread(&app, &c.room, &c.viewer.token).await, (5, 5));

    // Reading up to the second message leaves the editor's third (its own two are not unread).
    owner
        .send(json!({"type": "read", "room_id": c.room, "seq": db_head(&app, &c.room).await - 3}))
        .await;
    eventually(10, "the owner's marker stored", || async {
        (unread(&app, &c.room, &c.owner.token).await == (1, 1)).then_some(())
    })
    .await;

    // Removed and added again: their own earlier messages are still not unread.
    let path = format!("/api/rooms/{}/members/{}", c.room, c.editor.id);
    let (status, body) = app
        .send_as(reqwest::Method::DELETE, &path, &c.owner.token, None)
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    add_member(&app, &c.owner, &c.room, &c.editor, "editor").await;
    assert_eq!(unread(&app, &c.room, &c.editor.token).await, (2, 2));
}

#[tokio::test]
async fn an_admin_editing_someone_elses_message_is_audited() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let mut editor = WsClient::connect(&app, &c.editor.token).await;
    let ack = editor
        .request_ok(send_frame(&c.room, "m1", "Line 3 stopped"), "ack")
        .await;
    let message = ack["message_id"].as_str().unwrap().to_string();
    let mut ws = WsClient::connect(&app, &admin.token).await;
    ws.request_ok(
        json!({"type": "edit", "room_id": c.room, "message_id": message, "content": "Line 4 stopped"}),
        "ack",
    )
    .await;
    let rows = app
        .db
        .client()
        .await
        .query(
            "SELECT actor, target, details FROM audit_log WHERE action = 'edit_others_message'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one audit entry");
    let (actor, target, details): (String, String, serde_json::Value) =
        (rows[0].get(0), rows[0].get(1), rows[0].get(2));
    assert_eq!(
        (actor.as_str(), target.as_str()),
        ("admin@andon.test", message.as_str())
    );
    assert_eq!(details["previous_content"], "Line 3 stopped");
    assert_eq!(details["sender"], c.editor.id);
}
