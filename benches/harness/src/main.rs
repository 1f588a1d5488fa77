//! `andon-bench`: a load generator for the Andon real-time server.
//!
//! Every scenario logs users in through the fake AD, opens WebSockets, drives load
//! on an open-loop schedule (each frame carries its *intended* send time, so a
//! stalled server cannot hide latency by slowing the generator down: no coordinated
//! omission), and prints one report — a table, or with `--json` one stable JSON
//! object. Without `--url` it starts its own `andon fake-ad` and `andon serve` on free
//! loopback ports with a fresh PostgreSQL database, and drops both at the end; with
//! `--nodes N` it starts N `andon serve` nodes on that database, joined by NATS, and
//! spreads the sockets over them.
//!
//! Progress lines go to stderr once a second; stdout carries only the report.

mod api;
mod population;
mod probe;
mod report;
mod scenarios;
mod server;
mod ws;

use clap::Parser;

use crate::scenarios::{Ctx, Scenario};

#[derive(Parser, Debug)]
#[command(
    name = "andon-bench",
    about = "Load generator for the Andon real-time server"
)]
pub struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    #[command(flatten)]
    common: Common,
}

/// Options every scenario takes (they may follow the scenario name).
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Base URL of a running server; without it the harness starts its own.
    /// Repeat it for the nodes of a running cluster (node 0 first; sockets go
    /// round-robin over them, REST calls to node 0).
    #[arg(long, global = true)]
    url: Vec<String>,
    /// The fake AD the running server uses (users are created through its admin API).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8081")]
    ad_url: String,
    /// Start fake AD + server with a fresh database (the default without --url).
    #[arg(long, global = true)]
    start_server: bool,
    /// PID of the running server, for memory and CPU readings (with --url);
    /// repeatable, one per node.
    #[arg(long, global = true)]
    server_pid: Vec<u32>,
    /// The running server's database (with --url), for scenarios that seed rows
    /// straight into it (`report`).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Server nodes to start on one database, joined by NATS (socket `i` connects
    /// to node `i mod N`; REST setup calls go to node 0).
    #[arg(long, global = true, default_value_t = 1)]
    nodes: usize,
    /// The NATS server the started nodes share (only with --nodes > 1).
    #[arg(long, global = true, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// The `andon` binary to start; default: next to this executable.
    #[arg(long, global = true)]
    andon_bin: Option<std::path::PathBuf>,
    /// Extra environment for the started server, `KEY=VALUE`, repeatable.
    #[arg(long = "server-env", global = true)]
    server_env: Vec<String>,
    /// Print one JSON object instead of the table.
    #[arg(long, global = true)]
    json: bool,
    /// Concurrent HTTP requests and connection attempts during setup.
    #[arg(long, global = true, default_value_t = 64)]
    setup_concurrency: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Two workers: the machine has two cores, shared with the server and PostgreSQL.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let want_fds = cli.scenario.connections() as u64 * 2 + 4096;
    probe::raise_nofile(want_fds);
    let external = !cli.common.url.is_empty() && !cli.common.start_server;
    if external && cli.common.nodes > 1 && cli.common.nodes != cli.common.url.len() {
        anyhow::bail!(
            "--nodes {} with {} --url: give one --url per node",
            cli.common.nodes,
            cli.common.url.len()
        );
    }
    let server = if external {
        None
    } else {
        Some(server::Server::start(&cli.common).await?)
    };
    let (urls, ad_url, pids, database_url) = match &server {
        Some(s) => (
            s.urls.clone(),
            s.ad_url.clone(),
            s.pids.clone(),
            Some(s.database_url.clone()),
        ),
        None => (
            cli.common.url.clone(),
            cli.common.ad_url.clone(),
            cli.common.server_pid.clone(),
            cli.common.database_url.clone(),
        ),
    };
    let ctx = Ctx {
        api: api::Api::new(&urls, &ad_url)?,
        server_pids: pids,
        database_url,
        concurrency: cli.common.setup_concurrency.max(1),
    };
    let result = cli.scenario.run(&ctx).await;
    if let Some(s) = server {
        s.stop().await;
    }
    let mut report = result?;
    report.nodes = ctx.api.node_count() as u64;
    if cli.common.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
