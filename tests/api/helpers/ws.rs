//! A WebSocket test client speaking the protocol of `docs/PROTOCOL.md`.
//!
//! [`WsClient::connect`] fetches a ticket over REST and upgrades `GET /api/ws`.
//! Every text frame received is parsed as JSON and kept in [`WsClient::log`], so a
//! test can skip frames while waiting for one and still inspect the room's events
//! afterwards. Every wait has a timeout and panics with what it was waiting for.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

use super::{TestApp, TestUser};

/// How long a single wait for the next frame may take before the test fails.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// What the socket delivered next.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A JSON text frame.
    Json(Value),
    /// A close frame and its code (`None`: a close frame without a code).
    Close(Option<u16>),
    /// The connection ended without a close frame (EOF or an I/O error).
    Ended(String),
}

pub struct WsClient {
    stream: WebSocketStream<TcpStream>,
    /// Every JSON frame received so far, in order.
    pub log: Vec<Value>,
    /// For failure messages.
    pub label: String,
    next_ref: u64,
}

/// `POST /api/ws-ticket` with the bearer token; panics unless it gives a ticket.
pub async fn ws_ticket(app: &TestApp, token: &str) -> String {
    let (status, body) = app
        .send_as(reqwest::Method::POST, "/api/ws-ticket", token, None)
        .await;
    assert!(
        (200..300).contains(&status),
        "POST /api/ws-ticket: {status} {body}"
    );
    assert_eq!(body["expires_in"], 30, "ticket lifetime: {body}");
    body["ticket"]
        .as_str()
        .unwrap_or_else(|| panic!("no ticket in {body}"))
        .to_string()
}

/// Upgrades `GET /api/ws?ticket=...`; `Err((status, body))` when the server answers
/// with plain HTTP instead of switching protocols.
pub async fn ws_open(
    app: &TestApp,
    ticket: Option<&str>,
    recv_buffer: Option<u32>,
) -> Result<WsClient, (u16, Value)> {
    let socket = TcpSocket::new_v4().expect("a TCP socket");
    if let Some(size) = recv_buffer {
        socket
            .set_recv_buffer_size(size)
            .expect("setting the receive buffer size");
    }
    let tcp = socket
        .connect(([127, 0, 0, 1], app.port).into())
        .await
        .expect("connecting to the app");
    let mut url = reqwest::Url::parse(&format!("ws://127.0.0.1:{}/api/ws", app.port)).unwrap();
    if let Some(t) = ticket {
        url.query_pairs_mut().append_pair("ticket", t);
    }
    match client_async(url.to_string(), tcp).await {
        Ok((stream, _)) => Ok(WsClient {
            stream,
            log: Vec::new(),
            label: "ws".into(),
            next_ref: 0,
        }),
        Err(tungstenite::Error::Http(resp)) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_deref()
                .map(|b| {
                    serde_json::from_slice(b)
                        .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(b)}))
                })
                .unwrap_or(Value::Null);
            Err((status, body))
        }
        Err(e) => panic!("WebSocket handshake failed: {e}"),
    }
}

/// A ticket for `token`, then the upgrade, against the server on `port`; any
/// failure (server down, database down, upgrade refused) is an `Err` to retry on,
/// as a tablet would.
pub async fn ws_try_connect(port: u16, token: &str) -> Result<WsClient, String> {
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/ws-ticket"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| format!("ticket request: {e}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let ticket = body["ticket"]
        .as_str()
        .ok_or_else(|| format!("no ticket: {status} {body}"))?;
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let mut url = reqwest::Url::parse(&format!("ws://127.0.0.1:{port}/api/ws")).unwrap();
    url.query_pairs_mut().append_pair("ticket", ticket);
    let (stream, _) =
        tokio::time::timeout(Duration::from_secs(5), client_async(url.to_string(), tcp))
            .await
            .map_err(|_| "upgrade timed out".to_string())?
            .map_err(|e| format!("upgrade: {e}"))?;
    Ok(WsClient {
        stream,
        log: Vec::new(),
        label: "ws".into(),
        next_ref: 0,
    })
}

impl WsClient {
    /// A fresh ticket for `token`, then the upgrade; panics if it is refused.
    pub async fn connect(app: &TestApp, token: &str) -> WsClient {
        let ticket = ws_ticket(app, token).await;
        ws_open(app, Some(&ticket), None)
            .await
            .unwrap_or_else(|(s, b)| panic!("upgrade refused: {s} {b}"))
    }

