//! Several nodes on one database, as behind a load balancer: what holds without a
//! message bus between them.

use reqwest::Method;

use crate::helpers::{TestApp, WsClient, new_room, ws_open, ws_ticket};

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
