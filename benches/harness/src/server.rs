//! Starts `andon fake-ad` and `andon serve` on free loopback ports with a fresh
//! PostgreSQL database, and tears all of it down afterwards.
//!
//! The database is created through the admin URL
//! (`postgres://postgres@127.0.0.1:5432/postgres`, or `ANDON_BENCH_ADMIN_DATABASE_URL`)
//! and dropped with `WITH (FORCE)` at the end, so an aborted run leaves at most an
//! orphan `andon_bench_*` database behind.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use tokio::process::{Child, Command};

use crate::Common;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct Server {
    pub url: String,
    pub ad_url: String,
    pub pid: u32,
    serve: Child,
    fake_ad: Child,
    admin_url: String,
    database: String,
}

/// A free port below the kernel's ephemeral range. A port 0 picks from that
/// range, where the harness's own tens of thousands of client sockets (and their
/// TIME_WAIT leftovers) can take it between this check and the server's bind.
fn free_port() -> anyhow::Result<u16> {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral_start.saturating_sub(1000));
    for _ in 0..100 {
        let port = rand::random_range(low..ephemeral_start);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port in {low}..{ephemeral_start}")
}

fn andon_binary(common: &Common) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &common.andon_bin {
        return Ok(bin.clone());
    }
    // `cargo build --release -p andon -p andon-bench` puts both in one directory.
    let me = std::env::current_exe()?;
    let bin = me.with_file_name("andon");
    if !bin.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p andon`",
            bin.display()
        );
    }
    Ok(bin)
}

/// The database URL for `name` on the admin URL's server.
fn database_url(admin_url: &str, name: &str) -> String {
    let host_start = admin_url.find("://").map_or(0, |i| i + 3);
    match admin_url[host_start..].rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..host_start + i]),
        None => format!("{admin_url}/{name}"),
    }
}

async fn admin_exec(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

impl Server {
    pub async fn start(common: &Common) -> anyhow::Result<Self> {
        let bin = andon_binary(common)?;
        let admin_url = std::env::var("ANDON_BENCH_ADMIN_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
        let database = format!(
            "andon_bench_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        admin_exec(&admin_url, &format!("CREATE DATABASE {database}")).await?;

        let (ad_port, port) = (free_port()?, free_port()?);
        let ad_url = format!("http://127.0.0.1:{ad_port}");
        let url = format!("http://127.0.0.1:{port}");
        let key: [u8; 32] = rand::random();
        let fake_ad = Command::new(&bin)
            .args(["fake-ad", "--listen", &format!("127.0.0.1:{ad_port}")])
            .env("ANDON_LOG", "warn")
            .stdout(Stdio::from(std::io::stderr()))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve")
            .env("ANDON_LISTEN", format!("127.0.0.1:{port}"))
            .env("ANDON_DATABASE_URL", database_url(&admin_url, &database))
            .env("ANDON_AD_URL", &ad_url)
            .env(
                "ANDON_SECRET_KEY",
                base64::engine::general_purpose::STANDARD.encode(key),
            )
            .env("ANDON_LOGIN_MAX_FAILURES", "1000000")
            .env("ANDON_LOGIN_ADDR_LIMIT_PER_MINUTE", "1000000")
            // The load generator opens many sockets per session (`idle` 190 each)
            // and reconnects at full speed (`connect`): no per-session caps.
            .env("ANDON_WS_SOCKETS_PER_SESSION", "1000000")
            .env("ANDON_WS_TICKETS_PER_MINUTE", "1000000")
            .env("ANDON_LOG", "warn")
            .stdout(Stdio::from(std::io::stderr()))
            .kill_on_drop(true);
        for kv in &common.server_env {
            let (k, v) = kv.split_once('=').context("--server-env takes KEY=VALUE")?;
            cmd.env(k, v);
        }
        let serve = cmd.spawn()?;
        let pid = serve.id().context("server exited at once")?;
        let mut server = Self {
            url,
            ad_url,
            pid,
            serve,
            fake_ad,
            admin_url,
            database,
        };
        if let Err(e) = server.wait_ready().await {
            server.stop().await;
            return Err(e);
        }
        eprintln!(
            "server pid {pid} on {} (database {})",
            server.url, server.database
        );
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            for (name, child) in [
                ("andon serve", &mut self.serve),
                ("andon fake-ad", &mut self.fake_ad),
            ] {
                if let Some(status) = child.try_wait()? {
                    bail!("{name} exited during start-up ({status}); its log is above");
                }
            }
            let server = http.get(format!("{}/readyz", self.url)).send().await;
            let ad = http
                .get(format!("{}/admin/stats", self.ad_url))
                .send()
                .await;
            if server.is_ok_and(|r| r.status().is_success()) && ad.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("server not ready after 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM (graceful shutdown), then SIGKILL after 10 s; drops the database.
    pub async fn stop(mut self) {
        for child in [&mut self.serve, &mut self.fake_ad] {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
        if let Err(e) = admin_exec(&self.admin_url, &drop).await {
            eprintln!("could not drop database {}: {e:#}", self.database);
        }
    }
}