    /// Like [`connect`](Self::connect), with a small kernel receive buffer so that
    /// a client that stops reading backs up the server quickly.
    pub async fn connect_with_recv_buffer(app: &TestApp, token: &str, bytes: u32) -> WsClient {
        let ticket = ws_ticket(app, token).await;
        ws_open(app, Some(&ticket), Some(bytes))
            .await
            .unwrap_or_else(|(s, b)| panic!("upgrade refused: {s} {b}"))
    }

    /// Names the client in failure messages.
    pub fn named(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// Sends a JSON text frame.
    pub async fn send(&mut self, frame: Value) {
        self.send_raw(&frame.to_string()).await;
    }

    /// Sends any text frame (malformed JSON included); panics if the socket fails.
    pub async fn send_raw(&mut self, text: &str) {
        if let Err(e) = self.try_send_raw(text).await {
            panic!("{}: sending a frame failed: {e}", self.label);
        }
    }

    /// Sends a text frame, returning the error instead of panicking (the server
    /// may close the socket while the frame is on its way).
    pub async fn try_send_raw(&mut self, text: &str) -> Result<(), tungstenite::Error> {
        self.stream.send(Message::text(text.to_string())).await
    }

    /// The next frame, waiting at most `timeout`; pings and pongs are skipped.
    pub async fn next_frame_within(&mut self, timeout: Duration) -> Frame {
        match self.try_next_frame(timeout).await {
            Some(frame) => frame,
            None => panic!(
                "{}: no frame within {timeout:?}; last frames: {}",
                self.label,
                self.tail()
            ),
        }
    }

    /// The next frame, or `None` if nothing arrives within `timeout`.
    pub async fn try_next_frame(&mut self, timeout: Duration) -> Option<Frame> {
        loop {
            let next = tokio::time::timeout(timeout, self.stream.next())
                .await
                .ok()?;
            let msg = match next {
                None => return Some(Frame::Ended("end of stream".into())),
                Some(Err(e)) => return Some(Frame::Ended(e.to_string())),
                Some(Ok(m)) => m,
            };
            match msg {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                        panic!("{}: a text frame is not JSON ({e}): {text}", self.label)
                    });
                    self.log.push(value.clone());
                    return Some(Frame::Json(value));
                }
                Message::Close(frame) => {
                    return Some(Frame::Close(frame.map(|f| u16::from(f.code))));
                }
                Message::Binary(_) => panic!("{}: unexpected binary frame", self.label),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// The next JSON frame; panics on a close, an end of stream or a timeout.
    pub async fn recv(&mut self) -> Value {
        match self.next_frame_within(RECV_TIMEOUT).await {
            Frame::Json(v) => v,
            other => panic!("{}: expected a frame, got {other:?}", self.label),
        }
    }

    /// Receives until a frame matches `pred` and returns it (the frames skipped stay
    /// in [`log`](Self::log)).
    pub async fn recv_until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.recv_until_collect(what, pred)
            .await
            .pop()
            .expect("the matching frame")
    }

    /// Receives until a frame matches `pred`: every frame received, the match last.
    pub async fn recv_until_collect(
        &mut self,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let mut got = Vec::new();
        loop {
            let frame = match self.next_frame_within(RECV_TIMEOUT).await {
                Frame::Json(v) => v,
                other => panic!(
                    "{}: waiting for {what}, got {other:?}; last frames: {}",
                    self.label,
                    self.tail()
                ),
            };
            let done = pred(&frame);
            got.push(frame);
            if done {
                return got;
            }
        }
    }

    /// Skips frames until the socket is closed and returns the close code.
    pub async fn expect_close(&mut self) -> u16 {
        self.expect_close_within(RECV_TIMEOUT).await
    }

    /// Like [`expect_close`](Self::expect_close), waiting up to `idle` for each frame.
    pub async fn expect_close_within(&mut self, idle: Duration) -> u16 {
        loop {
            match self.next_frame_within(idle).await {
                Frame::Json(_) => continue,
                Frame::Close(Some(code)) => return code,
                other => panic!(
                    "{}: expected a close frame with a code, got {other:?}; last frames: {}",
                    self.label,
                    self.tail()
                ),
            }
        }
    }

