//! The real application on port 0, against a fresh database and a fake AD.

use std::collections::BTreeMap;
use std::sync::Arc;

use andon::config::Config;
use andon::startup::{Application, ShutdownHandle};
use base64::Engine;
use serde_json::{Value, json};

use super::{TcpProxy, TestAd, TestDb};

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub http: reqwest::Client,
    pub ad: Arc<TestAd>,
    pub db: Arc<TestDb>,
    /// Present when the app reaches PostgreSQL through a proxy the test can cut.
    pub db_proxy: Option<Arc<TcpProxy>>,
    vars: BTreeMap<String, String>,
    shutdown: ShutdownHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
pub struct TestAppBuilder {
    vars: BTreeMap<String, String>,
    db_proxy: bool,
}

impl TestAppBuilder {
    /// Sets an `ANDON_*` variable for the app.
    pub fn env(mut self, key: &str, value: impl ToString) -> Self {
        self.vars.insert(key.to_string(), value.to_string());
        self
    }

    /// Routes the app's database connections through a [`TcpProxy`].
    pub fn with_db_proxy(mut self) -> Self {
        self.db_proxy = true;
        self
    }

    pub async fn spawn(self) -> TestApp {
        super::init_test_logging();
        let (ad, db) = tokio::join!(TestAd::start(), TestDb::create());
        let (ad, db) = (Arc::new(ad), Arc::new(db));
        let db_proxy = if self.db_proxy {
            let url = reqwest::Url::parse(&db.url).expect("db url");
            let target = format!(
                "{}:{}",
                url.host_str().unwrap_or("127.0.0.1"),
                url.port().unwrap_or(5432)
            );
            Some(Arc::new(TcpProxy::start(target).await))
        } else {
            None
        };
        let db_url = match &db_proxy {
            Some(p) => db.url_via("127.0.0.1", p.port),
            None => db.url.clone(),
        };
        let key = base64::engine::general_purpose::STANDARD.encode(rand_bytes());
        let mut vars: BTreeMap<String, String> = [
            ("ANDON_LISTEN", "127.0.0.1:0".to_string()),
            ("ANDON_WORKERS", "2".to_string()),
            ("ANDON_DATABASE_URL", db_url),
            ("ANDON_DATABASE_TIMEOUT_SECS", "2".to_string()),
            ("ANDON_AD_URL", ad.url.clone()),
            ("ANDON_AD_TIMEOUT_SECS", "2".to_string()),
            ("ANDON_SECRET_KEY", key),
            ("ANDON_ADMINS", "admin@andon.test".to_string()),
            ("ANDON_SHUTDOWN_TIMEOUT_SECS", "5".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        vars.extend(self.vars);
        TestApp::launch(vars, ad, db, db_proxy).await
    }
}

fn rand_bytes() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    async fn launch(
        vars: BTreeMap<String, String>,
        ad: Arc<TestAd>,
        db: Arc<TestDb>,
        db_proxy: Option<Arc<TcpProxy>>,
    ) -> Self {
        let config = Config::from_vars(vars.clone()).expect("test configuration is valid");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = super::spawn_system_thread("andon-app", move || async move {
            match Application::build(config).await {
                Ok(app) => {
                    let _ = tx.send(Ok((app.port(), app.shutdown_handle())));
                    if let Err(e) = app.run_until_stopped().await {
                        eprintln!("test app stopped with an error: {e:#}");
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        let (port, shutdown) = rx
            .await
            .expect("app thread reported")
            .unwrap_or_else(|e| panic!("building the app: {e:#}"));
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            http: reqwest::Client::new(),
            ad,
            db,
            db_proxy,
            vars,
            shutdown,
            thread: Some(thread),
        }
    }

    /// Graceful shutdown, then a new app on the same database and fake AD.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let mut vars = std::mem::take(&mut self.vars);
        // A fresh free port: the old one may linger in TIME_WAIT.
        vars.insert("ANDON_LISTEN".into(), "127.0.0.1:0".into());
        Self::launch(
            vars,
            self.ad.clone(),
            self.db.clone(),
            self.db_proxy.clone(),
        )
        .await
    }

    /// Triggers graceful shutdown and waits for the app's thread to end.
    pub async fn stop(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .expect("joining the app thread")
                .expect("app thread panicked");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request and returns status and JSON body (`Null` when empty).
    pub async fn call(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }))
        };
        (status, body)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
