//! Figures (issue 19, `GET /api/stats`): counts, MTTA and MTTR against rooms
//! whose creation, acknowledgement and resolutions were set to known times in the
//! database; who sees which rooms; filters; bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, add_member};

/// Where the rooms of the fixture are created; the window is January 2026.
const T0: &str = "2026-01-10T08:00:00Z";
const WINDOW: &str = "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z";

/// One room of the fixture: offsets in seconds from its creation.
struct Fixture {
    title: &'static str,
    line: Option<&'static str>,
    incident_type: &'static str,
    severity: &'static str,
    /// Minutes after T0 it was created.
    created_min: i64,
    ack_secs: Option<i64>,
    /// Each resolution (the room is reopened between two).
    resolved_secs: &'static [i64],
    archived: bool,
}

const ROOMS: [Fixture; 6] = [
    Fixture {
        title: "R1",
        line: Some("L1"),
        incident_type: "equipment_failure",
        severity: "critical",
        created_min: 0,
        ack_secs: Some(60),
        // Reopened and resolved again: MTTR counts the first resolution.
        resolved_secs: &[600, 5000],
        archived: false,
    },
    Fixture {
        title: "R2",
        line: Some("L1"),
        incident_type: "quality_issue",
        severity: "high",
        created_min: 10,
        ack_secs: Some(120),
        resolved_secs: &[1200],
        archived: true,
    },
    Fixture {
        title: "R3",
        line: Some("L2"),
        incident_type: "equipment_failure",
        severity: "low",
        created_min: 20,
        ack_secs: Some(300),
        resolved_secs: &[],
        archived: false,
    },
    Fixture {
        title: "R4",
        line: Some("L2"),
        incident_type: "material_shortage",
        severity: "medium",
        created_min: 30,
        ack_secs: None,
        resolved_secs: &[],
        archived: false,
    },
    Fixture {
        title: "R5",
        line: None,
        incident_type: "other",
        severity: "critical",
        created_min: 40,
        ack_secs: Some(600),
        resolved_secs: &[3000],
        archived: false,
    },
    // Outside the window (created in December 2025).
    Fixture {
        title: "R6",
        line: Some("L1"),
        incident_type: "equipment_failure",
        severity: "critical",
        created_min: -60 * 24 * 40,
        ack_secs: Some(5),
        resolved_secs: &[10],
        archived: false,
    },
];

