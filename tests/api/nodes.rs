//! Several nodes on one database, as behind a load balancer: sessions work on
//! every node; with NATS between them (`ANDON_NATS_URL`), committed events reach
//! every node's sockets at once.

use reqwest::Method;

use crate::helpers::{
    TcpProxy, TestApp, TestUser, WsClient, add_member, db_events, delete_room_permanently,
    is_event, nats_url, new_room, send_frame, ws_open, ws_ticket,
};

#[tokio::test]
async fn a_session_from_one_node_holds_sockets_and_requests_on_another() {
    let a = TestApp::spawn().await;
    let b = a.node().await;
    // Logged in through A after B started: B has never seen this session.
    let user = a.user("two-nodes").await;
    let room = new_room(&a, &user).await;

    // REST on B.
    let (status, _) = b.get_as(&format!("/api/rooms/{room}"), &user.token).await;
    assert_eq!(status, 200);

    // A socket on B stays open and works as it would on A (it used to be closed
    // with 4001 at once: B's supervisor did not know the session).
    let mut on_b = WsClient::connect(&b, &user.token).await.named("on B");
    on_b.subscribe(&room, None).await;
    let ack = on_b.send_text(&room, "n-1", "sent through node B").await;
    let (status, page) = a
        .get_as(&format!("/api/rooms/{room}/messages"), &user.token)
        .await;
    assert_eq!(status, 200);
    let stored: Vec<_> = page["messages"]
        .as_array()
        .expect("a page of messages")
        .iter()
        .filter(|m| m["content"] == "sent through node B")
        .collect();
    assert_eq!(stored.len(), 1, "node A reads what node B stored: {page}");
    assert_eq!(stored[0]["id"], ack["message_id"]);

    // B looks after the session from now on: a logout through B closes the
    // socket with 4001.
    let (status, _) = b
        .call(b.authed(Method::POST, "/api/auth/logout", &user.token))
        .await;
    assert_eq!(status, 204);
    assert_eq!(on_b.expect_close().await, 4001);
}

#[tokio::test]
async fn a_socket_for_an_ended_session_is_closed_on_every_node() {
    let a = TestApp::spawn().await;
    let b = a.node().await;
    let user = a.user("ended").await;
    // The ticket is taken, then the session ends through A before the upgrade.
    let ticket = ws_ticket(&b, &user.token).await;
    let (status, _) = a
        .call(a.authed(Method::POST, "/api/auth/logout", &user.token))
        .await;
    assert_eq!(status, 204);
    let opened = ws_open(&b, Some(&ticket), None).await;
    match opened {
        // The ticket died with the session, or the socket is closed at once.
        Err((status, _)) => assert_eq!(status, 401),
        Ok(mut ws) => assert_eq!(ws.expect_close().await, 4001),
    }
}

async fn cluster(nodes: usize) -> Vec<TestApp> {
    let first = TestApp::builder()
        .env("ANDON_NATS_URL", nats_url())
        .spawn()
        .await;
    let mut all = vec![first];
    for _ in 1..nodes {
        let next = all[0].node().await;
        all.push(next);
    }
    all
}

/// An owner, an editor and their room: `(owner, editor, room)`.
async fn room_with_editor(app: &TestApp, tag: &str) -> (TestUser, TestUser, String) {
    let owner = app.user(&format!("{tag}-owner")).await;
    let editor = app.user(&format!("{tag}-editor")).await;
    let room = new_room(app, &owner).await;
    add_member(app, &owner, &room, &editor, "editor").await;
    (owner, editor, room)
}

/// Receives until `n` messages arrived; the seqs of every event on the way.
async fn event_seqs_until_messages(ws: &mut WsClient, room: &str, n: usize) -> Vec<i64> {
    let seen = std::cell::Cell::new(0);
    let frames = ws
        .recv_until_collect(&format!("{n} messages"), |f| {
            if is_event(f, room) && f["kind"] == "message.created" {
                seen.set(seen.get() + 1);
            }
            seen.get() == n
        })
        .await;
    frames
        .iter()
        .filter(|f| is_event(f, room))
        .map(|f| f["seq"].as_i64().expect("an event has a seq"))
        .collect()
}

