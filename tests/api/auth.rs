//! Login, logout, `/me` and user search (PRODUCT.md A2, A4, A7), over HTTP against
//! the fake AD and the real database.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn login_returns_token_display_name_and_user() {
    let app = TestApp::spawn().await;
    app.ad.add_user("Amy@Andon.Test", "s3cret", "Amy Wu").await;
    let (status, body) = app.login("amy@andon.test", "s3cret").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].as_str().unwrap().len() >= 43);
    assert_eq!(body["display_name"], "Amy Wu");
    assert_eq!(body["user"]["id"], "amy@andon.test");
    assert_eq!(body["user"]["is_admin"], false);

    let (status, me) = app
        .get_as("/api/auth/me", body["token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], "amy@andon.test");
    assert_eq!(me["display_name"], "Amy Wu");
    assert_eq!(me["office_location"], "Plant 1");
}

#[tokio::test]
async fn configured_admins_are_admins() {
    let app = TestApp::spawn().await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let (_, me) = app.get_as("/api/auth/me", &admin.token).await;
    assert_eq!(me["is_admin"], true);
}

#[tokio::test]
async fn wrong_password_gets_401_invalid_credentials() {
    let app = TestApp::spawn().await;
    app.ad.add_user("bo@andon.test", "right", "Bo").await;
    let (status, body) = app.login("bo@andon.test", "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "invalid_credentials");
    assert_eq!(body["message"], "Invalid credentials");
}

#[tokio::test]
async fn ad_outage_gets_503() {
    let app = TestApp::spawn().await;
    app.ad.add_user("cy@andon.test", "pw", "Cy").await;
    app.ad.set_outage(true).await;
    let (status, body) = app.login("cy@andon.test", "pw").await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "ad_unavailable");
}

#[tokio::test]
async fn unreachable_ad_gets_503() {
    // Nothing listens on port 1.
    let app = TestApp::builder()
        .env("ANDON_AD_URL", "http://127.0.0.1:1")
        .spawn()
        .await;
    let (status, body) = app.login("dee@andon.test", "pw").await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "ad_unavailable");
}

#[tokio::test]
async fn malformed_login_bodies_get_400() {
    let app = TestApp::spawn().await;
    let url = app.url("/api/auth/login");
    let cases = [
        json!({"username": "x@andon.test"}),
        json!({"username": "x@andon.test", "password": 5}),
        json!({"username": "x@andon.test", "password": "p", "extra": 1}),
        json!({"username": "", "password": "p"}),
        json!({"username": "x@andon.test", "password": ""}),
        json!({"username": "x".repeat(300), "password": "p"}),
    ];
    for case in cases {
        let (status, body) = app.call(app.http.post(&url).json(&case)).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert!(body["code"].is_string() && body["message"].is_string());
    }
    let (status, body) = app
        .call(
            app.http
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_json")));
    assert_eq!(
        app.ad.login_requests().await,
        0,
        "nothing malformed reaches AD"
    );
}

#[tokio::test]
async fn failed_logins_per_account_are_limited_before_ad_could_lock_it() {
    // Defaults: 3 failures per account in 15 minutes.
    let app = TestApp::spawn().await;
    app.ad.add_user("eve@andon.test", "right", "Eve").await;
    app.ad.add_user("ivan@andon.test", "pw", "Ivan").await;
    // Three spellings of one account: one budget.
    for spelling in ["eve@andon.test", "EVE@Andon.Test", "PLANT\\eve"] {
        assert_eq!(app.login(spelling, "guess").await.0, 401, "{spelling}");
    }
    for spelling in ["eve", "Eve@andon.test", "plant\\EVE"] {
        let resp = app
            .http
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": spelling, "password": "guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 429, "{spelling}");
        let secs: u64 = resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&secs), "{secs}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
    }
    assert_eq!(app.ad.login_requests().await, 3, "AD saw three failures");
    // Even the right password waits: the account is protected, not just the guess.
    assert_eq!(app.login("eve@andon.test", "right").await.0, 429);
    assert_eq!(app.ad.login_requests().await, 3);
    assert_eq!(app.login("ivan@andon.test", "pw").await.0, 200);
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_failure_budget() {
    let app = TestApp::builder()
        .env("ANDON_LOGIN_MAX_FAILURES", 2)
        .spawn()
        .await;
    app.ad.add_user("gwen@andon.test", "right", "Gwen").await;
    for _ in 0..5 {
        assert_eq!(app.login("gwen@andon.test", "right").await.0, 200);
    }
    assert_eq!(app.login("gwen@andon.test", "typo").await.0, 401);
    // A success clears the failures, as it does at AD.
    assert_eq!(app.login("gwen@andon.test", "right").await.0, 200);
    assert_eq!(app.login("gwen@andon.test", "typo").await.0, 401);
    assert_eq!(app.login("gwen@andon.test", "typo").await.0, 401);
    assert_eq!(app.login("gwen@andon.test", "typo").await.0, 429);
    assert_eq!(app.ad.login_requests().await, 5 + 1 + 1 + 2);
}

