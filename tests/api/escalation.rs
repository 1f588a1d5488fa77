//! Escalation ladders (issue 19): an unacknowledged room climbs its severity's
//! ladder at the configured delays (seconds here), each level once, through
//! acknowledgements and restarts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, eventually};

async fn admin(app: &TestApp) -> TestUser {
    app.user_with_id("admin@andon.test", "Admin").await
}

async fn set_ladder(
    app: &TestApp,
    admin: &TestUser,
    severity: &str,
    levels: Value,
) -> (u16, Value) {
    app.send_as(
        Method::PUT,
        &format!("/api/escalation-policies/{severity}"),
        &admin.token,
        Some(json!({ "levels": levels })),
    )
    .await
}

async fn critical_room(app: &TestApp, owner: &TestUser) -> String {
    let room = app
        .create_room(
            &owner.token,
            json!({"title": "Press 2 hydraulic leak", "incident_type": "equipment_failure",
                   "severity": "critical"}),
        )
        .await;
    room["id"].as_str().unwrap().to_string()
}

/// The room's `room.escalated` levels, in log order.
async fn levels(app: &TestApp, user: &TestUser, room: &str) -> Vec<i64> {
    let (status, body) = app
        .get_as(&format!("/api/rooms/{room}/events?limit=1000"), &user.token)
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "room.escalated")
        .map(|e| e["data"]["level"].as_i64().unwrap())
        .collect()
}

async fn role_of(app: &TestApp, user: &TestUser, room: &str, member: &str) -> Option<String> {
    let (_, body) = app
        .get_as(&format!("/api/rooms/{room}/members"), &user.token)
        .await;
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == member)
        .map(|m| m["role"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn an_unacknowledged_room_climbs_and_acknowledging_stops_the_ladder() {
    let app = TestApp::spawn().await;
    let admin = admin(&app).await;
    let owner = app.user("line-lead").await;
    let lead = app
        .user_with_id("shift.lead@andon.test", "Shift lead")
        .await;
    let mut lead_socket = crate::helpers::WsClient::connect(&app, &lead.token).await;
    let (status, body) = set_ladder(
        &app,
        &admin,
        "critical",
        json!([
            {"after_secs": 1, "notify": ["Shift.Lead@andon.test"]},
            {"after_secs": 3, "notify": ["plant.manager@andon.test"]},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["levels"][0]["notify"],
        json!(["shift.lead@andon.test"])
    );

    let acked = critical_room(&app, &owner).await;
    let ignored = critical_room(&app, &owner).await;
    for room in [&acked, &ignored] {
        eventually(10, "level 1", || async {
            (levels(&app, &owner, room).await == [1]).then_some(())
        })
        .await;
        // Level 1's person is in the room as an editor, able to act.
        assert_eq!(
            role_of(&app, &owner, room, "shift.lead@andon.test")
                .await
                .as_deref(),
            Some("editor")
        );
    }
    // Level 1's person is told, live and in the inbox, once a room.
    for _ in 0..2 {
        let live = lead_socket
            .recv_until("an escalation", |f| f["type"] == "notification")
            .await;
        assert_eq!(live["notification"]["kind"], "escalated");
    }
    let (_, inbox) = app.get_as("/api/notifications", &lead.token).await;
    assert_eq!(
        inbox["notifications"].as_array().unwrap().len(),
        2,
        "{inbox}"
    );
    // The lead, now an editor, acknowledges one of them.
    let (status, body) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{acked}/acknowledge"),
            &lead.token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The other room reaches level 2; by then the acknowledged one would have.
    eventually(10, "level 2 of the unacknowledged room", || async {
        (levels(&app, &owner, &ignored).await == [1, 2]).then_some(())
    })
    .await;
    assert_eq!(levels(&app, &owner, &acked).await, [1]);
    assert_eq!(
        role_of(&app, &owner, &acked, "plant.manager@andon.test").await,
        None
    );
    assert_eq!(
        role_of(&app, &owner, &ignored, "plant.manager@andon.test")
            .await
            .as_deref(),
        Some("editor")
    );
}

#[tokio::test]
async fn a_restart_between_levels_neither_skips_nor_repeats_one() {
    let app = TestApp::spawn().await;
    let admin = admin(&app).await;
    let owner = app.user("restart-lead").await;
    set_ladder(
        &app,
        &admin,
        "critical",
        json!([
            {"after_secs": 1, "notify": ["first@andon.test"]},
            {"after_secs": 4, "notify": ["second@andon.test"]},
        ]),
    )
    .await;
    let room = critical_room(&app, &owner).await;
    eventually(10, "level 1", || async {
        (levels(&app, &owner, &room).await == [1]).then_some(())
    })
    .await;
    let app = app.restart().await;
    eventually(15, "level 2 after the restart", || async {
        (levels(&app, &owner, &room).await.len() == 2).then_some(())
    })
    .await;
    assert_eq!(levels(&app, &owner, &room).await, [1, 2]);
}

#[tokio::test]
async fn only_administrators_manage_ladders_and_bad_ladders_are_refused() {
    let app = TestApp::spawn().await;
    let admin = admin(&app).await;
    let user = app.user("not-admin").await;
    let ladder = json!([{"after_secs": 60, "notify": ["a@andon.test"]}]);
    let (status, _) = set_ladder(&app, &user, "high", ladder.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = app.get_as("/api/escalation-policies", &user.token).await;
    assert_eq!(status, 403);
    for (levels, why) in [
        (
            json!([{"after_secs": 60, "notify": ["a@andon.test"]},
                {"after_secs": 60, "notify": ["b@andon.test"]}]),
            "later than",
        ),
        (
            json!([{"after_secs": 0, "notify": ["a@andon.test"]}]),
            "between 1",
        ),
        (json!([{"after_secs": 60, "notify": []}]), "1 to 50"),
        (
            json!([{"after_secs": 60, "notify": ["not an e-mail"]}]),
            "notify",
        ),
    ] {
        let (status, body) = set_ladder(&app, &admin, "high", levels).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains(why), "{body}");
    }
    let (status, _) = set_ladder(&app, &admin, "urgent", ladder.clone()).await;
    assert_eq!(status, 404);
    let (status, body) = set_ladder(&app, &admin, "high", ladder).await;
    assert_eq!(status, 200, "{body}");
    let (_, all) = app.get_as("/api/escalation-policies", &admin.token).await;
    let severities: Vec<&str> = all["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["low", "medium", "high", "critical"]);
    assert_eq!(all["policies"][2]["levels"][0]["after_secs"], 60);
    assert_eq!(all["policies"][2]["updated_by"], "admin@andon.test");
    assert_eq!(all["policies"][3]["levels"], json!([]));
}