#[tokio::test]
async fn a_message_sent_through_one_node_reaches_sockets_on_another_at_once() {
    let nodes = cluster(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let user = a.user("bus-live").await;
    let room = new_room(a, &user).await;
    let mut on_b = WsClient::connect(b, &user.token).await.named("on B");
    on_b.subscribe(&room, None).await;
    let mut on_a = WsClient::connect(a, &user.token).await.named("on A");
    on_a.subscribe(&room, None).await;

    let ack = on_a.send_text(&room, "live-1", "line 3 stopped").await;
    // Nothing else happens on B: without the bus this event would wait there
    // for a later one.
    let event = on_b
        .recv_until("the message from node A", |f| {
            is_event(f, &room) && f["data"]["id"] == ack["message_id"]
        })
        .await;
    assert_eq!(event["seq"], ack["seq"]);
}

#[tokio::test]
async fn three_nodes_sending_at_once_every_socket_sees_the_room_log_in_order() {
    let nodes = cluster(3).await;
    let user = nodes[0].user("bus-order").await;
    let room = new_room(&nodes[0], &user).await;
    let mut sockets = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut ws = WsClient::connect(node, &user.token)
            .await
            .named(&format!("node {i}"));
        let head = ws.subscribe(&room, None).await["head_seq"]
            .as_i64()
            .expect("head_seq");
        sockets.push((ws, head));
    }
    // Ten sends through every node, interleaved, none waiting for its ack.
    const PER_NODE: usize = 10;
    for k in 0..PER_NODE {
        for (i, (ws, _)) in sockets.iter_mut().enumerate() {
            ws.send(send_frame(
                &room,
                &format!("n{i}-{k}"),
                &format!("from node {i}, #{k}"),
            ))
            .await;
        }
    }
    for (ws, head) in &mut sockets {
        let seqs = event_seqs_until_messages(ws, &room, PER_NODE * 3).await;
        let stored: Vec<i64> = db_events(&nodes[0], &room)
            .await
            .into_iter()
            .map(|(seq, ..)| seq)
            .filter(|seq| seq > head)
            .collect();
        assert_eq!(seqs, stored, "every event once, in order, no gap");
    }
}

#[tokio::test]
async fn a_logout_through_one_node_closes_the_session_s_socket_on_another_within_a_second() {
    let nodes = cluster(3).await;
    let user = nodes[0].user("bus-logout").await;
    let room = new_room(&nodes[0], &user).await;
    let mut on_c = WsClient::connect(&nodes[2], &user.token)
        .await
        .named("on C");
    on_c.subscribe(&room, None).await; // answered once the session is attached on C

    let (status, _) = nodes[0]
        .call(nodes[0].authed(Method::POST, "/api/auth/logout", &user.token))
        .await;
    assert_eq!(status, 204);
    let code = on_c
        .expect_close_within(std::time::Duration::from_secs(1))
        .await;
    assert_eq!(code, 4001);
}

