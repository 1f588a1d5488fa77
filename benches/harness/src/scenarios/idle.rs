//! `idle`: N subscribed sockets that do nothing but answer pings. The figure is the
//! memory they cost: (Δ server VmRSS + Δ kernel TCP memory) / N, between just before
//! the first connect and a settled moment after the last.
//!
//! The kernel figure (`/proc/net/sockstat` TCP mem) counts both ends of every
//! loopback connection, so it overstates the server's share; the report gives the
//! server-RSS-only figure too. Above 25k sockets the connections come from several
//! 127.0.0.x source addresses (one address has ~28k ephemeral ports).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::Ctx;
use super::connect::{shared_rooms, storm};
use crate::probe::{CpuSample, CpuSplit, MemSample};
use crate::report::{Counters, Latency, Memory, Report, progress};

#[derive(clap::Args, Debug, Clone)]
pub struct IdleArgs {
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Seconds to hold the sockets open after the last one subscribed.
    #[arg(long, default_value_t = 5.0)]
    pub hold: f64,
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Users; socket `i` is user `i mod users`'s. With as many users as
    /// connections, one socket per person, as in a plant.
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Rooms the users are spread over (user `u` in room `u mod rooms`); default:
    /// one room per user.
    #[arg(long)]
    pub rooms: Option<usize>,
}

pub async fn run(ctx: &Ctx, a: &IdleArgs) -> anyhow::Result<Report> {
    let users = a.users.max(1);
    let pop = shared_rooms(ctx, users, a.rooms.unwrap_or(users)).await?;
    let counters = Arc::new(Counters::default());
    // Let the setup's allocations settle before the baseline reading.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mem0 = MemSample::take(&ctx.server_pids);
    let cpu0 = CpuSample::take(&ctx.server_pids);
    let ticker = progress("idle", counters.clone());
    // Small read buffers: the harness holds N sockets too.
    let storm = storm(ctx, &pop, a.connections, a.concurrency, 1024, &counters).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mem1 = MemSample::take(&ctx.server_pids);
    tokio::time::sleep(Duration::from_secs_f64(a.hold)).await;
    let mem2 = MemSample::take(&ctx.server_pids);
    let cpu1 = CpuSample::take(&ctx.server_pids);
    ticker.abort();
    let (elapsed, failures, first_error) =
        (storm.elapsed, storm.failures, storm.first_error.clone());
    let ok = storm.sinks.len() as u64;
    let latency = Latency::of(&storm.latency);
    let mut got = storm.finish().await;
    if failures > 0 {
        got.errors.insert("connect_failed".into(), failures);
    }
    Ok(Report {
        scenario: "idle".into(),
        params: json!({
            "connections": a.connections,
            "hold_s": a.hold,
            "users": a.users,
            "rooms": a.rooms.unwrap_or(users),
        }),
        duration_s: elapsed.as_secs_f64() + 2.0 + a.hold,
        connections: ok,
        connects_per_s: Some(ok as f64 / elapsed.as_secs_f64()),
        op_latency: latency,
        errors: got.errors,
        memory: Some(Memory::new(mem0, mem1, ok)),
        cpu: CpuSplit::between(&cpu0, &cpu1),
        extra: json!({"after_hold": mem2}),
        notes: first_error
            .map(|e| format!("first error: {e}"))
            .into_iter()
            .collect(),
        ..Report::default()
    })
}