    /// Sends a close frame (best effort) and drops the connection.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// Sends `frame` with a fresh `ref` and returns the reply carrying that `ref`
    /// (`subscribed`, `unsubscribed`, `ack`, `pong` or `error`).
    pub async fn request(&mut self, mut frame: Value) -> Value {
        self.next_ref += 1;
        let r = format!("r{}", self.next_ref);
        frame["ref"] = json!(r);
        let what = format!("the reply to {frame}");
        self.send(frame).await;
        self.recv_until(&what, |f| f["ref"] == r.as_str()).await
    }

    /// `request`, then panics unless the reply has `type` `expected`.
    pub async fn request_ok(&mut self, frame: Value, expected: &str) -> Value {
        let reply = self.request(frame.clone()).await;
        assert_eq!(
            reply["type"], expected,
            "{}: {frame} was answered with {reply}",
            self.label
        );
        reply
    }

    /// Subscribes (replaying after `after_seq` when given); the `subscribed` frame.
    pub async fn subscribe(&mut self, room: &str, after_seq: Option<i64>) -> Value {
        let mut frame = json!({"type": "subscribe", "room_id": room});
        if let Some(n) = after_seq {
            frame["after_seq"] = json!(n);
        }
        let reply = self.request_ok(frame, "subscribed").await;
        assert_eq!(reply["room_id"], room);
        reply
    }

    /// Sends a text message; the `ack`.
    pub async fn send_text(&mut self, room: &str, client_id: &str, content: &str) -> Value {
        self.request_ok(send_frame(room, client_id, content), "ack")
            .await
    }

    /// Receives until the room's event with this `seq` arrives and returns it.
    pub async fn recv_event(&mut self, room: &str, seq: i64) -> Value {
        let what = format!("event {seq} of room {room}");
        self.recv_until(&what, |f| is_event(f, room) && f["seq"] == seq)
            .await
    }

    /// Receives until the next event of `kind` in `room` and returns it.
    pub async fn recv_kind(&mut self, room: &str, kind: &str) -> Value {
        let what = format!("a {kind} event in room {room}");
        self.recv_until(&what, |f| is_event(f, room) && f["kind"] == kind)
            .await
    }

    /// The room's `event` frames received so far, in arrival order.
    pub fn events(&self, room: &str) -> Vec<Value> {
        self.log
            .iter()
            .filter(|f| is_event(f, room))
            .cloned()
            .collect()
    }

    /// The `seq` of the room's events received so far, in arrival order.
    pub fn seqs(&self, room: &str) -> Vec<i64> {
        self.events(room)
            .iter()
            .map(|e| e["seq"].as_i64().expect("event seq"))
            .collect()
    }

    /// The highest `seq` of the room received so far (0 if none).
    pub fn last_seq(&self, room: &str) -> i64 {
        self.log
            .iter()
            .filter(|f| is_event(f, room))
            .filter_map(|f| f["seq"].as_i64())
            .max()
            .unwrap_or(0)
    }

    /// Receives until the room's event `head` has arrived (at once if it has).
    pub async fn drain_to(&mut self, room: &str, head: i64) {
        let mut last = self.last_seq(room);
        while last < head {
            let what = format!("events of room {room} up to {head} (got {last})");
            let event = self.recv_until(&what, |f| is_event(f, room)).await;
            last = last.max(event["seq"].as_i64().unwrap_or(0));
        }
    }

    /// Frames of `type` received so far.
    pub fn frames_of_type(&self, ty: &str) -> Vec<Value> {
        self.log
            .iter()
            .filter(|f| f["type"] == ty)
            .cloned()
            .collect()
    }

    fn tail(&self) -> String {
        let start = self.log.len().saturating_sub(5);
        let tail: Vec<String> = self.log[start..]
            .iter()
            .map(|v| {
                let s = v.to_string();
                if s.chars().count() > 300 {
                    format!("{}…", s.chars().take(300).collect::<String>())
                } else {
                    s
                }
            })
            .collect();
        format!("[{}]", tail.join(", "))
    }
}

/// A `send` frame for a text message.
pub fn send_frame(room: &str, client_id: &str, content: &str) -> Value {
    json!({"type": "send", "room_id": room, "client_id": client_id,
           "message_type": "text", "content": content, "metadata": {}})
}

