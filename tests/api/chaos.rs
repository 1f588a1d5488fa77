//! Chaos (issue 15): clients keep sending through their outbox while the real
//! `andon` process is killed with SIGKILL and restarted, its database connection is
//! cut for seconds, and it is stopped with SIGTERM; then the stored log, every ack
//! and what a resuming observer saw are checked against each other.
//!
//! What "acked" means across a kill: an `ack` received is a stored message; an
//! error, or no answer before the socket ends, means "resend the same `client_id`
//! after reconnecting" — a resend of a message that was in fact stored must get
//! the same `seq` back.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::helpers::binary::{self, Server};
use crate::helpers::{Frame, TcpProxy, TestAd, TestDb, WsClient, eventually, nats_url, send_frame};

const CLIENTS: usize = 4;
const ROOMS: usize = 3;
const PER_CLIENT: usize = 80;
/// Sends a client has on the wire without an answer.
const WINDOW: usize = 4;
/// Between two sends of one client: keeps the traffic going through every fault
/// and each socket well under the 100 frames per second limit.
const PACE: Duration = Duration::from_millis(15);
/// The whole run must end by then (it takes about 10 s).
const DEADLINE: Duration = Duration::from_secs(50);
const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// What one sending client saw.
#[derive(Default)]
struct SenderReport {
    name: String,
    /// client_id → (room, message id, seq) of its first ack.
    acks: HashMap<String, (String, String, i64)>,
    /// Acks for a client_id that was already acked (a resend of a stored message).
    repeated_acks: usize,
    /// Repeated acks naming another message or seq than the first one.
    mismatched_acks: Vec<String>,
    /// Frames sent again with a client_id already sent once.
    resends: usize,
    connections: usize,
    unavailable: usize,
    /// Errors other than `unavailable`: never resent, and the test fails.
    unexpected: Vec<Value>,
}

