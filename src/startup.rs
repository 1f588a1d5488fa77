//! Building and running the server: one [`Application`] used by `main` and by the
//! integration tests alike, so tests exercise exactly what production runs.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlers;
use actix_web::{App, HttpServer, web};
use tokio::sync::Notify;
use tracing_actix_web::TracingLogger;

use actix::Actor;
use andon_actors::clock::SystemClock;
use andon_actors::session::messages::FlushActivity;
use andon_actors::session::{SessionRegistry, SessionSupervisor, SupervisorConfig};

use crate::auth::ad::AdClient;
use crate::auth::backend::DbSessionBackend;
use crate::auth::crypto::Keyring;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Config;
use crate::state::AppState;
use crate::{db, http};

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    shutdown: ShutdownHandle,
}

/// Asks a running [`Application`] to shut down, as SIGTERM would.
#[derive(Clone, Default)]
pub struct ShutdownHandle(Arc<Notify>);

impl ShutdownHandle {
    pub fn trigger(&self) {
        // `notify_one` keeps a permit if nobody waits yet, so an early trigger is not lost.
        self.0.notify_one();
    }
}

impl Application {
    /// Migrates the database, binds `config.listen` (port 0 picks a free port) and
    /// builds the server. Must run inside an actix `System`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        for var in &config.unknown_vars {
            tracing::warn!(variable = %var, "unknown ANDON_* variable ignored");
        }
        let applied = db::migrate::run(&config.database).await?;
        tracing::info!(applied, "database migrated");
        let pool = db::pool(&config.database)?;

        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        let config = Arc::new(config);
        let ad = AdClient::new(&config.ad_url, config.ad_timeout)?;
        let keyring = Arc::new(Keyring::new(
            config.secret_key.clone(),
            config.old_secret_keys.clone(),
        ));
        let sessions = SessionRegistry::default();
        let supervisor = SessionSupervisor::new(
            Arc::new(DbSessionBackend {
                db: pool.clone(),
                ad: ad.clone(),
                keyring: keyring.clone(),
            }),
            Arc::new(SystemClock),
            SupervisorConfig::new(
                config.refresh_threshold,
                config.refresh_retry,
                config.inactivity,
            ),
            sessions.clone(),
        )
        .start();
        let state = web::Data::new(AppState {
            config: config.clone(),
            db: pool,
            ad,
            keyring,
            login_limiter: LoginLimiter::new(
                config.login_limit_per_minute,
                config.login_addr_limit_per_minute,
            ),
            supervisor,
            sessions,
        });

        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::METHOD_NOT_ALLOWED, http::method_not_allowed),
                )
                .wrap(TracingLogger::default())
                .app_data(app_state.clone())
                .configure(http::configure)
                .default_service(web::to(http::not_found))
        })
        .workers(config.workers)
        // Signals are ours: shutdown has steps beyond stopping HTTP.
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        .listen(listener)?
        .run();

        tracing::info!(address = %config.listen, port, "listening");
        Ok(Self {
            port,
            server,
            state,
            shutdown: ShutdownHandle::default(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Serves until SIGINT, SIGTERM or [`ShutdownHandle::trigger`], then shuts down
    /// in ordered, logged steps, bounded by `ANDON_SHUTDOWN_TIMEOUT_SECS`.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            server,
            state,
            shutdown,
            ..
        } = self;
        let server_handle = server.handle();
        let mut server_task = tokio::spawn(server);

        tokio::select! {
            reason = wait_for_signal() => tracing::info!(reason, "shutdown requested"),
            () = shutdown.0.notified() => tracing::info!("shutdown requested by handle"),
            result = &mut server_task => {
                tracing::error!("HTTP server stopped unexpectedly");
                return Ok(result??);
            }
        }

        let timeout = state.config.shutdown_timeout;
        tracing::info!("shutdown step 1: stop accepting connections, drain requests");
        if tokio::time::timeout(timeout, server_handle.stop(true))
            .await
            .is_err()
        {
            tracing::warn!(?timeout, "in-flight requests still running at the timeout");
        }
        let _ = server_task.await;

        tracing::info!("shutdown step 2: store session activity, stop the session supervisor");
        if let Err(e) = state.supervisor.send(FlushActivity).await {
            tracing::warn!(error = %e, "session supervisor did not answer");
        }

        tracing::info!("shutdown step 3: close the database pool");
        state.db.close();

        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM, naming which.
async fn wait_for_signal() -> &'static str {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return "SIGINT";
                }
            };
        tokio::select! {
            _ = ctrl_c => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
        "SIGINT"
    }
}