/// Whether `frame` is a durable event of `room`.
pub fn is_event(frame: &Value, room: &str) -> bool {
    frame["type"] == "event" && frame["room_id"] == room
}

/// Whether `frame` is an error with `code`.
pub fn is_error(frame: &Value, code: &str) -> bool {
    frame["type"] == "error" && frame["code"] == code
}

/// The room's event log in the database: `(seq, kind, actor, data)` by `seq`.
pub async fn db_events(app: &TestApp, room: &str) -> Vec<(i64, String, String, Value)> {
    let room: uuid::Uuid = room.parse().expect("room id is a UUID");
    app.db
        .client()
        .await
        .query(
            "SELECT seq, kind, actor, data FROM room_events WHERE room_id = $1 ORDER BY seq",
            &[&room],
        )
        .await
        .expect("reading room_events")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// Panics unless `events` (frames) are exactly the database's log entries, in order.
pub fn assert_events_match_db(label: &str, events: &[Value], db: &[(i64, String, String, Value)]) {
    let got: Vec<i64> = events
        .iter()
        .map(|e| e["seq"].as_i64().unwrap_or(-1))
        .collect();
    let want: Vec<i64> = db.iter().map(|e| e.0).collect();
    assert_eq!(
        got, want,
        "{label}: received seqs differ from the database log"
    );
    for (event, (seq, kind, actor, data)) in events.iter().zip(db) {
        assert_eq!(
            (&event["kind"], &event["actor"], &event["data"]),
            (&json!(kind), &json!(actor), data),
            "{label}: event {seq} differs from the database"
        );
    }
}

/// The highest `seq` in the room's event log (0 if none).
pub async fn db_head(app: &TestApp, room: &str) -> i64 {
    db_events(app, room).await.last().map(|e| e.0).unwrap_or(0)
}

/// A room and the users playing each role in it.
pub struct Cast {
    pub room: String,
    pub owner: TestUser,
    pub editor: TestUser,
    pub viewer: TestUser,
    /// Not a member.
    pub outsider: TestUser,
}

/// A fresh room owned by "owner", with an "editor" and a "viewer".
pub async fn cast(app: &TestApp) -> Cast {
    let (owner, editor, viewer, outsider) = tokio::join!(
        app.user("owner"),
        app.user("editor"),
        app.user("viewer"),
        app.user("outsider")
    );
    let room = new_room(app, &owner).await;
    add_member(app, &owner, &room, &editor, "editor").await;
    add_member(app, &owner, &room, &viewer, "viewer").await;
    Cast {
        room,
        owner,
        editor,
        viewer,
        outsider,
    }
}

/// Creates a room as `owner`; its id.
pub async fn new_room(app: &TestApp, owner: &TestUser) -> String {
    let room = app
        .create_room(
            &owner.token,
            json!({"title": "Line 3 conveyor stopped", "incident_type": "equipment_failure",
                   "severity": "high"}),
        )
        .await;
    room["id"].as_str().expect("room id").to_string()
}

/// `DELETE /api/rooms/{id}/permanent` as `admin`; the status.
pub async fn delete_room_permanently(app: &TestApp, admin: &TestUser, room: &str) -> u16 {
    let path = format!("/api/rooms/{room}/permanent");
    app.send_as(reqwest::Method::DELETE, &path, &admin.token, None)
        .await
        .0
}

/// `POST /api/rooms/{id}/members` as the owner; panics unless 201.
pub async fn add_member(app: &TestApp, owner: &TestUser, room: &str, user: &TestUser, role: &str) {
    let (status, body) = app
        .send_as(
            reqwest::Method::POST,
            &format!("/api/rooms/{room}/members"),
            &owner.token,
            Some(json!({"user_id": user.id, "role": role})),
        )
        .await;
    assert_eq!(status, 201, "adding {} as {role}: {body}", user.id);
}

/// Resolves, then archives the room as its owner.
pub async fn archive_room(app: &TestApp, owner: &TestUser, room: &str) {
    for body in [
        json!({"status": "resolved", "resolution_notes": "belt replaced"}),
        json!({"status": "archived"}),
    ] {
        let (status, got) = app
            .send_as(
                reqwest::Method::PATCH,
                &format!("/api/rooms/{room}"),
                &owner.token,
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "changing the room's status: {got}");
    }
}
