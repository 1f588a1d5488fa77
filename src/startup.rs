//! Building and running the server: one [`Application`] used by `main` and by the
//! integration tests alike, so tests exercise exactly what production runs.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::dev::Server;
use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::ErrorHandlers;
use actix_web::{App, HttpServer, web};
use tokio::sync::Notify;
use tracing_actix_web::{RequestId, TracingLogger};

use actix::Actor;
use andon_actors::clock::SystemClock;
use andon_actors::escalation::{EscalationActor, EscalationConfig};
use andon_actors::metrics::{MetricsProbe, RealtimeMetrics};
use andon_actors::realtime::{CloseCode, GroupCommit, RoomConfig, RoomDirectory};
use andon_actors::session::messages::{CloseSocket, FlushActivity};
use andon_actors::session::{SessionRegistry, SessionSupervisor, SupervisorConfig};
use std::time::Duration;

use crate::auth::ad::AdClient;
use crate::auth::backend::DbSessionBackend;
use crate::auth::crypto::Keyring;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Config;
use crate::db::batch::PgBatchWriter;
use crate::db::event_log::PgEventLog;
use crate::notifications::{Notifier, NotifyBus};
use crate::realtime::{Realtime, SocketConfig, SocketDeps};
use crate::reports::ReportService;
use crate::rooms::Rooms;
use crate::state::AppState;
use crate::{db, http, telemetry};