#[tokio::test]
async fn an_ad_outage_uses_up_no_failures() {
    let app = TestApp::builder()
        .env("ANDON_LOGIN_MAX_FAILURES", 1)
        .spawn()
        .await;
    app.ad.add_user("hal@andon.test", "right", "Hal").await;
    app.ad.set_outage(true).await;
    for _ in 0..3 {
        assert_eq!(app.login("hal@andon.test", "right").await.0, 503);
    }
    app.ad.set_outage(false).await;
    assert_eq!(app.login("hal@andon.test", "right").await.0, 200);
}

#[tokio::test]
async fn an_out_of_range_token_lifetime_from_ad_is_an_ad_error() {
    let app = TestApp::spawn().await;
    app.ad.add_user("gil@andon.test", "pw", "Gil").await;
    for ttl in [i64::MAX, i64::MIN, -60, 400 * 86_400] {
        app.ad.set_token_ttl(ttl).await;
        let (status, body) = app.login("gil@andon.test", "pw").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (503, Some("ad_unavailable")),
            "expires_in {ttl}: {body}"
        );
    }
    app.ad.set_token_ttl(3600).await;
    let (status, body) = app.login("gil@andon.test", "pw").await;
    assert_eq!(status, 200, "the server is still up: {body}");
}

#[tokio::test]
async fn the_address_limit_spans_usernames() {
    let app = TestApp::builder()
        .env("ANDON_LOGIN_ADDR_LIMIT_PER_MINUTE", 3)
        .spawn()
        .await;
    for i in 0..3 {
        assert_eq!(app.login(&format!("u{i}@andon.test"), "x").await.0, 401);
    }
    assert_eq!(app.login("u9@andon.test", "x").await.0, 429);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let user = app.user("fin").await;
    let (status, _) = app
        .call(app.authed(Method::POST, "/api/auth/logout", &user.token))
        .await;
    assert_eq!(status, 204);
    let (status, body) = app.get_as("/api/auth/me", &user.token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "session_revoked");
    let rows = app
        .db
        .client()
        .await
        .query("SELECT 1 FROM sessions WHERE user_id = $1", &[&user.id])
        .await
        .unwrap();
    assert!(rows.is_empty(), "the session row is deleted");
}

#[tokio::test]
async fn missing_and_unknown_tokens_get_distinct_401s() {
    let app = TestApp::spawn().await;
    let (status, body) = app.call(app.http.post(app.url("/api/auth/logout"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("missing_token"))
    );
    let (status, body) = app.get_as("/api/auth/me", "not-a-real-token").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, body) = app
        .call(
            app.http
                .get(app.url("/api/auth/me"))
                .header("authorization", "Basic abc"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("missing_token"))
    );
}

#[tokio::test]
async fn user_search_finds_by_email_and_name_including_chinese() {
    let app = TestApp::spawn().await;
    let me = app.user_with_id("gao@andon.test", "高志明").await;
    app.user_with_id("hu@andon.test", "Hu Jun").await;
    app.user_with_id("ivy@andon.test", "Ivy 100%").await;

    let names = |body: &serde_json::Value| -> Vec<String> {
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, body) = app.get_as("/api/users?q=%E5%BF%97", &me.token).await; // 志
    assert_eq!(status, 200);
    assert_eq!(names(&body), ["gao@andon.test"]);
    let (_, body) = app.get_as("/api/users?q=HU", &me.token).await;
    assert_eq!(names(&body), ["hu@andon.test"]);
    let (_, body) = app.get_as("/api/users?q=%25", &me.token).await; // a literal %
    assert_eq!(names(&body), ["ivy@andon.test"]);
    let (status, _) = app.get_as("/api/users?q=x&limit=0", &me.token).await;
    assert_eq!(status, 400);
    let (status, _) = app.call(app.http.get(app.url("/api/users?q=x"))).await;
    assert_eq!(status, 401);
}
