//! Message search in a room and across rooms, the history page around a search
//! hit (`around_seq`), and edit histories (`docs/PROTOCOL.md` "Search and edit
//! history").

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Cast, TestApp, TestUser, WsClient, add_member, cast, new_room};

/// Posts a text message as `user`: the stored message.
async fn say(app: &TestApp, room: &str, user: &TestUser, content: &str) -> Value {
    let (status, m) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{room}/messages"),
            &user.token,
            Some(json!({"client_id": uuid::Uuid::new_v4().to_string(), "content": content})),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m
}

fn id(m: &Value) -> String {
    m["id"].as_str().expect("id").to_string()
}

/// Percent-encodes a query value.
fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One page of the room search as `user`: panics unless 200.
async fn room_search(app: &TestApp, room: &str, user: &TestUser, query: &str) -> Value {
    let (status, body) = app
        .get_as(
            &format!("/api/rooms/{room}/messages/search?{query}"),
            &user.token,
        )
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

/// The contents of the room search's first page for `q`.
async fn found(app: &TestApp, room: &str, user: &TestUser, q: &str) -> Vec<String> {
    contents(&room_search(app, room, user, &format!("q={}", enc(q))).await)
}

fn contents(page: &Value) -> Vec<String> {
    page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["content"].as_str().expect("content").to_string())
        .collect()
}

fn seqs(page: &Value) -> Vec<i64> {
    page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["seq"].as_i64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn room_search_finds_chinese_substrings_and_ignores_case() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let motor = say(&app, &c.room, &c.owner, "三號線馬達過熱停機").await;
    say(
        &app,
        &c.room,
        &c.editor,
        "Conveyor MOTOR Overheat on line 3",
    )
    .await;
    say(&app, &c.room, &c.owner, "負載 100% 已確認").await;
    say(&app, &c.room, &c.owner, "Belt replaced").await;

    for q in ["過熱", "馬", "三號線馬達過熱停機", "  過熱 "] {
        assert_eq!(
            found(&app, &c.room, &c.viewer, q).await,
            ["三號線馬達過熱停機"],
            "{q}"
        );
    }
    for q in ["overheat", "OVERHEAT", "oVeRhEaT on LINE", "mo"] {
        assert_eq!(
            found(&app, &c.room, &c.viewer, q).await,
            ["Conveyor MOTOR Overheat on line 3"],
            "{q}"
        );
    }
    // LIKE's wildcards are plain characters here, in short and long queries.
    assert_eq!(
        found(&app, &c.room, &c.viewer, "%").await,
        ["負載 100% 已確認"]
    );
    assert_eq!(
        found(&app, &c.room, &c.viewer, "0% 已").await,
        ["負載 100% 已確認"]
    );
    assert!(found(&app, &c.room, &c.viewer, "_").await.is_empty());
    assert!(
        found(&app, &c.room, &c.viewer, "過熱停機了")
            .await
            .is_empty()
    );

    let page = room_search(&app, &c.room, &c.viewer, &format!("q={}", enc("過熱"))).await;
    let hit = &page["hits"][0];
    assert_eq!(hit["room_id"], c.room.as_str());
    assert_eq!(hit["message_id"], motor["id"]);
    assert_eq!(hit["seq"], motor["seq"]);
    assert_eq!(hit["sender"], c.owner.id.as_str());
    assert_eq!(hit["sender_name"], "owner");
    assert_eq!(hit["created_at"], motor["created_at"]);
    assert!(hit.get("room_title").is_none(), "{hit}");
    assert_eq!(page["has_more"], false);
    assert_eq!(page["next_before_seq"], Value::Null);
}

/// Pages through the room search for `q` `limit` at a time: the seqs in order.
async fn all_pages(app: &TestApp, c: &Cast, q: &str, limit: usize) -> Vec<i64> {
    let mut out = Vec::new();
    let mut query = format!("q={}&limit={limit}", enc(q));
    loop {
        let page = room_search(app, &c.room, &c.viewer, &query).await;
        let got = seqs(&page);
        assert!(got.len() <= limit, "{page}");
        out.extend(&got);
        if page["has_more"] == false {
            assert_eq!(page["next_before_seq"], Value::Null);
            return out;
        }
        assert_eq!(got.len(), limit, "a page short of its limit says has_more");
        let next = page["next_before_seq"].as_i64().expect("next_before_seq");
        assert_eq!(Some(&next), got.last());
        query = format!("q={}&limit={limit}&before_seq={next}", enc(q));
    }
}

