//! Templates (PRODUCT.md R6) and rooms created from them.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn admins_manage_templates_and_others_may_only_list() {
    let app = TestApp::spawn().await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let user = app.user("plain").await;
    let body = json!({"name": "Conveyor stop", "incident_type": "equipment_failure", "default_severity": "high"});
    let (status, _) = app
        .send_as(
            Method::POST,
            "/api/templates",
            &user.token,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 403);
    let (status, t) = app
        .send_as(
            Method::POST,
            "/api/templates",
            &admin.token,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    let (status, dup) = app
        .send_as(Method::POST, "/api/templates", &admin.token, Some(body))
        .await;
    assert_eq!((status, dup["code"].as_str()), (409, Some("conflict")));

    let path = format!("/api/templates/{}", t["id"].as_str().unwrap());
    let (status, _) = app
        .send_as(
            Method::PATCH,
            &path,
            &user.token,
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, updated) = app
        .send_as(
            Method::PATCH,
            &path,
            &admin.token,
            Some(json!({"default_severity": "critical"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            updated["default_severity"].as_str(),
            updated["name"].as_str()
        ),
        (Some("critical"), Some("Conveyor stop"))
    );
    let (status, bad) = app
        .send_as(
            Method::PATCH,
            &path,
            &admin.token,
            Some(json!({"default_members": [{"user_id": "a@b.c", "role": "owner"}]})),
        )
        .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("validation_failed"))
    );

    let (status, list) = app.get_as("/api/templates", &user.token).await;
    assert_eq!(status, 200);
    assert_eq!(list["templates"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.send_as(Method::DELETE, &path, &user.token, None)
            .await
            .0,
        403
    );
    assert_eq!(
        app.send_as(Method::DELETE, &path, &admin.token, None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.send_as(Method::DELETE, &path, &admin.token, None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn a_room_from_a_template_gets_its_defaults_and_a_not_yet_seen_user_sees_it_at_first_login() {
    let app = TestApp::spawn().await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let (status, t) = app
        .send_as(
            Method::POST,
            "/api/templates",
            &admin.token,
            Some(json!({
                "name": "Material shortage", "incident_type": "material_shortage",
                "default_severity": "medium", "default_description": "1. Check stock\n2. Call logistics",
                "default_members": [{"user_id": "New.Comer@Andon.Test", "role": "editor"}],
            })),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    let lead = app.user("lead").await;
    let room = app
        .create_room(
            &lead.token,
            json!({"title": "Line 2 out of screws", "template_id": t["id"]}),
        )
        .await;
    assert_eq!(room["incident_type"], "material_shortage");
    assert_eq!(room["severity"], "medium");
    assert_eq!(room["description"], "1. Check stock\n2. Call logistics");
    assert_eq!(room["member_count"], 2);

    let id = room["id"].as_str().unwrap();
    let (_, members) = app
        .get_as(&format!("/api/rooms/{id}/members"), &lead.token)
        .await;
    let pending = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == "new.comer@andon.test")
        .expect("the template's member was added")
        .clone();
    assert_eq!(
        (pending["role"].as_str(), pending["pending"].as_bool()),
        (Some("editor"), Some(true))
    );

    let newcomer = app.user_with_id("new.comer@andon.test", "New Comer").await;
    let (_, mine) = app.get_as("/api/rooms?mine=true", &newcomer.token).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["rooms"][0]["id"], room["id"]);
    assert_eq!(mine["rooms"][0]["my_role"], "editor");
}
