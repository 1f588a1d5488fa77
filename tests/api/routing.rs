//! Routing rules (issue 19): a room created with, or re-graded to, what a rule
//! matches gets the rule's people at once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

async fn admin(app: &TestApp) -> TestUser {
    app.user_with_id("admin@andon.test", "Admin").await
}

async fn members(app: &TestApp, user: &TestUser, room: &str) -> Vec<(String, String)> {
    let (_, body) = app
        .get_as(&format!("/api/rooms/{room}/members"), &user.token)
        .await;
    let mut out: Vec<(String, String)> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn room(app: &TestApp, owner: &TestUser, severity: &str, line: &str) -> Value {
    app.create_room(
        &owner.token,
        json!({"title": "Filler jam", "incident_type": "equipment_failure",
               "severity": severity, "line": line}),
    )
    .await
}

#[tokio::test]
async fn a_matching_room_gets_the_rules_people_at_creation_and_when_regraded() {
    let app = TestApp::spawn().await;
    let admin = admin(&app).await;
    let owner = app.user("operator").await;
    let lead = app
        .user_with_id("maint.lead@andon.test", "Maintenance lead")
        .await;
    let mut lead_socket = crate::helpers::WsClient::connect(&app, &lead.token).await;
    let (status, rule) = app
        .send_as(
            Method::POST,
            "/api/routing-rules",
            &admin.token,
            Some(json!({
                "name": "Line 4 critical", "severity": "critical", "line": "L4",
                "members": [
                    {"user_id": "Maint.Lead@andon.test", "role": "editor"},
                    {"user_id": "qa@andon.test", "role": "viewer"},
                ],
            })),
        )
        .await;
    assert_eq!(status, 201, "{rule}");

    let matching = room(&app, &owner, "critical", "l4").await;
    let id = matching["id"].as_str().unwrap();
    assert_eq!(
        members(&app, &owner, id).await,
        [
            ("maint.lead@andon.test".to_string(), "editor".to_string()),
            (owner.id.clone(), "owner".to_string()),
            ("qa@andon.test".to_string(), "viewer".to_string()),
        ]
    );
    let (_, events) = app
        .get_as(&format!("/api/rooms/{id}/events"), &owner.token)
        .await;
    let routed: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "member.added" && e["data"]["added_by"] == "routing")
        .collect();
    assert_eq!(routed.len(), 2, "{events}");
    assert_eq!(routed[0]["data"]["rule"], "Line 4 critical");
    // The lead is told at once, on a socket subscribed to nothing, and in the inbox.
    let live = lead_socket
        .recv_until("a notification", |f| f["type"] == "notification")
        .await;
    assert_eq!(live["notification"]["kind"], "routed");
    assert_eq!(live["notification"]["room_id"], matching["id"]);
    let (_, inbox) = app.get_as("/api/notifications", &lead.token).await;
    assert_eq!(inbox["notifications"][0]["kind"], "routed");
    assert!(
        inbox["notifications"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Line 4 critical")
    );

    // Another line, or a lower severity: nobody is pulled in, until re-graded.
    let other_line = room(&app, &owner, "critical", "L5").await;
    assert_eq!(
        members(&app, &owner, other_line["id"].as_str().unwrap())
            .await
            .len(),
        1
    );
    let lower = room(&app, &owner, "high", "L4").await;
    let lower_id = lower["id"].as_str().unwrap();
    assert_eq!(members(&app, &owner, lower_id).await.len(), 1);
    let (status, _) = app
        .send_as(
            Method::PATCH,
            &format!("/api/rooms/{lower_id}"),
            &owner.token,
            Some(json!({"severity": "critical"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(members(&app, &owner, lower_id).await.len(), 3);
}

#[tokio::test]
async fn only_administrators_manage_rules_and_bad_rules_are_refused() {
    let app = TestApp::spawn().await;
    let admin = admin(&app).await;
    let user = app.user("not-admin").await;
    let rule = json!({"name": "QA", "incident_type": "quality_issue",
                      "members": [{"user_id": "qa@andon.test", "role": "editor"}]});
    let (status, _) = app
        .send_as(
            Method::POST,
            "/api/routing-rules",
            &user.token,
            Some(rule.clone()),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get_as("/api/routing-rules", &user.token).await;
    assert_eq!(status, 403);
    for (bad, why) in [
        (json!({"name": "x", "members": []}), "at least one"),
        (
            json!({"name": "x", "severity": "urgent",
                "members": [{"user_id": "a@andon.test", "role": "editor"}]}),
            "severity",
        ),
        (
            json!({"name": "x", "members": [{"user_id": "a@andon.test", "role": "owner"}]}),
            "editor or viewer",
        ),
        (
            json!({"name": "", "members": [{"user_id": "a@andon.test", "role": "editor"}]}),
            "name",
        ),
    ] {
        let (status, body) = app
            .send_as(Method::POST, "/api/routing-rules", &admin.token, Some(bad))
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains(why), "{body}");
    }
    let (status, created) = app
        .send_as(
            Method::POST,
            "/api/routing-rules",
            &admin.token,
            Some(rule.clone()),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .send_as(Method::POST, "/api/routing-rules", &admin.token, Some(rule))
        .await;
    assert_eq!(status, 409, "the name is taken");
    let path = format!("/api/routing-rules/{}", created["id"].as_str().unwrap());
    let (status, changed) = app
        .send_as(
            Method::PATCH,
            &path,
            &admin.token,
            Some(json!({"name": "QA line 2", "line": "L2",
                        "members": [{"user_id": "qa2@andon.test", "role": "viewer"}]})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["line"], "L2");
    assert_eq!(
        changed["incident_type"],
        Value::Null,
        "the whole rule is replaced"
    );
    let (_, list) = app.get_as("/api/routing-rules", &admin.token).await;
    assert_eq!(list["rules"].as_array().unwrap().len(), 1);
    let (status, _) = app.send_as(Method::DELETE, &path, &admin.token, None).await;
    assert_eq!(status, 204);
    let (status, _) = app.send_as(Method::DELETE, &path, &admin.token, None).await;
    assert_eq!(status, 404);
}