#[tokio::test]
async fn room_search_pages_newest_first_without_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut alarms = Vec::new();
    for i in 0..23 {
        let m = say(&app, &c.room, &c.owner, &format!("alarm {i} 警報")).await;
        alarms.push(m["seq"].as_i64().unwrap());
        if i % 3 == 0 {
            say(&app, &c.room, &c.editor, &format!("noise {i}")).await;
        }
    }
    alarms.reverse();
    // A trigram query and one- and two-character ones (no trigram to look up).
    for q in ["alarm", "ALA", "ar", "警", "警報"] {
        for limit in [1, 5, 7, 23, 100] {
            assert_eq!(
                all_pages(&app, &c, q, limit).await,
                alarms,
                "{q} by {limit}"
            );
        }
    }
    let page = room_search(&app, &c.room, &c.viewer, "q=alarm&limit=2").await;
    assert_eq!(contents(&page), ["alarm 22 警報", "alarm 21 警報"]);
    assert_eq!(page["has_more"], true);
}

#[tokio::test]
async fn deleted_messages_are_never_found_and_edits_replace_what_is_found() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let gone = say(&app, &c.room, &c.owner, "漏油 at station 5").await;
    let kept = say(&app, &c.room, &c.owner, "漏油 cleaned").await;
    let edited = say(&app, &c.room, &c.owner, "first draft 草稿").await;
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    ws.request_ok(
        json!({"type": "delete", "room_id": c.room, "message_id": id(&gone)}),
        "ack",
    )
    .await;
    ws.request_ok(
        json!({"type": "edit", "room_id": c.room, "message_id": id(&edited), "content": "final text 定稿"}),
        "ack",
    )
    .await;

    for q in ["漏油", "漏", "station 5", "st"] {
        let hits = found(&app, &c.room, &c.viewer, q).await;
        assert!(!hits.iter().any(|h| h.contains("station")), "{q}: {hits:?}");
    }
    assert_eq!(
        found(&app, &c.room, &c.viewer, "漏油").await,
        ["漏油 cleaned"]
    );
    assert!(found(&app, &c.room, &c.viewer, "草稿").await.is_empty());
    assert_eq!(
        found(&app, &c.room, &c.viewer, "定稿").await,
        ["final text 定稿"]
    );

    let (status, global) = app
        .get_as(
            &format!("/api/search/messages?q={}", enc("漏油")),
            &c.viewer.token,
        )
        .await;
    assert_eq!(status, 200, "{global}");
    let ids: Vec<&Value> = global["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["message_id"])
        .collect();
    assert_eq!(ids, [&kept["id"]]);
}

