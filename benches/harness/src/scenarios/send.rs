//! `send`: durable, acknowledged throughput. S sockets, each the owner of its own
//! room (many quiet rooms: group commit has to batch across rooms), send messages
//! and count acks.
//!
//! - Without `--rate`: closed loop, as fast as acks return: up to `--window`
//!   unacknowledged sends per socket, and at most `--per-socket-rate` frames/s (the
//!   server refuses more than 100/s per socket). Ack latency runs from the send.
//! - With `--rate X`: open loop at X messages/s in total; ack latency runs from the
//!   intended send time.
//!
//! Sockets do not subscribe (unless `--subscribe`), so nothing but the write path
//! and the acks is measured. With several server nodes, socket `i` connects to
//! node `i mod N`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::time::Instant as TInstant;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use super::{Ctx, PER_SOURCE_ADDR};
use crate::population::{self, SocketSpec};
use crate::probe::{CpuSample, CpuSplit};
use crate::report::{Counters, Latency, Report, cpu_us_per, histogram, progress};
use crate::ws::{self, ConnectOpts, Ws, source_for};

#[derive(clap::Args, Debug, Clone)]
pub struct SendArgs {
    #[arg(long, default_value_t = 400)]
    pub sockets: usize,
    /// Users (socket i is user i mod U, in its own room).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Total messages/s (open loop); without it, as fast as acks return.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Unacknowledged sends per socket (closed loop).
    #[arg(long, default_value_t = 8)]
    pub window: usize,
    /// Frames/s per socket at most (closed loop).
    #[arg(long, default_value_t = 95.0)]
    pub per_socket_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Also subscribe each socket to its room (adds one delivery per message).
    #[arg(long)]
    pub subscribe: bool,
}

struct Job {
    room: Uuid,
    index: usize,
    epoch: Instant,
    end_us: u64,
    /// Open loop: (offset, interval) µs. Closed loop: None.
    schedule: Option<(u64, u64)>,
    window: usize,
    min_gap_us: u64,
    counters: Arc<Counters>,
}

async fn drive(mut ws: Ws, job: Job) -> (Histogram<u64>, BTreeMap<String, u64>) {
    let (mut ack, mut errors) = (histogram(), BTreeMap::<String, u64>::new());
    let now_us = || job.epoch.elapsed().as_micros() as u64;
    let (mut n, mut inflight, mut next_us) = (0u64, 0usize, job.schedule.map_or(0, |s| s.0));
    let drain_until = job.end_us + 10_000_000;
    loop {
        let sending = next_us < job.end_us && (job.schedule.is_some() || inflight < job.window);
        if !sending && inflight == 0 {
            break;
        }
        let due = TInstant::from_std(job.epoch + Duration::from_micros(next_us));
        tokio::select! {
            _ = tokio::time::sleep_until(due), if sending => {
                let stamp = if job.schedule.is_some() { next_us } else { now_us() };
                if ws.send(ws::send_frame(job.room, job.index, n, stamp)).await.is_err() {
                    *errors.entry("send_failed".into()).or_default() += 1;
                    break;
                }
                job.counters.sent.fetch_add(1, Relaxed);
                n += 1;
                inflight += 1;
                next_us = match job.schedule {
                    Some((offset, interval)) => offset + n * interval,
                    None => stamp + job.min_gap_us,
                };
            }
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(f))) => {
                        *errors.entry(format!("close_{}", f.map_or(1005, |f| u16::from(f.code)))).or_default() += 1;
                        break;
                    }
                    Some(Ok(_)) => continue,
                    _ => {
                        *errors.entry("socket_ended".into()).or_default() += 1;
                        break;
                    }
                };
                match ws::frame_type(text.as_str()) {
                    "ack" => {
                        inflight = inflight.saturating_sub(1);
                        if let Some(t) = ws::intended_of_ack(text.as_str()) {
                            let _ = ack.record(now_us().saturating_sub(t));
                        }
                        job.counters.acked.fetch_add(1, Relaxed);
                    }
                    "error" => {
                        inflight = inflight.saturating_sub(1);
                        let code = ws::str_after(text.as_str(), "\"code\":\"").unwrap_or("?");
                        *errors.entry(code.to_string()).or_default() += 1;
                        job.counters.errors.fetch_add(1, Relaxed);
                    }
                    "event" => { job.counters.delivered.fetch_add(1, Relaxed); }
                    _ => {}
                }
            }
        }
        if now_us() > drain_until {
            *errors.entry("unacked_at_end".into()).or_default() += inflight as u64;
            break;
        }
    }
    let _ = ws.close(None).await;
    (ack, errors)
}

