//! Operations (PRODUCT.md O): metrics, request ids, TLS, what the log never holds,
//! and shutdown during traffic.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::binary;
use crate::helpers::{TestAd, TestApp, TestDb, WsClient, cast, send_frame};

/// The value of a metric line (`name{labels} value`), summed over matching lines.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            !l.starts_with('#')
                && (l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}{{")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_expose_the_series_and_move_with_traffic() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let scrape = || async {
        app.http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = scrape().await;
    for series in [
        "andon_open_sockets",
        "andon_subscriptions",
        "andon_room_actors",
        "andon_db_pool_size",
        "andon_db_pool_available",
        "andon_db_pool_waiting",
        "andon_db_pool_wait_seconds",
        "andon_ad_request_seconds",
        "andon_sessions",
    ] {
        assert!(before.contains(series), "missing {series}");
    }
    let mut ws = WsClient::connect(&app, &c.editor.token).await;
    ws.subscribe(&c.room, None).await;
    for i in 0..5 {
        ws.request_ok(send_frame(&c.room, &format!("m{i}"), "hello"), "ack")
            .await;
    }
    let during = scrape().await;
    assert!(metric(&during, "andon_open_sockets") >= 1.0);
    assert!(metric(&during, "andon_subscriptions") >= 1.0);
    assert!(metric(&during, "andon_room_actors") >= 1.0);
    for counter in [
        "andon_events_total",
        "andon_deliveries_total",
        "andon_ack_latency_seconds_count",
        "andon_commit_seconds_count",
        "andon_fanout_latency_seconds_count",
    ] {
        assert!(
            metric(&during, counter) > metric(&before, counter),
            "{counter} did not move"
        );
    }
    assert!(during.contains(r#"andon_events_total{kind="message.created"}"#));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let other = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}

/// A self-signed certificate for `localhost`, as PEM (certificate, key).
fn self_signed() -> (Vec<u8>, Vec<u8>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509, X509NameBuilder};

    let key = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
    )
    .unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "localhost").unwrap();
    let name = name.build();
    let mut cert = X509::builder().unwrap();
    cert.set_version(2).unwrap();
    cert.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&cert.x509v3_context(None, None))
        .unwrap();
    cert.append_extension(san).unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    (
        cert.build().to_pem().unwrap(),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
}

#[tokio::test]
async fn https_works_with_a_configured_certificate() {
    let dir = std::env::temp_dir().join(format!("andon-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = self_signed();
    std::fs::write(dir.join("cert.pem"), &cert).unwrap();
    std::fs::write(dir.join("key.pem"), &key).unwrap();
    let app = TestApp::builder()
        .env("ANDON_TLS_CERT", dir.join("cert.pem").display())
        .env("ANDON_TLS_KEY", dir.join("key.pem").display())
        .spawn()
        .await;
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();
    let resp = client
        .get(format!("https://localhost:{}/healthz", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "verified against the test certificate");
    assert!(
        app.http.get(app.url("/healthz")).send().await.is_err(),
        "no plain HTTP on a TLS port"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn no_password_token_ticket_or_key_reaches_the_log() {
    let (ad, db) = tokio::join!(TestAd::start(), TestDb::create());
    let secret_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let password = "Pa55-w0rd-that-must-not-leak";
    ad.add_user("leak@andon.test", password, "Leak Test").await;
    let server = binary::serve(&[
        ("ANDON_SECRET_KEY", secret_key),
        ("ANDON_DATABASE_URL", db.url.as_str()),
        ("ANDON_AD_URL", ad.url.as_str()),
        ("ANDON_LOG", "debug"),
        ("ANDON_ADMINS", "leak@andon.test"),
    ])
    .await;
    let http = reqwest::Client::new();
    let token = server.login("leak@andon.test", password).await;
    let bad = http
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": "leak@andon.test", "password": "wrong-Pa55-guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    // A password typed into the username field: rejected, then rate limited.
    let typed_as_name = "Pa55-typed-as-a-username";
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = http
            .post(server.url("/api/auth/login"))
            .json(&json!({"username": typed_as_name, "password": "x"}))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    let ticket = server.ticket(&token).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{}/api/ws?ticket={ticket}",
        server.port
    ))
    .await
    .unwrap();
    ws.send(Message::text(json!({"type": "ping"}).to_string()))
        .await
        .unwrap();
    let _ = ws.next().await;
    http.post(server.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    server.sigterm();
    let (_, log) = server.exit_code(30).await;
    let text = log.join("\n");
    assert!(text.contains("logged in"), "the log was captured");
    assert!(text.contains("login rejected by AD") && text.contains("login rate limited"));
    for (what, secret) in [
        ("password", password),
        ("wrong password", "wrong-Pa55-guess"),
        ("password typed as a username", typed_as_name),
        (
            "password typed as a username, lower-cased",
            &typed_as_name.to_lowercase(),
        ),
        ("session token", token.as_str()),
        ("ws ticket", ticket.as_str()),
        ("secret key", secret_key),
    ] {
        assert!(!text.contains(secret), "the {what} is in the log");
    }
}

#[tokio::test]
async fn sigterm_during_a_send_burst_keeps_every_acked_message_and_closes_sockets_with_1001() {
    let (ad, db) = tokio::join!(TestAd::start(), TestDb::create());
    ad.add_user("burst@andon.test", "pw-burst", "Burst").await;
    let server = binary::serve(&[
        (
            "ANDON_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("ANDON_DATABASE_URL", db.url.as_str()),
        ("ANDON_AD_URL", ad.url.as_str()),
        ("ANDON_SHUTDOWN_TIMEOUT_SECS", "10"),
    ])
    .await;
    let token = server.login("burst@andon.test", "pw-burst").await;
    let room = server
        .post(
            "/api/rooms",
            Some(&token),
            json!({"title": "Burst", "incident_type": "other", "severity": "low"}),
        )
        .await;
    let room = room["id"].as_str().unwrap().to_string();

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut senders = Vec::new();
    for s in 0..3 {
        let url = format!(
            "ws://127.0.0.1:{}/api/ws?ticket={}",
            server.port,
            server.ticket(&token).await
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let (acked, room) = (acked.clone(), room.clone());
        senders.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let writer = tokio::spawn(async move {
                for i in 0..100_000 {
                    let frame = json!({"type": "send", "room_id": room, "client_id": format!("s{s}-{i}"), "content": "burst"});
                    if tx.send(Message::text(frame.to_string())).await.is_err() {
                        break;
                    }
                    if i % 20 == 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    }
                }
            });
            let mut close = None;
            while let Some(Ok(msg)) = rx.next().await {
                match msg {
                    Message::Text(t) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        if v["type"] == "ack" {
                            acked.lock().unwrap().push(v["message_id"].as_str().unwrap().to_string());
                        }
                    }
                    Message::Close(frame) => {
                        close = frame.map(|f| u16::from(f.code));
                        break;
                    }
                    _ => {}
                }
            }
            writer.abort();
            close
        }));
    }
    crate::helpers::eventually(20, "a few hundred acks", || async {
        (acked.lock().unwrap().len() > 300).then_some(())
    })
    .await;
    server.sigterm();
    let mut closes = Vec::new();
    for s in senders {
        closes.push(s.await.unwrap());
    }
    let (code, _) = server.exit_code(20).await;
    assert_eq!(code, Some(0), "exits cleanly within the timeout");
    assert_eq!(
        closes,
        vec![Some(1001); 3],
        "every socket told to go elsewhere"
    );

    let acked = acked.lock().unwrap().clone();
    let ids: Vec<uuid::Uuid> = acked.iter().map(|s| s.parse().unwrap()).collect();
    let stored: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM messages WHERE id = ANY($1)", &[&ids])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        stored as usize,
        ids.len(),
        "every acknowledged message is stored"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_of_the_api() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.call(app.http.get(app.url("/api/openapi.json"))).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // PRODUCT.md Appendix 1, route by route.
    let routes = [
        ("post", "/api/auth/login"),
        ("post", "/api/auth/logout"),
        ("get", "/api/auth/me"),
        ("get", "/api/users"),
        ("post", "/api/rooms"),
        ("get", "/api/rooms"),
        ("get", "/api/rooms/{id}"),
        ("patch", "/api/rooms/{id}"),
        ("post", "/api/rooms/{id}/join"),
        ("post", "/api/rooms/{id}/leave"),
        ("get", "/api/rooms/{id}/members"),
        ("post", "/api/rooms/{id}/members"),
        ("patch", "/api/rooms/{id}/members/{user_id}"),
        ("delete", "/api/rooms/{id}/members/{user_id}"),
        ("post", "/api/rooms/{id}/transfer"),
        ("delete", "/api/rooms/{id}/permanent"),
        ("get", "/api/rooms/{id}/messages"),
        ("post", "/api/rooms/{id}/messages"),
        ("get", "/api/rooms/{id}/events"),
        ("post", "/api/rooms/{id}/files"),
        ("get", "/api/rooms/{id}/files"),
        ("get", "/api/rooms/{id}/files/{file_id}"),
        ("get", "/api/rooms/{id}/files/{file_id}/content"),
        ("get", "/api/rooms/{id}/files/{file_id}/thumbnail"),
        ("delete", "/api/rooms/{id}/files/{file_id}"),
        ("get", "/api/templates"),
        ("post", "/api/templates"),
        ("patch", "/api/templates/{id}"),
        ("delete", "/api/templates/{id}"),
        ("post", "/api/ws-ticket"),
        ("get", "/api/ws"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
    ];
    let missing: Vec<String> = routes
        .iter()
        .filter(|(method, path)| doc["paths"][*path][*method].is_null())
        .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
    // And every documented route answers (not the JSON 404 of unknown routes).
    for (method, path) in routes {
        let concrete = path
            .replace("{id}", &uuid::Uuid::nil().to_string())
            .replace("{file_id}", &uuid::Uuid::nil().to_string())
            .replace("{user_id}", "x@andon.test");
        let req = app
            .http
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
        let (status, body) = app.call(req).await;
        assert!(
            !(status == 404
                && body["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("No route"))),
            "{method} {path} is documented but not routed"
        );
    }
}
