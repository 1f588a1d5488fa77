//! The fake model server on port 0, switched over its admin HTTP API.

use std::net::TcpListener;

use andon::fake_llm::FakeLlm;
use serde_json::{Value, json};

pub struct TestLlm {
    pub url: String,
    http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl TestLlm {
    pub async fn start() -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel();
        super::spawn_system_thread("fake-llm", move || async move {
            let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fake LLM");
            let llm = FakeLlm::start(listener).expect("starting the fake LLM");
            let _ = tx.send((llm.port, llm.handle()));
            let _ = llm.server.await;
        });
        let (port, handle) = rx.await.expect("fake LLM started");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            handle,
        }
    }

    /// `ok`, `slow`, `broken` or `down`.
    pub async fn set_mode(&self, mode: &str) {
        let resp = self
            .http
            .post(format!("{}/admin/mode", self.url))
            .json(&json!({ "mode": mode }))
            .send()
            .await
            .expect("fake LLM mode switch");
        assert!(resp.status().is_success(), "mode {mode}: {}", resp.status());
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/admin/stats", self.url))
            .send()
            .await
            .expect("fake LLM stats")
            .json()
            .await
            .expect("fake LLM stats body")
    }
}

impl Drop for TestLlm {
    fn drop(&mut self) {
        // Stopping resolves the server future, which ends the thread's System; a
        // request held by `slow` is dropped with it.
        drop(self.handle.stop(false));
    }
}
