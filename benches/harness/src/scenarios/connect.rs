//! `connect`: a storm of N ticket + connect + subscribe, `--concurrency` at a time.
//! Also the opening half of `idle`. Users each own one room; socket `i` belongs to
//! user `i mod U` and subscribes to that user's room.
//!
//! Each socket gets a reader task as soon as it is subscribed (it answers the
//! server's pings, so a long storm does not trip the 60 s idle close).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::engine::{self, Received, Shared, Sink};
use super::{Ctx, PER_SOURCE_ADDR};
use crate::population::{self, Population, SocketSpec};
use crate::probe::{CpuSample, CpuSplit, MemSample};
use crate::report::{Counters, Latency, Memory, Report, histogram, progress};
use crate::ws::{ConnectOpts, source_for};

#[derive(clap::Args, Debug, Clone)]
pub struct ConnectArgs {
    #[arg(long, default_value_t = 5000)]
    pub connections: usize,
    /// Connection attempts in flight.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Users (each owns one room).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
}

/// Sockets opened by a storm, each with a running reader.
pub struct Storm {
    pub readers: Vec<JoinHandle<Received>>,
    pub sinks: Vec<Sink>,
    pub latency: Histogram<u64>,
    pub elapsed: Duration,
    pub failures: u64,
    pub first_error: Option<String>,
    pub stop: watch::Sender<bool>,
}

pub async fn population(ctx: &Ctx, users: usize) -> anyhow::Result<Population> {
    shared_rooms(ctx, users, users).await
}

/// `users` users in `rooms` rooms: user `u` is in room `u mod rooms` (with as many
/// rooms as users, each owns one).
pub async fn shared_rooms(ctx: &Ctx, users: usize, rooms: usize) -> anyhow::Result<Population> {
    let rooms = rooms.clamp(1, users);
    let members = (0..rooms)
        .map(|r| (r..users).step_by(rooms).collect())
        .collect();
    population::build(&ctx.api, users, members, ctx.concurrency).await
}

pub async fn storm(
    ctx: &Ctx,
    pop: &Population,
    n: usize,
    concurrency: usize,
    read_buffer: usize,
    counters: &Arc<Counters>,
) -> Storm {
    let spread = n > PER_SOURCE_ADDR;
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        counters: counters.clone(),
        last_delivery: AtomicU64::new(0),
        typing_sent: Vec::new(),
        phase_us: u64::MAX,
    });
    let (stop, stop_rx) = watch::channel(false);
    let start = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(0..n)
        .map(|i| {
            let u = i % pop.sessions.len();
            let spec = SocketSpec {
                session: pop.sessions[u].clone(),
                room: pop.rooms[u % pop.rooms.len()].id,
                node: i % ctx.api.node_count(),
                opts: ConnectOpts {
                    source: source_for(i, PER_SOURCE_ADDR, spread),
                    recv_buffer: None,
                    read_buffer,
                },
            };
            let (shared, stop_rx) = (shared.clone(), stop_rx.clone());
            async move {
                let t = Instant::now();
                let (ws, _) = population::open(&ctx.api, &spec).await?;
                let took = t.elapsed();
                shared.counters.connected.fetch_add(1, Relaxed);
                let (sink, stream) = ws.split();
                let reader =
                    tokio::spawn(engine::receive(stream, shared, stop_rx, None, None, None));
                Ok::<_, anyhow::Error>((sink, reader, took))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let elapsed = start.elapsed();
    let mut storm = Storm {
        readers: Vec::with_capacity(n),
        sinks: Vec::with_capacity(n),
        latency: histogram(),
        elapsed,
        failures: 0,
        first_error: None,
        stop,
    };
    for r in results {
        match r {
            Ok((sink, reader, took)) => {
                let _ = storm.latency.record(took.as_micros() as u64);
                storm.sinks.push(sink);
                storm.readers.push(reader);
            }
            Err(e) => {
                storm.failures += 1;
                counters.errors.fetch_add(1, Relaxed);
                storm.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    storm
}

impl Storm {
    /// Stops the readers and closes the sockets; merged reader results.
    pub async fn finish(self) -> Received {
        let _ = self.stop.send(true);
        let mut all = Vec::with_capacity(self.readers.len());
        for r in self.readers {
            if let Ok(got) = r.await {
                all.push(got);
            }
        }
        drop(self.sinks);
        engine::merge(all)
    }
}

pub async fn run(ctx: &Ctx, a: &ConnectArgs) -> anyhow::Result<Report> {
    let pop = population(ctx, a.users.max(1)).await?;
    let counters = Arc::new(Counters::default());
    let mem0 = MemSample::take(&ctx.server_pids);
    let cpu0 = CpuSample::take(&ctx.server_pids);
    let ticker = progress("connect", counters.clone());
    let storm = storm(ctx, &pop, a.connections, a.concurrency, 4096, &counters).await;
    let cpu1 = CpuSample::take(&ctx.server_pids);
    let mem1 = MemSample::take(&ctx.server_pids);
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
        scenario: "connect".into(),
        params: json!({"connections": a.connections, "concurrency": a.concurrency, "users": a.users}),
        duration_s: elapsed.as_secs_f64(),
        connections: ok,
        connects_per_s: Some(ok as f64 / elapsed.as_secs_f64()),
        op_latency: latency,
        errors: got.errors,
        memory: Some(Memory::new(mem0, mem1, ok)),
        cpu: CpuSplit::between(&cpu0, &cpu1),
        notes: first_error
            .map(|e| format!("first error: {e}"))
            .into_iter()
            .collect(),
        ..Report::default()
    })
}
