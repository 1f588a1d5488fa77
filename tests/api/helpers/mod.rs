//! The test harness every integration test uses.
//!
//! A shared toolbox: each helper serves some test modules, not necessarily all.
#![allow(dead_code)]

mod ad;
mod app;
pub mod binary;
mod db;
mod llm;
mod proxy;
mod storage;
mod ws;

pub use ad::TestAd;
pub use app::{TestApp, TestUser};
pub use db::TestDb;
pub use llm::TestLlm;
pub use proxy::TcpProxy;
pub use storage::{Driver, S3Server};
pub use ws::*;

/// The NATS server the cluster tests use (`scripts/test` provides one).
pub fn nats_url() -> String {
    std::env::var("ANDON_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The actix runtime used by the app and fake AD runs on threads of its own; each
/// of them reports once it is listening.
pub fn spawn_system_thread<T, F, Fut>(name: &str, make: F) -> std::thread::JoinHandle<()>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                make().await;
            });
        })
        .expect("spawning a test server thread")
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `secs` seconds.
/// For waiting on an outcome driven by real I/O, never for timing logic.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs}s waiting for: {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        andon::telemetry::init(
            andon::config::LogFormat::Human,
            &std::env::var("ANDON_LOG").unwrap_or_else(|_| "info".into()),
        );
    }
}
