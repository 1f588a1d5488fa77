//! Starts `andon fake-ad` and one or more `andon serve` nodes on free loopback
//! ports with a fresh PostgreSQL database, and tears all of it down afterwards.
//! Several nodes share the database and talk over NATS (`--nodes`, `--nats-url`).
//!
//! The database is created through the admin URL
//! (`postgres://postgres@127.0.0.1:5432/postgres`, or `ANDON_BENCH_ADMIN_DATABASE_URL`)
//! and dropped with `WITH (FORCE)` at the end, so an aborted run leaves at most an
//! orphan `andon_bench_*` database behind (and its file storage, a directory of
//! the same name under the temporary directory).

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
    /// Each node's base URL, node 0 first.
    pub urls: Vec<String>,
    pub ad_url: String,
    /// Each node's PID, in the order of `urls`.
    pub pids: Vec<u32>,
    /// The fresh database's URL (scenarios that seed rows straight into it).
    pub database_url: String,
    serve: Vec<Child>,
    fake_ad: Child,
    admin_url: String,
    database: String,
    /// The nodes' file storage (`ANDON_STORAGE=local:…`), removed at the end.
    storage_dir: PathBuf,
}

/// A free port below the kernel's ephemeral range. A port 0 picks from that
/// range, where the harness's own tens of thousands of client sockets (and their
/// TIME_WAIT leftovers) can take it between this check and the server's bind.
fn free_port(taken: &[u16]) -> anyhow::Result<u16> {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral_start.saturating_sub(1000));
    for _ in 0..100 {
        let port = rand::random_range(low..ephemeral_start);
        if !taken.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
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
    /// Fake AD and `common.nodes` server nodes on one fresh database. With more than
    /// one node, each gets `ANDON_NATS_URL` (the same secret key, fake AD and
    /// database); node 0 starts first and applies the migrations, the others start
    /// once it is ready (they find nothing to migrate).
    pub async fn start(common: &Common) -> anyhow::Result<Self> {
        let bin = andon_binary(common)?;
        let extra_env = common
            .server_env
            .iter()
            .map(|kv| kv.split_once('=').context("--server-env takes KEY=VALUE"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let admin_url = std::env::var("ANDON_BENCH_ADMIN_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
        let database = format!(
            "andon_bench_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        admin_exec(&admin_url, &format!("CREATE DATABASE {database}")).await?;

        let nodes = common.nodes.max(1);
        let mut ports = vec![free_port(&[])?];
        for _ in 0..nodes {
            ports.push(free_port(&ports)?);
        }
        let ad_port = ports[0];
        let ad_url = format!("http://127.0.0.1:{ad_port}");
        let key: [u8; 32] = rand::random();
        let fake_ad = Command::new(&bin)
            .args(["fake-ad", "--listen", &format!("127.0.0.1:{ad_port}")])
            .env("ANDON_LOG", "warn")
            .stdout(Stdio::from(std::io::stderr()))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let storage_dir = std::env::temp_dir().join(&database);
        let mut server = Self {
            urls: Vec::new(),
            ad_url,
            pids: Vec::new(),
            database_url: database_url(&admin_url, &database),
            serve: Vec::new(),
            fake_ad,
            admin_url,
            database,
            storage_dir,
        };
        let node_cmd = |port: u16| {
            let mut cmd = Command::new(&bin);
            cmd.arg("serve")
                .env("ANDON_LISTEN", format!("127.0.0.1:{port}"))
                .env("ANDON_DATABASE_URL", &server.database_url)
                // Uploads and reports go to a directory of the run's own, not
                // `./data/files` of wherever the harness was started.
                .env(
                    "ANDON_STORAGE",
                    format!("local:{}", server.storage_dir.display()),
                )
                .env("ANDON_AD_URL", &server.ad_url)
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
            if nodes > 1 {
                cmd.env("ANDON_NATS_URL", &common.nats_url);
            }
            cmd.envs(extra_env.iter().copied());
            cmd
        };
        let mut cmds: Vec<_> = ports[1..].iter().map(|&p| (p, node_cmd(p))).collect();
        // Node 0 alone first (it migrates), then the rest together.
        let mut batches = vec![cmds.drain(..1).collect::<Vec<_>>()];
        if !cmds.is_empty() {
            batches.push(cmds);
        }
        for batch in batches {
            for (port, mut cmd) in batch {
                let child = match cmd.spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        server.stop().await;
                        return Err(e).with_context(|| format!("starting {}", bin.display()));
                    }
                };
                server.pids.push(child.id().unwrap_or(0));
                server.serve.push(child);
                server.urls.push(format!("http://127.0.0.1:{port}"));
            }
            if let Err(e) = server.wait_ready().await {
                server.stop().await;
                return Err(e);
            }
        }
        for (i, (pid, url)) in server.pids.iter().zip(&server.urls).enumerate() {
            eprintln!(
                "server node {i}: pid {pid} on {url} (database {})",
                server.database
            );
        }
        Ok(server)
    }

    /// Until every node started so far and the fake AD answer.
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.fake_ad.try_wait()? {
                bail!("andon fake-ad exited during start-up ({status}); its log is above");
            }
            for (i, child) in self.serve.iter_mut().enumerate() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "andon serve (node {i}) exited during start-up ({status}); its log is above"
                    );
                }
            }
            let mut ready = http
                .get(format!("{}/admin/stats", self.ad_url))
                .send()
                .await
                .is_ok();
            for url in &self.urls {
                let r = http.get(format!("{url}/readyz")).send().await;
                ready &= r.is_ok_and(|r| r.status().is_success());
            }
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("server not ready after 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM (graceful shutdown) to every node at once, then SIGKILL to whatever
    /// still runs after 10 s; then the fake AD; drops the database.
    pub async fn stop(mut self) {
        async fn terminate(child: &mut Child) {
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
        futures_util::future::join_all(self.serve.iter_mut().map(terminate)).await;
        terminate(&mut self.fake_ad).await;
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
        if let Err(e) = admin_exec(&self.admin_url, &drop).await {
            eprintln!("could not drop database {}: {e:#}", self.database);
        }
        if let Err(e) = std::fs::remove_dir_all(&self.storage_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("could not remove {}: {e}", self.storage_dir.display());
        }
    }
}