#[tokio::test]
async fn a_room_deleted_through_one_node_ends_its_subscriptions_on_another() {
    let nodes = cluster(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let owner = a.user("bus-delete").await;
    let admin = a.user_with_id("admin@andon.test", "Admin").await;
    let room = new_room(a, &owner).await;
    let mut on_b = WsClient::connect(b, &owner.token).await.named("on B");
    on_b.subscribe(&room, None).await;

    assert_eq!(delete_room_permanently(a, &admin, &room).await, 204);
    let event = on_b
        .recv_until("room.deleted", |f| {
            is_event(f, &room) && f["kind"] == "room.deleted"
        })
        .await;
    assert_eq!(event["actor"], "admin@andon.test");
    let ended = on_b
        .recv_until("unsubscribed", |f| f["type"] == "unsubscribed")
        .await;
    assert_eq!(ended["reason"], "deleted");
}

#[tokio::test]
async fn a_member_removed_through_one_node_loses_the_room_on_another() {
    let nodes = cluster(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (owner, member, room) = room_with_editor(a, "bus-removal").await;
    let mut on_b = WsClient::connect(b, &member.token)
        .await
        .named("member on B");
    on_b.subscribe(&room, None).await;

    let (status, _) = a
        .send_as(
            Method::DELETE,
            &format!("/api/rooms/{room}/members/{}", member.id),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let ended = on_b
        .recv_until("unsubscribed", |f| f["type"] == "unsubscribed")
        .await;
    assert_eq!(ended["reason"], "removed");
}

#[tokio::test]
async fn one_node_refreshes_a_session_and_three_rejections_log_it_out_once() {
    // Tokens of 3 s and a threshold of 2 s: the first refresh 1 s after login,
    // retries 1 s apart (as in sessions.rs).
    let a = TestApp::builder()
        .env("ANDON_NATS_URL", nats_url())
        .env("ANDON_REFRESH_THRESHOLD_SECS", 2)
        .env("ANDON_REFRESH_RETRY_SECS", 1)
        .spawn()
        .await;
    a.ad.set_token_ttl(3).await;
    let b = a.node().await;
    let user = a.user("one-refresher").await;
    // Both nodes look after the session: A since the login, B since a socket.
    let room = new_room(&a, &user).await;
    let mut on_b = WsClient::connect(&b, &user.token).await.named("on B");
    on_b.subscribe(&room, None).await;
    assert_eq!(a.get_as("/api/auth/me", &user.token).await.0, 200); // active on A
    a.ad.set_password(&user.id, "changed-at-ad").await;

    assert_eq!(
        on_b.expect_close_within(std::time::Duration::from_secs(20))
            .await,
        4001
    );
    assert_eq!(
        a.ad.login_requests().await,
        1 + 3,
        "the login, then three rejected refreshes in all, not three per node"
    );
    let (status, body) = b.get_as("/api/auth/me", &user.token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "session_revoked");
}

/// Waits for a presence frame in `room` that lists `user` as `online` or not.
async fn presence_of(ws: &mut WsClient, room: &str, user: &str, online: bool) {
    let list = if online { "online" } else { "offline" };
    ws.recv_until(&format!("{user} {list}"), |f| {
        f["type"] == "presence"
            && f["room_id"] == room
            && f[list]
                .as_array()
                .is_some_and(|l| l.iter().any(|u| u == user))
    })
    .await;
}

#[tokio::test]
async fn typing_and_presence_on_one_node_are_shown_on_another() {
    let nodes = cluster(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (owner, editor, room) = room_with_editor(a, "bus-typing").await;
    let mut watcher = WsClient::connect(b, &owner.token).await.named("owner on B");
    watcher.subscribe(&room, None).await;
    let mut typist = WsClient::connect(a, &editor.token)
        .await
        .named("editor on A");
    let subscribed = typist.subscribe(&room, None).await;

    // Each hears of the other, whichever node they are on.
    presence_of(&mut watcher, &room, &editor.id, true).await;
    if !subscribed["online"]
        .as_array()
        .is_some_and(|l| l.iter().any(|u| u == owner.id.as_str()))
    {
        presence_of(&mut typist, &room, &owner.id, true).await;
    }

    typist
        .send(serde_json::json!({"type": "typing", "room_id": room}))
        .await;
    let typing = watcher
        .recv_until("the editor typing", |f| f["type"] == "typing")
        .await;
    assert_eq!(typing["user"], editor.id.as_str());
    assert_eq!(typing["room_id"], room.as_str());

    // The editor's last socket, on A, goes: offline on B too.
    drop(typist);
    presence_of(&mut watcher, &room, &editor.id, false).await;
}

#[tokio::test]
async fn with_nats_cut_delivery_goes_on_from_the_log_and_resumes_live_after() {
    let target = nats_url().trim_start_matches("nats://").to_string();
    let proxy = TcpProxy::start(target).await;
    let a = TestApp::builder()
        .env("ANDON_NATS_URL", format!("nats://127.0.0.1:{}", proxy.port))
        .spawn()
        .await;
    let b = a.node().await;
    let user = a.user("bus-outage").await;
    let room = new_room(&a, &user).await;
    let mut on_b = WsClient::connect(&b, &user.token).await.named("on B");
    on_b.subscribe(&room, None).await;
    let mut on_a = WsClient::connect(&a, &user.token).await.named("on A");
    on_a.subscribe(&room, None).await;
    let received = |ack: serde_json::Value, room: String| {
        move |f: &serde_json::Value| is_event(f, &room) && f["data"]["id"] == ack["message_id"]
    };

    let ack = on_a.send_text(&room, "o-1", "before the cut").await;
    on_b.recv_until("live", received(ack, room.clone())).await;

    proxy.cut();
    let ack = on_a.send_text(&room, "o-2", "during the cut").await;
    on_b.recv_until("read from the log", received(ack, room.clone()))
        .await;
    assert_eq!(
        b.get_as("/readyz", &user.token).await.0,
        200,
        "the database is the truth"
    );

    proxy.restore();
    let ack = on_a.send_text(&room, "o-3", "after the cut").await;
    on_b.recv_until("after the cut", received(ack, room.clone()))
        .await;
}

#[tokio::test]
async fn a_report_started_through_one_node_reports_progress_to_the_requesters_socket_on_another() {
    let nodes = cluster(2).await;
    let (owner, editor, room) = room_with_editor(&nodes[0], "report").await;
    let mut on_b = WsClient::connect(&nodes[1], &editor.token)
        .await
        .named("requester on B");
    on_b.subscribe(&room, None).await;
    let mut owner_on_b = WsClient::connect(&nodes[1], &owner.token)
        .await
        .named("owner on B");
    owner_on_b.subscribe(&room, None).await;

    // Started (and so run) on A.
    let (status, started) = nodes[0]
        .send_as(
            Method::POST,
            &format!("/api/rooms/{room}/reports"),
            &editor.token,
            Some(serde_json::json!({"language": "en"})),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let done = on_b
        .recv_until("completed", |f| {
            f["type"] == "report_progress" && f["status"] == "completed"
        })
        .await;
    assert_eq!(done["report_id"], started["id"]);
    let event = owner_on_b.recv_kind(&room, "report.created").await;
    assert_eq!(event["data"]["report"]["id"], started["id"]);
    assert!(
        owner_on_b
            .log
            .iter()
            .all(|f| f["type"] != "report_progress"),
        "progress went to the requester only"
    );
}

#[tokio::test]
async fn two_nodes_running_ladders_take_each_escalation_level_once() {
    let mut nodes = cluster(2).await;
    let admin = nodes[0].user_with_id("admin@andon.test", "Admin").await;
    let lead = nodes[0]
        .user_with_id("ladder.lead@andon.test", "Lead")
        .await;
    let owner = nodes[0].user("ladder-owner").await;
    let (status, body) = nodes[0]
        .send_as(
            Method::PUT,
            "/api/escalation-policies/critical",
            &admin.token,
            Some(serde_json::json!({"levels": [
                {"after_secs": 3, "notify": ["ladder.lead@andon.test"]},
                {"after_secs": 4, "notify": ["ladder.lead@andon.test"]},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Created through A (A's actor is told); B restarts, so its actor loads the
    // room from the database: both hold timers for both levels.
    let room = nodes[0]
        .create_room(
            &owner.token,
            serde_json::json!({"title": "Both nodes watching", "incident_type": "other",
                               "severity": "critical"}),
        )
        .await;
    let room = room["id"].as_str().unwrap().to_string();
    let b = nodes.pop().unwrap().restart().await;
    let levels = |app: &TestApp| {
        let path = format!("/api/rooms/{room}/events?limit=1000");
        let token = owner.token.clone();
        let app_url = app.url(&path);
        async move {
            let body: serde_json::Value = reqwest::Client::new()
                .get(app_url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "room.escalated")
                .map(|e| e["data"]["level"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    crate::helpers::eventually(15, "both levels", || async {
        (levels(&b).await.len() >= 2).then_some(())
    })
    .await;
    // Both nodes' timers fired for each level; each took effect once.
    assert_eq!(levels(&nodes[0]).await, [1, 2]);
    let (_, inbox) = b.get_as("/api/notifications", &lead.token).await;
    let escalated = inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "escalated")
        .count();
    assert_eq!(escalated, 2, "{inbox}");
}
