//! A fake OpenAI-compatible model server (issue 18) for development, tests and
//! `scripts/run`: `POST /v1/chat/completions` answers at once and always the same
//! way for the same request, with the JSON object Andon asks for, made from the
//! request (so a test sees that the digest arrived).
//!
//! Admin endpoints switch it to play a slow, broken or failing model
//! (`POST /admin/mode`) and show what the last request carried
//! (`GET /admin/stats`). It has no authentication of its own: bind it to loopback
//! only.

mod handlers;

use std::net::TcpListener;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use serde::{Deserialize, Serialize};

/// How the fake answers completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The deterministic answer.
    Ok,
    /// The same answer after a delay (longer than any client's timeout).
    Slow,
    /// 200 with content that is not JSON.
    Broken,
    /// 503, as a model server that is down behind its proxy.
    Down,
}

/// The delay of [`Mode::Slow`] unless the switch gives one.
pub const DEFAULT_SLOW_DELAY: Duration = Duration::from_secs(120);

/// What the last valid completion request carried.
#[derive(Debug, Clone, Serialize)]
struct LastRequest {
    model: String,
    authorization_present: bool,
    /// The authorization header's scheme ("Bearer"); never its credentials.
    authorization_scheme: Option<String>,
    /// Characters of the user messages.
    user_chars: usize,
}

/// The fake's state, shared by its workers.
struct Stand {
    behaviour: Mutex<(Mode, Duration)>,
    requests: AtomicU64,
    last_request: Mutex<Option<LastRequest>>,
}

/// A running fake model server.
pub struct FakeLlm {
    pub port: u16,
    pub server: Server,
}

impl FakeLlm {
    /// Binds to `listener` and builds the server; poll `server` to run it.
    pub fn start(listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let stand = web::Data::new(Stand {
            behaviour: Mutex::new((Mode::Ok, DEFAULT_SLOW_DELAY)),
            requests: AtomicU64::new(0),
            last_request: Mutex::new(None),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(stand.clone())
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
