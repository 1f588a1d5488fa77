//! The fake AD on port 0, driven over its admin HTTP API like any client would.

use std::net::TcpListener;

use andon::fake_ad::FakeAd;
use serde_json::{Value, json};

pub struct TestAd {
    pub url: String,
    http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl TestAd {
    pub async fn start() -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel();
        super::spawn_system_thread("fake-ad", move || async move {
            let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fake AD");
            let ad = FakeAd::start(listener, Vec::new()).expect("starting the fake AD");
            let _ = tx.send((ad.port, ad.handle()));
            let _ = ad.server.await;
        });
        let (port, handle) = rx.await.expect("fake AD started");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            handle,
        }
    }

    async fn admin(&self, req: reqwest::RequestBuilder) -> Value {
        let resp = req.send().await.expect("fake AD admin call");
        let status = resp.status();
        let body: Value = resp.json().await.expect("fake AD admin body");
        assert!(
            status.is_success(),
            "fake AD admin call failed: {status} {body}"
        );
        body
    }

    pub async fn add_user(&self, username: &str, password: &str, name: &str) {
        self.admin(
            self.http
                .post(format!("{}/admin/users", self.url))
                .json(&json!({
                    "username": username, "password": password, "name": name,
                    "office_location": "Plant 1", "job_title": "Engineer",
                })),
        )
        .await;
    }

    pub async fn set_password(&self, username: &str, password: &str) {
        self.admin(
            self.http
                .put(format!("{}/admin/users/{username}/password", self.url))
                .json(&json!({ "password": password })),
        )
        .await;
    }

    pub async fn disable(&self, username: &str) {
        self.admin(
            self.http
                .post(format!("{}/admin/users/{username}/disable", self.url)),
        )
        .await;
    }

    pub async fn set_outage(&self, on: bool) {
        self.admin(
            self.http
                .put(format!("{}/admin/outage", self.url))
                .json(&json!({ "on": on })),
        )
        .await;
    }

    /// Lifetime of the tokens AD issues; negative or huge to play a broken AD.
    pub async fn set_token_ttl(&self, seconds: i64) {
        self.admin(
            self.http
                .put(format!("{}/admin/token-ttl", self.url))
                .json(&json!({ "seconds": seconds })),
        )
        .await;
    }

    /// How many login requests reached the fake AD so far.
    pub async fn login_requests(&self) -> u64 {
        let stats = self
            .admin(self.http.get(format!("{}/admin/stats", self.url)))
            .await;
        stats["login_requests"].as_u64().expect("login_requests")
    }

    /// Calls A1 directly, as Andon does.
    pub async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/api/auth/login", self.url))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("fake AD login");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("fake AD login body"))
    }
}

impl Drop for TestAd {
    fn drop(&mut self) {
        // Stopping resolves the server future, which ends the thread's System.
        drop(self.handle.stop(false));
    }
}