#[tokio::test]
async fn only_readers_search_a_room_and_the_global_search_keeps_to_readable_rooms() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let other = new_room(&app, &c.outsider).await;
    say(&app, &c.room, &c.owner, "pump P-7 vibration 振動").await;
    say(&app, &other, &c.outsider, "pump P-9 vibration 振動").await;

    // Not a member: 403, as for the room's history; no such room: 404.
    let path = format!("/api/rooms/{}/messages/search?q=pump", c.room);
    let (status, body) = app.get_as(&path, &c.outsider.token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let path = format!("/api/rooms/{}/messages/search?q=pump", uuid::Uuid::new_v4());
    let (status, body) = app.get_as(&path, &c.viewer.token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    assert!(found(&app, &other, &admin, "pump").await.len() == 1);

    let global = |user: &TestUser, q: &str| {
        let path = format!("/api/search/messages?q={}", enc(q));
        let token = user.token.clone();
        let app = &app;
        async move {
            let (status, body) = app.get_as(&path, &token).await;
            assert_eq!(status, 200, "{body}");
            let mut got: Vec<(String, String, String)> = body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["room_id"].as_str().unwrap().to_string(),
                        h["room_title"].as_str().unwrap().to_string(),
                        h["content"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            got.sort();
            got
        }
    };
    let title = "Line 3 conveyor stopped".to_string();
    let mine = (
        c.room.clone(),
        title.clone(),
        "pump P-7 vibration 振動".to_string(),
    );
    let theirs = (other.clone(), title, "pump P-9 vibration 振動".to_string());
    for q in ["pump", "振動", "振"] {
        assert_eq!(global(&c.viewer, q).await, vec![mine.clone()], "{q}");
        assert_eq!(global(&c.outsider, q).await, vec![theirs.clone()], "{q}");
        let mut both = vec![mine.clone(), theirs.clone()];
        both.sort();
        assert_eq!(global(&admin, q).await, both, "{q}");
    }
    // Someone added later finds the room's messages; someone removed no longer does.
    add_member(&app, &c.outsider, &other, &c.viewer, "viewer").await;
    assert_eq!(global(&c.viewer, "P-9").await.len(), 1);
}

#[tokio::test]
async fn bad_queries_and_limits_are_refused() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let long = "長".repeat(201);
    let ok = "長".repeat(200);
    let room = format!("/api/rooms/{}/messages/search", c.room);
    for base in [room.as_str(), "/api/search/messages"] {
        for (query, code) in [
            (String::new(), "validation_failed"),
            ("q=".to_string(), "validation_failed"),
            ("q=%20%20%20".to_string(), "validation_failed"),
            (format!("q={}", enc(&long)), "validation_failed"),
            ("q=%00a".to_string(), "validation_failed"),
            ("q=a&limit=0".to_string(), "invalid_query"),
            ("q=a&limit=101".to_string(), "invalid_query"),
            ("q=a&limit=x".to_string(), "invalid_query"),
            ("q=a&page=2".to_string(), "invalid_query"),
        ] {
            let (status, body) = app
                .get_as(&format!("{base}?{query}"), &c.viewer.token)
                .await;
            assert_eq!(status, 400, "{base}?{query}: {body}");
            assert_eq!(body["code"], code, "{base}?{query}: {body}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        let (status, body) = app
            .get_as(&format!("{base}?q={}&limit=100", enc(&ok)), &c.viewer.token)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app
        .get_as(&format!("{room}?q=a&before_seq=x"), &c.viewer.token)
        .await;
    assert_eq!(status, 400, "{body}");
    for before in [
        "x",
        "12",
        "12_nope",
        "abc_00000000-0000-0000-0000-000000000000",
    ] {
        let (status, body) = app
            .get_as(
                &format!("/api/search/messages?q=a&before={before}"),
                &c.viewer.token,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{before}: {body}"
        );
    }
}

#[tokio::test]
async fn global_search_pages_newest_first_across_rooms() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let second = new_room(&app, &c.owner).await;
    add_member(&app, &c.owner, &second, &c.viewer, "viewer").await;
    let mut expected = Vec::new();
    for i in 0..13 {
        let room = if i % 2 == 0 { &c.room } else { &second };
        let m = say(&app, room, &c.owner, &format!("溫度 sensor {i}")).await;
        expected.push(id(&m));
        say(&app, room, &c.owner, "unrelated").await;
    }
    expected.reverse();
    for q in ["溫度", "溫", "SENSOR"] {
        for limit in [1, 4, 13, 50] {
            let mut got = Vec::new();
            let mut times = Vec::new();
            let mut query = format!("q={}&limit={limit}", enc(q));
            loop {
                let (status, page) = app
                    .get_as(&format!("/api/search/messages?{query}"), &c.viewer.token)
                    .await;
                assert_eq!(status, 200, "{page}");
                for h in page["hits"].as_array().unwrap() {
                    got.push(h["message_id"].as_str().unwrap().to_string());
                    times.push(h["created_at"].as_str().unwrap().to_string());
                    let title = h["room_title"].as_str().unwrap();
                    assert_eq!(title, "Line 3 conveyor stopped");
                }
                if page["has_more"] == false {
                    assert_eq!(page["next_before"], Value::Null);
                    break;
                }
                let next = page["next_before"].as_str().expect("next_before");
                query = format!("q={}&limit={limit}&before={}", enc(q), enc(next));
            }
            assert_eq!(got, expected, "{q} by {limit}");
            let mut sorted = times.clone();
            sorted.sort_by(|a, b| b.cmp(a));
            assert_eq!(times, sorted, "newest first");
        }
    }
}

/// `GET /api/rooms/{id}/messages?<query>`: seqs, has_more, has_older, has_newer.
async fn history(app: &TestApp, c: &Cast, query: &str) -> (Vec<i64>, Value, Value, Value) {
    let (status, body) = app
        .get_as(
            &format!("/api/rooms/{}/messages?{query}", c.room),
            &c.viewer.token,
        )
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    let seqs = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    (
        seqs,
        body["has_more"].clone(),
        body.get("has_older").cloned().unwrap_or(Value::Null),
        body.get("has_newer").cloned().unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn history_around_a_seq_holds_both_sides() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let mut s = Vec::new();
    for i in 0..30 {
        s.push(
            say(&app, &c.room, &c.owner, &format!("m{i}")).await["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    let t = Value::Bool(true);
    let f = Value::Bool(false);
    let around = |seq: i64, limit: i64| format!("around_seq={seq}&limit={limit}");
    assert_eq!(
        history(&app, &c, &around(s[15], 10)).await,
        (s[10..20].to_vec(), t.clone(), t.clone(), t.clone())
    );
    assert_eq!(
        history(&app, &c, &around(s[2], 10)).await,
        (s[..7].to_vec(), f.clone(), f.clone(), t.clone())
    );
    assert_eq!(
        history(&app, &c, &around(s[28], 10)).await,
        (s[23..].to_vec(), t.clone(), t.clone(), f.clone())
    );
    assert_eq!(
        history(&app, &c, &around(s[0], 200)).await,
        (s.clone(), f.clone(), f.clone(), f.clone())
    );
    // A seq between messages (a membership event's) centres on the next message.
    assert_eq!(
        history(&app, &c, &around(s[0] - 1, 4)).await,
        (s[..2].to_vec(), f.clone(), f.clone(), t.clone())
    );
    // The page after the window continues it without a gap.
    let after = format!("after_seq={}&limit=5", s[19]);
    assert_eq!(history(&app, &c, &after).await.0, s[20..25].to_vec());
    // Other pages do not carry the around flags.
    let (_, _, older, newer) = history(&app, &c, "limit=5").await;
    assert_eq!((older, newer), (Value::Null, Value::Null));

    for bad in [
        format!("around_seq={}&before_seq=3", s[3]),
        format!("around_seq={}&after_seq=3", s[3]),
        "around_seq=x".to_string(),
        format!("around_seq={}&limit=0", s[3]),
    ] {
        let (status, body) = app
            .get_as(
                &format!("/api/rooms/{}/messages?{bad}", c.room),
                &c.viewer.token,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}: {body}"
        );
    }
    let (status, _) = app
        .get_as(
            &format!("/api/rooms/{}/messages?around_seq={}", c.room, s[3]),
            &c.outsider.token,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn edit_history_lists_earlier_versions_oldest_first_to_readers_only() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let m = say(&app, &c.room, &c.owner, "Motor temp 80").await;
    let plain = say(&app, &c.room, &c.owner, "never edited").await;
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    for content in ["Motor temp 85", "馬達溫度 90，已停機"] {
        ws.request_ok(
            json!({"type": "edit", "room_id": c.room, "message_id": id(&m), "content": content}),
            "ack",
        )
        .await;
    }
    let path = format!("/api/rooms/{}/messages/{}/edits", c.room, id(&m));
    let (status, h) = app.get_as(&path, &c.viewer.token).await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["message_id"], m["id"]);
    assert_eq!(h["deleted"], false);
    assert_eq!(h["content"], "馬達溫度 90，已停機");
    assert_eq!(h["created_at"], m["created_at"]);
    let versions = h["versions"].as_array().unwrap();
    let texts: Vec<&str> = versions
        .iter()
        .map(|v| v["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Motor temp 80", "Motor temp 85"]);
    let numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(versions[0]["written_at"], m["created_at"]);
    assert_eq!(versions[1]["written_at"], versions[0]["replaced_at"]);
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(t(&versions[0]["replaced_at"]) <= t(&versions[1]["replaced_at"]));
    assert!(t(&versions[1]["replaced_at"]) <= t(&h["edited_at"]));

    let (status, h) = app
        .get_as(
            &format!("/api/rooms/{}/messages/{}/edits", c.room, id(&plain)),
            &c.viewer.token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (h["versions"].clone(), h["edited_at"].clone()),
        (json!([]), Value::Null)
    );

    // Not a member: 403; a message of another room, or none: 404.
    let (status, _) = app.get_as(&path, &c.outsider.token).await;
    assert_eq!(status, 403);
    let other = new_room(&app, &c.owner).await;
    let elsewhere = say(&app, &other, &c.owner, "elsewhere").await;
    for p in [
        format!("/api/rooms/{}/messages/{}/edits", c.room, id(&elsewhere)),
        format!(
            "/api/rooms/{}/messages/{}/edits",
            c.room,
            uuid::Uuid::new_v4()
        ),
        format!(
            "/api/rooms/{}/messages/{}/edits",
            uuid::Uuid::new_v4(),
            id(&m)
        ),
    ] {
        let (status, body) = app.get_as(&p, &c.viewer.token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{p}: {body}"
        );
    }

    // A deleted message's history does not leak what it said.
    ws.request_ok(
        json!({"type": "delete", "room_id": c.room, "message_id": id(&m)}),
        "ack",
    )
    .await;
    let (status, h) = app.get_as(&path, &c.viewer.token).await;
    assert_eq!(status, 200);
    assert_eq!(h["deleted"], true);
    assert_eq!(h["versions"], json!([]));
    assert_eq!(h["content"], "");
    assert!(!h.to_string().contains("Motor"), "{h}");
}
