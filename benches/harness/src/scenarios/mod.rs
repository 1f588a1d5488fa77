//! The scenarios and their options. Each one is bounded (a duration or a count)
//! and returns one [`Report`].

mod connect;
mod engine;
mod fanout;
mod idle;
mod report;
mod resume;
mod send;

use clap::Subcommand;

use crate::api::Api;
use crate::report::Report;

/// What every scenario gets.
pub struct Ctx {
    pub api: Api,
    /// One per server node (empty when not known: a running server without --server-pid).
    pub server_pids: Vec<u32>,
    /// The server's database (the one the harness created, or --database-url).
    pub database_url: Option<String>,
    pub concurrency: usize,
}

#[derive(Subcommand, Debug)]
pub enum Scenario {
    /// R rooms × M members; P senders publish X messages/s in total (open loop).
    Fanout(fanout::FanoutArgs),
    /// Like fanout, but a share of the clients stops reading halfway through.
    Slow(fanout::SlowArgs),
    /// N idle, subscribed sockets: memory per connection.
    Idle(idle::IdleArgs),
    /// A storm of N ticket + connect + subscribe.
    Connect(connect::ConnectArgs),
    /// A client misses K events, then resumes with `subscribe after_seq`.
    Resume(resume::ResumeArgs),
    /// Durable, acknowledged send throughput (as fast as acks return, or at --rate).
    Send(send::SendArgs),
    /// An incident report of a room of N messages and M photos: time per stage,
    /// the server's peak memory growth, CPU, the .docx; and of an empty room.
    Report(report::ReportArgs),
}

impl Scenario {
    /// Sockets the scenario opens at most (for RLIMIT_NOFILE).
    pub fn connections(&self) -> usize {
        match self {
            Self::Fanout(a) => a.rooms * a.members,
            Self::Slow(a) => a.fanout.rooms * a.fanout.members,
            Self::Idle(a) => a.connections,
            Self::Connect(a) => a.connections,
            Self::Resume(_) => 16,
            Self::Send(a) => a.sockets,
            Self::Report(_) => 16,
        }
    }

    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<Report> {
        match self {
            Self::Fanout(a) => fanout::run(ctx, a, None).await,
            Self::Slow(a) => fanout::run(ctx, &a.fanout, Some(a.stalled_share)).await,
            Self::Idle(a) => idle::run(ctx, a).await,
            Self::Connect(a) => connect::run(ctx, a).await,
            Self::Resume(a) => resume::run(ctx, a).await,
            Self::Send(a) => send::run(ctx, a).await,
            Self::Report(a) => report::run(ctx, a).await,
        }
    }
}

/// Spread sockets over 127.0.0.x source addresses when there are more than this.
pub const PER_SOURCE_ADDR: usize = 25_000;