pub async fn run(ctx: &Ctx, a: &SendArgs) -> anyhow::Result<Report> {
    let users = a.users.clamp(1, a.sockets.max(1));
    let rooms = (0..a.sockets).map(|i| vec![i % users]).collect();
    let pop = population::build(&ctx.api, users, rooms, ctx.concurrency).await?;
    let counters = Arc::new(Counters::default());
    let spread = a.sockets > PER_SOURCE_ADDR;
    let sockets: Vec<Ws> = stream::iter(0..a.sockets)
        .map(|i| {
            let spec = SocketSpec {
                session: pop.sessions[i % users].clone(),
                room: pop.rooms[i].id,
                node: i % ctx.api.node_count(),
                opts: ConnectOpts {
                    source: source_for(i, PER_SOURCE_ADDR, spread),
                    ..ConnectOpts::default()
                },
            };
            let subscribe = a.subscribe;
            async move {
                let ticket = ctx.api.ticket(&spec.session).await?;
                let mut ws = ws::connect(&ctx.api.ws_url_on(spec.node, &ticket), spec.opts).await?;
                if subscribe {
                    ws::subscribe(&mut ws, spec.room, None).await?;
                }
                Ok::<_, anyhow::Error>(ws)
            }
        })
        .buffered(ctx.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    eprintln!("setup: {} sockets connected", sockets.len());

    let end_us = (a.duration * 1e6) as u64;
    let epoch = Instant::now() + Duration::from_millis(100);
    let cpu0 = CpuSample::take(&ctx.server_pids);
    let ticker = progress("send", counters.clone());
    let n = sockets.len().max(1) as u64;
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let schedule = a.rate.map(|rate| {
                let interval = (1e6 * n as f64 / rate.max(0.001)) as u64;
                (interval * i as u64 / n, interval)
            });
            let job = Job {
                room: pop.rooms[i].id,
                index: i,
                epoch,
                end_us,
                schedule,
                window: a.window.max(1),
                min_gap_us: (1e6 / a.per_socket_rate.max(0.001)) as u64,
                counters: counters.clone(),
            };
            tokio::spawn(drive(ws, job))
        })
        .collect();
    let (mut ack, mut errors) = (histogram(), BTreeMap::new());
    for t in tasks {
        let (h, e) = t.await?;
        let _ = ack.add(&h);
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
    }
    let cpu1 = CpuSample::take(&ctx.server_pids);
    ticker.abort();
    let acked = counters.acked.load(Relaxed);
    let delivered = counters.delivered.load(Relaxed);
    let cpu = CpuSplit::between(&cpu0, &cpu1);
    Ok(Report {
        scenario: "send".into(),
        params: json!({"sockets": a.sockets, "users": users, "rate": a.rate, "window": a.window,
                       "per_socket_rate": a.per_socket_rate, "duration_s": a.duration, "subscribe": a.subscribe}),
        duration_s: a.duration,
        connections: n,
        sent: counters.sent.load(Relaxed),
        acked,
        acked_per_s: Some(acked as f64 / a.duration),
        delivered,
        ack_latency: Latency::of(&ack),
        errors,
        server_cpu_us_per_ack: cpu_us_per(cpu.server_s, acked),
        server_cpu_us_per_delivery: cpu_us_per(cpu.server_s, delivered),
        cpu,
        ..Report::default()
    })
}
