//! A fake Active Directory authentication API (PRODUCT.md A1, A9) for development,
//! tests and the bench harness.
//!
//! It speaks the A1 contract exactly on `POST /api/auth/login` and adds admin
//! endpoints (Appendix 3) that let a test add users, change a password, disable a
//! user, switch an outage on or off and set the lifetime of issued tokens. It keeps
//! everything in memory; users may be preloaded from a JSON file. It has no
//! authentication of its own: bind it to loopback only.

mod handlers;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use serde::Deserialize;

/// One user as written in a users file or posted to `POST /admin/users`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub username: String,
    pub password: String,
    pub name: String,
    #[serde(default)]
    pub office_location: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
}

#[derive(Debug, Clone)]
struct User {
    id: String,
    spec: UserSpec,
    disabled: bool,
}

/// The directory's state, shared by all workers.
pub struct Directory {
    /// Keyed by lower-cased username.
    users: Mutex<HashMap<String, User>>,
    outage: AtomicBool,
    token_ttl_secs: AtomicI64,
    /// Every `POST /api/auth/login` received, so tests can see how many reached AD.
    login_requests: AtomicU64,
}

impl Directory {
    pub fn new(users: Vec<UserSpec>) -> Self {
        let dir = Self {
            users: Mutex::new(HashMap::new()),
            outage: AtomicBool::new(false),
            token_ttl_secs: AtomicI64::new(3600),
            login_requests: AtomicU64::new(0),
        };
        for u in users {
            dir.upsert(u);
        }
        dir
    }

    fn upsert(&self, spec: UserSpec) {
        let key = spec.username.to_lowercase();
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = users
            .get(&key)
            .map(|u| u.id.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        users.insert(
            key,
            User {
                id,
                spec,
                disabled: false,
            },
        );
    }
}

/// Reads a users file: a JSON array of [`UserSpec`].
pub fn load_users(path: &Path) -> anyhow::Result<Vec<UserSpec>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// A running fake AD.
pub struct FakeAd {
    pub port: u16,
    pub server: Server,
}

impl FakeAd {
    /// Binds to `listener` and builds the server; poll `server` to run it.
    pub fn start(listener: TcpListener, users: Vec<UserSpec>) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let directory = web::Data::new(Directory::new(users));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(directory.clone())
                .configure(handlers::configure)
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }
}
