//! The permission matrix of PRODUCT.md §4, walked over REST: every action ×
//! viewer, editor, owner, non-member and system administrator, each on a fresh
//! room so that one case cannot change the next.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

struct Cast {
    owner: TestUser,
    editor: TestUser,
    viewer: TestUser,
    outsider: TestUser,
    admin: TestUser,
    /// A viewer and an editor to act on.
    target_viewer: TestUser,
    target_editor: TestUser,
}

const ACTORS: [&str; 5] = ["viewer", "editor", "owner", "non-member", "admin"];

impl Cast {
    fn actor(&self, name: &str) -> &TestUser {
        match name {
            "viewer" => &self.viewer,
            "editor" => &self.editor,
            "owner" => &self.owner,
            "non-member" => &self.outsider,
            _ => &self.admin,
        }
    }
}

async fn fresh_room(app: &TestApp, cast: &Cast, resolved: bool) -> String {
    let room = app
        .create_room(
            &cast.owner.token,
            json!({"title": "Press 4 hydraulic leak", "incident_type": "equipment_failure", "severity": "high"}),
        )
        .await;
    let id = room["id"].as_str().unwrap().to_string();
    for (user, role) in [
        (&cast.editor, "editor"),
        (&cast.viewer, "viewer"),
        (&cast.target_viewer, "viewer"),
        (&cast.target_editor, "editor"),
    ] {
        let (status, body) = app
            .send_as(
                Method::POST,
                &format!("/api/rooms/{id}/members"),
                &cast.owner.token,
                Some(json!({"user_id": user.id, "role": role})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    if resolved {
        let (status, _) = app
            .send_as(
                Method::PATCH,
                &format!("/api/rooms/{id}"),
                &cast.owner.token,
                Some(json!({"status": "resolved", "resolution_notes": "seal replaced"})),
            )
            .await;
        assert_eq!(status, 200);
    }
    id
}

/// (name, needs a resolved room, request, actors allowed)
type Case = (
    &'static str,
    bool,
    fn(&str, &Cast) -> (Method, String, Option<Value>),
    &'static [&'static str],
);

#[tokio::test]
async fn every_action_for_every_role_matches_the_matrix() {
    let app = TestApp::spawn().await;
    let cast = Cast {
        owner: app.user("owner").await,
        editor: app.user("editor").await,
        viewer: app.user("viewer").await,
        outsider: app.user("outsider").await,
        admin: app.user_with_id("admin@andon.test", "Admin").await,
        target_viewer: app.user("tv").await,
        target_editor: app.user("te").await,
    };
    const STAFF: &[&str] = &["editor", "owner", "admin"];
    const OWNER: &[&str] = &["owner", "admin"];
    const MEMBERS: &[&str] = &["viewer", "editor", "owner", "admin"];
    const EVERYONE: &[&str] = &["viewer", "editor", "owner", "non-member", "admin"];
    let cases: Vec<Case> = vec![
        (
            "see room",
            false,
            |id, _| (Method::GET, format!("/api/rooms/{id}"), None),
            EVERYONE,
        ),
        (
            "read events",
            false,
            |id, _| (Method::GET, format!("/api/rooms/{id}/events"), None),
            MEMBERS,
        ),
        (
            "read members",
            false,
            |id, _| (Method::GET, format!("/api/rooms/{id}/members"), None),
            MEMBERS,
        ),
        (
            "update fields",
            false,
            |id, _| {
                (
                    Method::PATCH,
                    format!("/api/rooms/{id}"),
                    Some(json!({"title": "Press 4: seal"})),
                )
            },
            STAFF,
        ),
        (
            "resolve",
            false,
            |id, _| {
                (
                    Method::PATCH,
                    format!("/api/rooms/{id}"),
                    Some(json!({"status": "resolved", "resolution_notes": "ok"})),
                )
            },
            STAFF,
        ),
        (
            "reopen",
            true,
            |id, _| {
                (
                    Method::PATCH,
                    format!("/api/rooms/{id}"),
                    Some(json!({"status": "active"})),
                )
            },
            STAFF,
        ),
        (
            "archive",
            false,
            |id, _| {
                (
                    Method::PATCH,
                    format!("/api/rooms/{id}"),
                    Some(json!({"status": "archived"})),
                )
            },
            OWNER,
        ),
        (
            "add viewer",
            false,
            |id, _| {
                (
                    Method::POST,
                    format!("/api/rooms/{id}/members"),
                    Some(json!({"user_id": "new1@andon.test", "role": "viewer"})),
                )
            },
            STAFF,
        ),
        (
            "add editor",
            false,
            |id, _| {
                (
                    Method::POST,
                    format!("/api/rooms/{id}/members"),
                    Some(json!({"user_id": "new2@andon.test", "role": "editor"})),
                )
            },
            STAFF,
        ),
        (
            "promote viewer",
            false,
            |id, c| {
                (
                    Method::PATCH,
                    format!("/api/rooms/{id}/members/{}", c.target_viewer.id),
                    Some(json!({"role": "editor"})),
                )
            },
            STAFF,
        ),
        (
            "demote editor",
            false,
            |id, c| {
                (
                    Method::PATCH,
                    format!("/api/rooms/{id}/members/{}", c.target_editor.id),
                    Some(json!({"role": "viewer"})),
                )
            },
            OWNER,
        ),
        (
            "remove member",
            false,
            |id, c| {
                (
                    Method::DELETE,
                    format!("/api/rooms/{id}/members/{}", c.target_viewer.id),
                    None,
                )
            },
            OWNER,
        ),
        (
            "transfer ownership",
            false,
            |id, c| {
                (
                    Method::POST,
                    format!("/api/rooms/{id}/transfer"),
                    Some(json!({"user_id": c.target_editor.id})),
                )
            },
            OWNER,
        ),
    ];

    let mut failures = Vec::new();
    for (name, resolved, request, allowed) in &cases {
        for actor in ACTORS {
            let room = fresh_room(&app, &cast, *resolved).await;
            let (method, path, body) = request(&room, &cast);
            let (status, reply) = app
                .send_as(method, &path, &cast.actor(actor).token, body)
                .await;
            let expect_ok = allowed.contains(&actor);
            let ok = (200..300).contains(&status);
            if ok != expect_ok || (!ok && status != 403) {
                failures.push(format!("{name} as {actor}: {status} {reply}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "matrix mismatches:\n{}",
        failures.join("\n")
    );

    // Every admin action beyond a role was audited.
    let audited: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM audit_log WHERE actor = 'admin@andon.test'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let admin_overrides = cases.len() as i64 - 1; // all but "see room"
    assert_eq!(audited, admin_overrides);
}

#[tokio::test]
async fn owner_may_never_be_given_directly_and_join_leave_follow_the_rules() {
    let app = TestApp::spawn().await;
    let owner = app.user("own").await;
    let other = app.user("oth").await;
    let room = app
        .create_room(
            &owner.token,
            json!({"title": "Mixer", "incident_type": "other", "severity": "low"}),
        )
        .await;
    let id = room["id"].as_str().unwrap();
    let (status, body) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{id}/members"),
            &owner.token,
            Some(json!({"user_id": other.id, "role": "owner"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("validation_failed"))
    );

    let join = format!("/api/rooms/{id}/join");
    let leave = format!("/api/rooms/{id}/leave");
    let (status, body) = app.send_as(Method::POST, &join, &other.token, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["is_member"].as_bool(), body["my_role"].as_str()),
        (Some(true), Some("viewer"))
    );
    let (status, body) = app.send_as(Method::POST, &join, &other.token, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_member"))
    );
    let (status, body) = app.send_as(Method::POST, &leave, &owner.token, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("owner_must_transfer"))
    );
    assert_eq!(
        app.send_as(Method::POST, &leave, &other.token, None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.send_as(Method::POST, &leave, &other.token, None)
            .await
            .0,
        404
    );

    // Transfer: the new owner owns, the old one becomes editor.
    app.send_as(Method::POST, &join, &other.token, None).await;
    let (status, _) = app
        .send_as(
            Method::POST,
            &format!("/api/rooms/{id}/transfer"),
            &owner.token,
            Some(json!({"user_id": other.id})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, members) = app
        .get_as(&format!("/api/rooms/{id}/members"), &owner.token)
        .await;
    let role_of = |u: &str| {
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == u)
            .map(|m| m["role"].as_str().unwrap().to_string())
    };
    assert_eq!(role_of(&other.id).as_deref(), Some("owner"));
    assert_eq!(role_of(&owner.id).as_deref(), Some("editor"));
    let (_, events) = app
        .get_as(&format!("/api/rooms/{id}/events"), &owner.token)
        .await;
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "ownership.transferred");
    assert_eq!(last["data"]["to"], other.id.as_str());
}