/// Connects (ticket, then upgrade) until it works: the server may be down, starting
/// or without its database. Tries the `ports` in turn, from the first, as a
/// client behind a load balancer that drops a dead node would.
async fn connect_retrying(ports: &[u16], token: &str, deadline: Instant, who: &str) -> WsClient {
    for port in ports.iter().cycle() {
        match crate::helpers::ws_try_connect(*port, token).await {
            Ok(ws) => return ws.named(who),
            Err(e) => {
                assert!(Instant::now() < deadline, "{who}: could not reconnect: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    unreachable!("no ports to connect to")
}

/// Sends every `(client_id, room)` of `outbox`, keeping each until it is acked and
/// resending it after every reconnect, like a tablet's outbox.
async fn sender(
    ports: Vec<u16>,
    token: String,
    name: String,
    outbox: Vec<(String, String)>,
    acked_total: Arc<AtomicUsize>,
    deadline: Instant,
) -> SenderReport {
    let mut r = SenderReport {
        name: name.clone(),
        ..SenderReport::default()
    };
    let mut sent_once: HashSet<usize> = HashSet::new();
    let mut given_up: HashSet<usize> = HashSet::new();
    // The last ack of a connection that broke counts as lost in transit: its
    // message is sent again, and must be acked as it was the first time.
    let mut last_acked: Option<usize> = None;
    while r.acks.len() + given_up.len() < outbox.len() {
        let mut ws = connect_retrying(&ports, &token, deadline, &name).await;
        r.connections += 1;
        let mut pending: VecDeque<usize> = last_acked
            .take()
            .into_iter()
            .chain(
                (0..outbox.len())
                    .filter(|i| !r.acks.contains_key(&outbox[*i].0) && !given_up.contains(i)),
            )
            .collect();
        let mut in_flight: HashSet<usize> = HashSet::new();
        loop {
            assert!(
                Instant::now() < deadline,
                "{name}: {} of {} acked by the deadline",
                r.acks.len(),
                outbox.len()
            );
            let mut broken = false;
            while in_flight.len() < WINDOW
                && let Some(i) = pending.pop_front()
            {
                let (client_id, room) = &outbox[i];
                let mut frame = send_frame(room, client_id, &format!("{name} #{i}"));
                frame["ref"] = json!(i);
                if !sent_once.insert(i) {
                    r.resends += 1;
                }
                in_flight.insert(i);
                if ws.try_send_raw(&frame.to_string()).await.is_err() {
                    broken = true;
                    break;
                }
                tokio::time::sleep(PACE).await;
            }
            if broken || (in_flight.is_empty() && pending.is_empty()) {
                break;
            }
            let frame = match ws.try_next_frame(Duration::from_secs(5)).await {
                Some(Frame::Json(f)) => f,
                // Closed, ended or silent: whatever is in flight is resent.
                _ => break,
            };
            let Some(i) = frame["ref"].as_u64().map(|i| i as usize) else {
                continue;
            };
            match frame["type"].as_str() {
                Some("ack") => {
                    in_flight.remove(&i);
                    last_acked = Some(i);
                    let got = (
                        outbox[i].1.clone(),
                        frame["message_id"].as_str().unwrap_or_default().to_string(),
                        frame["seq"].as_i64().unwrap_or(-1),
                    );
                    match r.acks.get(&outbox[i].0) {
                        Some(first) => {
                            r.repeated_acks += 1;
                            if *first != got {
                                r.mismatched_acks
                                    .push(format!("{}: {first:?} then {got:?}", outbox[i].0));
                            }
                        }
                        None => {
                            r.acks.insert(outbox[i].0.clone(), got);
                            acked_total.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                Some("error") => {
                    in_flight.remove(&i);
                    if frame["code"] == "unavailable" {
                        r.unavailable += 1;
                        pending.push_back(i);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    } else {
                        r.unexpected.push(frame);
                        given_up.insert(i);
                    }
                }
                _ => {}
            }
        }
    }
    r
}

/// What the observer saw: every event per room, in arrival order.
struct ObserverReport {
    events: HashMap<String, Vec<Value>>,
    connections: usize,
}

/// Subscribes to every room, resuming after the last `seq` it saw in each after
/// every reconnect, until it has reached the heads it is finally given.
async fn observer(
    ports: Vec<u16>,
    token: String,
    rooms: Vec<String>,
    mut heads: watch::Receiver<Option<HashMap<String, i64>>>,
    deadline: Instant,
) -> ObserverReport {
    let mut report = ObserverReport {
        events: rooms.iter().map(|r| (r.clone(), Vec::new())).collect(),
        connections: 0,
    };
    let last = |report: &ObserverReport, room: &str| {
        report.events[room]
            .last()
            .and_then(|e| e["seq"].as_i64())
            .unwrap_or(0)
    };
    loop {
        let mut ws = connect_retrying(&ports, &token, deadline, "observer").await;
        report.connections += 1;
        let mut subscribed = true;
        for room in &rooms {
            let frame = json!({"type": "subscribe", "room_id": room,
                               "after_seq": last(&report, room), "ref": "sub"});
            if ws.try_send_raw(&frame.to_string()).await.is_err() {
                subscribed = false;
                break;
            }
        }
        if !subscribed {
            continue;
        }
        loop {
            assert!(
                Instant::now() < deadline,
                "observer: still reading at the deadline"
            );
            if let Some(want) = heads.borrow_and_update().as_ref()
                && want.iter().all(|(room, head)| last(&report, room) >= *head)
            {
                return report;
            }
            match ws.try_next_frame(Duration::from_millis(300)).await {
                None => {}
                Some(Frame::Json(f)) if f["type"] == "event" => {
                    let room = f["room_id"].as_str().unwrap_or_default().to_string();
                    if let Some(seen) = report.events.get_mut(&room) {
                        seen.push(f);
                    }
                }
                // A refused subscribe (the database is down): start over.
                Some(Frame::Json(f)) if f["type"] == "error" => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    break;
                }
                Some(Frame::Json(_)) => {}
                Some(_) => break,
            }
        }
    }
}

async fn restart_on(env: &[(&'static str, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    binary::serve(&env).await
}

/// The people and rooms of a run: `CLIENTS` senders (the first one owns the
/// rooms, the others are editors) and an observer (a viewer) in `ROOMS` rooms.
struct Plant {
    /// (user id, session token) of each sender.
    users: Vec<(String, String)>,
    observer_token: String,
    rooms: Vec<String>,
}

impl Plant {
    /// Logs everyone in and makes the rooms, through `server`.
    async fn set_up(ad: &TestAd, server: &Server) -> Self {
        let mut users = Vec::new();
        for n in 0..=CLIENTS {
            let (id, pw) = (format!("chaos{n}@andon.test"), format!("pw-chaos-{n}"));
            ad.add_user(&id, &pw, &format!("Chaos {n}")).await;
            users.push((id.clone(), server.login(&id, &pw).await));
        }
        let (observer_id, observer_token) = users.pop().expect("the observer");
        let owner = users[0].1.clone();
        let mut rooms = Vec::new();
        for r in 0..ROOMS {
            let room = server
                .post(
                    "/api/rooms",
                    Some(&owner),
                    json!({"title": format!("Chaos {r}"), "incident_type": "other", "severity": "low"}),
                )
                .await;
            let room = room["id"].as_str().expect("room id").to_string();
            let mut members: Vec<(&str, &str)> = users[1..]
                .iter()
                .map(|(id, _)| (id.as_str(), "editor"))
                .collect();
            members.push((observer_id.as_str(), "viewer"));
            for (user, role) in members {
                let added = server
                    .post(
                        &format!("/api/rooms/{room}/members"),
                        Some(&owner),
                        json!({"user_id": user, "role": role}),
                    )
                    .await;
                assert_eq!(added["user_id"], user, "adding {user}: {added}");
            }
            rooms.push(room);
        }
        Self {
            users,
            observer_token,
            rooms,
        }
    }

    /// Starts the senders and the observer on `ports` (each client starts on
    /// the first and moves on when it cannot connect).
    fn start(&self, ports: &[u16], deadline: Instant) -> Traffic {
        let (heads_tx, heads_rx) = watch::channel(None);
        let observer = tokio::spawn(observer(
            ports.to_vec(),
            self.observer_token.clone(),
            self.rooms.clone(),
            heads_rx,
            deadline,
        ));
        let acked = Arc::new(AtomicUsize::new(0));
        let senders = self
            .users
            .iter()
            .enumerate()
            .map(|(c, (_, token))| {
                let outbox = (0..PER_CLIENT)
                    .map(|i| (format!("c{c}-{i}"), self.rooms[(c + i) % ROOMS].clone()))
                    .collect();
                tokio::spawn(sender(
                    ports.to_vec(),
                    token.clone(),
                    format!("client{c}"),
                    outbox,
                    acked.clone(),
                    deadline,
                ))
            })
            .collect();
        Traffic {
            senders,
            observer,
            heads: heads_tx,
            acked,
        }
    }
}

/// The clients of a run, under way.
struct Traffic {
    senders: Vec<tokio::task::JoinHandle<SenderReport>>,
    observer: tokio::task::JoinHandle<ObserverReport>,
    /// The rooms' final heads, for the observer to read up to.
    heads: watch::Sender<Option<HashMap<String, i64>>>,
    acked: Arc<AtomicUsize>,
}

const TOTAL: usize = CLIENTS * PER_CLIENT;

impl Traffic {
    /// Waits until `share` per cent of all messages are acked.
    async fn acked_at_least(&self, share: usize) {
        let want = TOTAL * share / 100;
        eventually(30, &format!("{want} acks"), || async {
            (self.acked.load(Ordering::SeqCst) >= want).then_some(())
        })
        .await;
    }

    /// Waits for every sender, then for the observer to read every room up to
    /// its stored head, and checks the acks, the stored log and what the
    /// observer saw against each other: every acked message stored as acked,
    /// none twice, each room's events exactly 1..head, seen by the observer
    /// once each and in order.
    async fn finish_and_check(
        self,
        plant: &Plant,
        db: &TestDb,
    ) -> (Vec<SenderReport>, ObserverReport) {
        let rooms = &plant.rooms;
        let mut reports = Vec::new();
        for s in self.senders {
            reports.push(s.await.expect("a sender panicked"));
        }
        let pg = db.client().await;
        let mut heads = HashMap::new();
        for room in rooms {
            let room_id: uuid::Uuid = room.parse().expect("uuid");
            let head: i64 = pg
                .query_one(
                    "SELECT coalesce(max(seq), 0) FROM room_events WHERE room_id = $1",
                    &[&room_id],
                )
                .await
                .expect("head")
                .get(0);
            heads.insert(room.clone(), head);
        }
        self.heads.send_replace(Some(heads.clone()));
        let seen = self.observer.await.expect("the observer panicked");

        // The counts, so a run shows how much chaos the traffic met.
        let sum = |f: fn(&SenderReport) -> usize| reports.iter().map(f).sum::<usize>();
        println!(
            "chaos: {TOTAL} messages by {CLIENTS} clients in {ROOMS} rooms; acked {}, \
             repeated acks {}, resends {}, connections {}, unavailable {}; observer \
             connections {}, events per room {:?}",
            sum(|r| r.acks.len()),
            sum(|r| r.repeated_acks),
            sum(|r| r.resends),
            sum(|r| r.connections),
            sum(|r| r.unavailable),
            seen.connections,
            rooms.iter().map(|r| heads[r]).collect::<Vec<_>>()
        );

        for r in &reports {
            assert!(
                r.unexpected.is_empty(),
                "{}: errors other than unavailable: {:?}",
                r.name,
                r.unexpected
            );
            assert!(
                r.mismatched_acks.is_empty(),
                "{}: a resend was acked with another message or seq: {:?}",
                r.name,
                r.mismatched_acks
            );
            assert_eq!(r.acks.len(), PER_CLIENT, "{}: every message acked", r.name);
        }
        assert!(
            sum(|r| r.repeated_acks) > 0,
            "no message was sent again after being stored: the resend path went untested"
        );
        // Every acked message is stored with its acked seq.
        let stored: HashMap<(String, String), (String, String, i64)> = pg
            .query(
                "SELECT sender, client_id, room_id::text, id::text, seq FROM messages",
                &[],
            )
            .await
            .expect("messages")
            .iter()
            .map(|row| {
                (
                    (row.get(0), row.get(1)),
                    (row.get(2), row.get(3), row.get(4)),
                )
            })
            .collect();
        let mut wrong = Vec::new();
        for (r, (sender, _)) in reports.iter().zip(&plant.users) {
            for (client_id, ack) in &r.acks {
                match stored.get(&(sender.clone(), client_id.clone())) {
                    Some(row) if row == ack => {}
                    other => wrong.push(format!("{client_id}: acked {ack:?}, stored {other:?}")),
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "acked messages not stored as acked: {wrong:?}"
        );

        // No client_id stored twice.
        let twice: Vec<(String, i64)> = pg
            .query(
                "SELECT client_id, count(*) FROM messages GROUP BY client_id HAVING count(*) > 1",
                &[],
            )
            .await
            .expect("duplicates")
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        assert!(twice.is_empty(), "client_ids stored twice: {twice:?}");
        assert_eq!(stored.len(), TOTAL, "exactly the messages sent are stored");

        // Every room's events are exactly 1..head.
        let mut messages_by_room: BTreeMap<&str, Vec<(i64, String)>> = BTreeMap::new();
        for (room, id, seq) in stored.values() {
            messages_by_room
                .entry(room.as_str())
                .or_default()
                .push((*seq, id.clone()));
        }
        for room in rooms {
            let room_id: uuid::Uuid = room.parse().expect("uuid");
            let seqs: Vec<i64> = pg
                .query(
                    "SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq",
                    &[&room_id],
                )
                .await
                .expect("room_events")
                .iter()
                .map(|row| row.get(0))
                .collect();
            let want: Vec<i64> = (1..=heads[room]).collect();
            assert_eq!(
                seqs, want,
                "room {room}: stored events are not exactly 1..head"
            );

            // The observer saw every event once, in order, and every message.
            let got: Vec<i64> = seen.events[room]
                .iter()
                .map(|e| e["seq"].as_i64().unwrap_or(-1))
                .collect();
            assert_eq!(
                got, want,
                "room {room}: the observer's events are not 1..head"
            );
            let mut messages = messages_by_room.remove(room.as_str()).unwrap_or_default();
            messages.sort();
            let observed: Vec<(i64, String)> = seen.events[room]
                .iter()
                .filter(|e| e["kind"] == "message.created")
                .map(|e| {
                    (
                        e["seq"].as_i64().unwrap_or(-1),
                        e["data"]["id"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            assert_eq!(
                observed, messages,
                "room {room}: the observer's messages differ from the stored ones"
            );
        }
        (reports, seen)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_messages_survive_sigkill_a_database_cut_and_sigterm() {
    let deadline = Instant::now() + DEADLINE;
    let (ad, db) = tokio::join!(TestAd::start(), TestDb::create());
    let pg = reqwest::Url::parse(&db.url).expect("db url");
    let proxy = TcpProxy::start(format!(
        "{}:{}",
        pg.host_str().unwrap_or("127.0.0.1"),
        pg.port().unwrap_or(5432)
    ))
    .await;
    let db_url = db.url_via("127.0.0.1", proxy.port);
    let mut env = vec![
        ("ANDON_SECRET_KEY", SECRET_KEY.to_string()),
        ("ANDON_DATABASE_URL", db_url),
        ("ANDON_DATABASE_TIMEOUT_SECS", "1".to_string()),
        ("ANDON_AD_URL", ad.url.clone()),
        ("ANDON_WORKERS", "2".to_string()),
        ("ANDON_SHUTDOWN_TIMEOUT_SECS", "10".to_string()),
        ("ANDON_LOG", "warn,andon=info".to_string()),
    ];
    let mut server = restart_on(&env).await;
    let port = server.port;
    // Restarts take the same port, as a node behind a fixed address does.
    env.push(("ANDON_LISTEN", format!("127.0.0.1:{port}")));
    let same_port = env.clone();

    let plant = Plant::set_up(&ad, &server).await;
    let traffic = plant.start(&[port], deadline);

    traffic.acked_at_least(15).await;
    server.sigkill().await;
    server = restart_on(&same_port).await;

    traffic.acked_at_least(40).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();

    traffic.acked_at_least(65).await;
    server.sigterm();
    let (code, log) = server.exit_code(20).await;
    assert_eq!(
        code,
        Some(0),
        "SIGTERM: a clean exit; log: {:?}",
        Server::messages(&log)
    );
    server = restart_on(&same_port).await;

    let (_, seen) = traffic.finish_and_check(&plant, &db).await;
    server.sigterm();
    let _ = server.exit_code(20).await;
    assert!(
        seen.connections >= 3,
        "the observer lost its socket at the SIGKILL and the SIGTERM ({} connections)",
        seen.connections
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_traffic_hands_its_clients_and_refreshes_to_another() {
    let deadline = Instant::now() + DEADLINE;
    let (ad, db) = tokio::join!(TestAd::start(), TestDb::create());
    // Tokens of 4 s refreshed 2 s before they expire, retries 1 s apart: an
    // active session is refreshed about every 2 s, under a lease of 2 s.
    ad.set_token_ttl(4).await;
    let env = vec![
        ("ANDON_SECRET_KEY", SECRET_KEY.to_string()),
        ("ANDON_DATABASE_URL", db.url.clone()),
        ("ANDON_AD_URL", ad.url.clone()),
        ("ANDON_WORKERS", "2".to_string()),
        ("ANDON_NATS_URL", nats_url()),
        ("ANDON_REFRESH_THRESHOLD_SECS", "2".to_string()),
        ("ANDON_REFRESH_RETRY_SECS", "1".to_string()),
        ("ANDON_LOG", "warn,andon=info".to_string()),
    ];
    // B first: it never loaded the sessions made through A.
    let b = restart_on(&env).await;
    let a = restart_on(&env).await;
    let plant = Plant::set_up(&ad, &a).await;
    let senders: Vec<String> = plant.users.iter().map(|(id, _)| id.clone()).collect();
    let pg = db.client().await;
    let http = reqwest::Client::new();
    // A refreshes the senders' sessions while they are active (an idle session
    // is not refreshed): one lease holder, A.
    let node_a = eventually(30, "A refreshing the senders' sessions", || async {
        for (_, token) in &plant.users {
            let me = http
                .get(a.url("/api/auth/me"))
                .bearer_auth(token)
                .send()
                .await;
            assert_eq!(me.expect("a request to A").status(), 200);
        }
        let holders: Vec<Option<uuid::Uuid>> = pg
            .query(
                "SELECT DISTINCT refresh_node FROM sessions WHERE user_id = ANY($1)",
                &[&senders],
            )
            .await
            .expect("refresh leases")
            .iter()
            .map(|row| row.get(0))
            .collect();
        match holders.as_slice() {
            [Some(node)] => Some(*node),
            _ => None,
        }
    })
    .await;

    // Every client starts on A and moves to B when A is gone.
    let traffic = plant.start(&[a.port, b.port], deadline);
    traffic.acked_at_least(30).await;
    let killed_at: chrono::DateTime<chrono::Utc> =
        pg.query_one("SELECT now()", &[]).await.expect("now").get(0);
    a.sigkill().await;

    let (reports, seen) = traffic.finish_and_check(&plant, &db).await;
    for r in &reports {
        assert!(r.connections >= 2, "{}: moved to B after the kill", r.name);
    }
    assert!(
        seen.connections >= 2,
        "the observer moved to B after the kill"
    );

    // The killed node's refreshes are taken over: each sender's session is
    // refreshed through B once A's lease runs out (each keeps using B).
    eventually(30, "B refreshing the sessions A refreshed", || async {
        for (_, token) in &plant.users {
            let me = http
                .get(b.url("/api/auth/me"))
                .bearer_auth(token)
                .send()
                .await;
            assert_eq!(me.expect("a request to B").status(), 200, "alive through B");
        }
        let taken: i64 = pg
            .query_one(
                "SELECT count(*) FROM sessions
                 WHERE user_id = ANY($1) AND refresh_node <> $2 AND last_refreshed_at > $3",
                &[&senders, &node_a, &killed_at],
            )
            .await
            .expect("sessions")
            .get(0);
        (taken == CLIENTS as i64).then_some(())
    })
    .await;
    b.sigterm();
    let _ = b.exit_code(20).await;
}
