//! The `andon` command line. Settings come from `ANDON_*` variables (see the README);
//! flags are only for the fake AD and the fake model, which are development tools.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, DatabaseConfig, LogFormat};
use crate::fake_ad::{self, FakeAd};
use crate::fake_llm::FakeLlm;
use crate::startup::Application;
use crate::telemetry;

#[derive(Parser, Debug)]
#[command(
    name = "andon",
    version,
    about = "Real-time incident rooms for production lines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate the database, then serve the API, WebSocket and web client.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Exit 0 when the local server answers `/healthz` (container health checks).
    Health,
    /// Run the fake AD authentication API for development and tests.
    FakeAd {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// JSON array of users: {username, password, name, office_location, job_title}.
        #[arg(long)]
        users: Option<PathBuf>,
    },
    /// Run a fake OpenAI-compatible model server (for ANDON_LLM_URL) for
    /// development and tests.
    FakeLlm {
        #[arg(long, default_value = "127.0.0.1:8082")]
        listen: SocketAddr,
    },
}

/// The process exit code for a configuration error (as sysexits' EX_CONFIG).
pub const EXIT_CONFIG: i32 = 78;

/// Runs one command to completion. Configuration errors exit with [`EXIT_CONFIG`]
/// and a line naming the variable.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve => {
            let config = Config::from_env().unwrap_or_else(|e| config_exit(e));
            telemetry::init(config.log_format, &config.log_filter);
            let app = Application::build(config).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let db = DatabaseConfig::from_env().unwrap_or_else(|e| config_exit(e));
            telemetry::init(log_format_from_env(), &log_filter_from_env());
            let applied = crate::db::migrate::run(&db).await?;
            tracing::info!(applied, "migrations complete");
            Ok(())
        }
        Command::Health => {
            // Only the listen address and TLS matter here; no other setting is read.
            let listen = std::env::var("ANDON_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
            let port = listen.rsplit(':').next().unwrap_or("8080");
            let tls = std::env::var_os("ANDON_TLS_CERT").is_some();
            let url = format!(
                "{}://127.0.0.1:{port}/healthz",
                if tls { "https" } else { "http" }
            );
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(3))
                // A probe of our own process on loopback: the certificate may be
                // issued for the plant's host name, not 127.0.0.1.
                .danger_accept_invalid_certs(tls)
                .build()?;
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => anyhow::bail!("{url} answered {}", r.status()),
                Err(e) => anyhow::bail!("{url}: {e}"),
            }
        }
        Command::FakeAd { listen, users } => {
            telemetry::init(log_format_from_env(), &log_filter_from_env());
            let users = match users {
                Some(path) => fake_ad::load_users(&path)?,
                None => Vec::new(),
            };
            let count = users.len();
            let ad = FakeAd::start(TcpListener::bind(listen)?, users)?;
            tracing::info!(%listen, users = count, "fake AD listening");
            let handle = ad.handle();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                handle.stop(true).await;
            });
            ad.server.await?;
            Ok(())
        }
        Command::FakeLlm { listen } => {
            telemetry::init(log_format_from_env(), &log_filter_from_env());
            let llm = FakeLlm::start(TcpListener::bind(listen)?)?;
            tracing::info!(%listen, "fake LLM listening");
            let handle = llm.handle();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                handle.stop(true).await;
            });
            llm.server.await?;
            Ok(())
        }
    }
}

fn config_exit(err: crate::config::ConfigError) -> ! {
    eprintln!("configuration error: {err}");
    std::process::exit(EXIT_CONFIG);
}

fn log_format_from_env() -> LogFormat {
    std::env::var("ANDON_LOG_FORMAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LogFormat::Human)
}

fn log_filter_from_env() -> String {
    std::env::var("ANDON_LOG").unwrap_or_else(|_| "info".into())
}