/// Most sends committed in one transaction.
const MAX_BATCH: usize = 2000;
/// Sends waiting for a batch, at most (then senders wait).
const COMMIT_QUEUE: usize = 50_000;

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
        Self::build_probed(config, None).await
    }

    /// Like [`build`](Self::build); the real-time meters also count into `probe`
    /// (tests: one app's numbers, apart from other apps in the process).
    pub async fn build_probed(
        config: Config,
        probe: Option<&MetricsProbe>,
    ) -> anyhow::Result<Self> {
        for var in &config.unknown_vars {
            tracing::warn!(variable = %var, "unknown ANDON_* variable ignored");
        }
        // Before any handle is registered: handles keep the recorder they got.
        crate::metrics::install();
        let meters = RealtimeMetrics::register(probe);
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
        // This process among the nodes sharing the database (leases, the bus).
        let node = uuid::Uuid::new_v4();
        // Several nodes on one database: events and session ends travel on NATS.
        let bus = match &config.nats_url {
            Some(url) => Some(Arc::new(crate::bus::NatsBus::connect(url, node).await?)),
            None => None,
        };
        let sessions = SessionRegistry::default();
        let mut supervisor = SessionSupervisor::new(
            Arc::new(DbSessionBackend {
                db: pool.clone(),
                ad: ad.clone(),
                keyring: keyring.clone(),
                node,
                refresh_lease: 2 * config.refresh_retry
                    + config.ad_timeout
                    + Duration::from_secs(5),
            }),
            Arc::new(SystemClock),
            SupervisorConfig::new(
                config.refresh_threshold,
                config.refresh_retry,
                config.inactivity,
            ),
            sessions.clone(),
        );
        if let Some(bus) = &bus {
            supervisor = supervisor.with_bus(bus.clone());
        }
        let supervisor = supervisor.start();
        let storage = crate::storage::open(&config.storage).await?;
        let mut rooms = RoomDirectory::new(
            Arc::new(PgEventLog { db: pool.clone() }),
            RoomConfig {
                metrics: meters.clone(),
                ..RoomConfig::default()
            },
        );
        let notifier = Notifier::new(
            config.reports.time_zone,
            bus.clone().map(|b| b as Arc<dyn NotifyBus>),
        );
        notifier.listen();
        if let Some(bus) = bus {
            rooms = rooms.with_bus(bus);
        }
        let publish_to = rooms.clone();
        let commit = GroupCommit::start(
            Arc::new(PgBatchWriter {
                db: db::commit_pool(&config.database, andon_actors::realtime::LANES)?,
                notifier: Some(notifier.clone()),
            }),
            move |events| publish_to.publish(events),
            MAX_BATCH,
            COMMIT_QUEUE,
        );
        let room_service = Rooms::new(
            pool.clone(),
            rooms.clone(),
            commit.clone(),
            config.edit_window,
            notifier.clone(),
        );
        let realtime = Arc::new(Realtime::new(
            rooms,
            commit,
            SocketConfig {
                queue_frames: config.ws_queue_frames,
                queue_bytes: config.ws_queue_bytes,
                sockets_per_session: config.ws_sockets_per_session,
                subscriptions_per_socket: config.ws_subscriptions_per_socket,
                tickets_per_minute: config.ws_tickets_per_minute,
                ping_interval: config.ws_ping_interval,
                idle_timeout: config.ws_idle_timeout,
                edit_window: config.edit_window,
            },
            meters,
        ));
        let socket_deps = Arc::new(SocketDeps {
            rooms: room_service.clone(),
            realtime: realtime.clone(),
            sessions: sessions.clone(),
            supervisor: supervisor.clone(),
            notifier,
        });
        let reports = ReportService::new(
            pool.clone(),
            room_service.clone(),
            storage.clone(),
            config.reports.clone(),
        )?;
        reports.spawn_lease_keeper();
        let escalation = EscalationActor::new(
            Arc::new(crate::escalation::PgEscalation {
                db: pool.clone(),
                rooms: room_service.clone(),
            }),
            Arc::new(SystemClock),
            EscalationConfig::default(),
        )
        .start();
        let state = web::Data::new(AppState {
            config: config.clone(),
            db: pool,
            ad,
            keyring,
            login_limiter: LoginLimiter::new(
                config.login_max_failures,
                config.login_failure_window,
                config.login_addr_limit_per_minute,
            ),
            supervisor,
            sessions,
            realtime,
            rooms: room_service,
            socket_deps,
            storage,
            reports,
            escalation,
        });

        let app_state = state.clone();
        let security = Arc::new(http::security_headers::SecurityHeaders::new(&config));
        let server = HttpServer::new(move || {
            let security = security.clone();
            App::new()
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::METHOD_NOT_ALLOWED, http::method_not_allowed),
                )
                // Outside the error handlers: every answer, errors included.
                .wrap_fn(move |req, srv| {
                    let host = req
                        .headers()
                        .get(actix_web::http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .map(str::to_string);
                    let security = security.clone();
                    let call = srv.call(req);
                    async move {
                        let mut res = call.await?;
                        security.apply(res.headers_mut(), host.as_deref());
                        Ok(res)
                    }
                })
                // Inside the logger, which assigns the id: echo it to the client,
                // so a user's report can be matched with the server's log.
                .wrap_fn(|req, srv| {
                    let id = req.extensions().get::<RequestId>().map(ToString::to_string);
                    let call = srv.call(req);
                    async move {
                        let mut res = call.await?;
                        if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                            res.headers_mut()
                                .insert(HeaderName::from_static("x-request-id"), value);
                        }
                        Ok(res)
                    }
                })
                .wrap(TracingLogger::<telemetry::RequestSpan>::new())
                .app_data(app_state.clone())
                .configure(http::configure)
                .default_service(web::to(http::spa::serve))
        })
        .workers(config.workers)
        // Small frames must not wait for Nagle's algorithm (p50 39 ms → 6 ms here).
        .tcp_nodelay(true)
        // Signals are ours: shutdown has steps beyond stopping HTTP.
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout.as_secs());
        let server = match &config.tls {
            Some(tls) => server.listen_openssl(listener, tls_acceptor(tls)?)?,
            None => server.listen(listener)?,
        }
        .run();

        tracing::info!(address = %config.listen, port, tls = config.tls.is_some(), "listening");
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

        let deadline = tokio::time::Instant::now() + state.config.shutdown_timeout;
        tracing::info!(step = 1, "shutdown: stop accepting connections");
        server_handle.pause().await;

        tracing::info!(
            step = 2,
            "shutdown: close sockets with 1001 so clients resume elsewhere"
        );
        let rt = &state.realtime;
        let sockets: Vec<_> = rt.sockets.iter().map(|s| s.value().clone()).collect();
        for socket in &sockets {
            socket.do_send(CloseSocket {
                code: CloseCode::GoingAway,
                reason: "server shutting down".into(),
            });
        }
        while !rt.sockets.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        tracing::info!(step = 3, "shutdown: commit in-flight message batches");
        if tokio::time::timeout_at(deadline, rt.commit.flush())
            .await
            .is_err()
        {
            tracing::warn!("message batches still committing at the timeout");
        }

        tracing::info!(step = 4, "shutdown: store session activity");
        if let Err(e) = state.supervisor.send(FlushActivity).await {
            tracing::warn!(error = %e, "session supervisor did not answer");
        }

        // (Before the workers stop: pooled connections opened on a worker's
        // runtime die with it.)
        tracing::info!(step = 5, "shutdown: fail the reports still running here");
        state.reports.interrupt().await;

        tracing::info!(step = 6, "shutdown: stop the HTTP server, drain requests");
        if tokio::time::timeout_at(deadline, server_handle.stop(true))
            .await
            .is_err()
        {
            tracing::warn!("in-flight requests still running at the timeout");
        }
        let _ = server_task.await;

        tracing::info!(step = 7, "shutdown: close the database pool");
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

/// TLS termination with openssl (Mozilla's intermediate profile), for plants
/// without a reverse proxy.
fn tls_acceptor(
    tls: &crate::config::TlsConfig,
) -> anyhow::Result<openssl::ssl::SslAcceptorBuilder> {
    use anyhow::Context;
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
    builder
        .set_private_key_file(&tls.key, SslFiletype::PEM)
        .with_context(|| format!("ANDON_TLS_KEY: cannot use {}", tls.key.display()))?;
    builder
        .set_certificate_chain_file(&tls.cert)
        .with_context(|| format!("ANDON_TLS_CERT: cannot use {}", tls.cert.display()))?;
    builder
        .check_private_key()
        .context("ANDON_TLS_KEY does not match ANDON_TLS_CERT")?;
    Ok(builder)
}
