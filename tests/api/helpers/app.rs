//! The real application on port 0, against a fresh database and a fake AD.

use std::collections::BTreeMap;
use std::sync::Arc;

use andon::config::Config;
use andon::startup::{Application, ShutdownHandle};
use andon_actors::metrics::MetricsProbe;
use base64::Engine;
use serde_json::{Value, json};

use super::storage::{Driver, TestStorage};
use super::{TcpProxy, TestAd, TestDb};

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub http: reqwest::Client,
    pub ad: Arc<TestAd>,
    pub db: Arc<TestDb>,
    /// Present when the app reaches PostgreSQL through a proxy the test can cut.
    pub db_proxy: Option<Arc<TcpProxy>>,
    /// This app's real-time meters (queue high-water marks, slow-consumer closes),
    /// apart from the other apps the test binary runs at the same time.
    pub metrics: MetricsProbe,
    /// Where the app stores files.
    pub storage: Arc<TestStorage>,
    vars: BTreeMap<String, String>,
    shutdown: ShutdownHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
pub struct TestAppBuilder {
    vars: BTreeMap<String, String>,
    db_proxy: bool,
    driver: Option<Driver>,
    storage_proxy: bool,
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

    /// Stores files with `driver` (default: a temporary local directory).
    pub fn storage(mut self, driver: Driver) -> Self {
        self.driver = Some(driver);
        self
    }

    /// Routes the app's S3 traffic through a [`TcpProxy`] (see `TestStorage::set_down`).
    pub fn with_storage_proxy(mut self) -> Self {
        self.storage_proxy = true;
        self
    }

    pub async fn spawn(self) -> TestApp {
        super::init_test_logging();
        let (storage, storage_vars) =
            TestStorage::create(self.driver.unwrap_or(Driver::Local), self.storage_proxy).await;
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
            ("ANDON_DATABASE_TIMEOUT_SECS", "5".to_string()),
            ("ANDON_AD_URL", ad.url.clone()),
            ("ANDON_AD_TIMEOUT_SECS", "2".to_string()),
            ("ANDON_SECRET_KEY", key),
            ("ANDON_ADMINS", "admin@andon.test".to_string()),
            ("ANDON_SHUTDOWN_TIMEOUT_SECS", "5".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        vars.extend(storage_vars);
        vars.extend(self.vars);
        TestApp::launch(vars, ad, db, db_proxy, Arc::new(storage)).await
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
        storage: Arc<TestStorage>,
    ) -> Self {
        let config = Config::from_vars(vars.clone()).expect("test configuration is valid");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let metrics = MetricsProbe::new();
        let probe = metrics.clone();
        let thread = super::spawn_system_thread("andon-app", move || async move {
            match Application::build_probed(config, Some(&probe)).await {
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
            metrics,
            storage,
            vars,
            shutdown,
            thread: Some(thread),
        }
    }

    /// Graceful shutdown, then a new app on the same database and fake AD.
    pub async fn restart(self) -> Self {
        self.restart_with(&[]).await
    }

    /// A second node: another app with the same settings on the same database,
    /// fake AD and file storage, as behind a load balancer.
    pub async fn node(&self) -> Self {
        self.sibling(self.vars.clone()).await
    }

    /// Another app with `vars` on this one's database, fake AD and storage, on a
    /// fresh free port (an old one may linger in TIME_WAIT).
    async fn sibling(&self, mut vars: BTreeMap<String, String>) -> Self {
        vars.insert("ANDON_LISTEN".into(), "127.0.0.1:0".into());
        Self::launch(
            vars,
            self.ad.clone(),
            self.db.clone(),
            self.db_proxy.clone(),
            self.storage.clone(),
        )
        .await
    }

    /// The value of a variable the app was started with.
    pub fn var(&self, key: &str) -> String {
        self.vars.get(key).cloned().unwrap_or_default()
    }

    /// Like [`restart`](Self::restart), with some variables changed.
    pub async fn restart_with(mut self, changes: &[(&str, &str)]) -> Self {
        self.stop().await;
        let mut vars = std::mem::take(&mut self.vars);
        for (k, v) in changes {
            vars.insert(k.to_string(), v.to_string());
        }
        self.sibling(vars).await
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

/// A user known to the fake AD and logged in to the app.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    /// `POST /api/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        self.call(
            self.http
                .post(self.url("/api/auth/login"))
                .json(&json!({ "username": username, "password": password })),
        )
        .await
    }

    /// Adds `<name>-<random>@andon.test` to the fake AD and logs them in.
    pub async fn user(&self, name: &str) -> TestUser {
        let id = format!(
            "{name}-{}@andon.test",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        self.user_with_id(&id, name).await
    }

    /// Adds the user with this e-mail to the fake AD and logs them in.
    pub async fn user_with_id(&self, id: &str, name: &str) -> TestUser {
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        self.ad.add_user(id, &password, name).await;
        let (status, body) = self.login(id, &password).await;
        assert_eq!(status, 200, "login of {id}: {body}");
        TestUser {
            id: id.to_lowercase(),
            password,
            token: body["token"].as_str().expect("token").to_string(),
        }
    }

    /// A request with the user's bearer token.
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(token)
    }

    /// Creates a room as the token's user; panics unless 201.
    pub async fn create_room(&self, token: &str, body: Value) -> Value {
        let (status, room) = self
            .call(
                self.authed(reqwest::Method::POST, "/api/rooms", token)
                    .json(&body),
            )
            .await;
        assert_eq!(status, 201, "creating a room: {room}");
        room
    }

    /// Sends `body` (if any) with `method` as the token's user: status and body.
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.authed(method, path, token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.call(req).await
    }

    /// `GET` with a bearer token: status and body.
    pub async fn get_as(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(self.authed(reqwest::Method::GET, path, token))
            .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