async fn patch(app: &TestApp, room: &str, token: &str, body: Value) {
    let (status, got) = app
        .send_as(
            Method::PATCH,
            &format!("/api/rooms/{room}"),
            token,
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{got}");
}

/// Creates the fixture's rooms as `owner` through the API, then moves their times
/// to the fixture's in the database; their ids, in order.
async fn fixture(app: &TestApp, owner: &TestUser) -> Vec<String> {
    let db = app.db.client().await;
    let mut ids = Vec::new();
    for f in &ROOMS {
        let mut body = json!({"title": f.title, "incident_type": f.incident_type,
                              "severity": f.severity});
        if let Some(line) = f.line {
            body["line"] = json!(line);
        }
        let room = app.create_room(&owner.token, body).await;
        let id = room["id"].as_str().unwrap().to_string();
        if f.ack_secs.is_some() {
            let path = format!("/api/rooms/{id}/acknowledge");
            let (status, _) = app.send_as(Method::POST, &path, &owner.token, None).await;
            assert_eq!(status, 200);
        }
        for (i, _) in f.resolved_secs.iter().enumerate() {
            if i > 0 {
                patch(app, &id, &owner.token, json!({"status": "active"})).await;
            }
            let resolve = json!({"status": "resolved", "resolution_notes": "fixed"});
            patch(app, &id, &owner.token, resolve).await;
        }
        if f.archived {
            patch(app, &id, &owner.token, json!({"status": "archived"})).await;
        }

        let uuid: uuid::Uuid = id.parse().unwrap();
        let created = format!("'{T0}'::timestamptz + interval '{} minutes'", f.created_min);
        let ack = f.ack_secs.map_or("NULL".to_string(), |s| {
            format!("{created} + interval '{s} seconds'")
        });
        db.execute(
            &format!(
                "UPDATE rooms SET created_at = {created}, acknowledged_at = {ack} WHERE id = $1"
            ),
            &[&uuid],
        )
        .await
        .unwrap();
        let resolutions = db
            .query(
                "SELECT seq FROM room_events WHERE room_id = $1 AND kind = 'room.status_changed'
                   AND data->>'to' = 'resolved' ORDER BY seq",
                &[&uuid],
            )
            .await
            .unwrap();
        assert_eq!(resolutions.len(), f.resolved_secs.len());
        for (row, secs) in resolutions.iter().zip(f.resolved_secs) {
            let seq: i64 = row.get(0);
            db.execute(
                &format!(
                    "UPDATE room_events SET at = '{T0}'::timestamptz
                         + interval '{} minutes' + interval '{secs} seconds'
                     WHERE room_id = $1 AND seq = $2",
                    f.created_min
                ),
                &[&uuid, &seq],
            )
            .await
            .unwrap();
        }
        ids.push(id);
    }
    ids
}

async fn stats(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let (status, body) = app
        .get_as(&format!("/api/stats?{query}"), &user.token)
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64().is_some_and(|g| (g - want).abs() < 1e-6)
}

/// Panics unless `spread` is `{median_secs, p90_secs, n}` as given.
fn assert_spread(what: &str, spread: &Value, median: f64, p90: f64, n: i64) {
    assert!(
        close(&spread["median_secs"], median) && close(&spread["p90_secs"], p90),
        "{what}: {spread}, want median {median}, p90 {p90}"
    );
    assert_eq!(spread["n"], n, "{what}: {spread}");
}

#[tokio::test]
async fn figures_match_the_known_times_and_admins_see_every_room() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let ids = fixture(&app, &owner).await;

    for who in [&owner, &admin] {
        let s = stats(&app, who, WINDOW).await;
        assert_eq!(s["from"], "2026-01-01T00:00:00Z");
        assert_eq!(s["to"], "2026-02-01T00:00:00Z");
        assert_eq!(
            s["counts"],
            json!({"by_status": {"active": 2, "resolved": 2, "archived": 1},
                   "by_severity": {"low": 1, "medium": 1, "high": 1, "critical": 2},
                   "total": 5})
        );
        // Acknowledged after 60, 120, 300, 600 s; first resolved after 600, 1200, 3000 s.
        assert_spread("mtta", &s["mtta"], 210.0, 510.0, 4);
        assert_spread("mttr", &s["mttr"], 1200.0, 2640.0, 3);

        let lines: Vec<(Value, i64)> = s["by_line"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["line"].clone(), l["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            lines,
            [(json!("L1"), 2), (json!("L2"), 2), (Value::Null, 1)]
        );
        let l1 = &s["by_line"][0];
        assert_spread("L1 mtta", &l1["mtta"], 90.0, 114.0, 2);
        assert_spread("L1 mttr", &l1["mttr"], 900.0, 1140.0, 2);
        let l2 = &s["by_line"][1];
        assert_spread("L2 mtta", &l2["mtta"], 300.0, 300.0, 1);
        assert_eq!(
            l2["mttr"],
            json!({"median_secs": null, "p90_secs": null, "n": 0})
        );

        let types: Vec<(&str, i64)> = s["by_incident_type"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["incident_type"].as_str().unwrap(),
                    t["count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            types,
            [
                ("equipment_failure", 2),
                ("material_shortage", 1),
                ("other", 1),
                ("quality_issue", 1)
            ]
        );
        assert_spread(
            "equipment_failure mtta",
            &s["by_incident_type"][0]["mtta"],
            180.0,
            276.0,
            2,
        );

        let open = s["slowest_open"].as_array().unwrap();
        assert_eq!(open.len(), 2, "{open:?}");
        assert_eq!(
            (
                open[0]["id"].as_str(),
                open[0]["title"].as_str(),
                open[0]["acknowledged"].as_bool()
            ),
            (Some(ids[2].as_str()), Some("R3"), Some(true))
        );
        assert_eq!(
            (open[1]["title"].as_str(), open[1]["acknowledged"].as_bool()),
            (Some("R4"), Some(false))
        );
        assert_eq!(open[0]["line"], "L2");
        assert_eq!(open[0]["severity"], "low");
        assert_eq!(open[0]["created_at"], "2026-01-10T08:20:00Z");
        assert!(open[0]["age_secs"].as_i64().unwrap() > open[1]["age_secs"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn members_see_figures_over_their_rooms_only_and_filters_apply() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let member = app.user("member").await;
    let outsider = app.user("outsider").await;
    let ids = fixture(&app, &owner).await;
    // A member of R1 and R3.
    for id in [&ids[0], &ids[2]] {
        add_member(&app, &owner, id, &member, "viewer").await;
    }

    let s = stats(&app, &member, WINDOW).await;
    assert_eq!(s["counts"]["total"], 2);
    assert_eq!(
        s["counts"]["by_status"],
        json!({"active": 1, "resolved": 1, "archived": 0})
    );
    assert_spread("member mtta", &s["mtta"], 180.0, 276.0, 2);
    assert_spread("member mttr", &s["mttr"], 600.0, 600.0, 1);

    let s = stats(&app, &outsider, WINDOW).await;
    assert_eq!(s["counts"]["total"], 0);
    assert_eq!(
        s["mtta"],
        json!({"median_secs": null, "p90_secs": null, "n": 0})
    );
    assert_eq!(
        (
            s["by_line"].as_array().unwrap().len(),
            s["slowest_open"].as_array().unwrap().len()
        ),
        (0, 0)
    );

    for (filter, total, titles) in [
        ("line=L1", 2, vec![]),
        ("severity=critical", 2, vec![]),
        ("incident_type=equipment_failure", 2, vec!["R3"]),
        (
            "incident_type=equipment_failure&severity=low&line=L2",
            1,
            vec!["R3"],
        ),
        ("line=L9", 0, vec![]),
        ("severity=", 5, vec!["R3", "R4"]),
    ] {
        let s = stats(&app, &owner, &format!("{WINDOW}&{filter}")).await;
        assert_eq!(s["counts"]["total"], total, "{filter}: {s}");
        let open: Vec<&str> = s["slowest_open"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect();
        assert_eq!(open, titles, "{filter}");
    }
    let s = stats(&app, &owner, &format!("{WINDOW}&severity=critical")).await;
    assert_spread("critical mttr", &s["mttr"], 1800.0, 2760.0, 2);

    // The window: from inclusive, to exclusive, December for R6.
    let s = stats(
        &app,
        &owner,
        "from=2026-01-10T08:10:00Z&to=2026-01-10T08:30:00Z",
    )
    .await;
    assert_eq!(s["counts"]["total"], 2, "R2 and R3");
    let s = stats(
        &app,
        &owner,
        "from=2025-11-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(s["counts"]["total"], 1, "R6");
    assert_spread("R6 mttr", &s["mttr"], 10.0, 10.0, 1);
}

#[tokio::test]
async fn the_default_window_is_the_last_30_days_and_bad_input_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    fixture(&app, &owner).await;
    let fresh = app
        .create_room(
            &owner.token,
            json!({"title": "Now", "incident_type": "other", "severity": "high"}),
        )
        .await;
    let s = stats(&app, &owner, "").await;
    assert_eq!(s["counts"]["total"], 1, "{s}");
    assert_eq!(s["slowest_open"][0]["id"], fresh["id"]);
    let from = chrono::DateTime::parse_from_rfc3339(s["from"].as_str().unwrap()).unwrap();
    let to = chrono::DateTime::parse_from_rfc3339(s["to"].as_str().unwrap()).unwrap();
    assert_eq!(to - from, chrono::TimeDelta::days(30));

    for (query, field) in [
        ("severity=urgent", "severity"),
        ("incident_type=fire", "incident_type"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
        ("line=%00", "line"),
    ] {
        let (status, body) = app
            .get_as(&format!("/api/stats?{query}"), &owner.token)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("validation_failed")),
            "{query}: {body}"
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{query}: {message}");
    }
    let (status, _) = app.get_as("/api/stats?colour=red", &owner.token).await;
    assert_eq!(status, 400);
    let (status, _) = app.call(app.http.get(app.url("/api/stats"))).await;
    assert_eq!(status, 401);
}
