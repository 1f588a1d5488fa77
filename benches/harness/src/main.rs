//! `andon-bench`: a load generator for the Andon real-time server.
//!
//! Every scenario logs users in through the fake AD, opens WebSockets, drives load
//! on an open-loop schedule (each frame carries its *intended* send time, so a
//! stalled server cannot hide latency by slowing the generator down: no coordinated
//! omission), and prints one report — a table, or with `--json` one stable JSON
//! object. Without `--url` it starts its own `andon fake-ad` and `andon serve` on free
//! loopback ports with a fresh PostgreSQL database, and drops both at the end.
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
    #[arg(long, global = true)]
    url: Option<String>,
    /// The fake AD the running server uses (users are created through its admin API).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8081")]
    ad_url: String,
    /// Start fake AD + server with a fresh database (the default without --url).
    #[arg(long, global = true)]
    start_server: bool,
    /// PID of the running server, for memory and CPU readings (with --url).
    #[arg(long, global = true)]
    server_pid: Option<u32>,
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
    let server = if cli.common.url.is_some() && !cli.common.start_server {
        None
    } else {
        Some(server::Server::start(&cli.common).await?)
    };
    let (url, ad_url, pid) = match &server {
        Some(s) => (s.url.clone(), s.ad_url.clone(), Some(s.pid)),
        None => (
            cli.common.url.clone().unwrap_or_default(),
            cli.common.ad_url.clone(),
            cli.common.server_pid,
        ),
    };
    let ctx = Ctx {
        api: api::Api::new(&url, &ad_url)?,
        server_pid: pid,
        concurrency: cli.common.setup_concurrency.max(1),
    };
    let result = cli.scenario.run(&ctx).await;
    if let Some(s) = server {
        s.stop().await;
    }
    let report = result?;
    if cli.common.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
