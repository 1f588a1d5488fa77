//! The fake AD's contract (PRODUCT.md A1, A9), over HTTP.

use crate::helpers::TestAd;

fn is_rfc3339(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'))
}

#[tokio::test]
async fn success_body_has_the_a1_shape() {
    let ad = TestAd::start().await;
    ad.add_user("Alice@Plant.Test", "pw-1", "Alice Chen").await;
    let (status, body) = ad.login("alice@plant.test", "pw-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert!(body["message"].is_string());
    assert!(is_rfc3339(&body["timestamp"]));
    let data = &body["data"];
    for key in ["access_token", "id_token"] {
        assert!(!data[key].as_str().unwrap().is_empty(), "{key}");
    }
    assert_eq!(data["expires_in"], 3600);
    assert_eq!(data["token_type"], "Bearer");
    assert!(is_rfc3339(&data["issuedAt"]) && is_rfc3339(&data["expiresAt"]));
    let info = &data["userInfo"];
    assert!(info["id"].is_string());
    assert_eq!(info["name"], "Alice Chen");
    assert_eq!(info["email"], "alice@plant.test");
    assert_eq!(info["officeLocation"], "Plant 1");
    assert_eq!(info["jobTitle"], "Engineer");
    assert!(info["businessPhones"].is_array());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_401() {
    let ad = TestAd::start().await;
    ad.add_user("bob@plant.test", "right", "Bob").await;
    for (user, pw) in [("bob@plant.test", "wrong"), ("nobody@plant.test", "right")] {
        let (status, body) = ad.login(user, pw).await;
        assert_eq!(status, 401, "{user}");
        assert_eq!(body["success"], false);
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn disabled_user_gets_401() {
    let ad = TestAd::start().await;
    ad.add_user("carol@plant.test", "pw", "Carol").await;
    ad.disable("carol@plant.test").await;
    let (status, body) = ad.login("carol@plant.test", "pw").await;
    assert_eq!(status, 401);
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn outage_gives_503_until_switched_off() {
    let ad = TestAd::start().await;
    ad.add_user("dan@plant.test", "pw", "Dan").await;
    ad.set_outage(true).await;
    assert_eq!(ad.login("dan@plant.test", "pw").await.0, 503);
    ad.set_outage(false).await;
    assert_eq!(ad.login("dan@plant.test", "pw").await.0, 200);
}

#[tokio::test]
async fn token_lifetime_is_honoured() {
    let ad = TestAd::start().await;
    ad.add_user("erin@plant.test", "pw", "Erin").await;
    ad.set_token_ttl(90).await;
    let (_, body) = ad.login("erin@plant.test", "pw").await;
    assert_eq!(body["data"]["expires_in"], 90);
    let parse =
        |k: &str| chrono::DateTime::parse_from_rfc3339(body["data"][k].as_str().unwrap()).unwrap();
    assert_eq!((parse("expiresAt") - parse("issuedAt")).num_seconds(), 90);
}

#[tokio::test]
async fn password_change_takes_effect() {
    let ad = TestAd::start().await;
    ad.add_user("fay@plant.test", "old", "Fay").await;
    ad.set_password("fay@plant.test", "new").await;
    assert_eq!(ad.login("fay@plant.test", "old").await.0, 401);
    assert_eq!(ad.login("fay@plant.test", "new").await.0, 200);
}

#[tokio::test]
async fn malformed_login_body_gets_400() {
    let ad = TestAd::start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/auth/login", ad.url))
        .header("content-type", "application/json")
        .body("{\"username\": 1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn users_file_is_loaded() {
    let dir = std::env::temp_dir().join(format!("andon-users-{}", uuid::Uuid::new_v4()));
    std::fs::write(
        &dir,
        r#"[{"username":"gus@plant.test","password":"pw","name":"Gus","office_location":"Plant 2","job_title":null}]"#,
    )
    .unwrap();
    let users = andon::fake_ad::load_users(&dir).unwrap();
    std::fs::remove_file(&dir).unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "gus@plant.test");
    assert_eq!(users[0].office_location.as_deref(), Some("Plant 2"));
}
